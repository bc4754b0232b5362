#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite:
#   ruff; the full and student book builds (warnings are errors); unit tests of `helpers` with coverage; the
#   .py/.ipynb pair check; the student copies executed; the website in headless Chromium; nbval over every
#   notebook under COURSE_PROFILE=ci. Everything after the builds runs with no network (a network namespace
#   with only loopback, when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. .venv/bin/activate

echo "== ruff"
ruff check helpers tests notebooks/*.py

echo "== book (full and student)"
for variant in "" --student; do
  scripts/book.sh $variant >/tmp/course-book.log 2>&1 || { tail -50 /tmp/course-book.log; exit 1; }
  tail -1 /tmp/course-book.log
done

echo "== tests (unit, pairs, book, notebooks under ci, offline)"
export COURSE_PROFILE=ci HF_HUB_OFFLINE=1
eval "$(python helpers/repro.py env)"   # the pinned CPU kernels and threads (helpers/repro.py, CONTRIBUTING.md)
# one pytest worker per core (COURSE_TEST_WORKERS overrides); --dist loadfile keeps a notebook's cells, its
# ci-budget and student-copy items in one worker and one kernel. Kernels use one thread each (helpers/repro.py).
pytest_cmd=(python -m pytest -p no:cacheprovider --cov=helpers --cov-report=term
            -n "${COURSE_TEST_WORKERS:-auto}" --dist loadfile
            --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600
            tests notebooks)
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
  echo "(offline: running inside a network namespace with only loopback)"
  unshare -n bash -c 'ip link set lo up && exec "$@"' bash "${pytest_cmd[@]}" "$@"
else
  echo "(not root: cannot drop the network; tests still run with HF_HUB_OFFLINE=1)"
  "${pytest_cmd[@]}" "$@"
fi
