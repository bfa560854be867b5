#!/usr/bin/env bash
# Install newstag into .venv and tag the example page with the bundled model
# (trained on first use into the model root). Extra arguments go to `newstag tag-page`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/newstag tag-page "${@:-tests/data/pages/page_other_sections.txt}"
