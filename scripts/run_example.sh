#!/usr/bin/env bash
# The main job: convert the bundled PyTorch example to MindSpore and run it on CPU.
source "$(dirname "$0")/setup_env.sh"
EXAMPLE="${1:-examples/cnn_classifier}"
OUT="build/example"
rm -rf "$OUT"
ms-migrate convert "$EXAMPLE" -o "$OUT" --report "$OUT.report.json"
cd "$OUT"
python "${2:-train.py}"
