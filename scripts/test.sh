#!/usr/bin/env bash
# Install everything the tests need, lint, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/python -m mypy  # the packages and flags are in pyproject.toml ([tool.mypy])
.venv/bin/python -m pytest -q "$@"
