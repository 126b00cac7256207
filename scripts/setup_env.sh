# Sourced by the other scripts: a virtual environment with ms-migrate and the
# `test` extra (torch CPU 2.13.0, mindspore 2.10.0, numpy<2, pytest).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${MS_MIGRATE_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip 2>/dev/null || true
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
export PATH="$(cd "$VENV" && pwd)/bin:$PATH"
export GLOG_v=3
