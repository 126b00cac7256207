#!/usr/bin/env bash
# The test suite, on all cores.
source "$(dirname "$0")/setup_env.sh"
python -m pytest -n "${PYTEST_JOBS:-auto}" "$@"
