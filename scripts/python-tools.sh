#!/usr/bin/env bash
# Installs the pinned componentize-py (plugins/generator-python/requirements.txt) into a private
# virtual environment, target/tools/python, once; tests/build.rs builds the Python example
# plugin with it. The server itself never needs Python.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS=plugins/generator-python/requirements.txt
VENV=target/tools/python
PINNED=$(sed -n 's/^componentize-py==\([^ ]*\).*/\1/p' "$REQUIREMENTS")

installed() {
  [ -x "$VENV/bin/componentize-py" ] && [ "$("$VENV/bin/componentize-py" --version 2>/dev/null)" = "componentize-py $PINNED" ]
}

if installed; then
  exit 0
fi

PYTHON=${PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null; then
  echo "error: $PYTHON is needed to install componentize-py for the Python example plugin" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  # Debian ships venv apart from the interpreter.
  if command -v apt-get >/dev/null; then
    apt-get install -y -q python3-venv >/dev/null || { apt-get update -q && apt-get install -y -q python3-venv; }
  fi
fi

echo "installing componentize-py $PINNED into $VENV"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
installed || { echo "error: componentize-py $PINNED did not install into $VENV" >&2; exit 1; }
