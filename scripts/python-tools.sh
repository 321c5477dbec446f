#!/usr/bin/env bash
# Installs the pinned Python tools into a private virtual environment, target/tools/python,
# once: componentize-py (plugins/generator-python/requirements.txt), with which tests/build.rs
# builds the Python example plugin, and moto's S3 server (scripts/moto-requirements.txt), the
# local S3-compatible object store scripts/services.sh starts for the scaled-mode tests. The
# server itself never needs Python.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPONENTIZE_REQUIREMENTS=plugins/generator-python/requirements.txt
MOTO_REQUIREMENTS=scripts/moto-requirements.txt
VENV=target/tools/python
COMPONENTIZE_PINNED=$(sed -n 's/^componentize-py==\([^ ]*\).*/\1/p' "$COMPONENTIZE_REQUIREMENTS")
MOTO_PINNED=$(sed -n 's/^moto\[server\]==\([^ ]*\).*/\1/p' "$MOTO_REQUIREMENTS")

componentize_installed() {
  [ -x "$VENV/bin/componentize-py" ] &&
    [ "$("$VENV/bin/componentize-py" --version 2>/dev/null)" = "componentize-py $COMPONENTIZE_PINNED" ]
}

moto_installed() {
  [ -x "$VENV/bin/moto_server" ] &&
    [ "$("$VENV/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" = "$MOTO_PINNED" ]
}

if componentize_installed && moto_installed; then
  exit 0
fi

PYTHON=${PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null; then
  echo "error: $PYTHON is needed to install componentize-py and moto" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  # Debian ships venv apart from the interpreter.
  if command -v apt-get >/dev/null; then
    apt-get install -y -q python3-venv >/dev/null || { apt-get update -q && apt-get install -y -q python3-venv; }
  fi
fi

if [ ! -x "$VENV/bin/pip" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
if ! componentize_installed; then
  echo "installing componentize-py $COMPONENTIZE_PINNED into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$COMPONENTIZE_REQUIREMENTS"
  componentize_installed || { echo "error: componentize-py $COMPONENTIZE_PINNED did not install into $VENV" >&2; exit 1; }
fi
if ! moto_installed; then
  echo "installing moto $MOTO_PINNED (a local S3-compatible server) into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$MOTO_REQUIREMENTS"
  moto_installed || { echo "error: moto $MOTO_PINNED did not install into $VENV" >&2; exit 1; }
fi
