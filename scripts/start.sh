#!/usr/bin/env bash
# Install newstag into .venv and start the service with the bundled model on
# http://127.0.0.1:8000 (the first start trains the model into the model root, ~30 s).
# Extra arguments go to `newstag serve`, e.g. `bash scripts/start.sh --port 9000`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/newstag serve "$@"
