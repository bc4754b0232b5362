#!/usr/bin/env bash
# Set up (if needed) and build the website into _build/html from the committed notebook outputs.
# Warnings are errors (-W -n). Nothing is executed: the outputs are those of the `ci` profile.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. .venv/bin/activate
jupyter-book build . --path-output . -W -n --keep-going
echo "book: open _build/html/index.html"
