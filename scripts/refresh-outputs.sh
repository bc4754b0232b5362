#!/usr/bin/env bash
# Sync notebooks/*.py -> .ipynb and execute them under the `ci` profile, so that the committed
# outputs are the ones nbval compares against. Usage: scripts/refresh-outputs.sh [notebooks/dayNN_x.py ...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] && . .venv/bin/activate
export COURSE_PROFILE=ci HF_HUB_OFFLINE=1
eval "$(python helpers/repro.py env)"   # the pinned CPU kernels and threads (helpers/repro.py, CONTRIBUTING.md)
if [ "$#" -eq 0 ]; then set -- notebooks/day*.py; fi
for py in "$@"; do
  py="${py%.ipynb}"; py="${py%.py}.py"
  nb="${py%.py}.ipynb"
  [ -f "$nb" ] || jupytext --quiet --to ipynb "$py"
  jupytext --quiet --sync "$py"
  start=$(date +%s)
  jupyter nbconvert --log-level=WARN --to notebook --execute --inplace \
    --ExecutePreprocessor.timeout=900 --NotebookClient.record_timing=False "$nb"
  jupytext --quiet --sync "$nb"   # keep the pair's timestamps in order
  python scripts/sync-colab-cell.py "$py" >/dev/null   # the Colab cell and the kernelspec papermill needs
  echo "executed $nb in $(( $(date +%s) - start ))s"
done
