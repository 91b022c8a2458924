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
  want="$(cat pyproject.toml | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  echo "tasks.sh: installing segwork and its dependencies into $VENV (first run: a few minutes)"
  [ -x "$BIN/python" ] || "$PYTHON" -m venv "$VENV"
  "$BIN/python" -m pip install --quiet --upgrade pip
  "$BIN/python" -m pip install --quiet -e ".[test]"
  echo "$want" > "$stamp"
}

task_app() {
  ensure_venv
  if "$BIN/segwork" app --help >/dev/null 2>&1; then
    exec "$BIN/segwork" app --data data/sample "$@"
  fi
  # Until the Voila app lands (publishing issue): validate and summarise the sample.
  "$BIN/segwork" validate data/sample
}

task_test() {
  ensure_venv
  echo "== ruff"; "$BIN/ruff" check segwork tests
  echo "== mypy"; "$BIN/mypy" segwork
  echo "== pytest"; "$BIN/python" -m pytest -n 2 --doctest-modules segwork tests "$@"
}

case "${1:-}" in
  app) shift; task_app "$@" ;;
  test) shift; task_test "$@" ;;
  *) echo "usage: bash tasks.sh app|test [args]"; exit 2 ;;
esac
