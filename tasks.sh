#!/usr/bin/env bash
# segwork developer tasks. Each task creates .venv and installs what it needs on first use.
#   bash tasks.sh app    - the main job: the Voila app on data/sample
#   bash tasks.sh test   - the whole test suite (lint, types, pytest incl. notebooks)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
VENV="${SEGWORK_VENV:-.venv}"
BIN="$VENV/bin"

ensure_venv() {
  local stamp="$VENV/.segwork-installed"
  local want
  want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  echo "tasks.sh: installing segwork and its dependencies into $VENV (first run: a few minutes)"
  [ -x "$BIN/python" ] || "$PYTHON" -m venv "$VENV"
  "$BIN/python" -m pip install --quiet --upgrade pip
  # the exact set the tests are verified with (pyproject.toml holds the ranges)
  "$BIN/python" -m pip install --quiet -c constraints.txt -e ".[test,pdf,spark]"
  echo "$want" > "$stamp"
}

ensure_chromium() {
  # Real-browser tests and report PDFs drive Debian's chromium (never a browser download of
  # playwright's own); the PDF tests read the PDFs back with poppler-utils.
  if command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "tasks.sh: installing chromium (apt) for the browser tests"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null \
      || echo "tasks.sh: could not install chromium; browser tests will be skipped"
  else
    echo "tasks.sh: chromium not found and not root; browser tests will be skipped"
  fi
}

ensure_java() {
  # The Spark tests start a local[2] session, which needs a Java runtime.
  if command -v java >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "tasks.sh: installing a Java runtime (apt) for the Spark tests"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
      || echo "tasks.sh: could not install Java; Spark tests will be skipped"
  else
    echo "tasks.sh: java not found and not root; Spark tests will be skipped"
  fi
}

task_app() {
  ensure_venv
  exec "$BIN/segwork" app --data data/sample "$@"
}

task_test() {
  ensure_venv
  ensure_chromium
  ensure_java
  echo "== ruff"; "$BIN/ruff" check segwork tests benchmarks
  echo "== mypy"; "$BIN/mypy" segwork
  echo "== pytest"; "$BIN/python" -m pytest -n 2 --dist loadfile --doctest-modules --nbval-lax segwork tests notebooks "$@"
}

case "${1:-}" in
  app) shift; task_app "$@" ;;
  test) shift; task_test "$@" ;;
  *) echo "usage: bash tasks.sh app|test [args]"; exit 2 ;;
esac
