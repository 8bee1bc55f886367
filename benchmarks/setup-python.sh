#!/usr/bin/env bash
# Creates .venv with the Python reference stack (never a runtime dependency of pic2vec).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -r benchmarks/requirements.txt -r benchmarks/requirements-engines.txt
