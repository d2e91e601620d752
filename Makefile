# csi-workbook. The two commands of the README:
#   make run    set up what running needs, run the demo's two cycles, print the two HTML reports
#   make test   set that up plus the test tools and run the tests
# Everything lives in a project virtual environment (.venv); nothing is installed globally.
# requirements.lock pins what running needs (pyproject.toml's dependencies), requirements-dev.lock
# that plus the dev extra (pytest, ruff, pyspark, distributed, playwright, ...), with the same
# versions for the packages both hold; `make lock` re-resolves both.
# Packages are installed with their bytecode compiled: where PYTHONDONTWRITEBYTECODE is set,
# every kernel would otherwise recompile pandas, scipy and friends (7 s more per step here).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
LOCK_ARGS ?=

# Two stamps, one per set. A .venv that has the dev set keeps it: there, the runtime setup syncs
# requirements-dev.lock, so `make run` after `make test` takes nothing away (and installing the dev
# set marks the runtime set current too: it holds it). .csi-setup is the stamp of the one-lock
# setup before the split, which always installed the dev set.
STAMP     := $(VENV)/.csi-setup-run
STAMP_DEV := $(VENV)/.csi-setup-dev
VENV_LOCK := $(if $(wildcard $(STAMP_DEV) $(VENV)/.csi-setup),requirements-dev.lock,requirements.lock)

DEMO_FIRST  := reports/shopfront-2026q2/07_implement.html
DEMO_SECOND := reports/shopfront-2026q3/07_implement.html
CODE := $(shell find src/csi_helpers notebooks -type f \( -name '*.py' -o -name '*.ipynb' -o -name '*.j2' -o -name '*.css' -o -name '*.json' \) -not -path '*/.ipynb_checkpoints/*' 2>/dev/null)

.PHONY: help setup setup-dev run test test-fast lab bench bench-speed bench-batch lint format hooks lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv with what `make run` needs (the locked runtime dependencies)

setup-dev: $(STAMP_DEV) ## the same plus the dev tools: tests, lint, Spark and Dask engines, benchmarks

$(STAMP): pyproject.toml requirements.lock
	$(call install,$(VENV_LOCK))

$(STAMP_DEV): pyproject.toml requirements-dev.lock
	$(call install,requirements-dev.lock)

# $(call install,LOCK): make .venv hold exactly LOCK's packages and the workbook itself
define install
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "csi-workbook needs Python 3.11 or newer; found " + sys.version.split()[0] + " (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python $(1)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@$(BIN)/python -m compileall -q src >/dev/null
	@$(BIN)/python -m ipykernel install --sys-prefix --name csi-workbook --display-name "Python (csi-workbook)" >/dev/null
	@rm -f $(VENV)/.csi-setup
	@touch $(STAMP) $(if $(filter requirements-dev.lock,$(1)),$(STAMP_DEV))
endef

run: $(DEMO_SECOND) ## run the demo's two cycles (quick when nothing changed); print the reports
	@echo "Demo reports (cycle 2026 Q3, compared with 2026 Q2):"
	@echo "$(CURDIR)/reports/shopfront-2026q3/06_present.html"
	@echo "$(CURDIR)/reports/shopfront-2026q3/07_implement.html"

# A cycle depends on its params, the code and the locked versions, not on when .venv was set up.
$(DEMO_FIRST): params/demo_q2.yaml $(CODE) pyproject.toml requirements.lock | $(STAMP)
	$(BIN)/csi run params/demo_q2.yaml

$(DEMO_SECOND): $(DEMO_FIRST) params/demo.yaml
	$(BIN)/csi run params/demo.yaml

test: $(STAMP_DEV) ## run every test, the slow end-to-end ones included
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

test-fast: $(STAMP_DEV) ## run the tests without the slow ones
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow" $(PYTEST_ARGS)

lab: $(STAMP) ## open the notebooks in JupyterLab (LAB_ARGS="--no-browser" etc. passed on)
	$(BIN)/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

bench: bench-speed $(STAMP_DEV) ## all benchmarks but the batch: speed and scale, data preparation, NAB
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_nab.py

bench-speed: $(STAMP_DEV) ## chain vs CLI vs floor; 10M-row aggregation vs pandas vs DuckDB; large-data chain
	$(BIN)/python benchmarks/bench_speed.py

bench-batch: $(STAMP_DEV) ## 20 demo cycles serial against --jobs 2 (about 9 minutes)
	$(BIN)/python benchmarks/bench_batch.py

lint: $(STAMP_DEV) ## ruff over code and notebooks; notebooks must carry no outputs
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/nbstripout --verify notebooks/*.ipynb

format: $(STAMP_DEV) ## format code and strip notebook outputs
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/nbstripout notebooks/*.ipynb

hooks: $(STAMP_DEV) ## install the pre-commit hooks
	$(BIN)/pre-commit install

lock: ## re-resolve both lock files from pyproject.toml (LOCK_ARGS=--upgrade moves the pins)
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 $(LOCK_ARGS) pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 $(LOCK_ARGS) --extra dev pyproject.toml -c requirements.lock -o requirements-dev.lock

clean: ## remove run folders, reports and the generated demo data (keeps .venv)
	rm -rf runs reports/*/ data/demo .pytest_cache
