# csi-workbook. The two commands of the README:
#   make run    set everything up, run the demo's two cycles, print the two HTML reports
#   make test   set everything up and run the tests
# Everything lives in a project virtual environment (.venv); nothing is installed globally.
# Packages are installed with their bytecode compiled: where PYTHONDONTWRITEBYTECODE is set,
# every kernel would otherwise recompile pandas, scipy and friends (7 s more per step here).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.csi-setup
PYTEST_ARGS ?=

DEMO_FIRST  := reports/shopfront-2026q2/07_implement.html
DEMO_SECOND := reports/shopfront-2026q3/07_implement.html
CODE := $(shell find src/csi_helpers notebooks -type f \( -name '*.py' -o -name '*.ipynb' -o -name '*.j2' -o -name '*.css' -o -name '*.json' \) -not -path '*/.ipynb_checkpoints/*' 2>/dev/null)

.PHONY: help setup run test test-fast lab bench bench-speed bench-batch lint format hooks lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv and install the workbook with its locked dependencies

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "csi-workbook needs Python 3.11 or newer; found " + sys.version.split()[0] + " (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@$(BIN)/python -m compileall -q src >/dev/null
	@$(BIN)/python -m ipykernel install --sys-prefix --name csi-workbook --display-name "Python (csi-workbook)" >/dev/null
	@touch $(STAMP)

run: $(DEMO_SECOND) ## run the demo's two cycles (quick when nothing changed); print the reports
	@echo "Demo reports (cycle 2026 Q3, compared with 2026 Q2):"
	@echo "$(CURDIR)/reports/shopfront-2026q3/06_present.html"
	@echo "$(CURDIR)/reports/shopfront-2026q3/07_implement.html"

$(DEMO_FIRST): $(STAMP) params/demo_q2.yaml $(CODE)
	$(BIN)/csi run params/demo_q2.yaml

$(DEMO_SECOND): $(DEMO_FIRST) params/demo.yaml
	$(BIN)/csi run params/demo.yaml

test: $(STAMP) ## run every test, the slow end-to-end ones included
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

test-fast: $(STAMP) ## run the tests without the slow ones
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow" $(PYTEST_ARGS)

lab: $(STAMP) ## open the notebooks in JupyterLab (LAB_ARGS="--no-browser" etc. passed on)
	$(BIN)/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

bench: bench-speed $(STAMP) ## all benchmarks but the batch: speed and scale, data preparation, NAB
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_nab.py

bench-speed: $(STAMP) ## chain vs CLI vs floor; 10M-row aggregation vs pandas vs DuckDB; large-data chain
	$(BIN)/python benchmarks/bench_speed.py

bench-batch: $(STAMP) ## 20 demo cycles serial against --jobs 2 (about 9 minutes)
	$(BIN)/python benchmarks/bench_batch.py

lint: $(STAMP) ## ruff over code and notebooks; notebooks must carry no outputs
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/nbstripout --verify notebooks/*.ipynb

format: $(STAMP) ## format code and strip notebook outputs
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/nbstripout notebooks/*.ipynb

hooks: $(STAMP) ## install the pre-commit hooks
	$(BIN)/pre-commit install

lock: ## re-resolve requirements.lock from pyproject.toml
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --extra dev pyproject.toml -o requirements.lock

clean: ## remove run folders, reports and the generated demo data (keeps .venv)
	rm -rf runs reports/*/ data/demo .pytest_cache
