#!/usr/bin/env bash
# Set up (if needed) and build the website into _build/html from the committed notebook outputs.
# Warnings are errors (-W -n). Nothing is executed: the outputs are those of the `ci` profile.
#   scripts/book.sh            the full website (with folded solutions)      -> _build/html
#   scripts/book.sh --student  the student website (no solutions at all)    -> _build/student/_build/html
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. .venv/bin/activate
echo "book: building the website from the committed outputs (about a minute; nothing is executed)"
if [ "${1:-}" = "--student" ]; then
  python -m helpers.student _build/student-src --book
  jupyter-book build _build/student-src --path-output _build/student -W -n --keep-going
  echo "student book: open _build/student/_build/html/index.html"
else
  jupyter-book build . --path-output . -W -n --keep-going
  echo "book: open _build/html/index.html"
fi
