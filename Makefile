# csi-workbook. The two commands of the README:
#   make run    set up what running needs, run the demo's two cycles, print the two HTML reports
#   make test   set that up plus the test tools and run the tests
# Everything lives in a project virtual environment (.venv); nothing is installed globally.
# Three lock files, each the one before plus an extra, with the same versions for the packages
# they share; `make lock` re-resolves all three:
#   requirements.lock      what running needs (pyproject.toml's dependencies): `make run`
#   requirements-lab.lock  that plus the lab extra (JupyterLab): `make lab`
#   requirements-dev.lock  that plus the dev extra (pytest, ruff, pyspark, distributed, playwright, ...)
# The bytecode of installed packages is written at setup: where PYTHONDONTWRITEBYTECODE is set,
# every kernel would otherwise recompile pandas, scipy and friends (7 s more per step here). The
# dev set gets all of it; the runtime and lab sets only that of the modules the chain imports
# (tools/warm_bytecode.py imports them once): 84 MB instead of 225 (86 of them for the packages'
# own test suites).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
LOCK_ARGS ?=

# One stamp per set. A .venv keeps the richest set it has had: every setup syncs the lock of that
# set (the dev set holds the lab set, which holds the runtime set), so `make run` after `make lab`
# or `make test` takes nothing away, and installing a set marks the sets it holds current too.
# .csi-setup is the stamp of the one-lock setup of old, which always installed the dev set.
STAMP     := $(VENV)/.csi-setup-run
STAMP_LAB := $(VENV)/.csi-setup-lab
STAMP_DEV := $(VENV)/.csi-setup-dev
HAS_DEV   := $(wildcard $(STAMP_DEV) $(VENV)/.csi-setup)
LAB_LOCK  := $(if $(HAS_DEV),requirements-dev.lock,requirements-lab.lock)
VENV_LOCK := $(if $(HAS_DEV)$(wildcard $(STAMP_LAB)),$(LAB_LOCK),requirements.lock)

DEMO_FIRST  := reports/shopfront-2026q2/07_implement.html
DEMO_SECOND := reports/shopfront-2026q3/07_implement.html
CODE := $(shell find src/csi_helpers notebooks -type f \( -name '*.py' -o -name '*.ipynb' -o -name '*.j2' -o -name '*.css' -o -name '*.json' \) -not -path '*/.ipynb_checkpoints/*' 2>/dev/null)

.PHONY: help setup setup-lab setup-dev run test test-fast mutation lab bench bench-speed bench-batch bench-false-alarms lint format hooks lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv with what `make run` needs (the locked runtime dependencies)

setup-lab: $(STAMP_LAB) ## the same plus JupyterLab

setup-dev: $(STAMP_DEV) ## the same plus the dev tools: tests, lint, Spark and Dask engines, benchmarks

$(STAMP): pyproject.toml requirements.lock $(VENV_LOCK) | $(BIN)/uv
	$(call install,$(VENV_LOCK))

$(STAMP_LAB): pyproject.toml requirements-lab.lock $(LAB_LOCK) | $(BIN)/uv
	$(call install,$(LAB_LOCK))

$(STAMP_DEV): pyproject.toml requirements-dev.lock | $(BIN)/uv
	$(call install,requirements-dev.lock)

# .venv itself, with uv in it. uv installs everything else, so pip and setuptools go once it is
# in (27 MB); a later setup finds uv there.
$(BIN)/uv:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "csi-workbook needs Python 3.11 or newer; found " + sys.version.split()[0] + " (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --force-reinstall uv
	@$(BIN)/uv pip uninstall --quiet --python $(BIN)/python pip setuptools

# $(call install,LOCK): make .venv hold exactly LOCK's packages and the workbook itself, with the
# bytecode of all of the dev set, of what the chain imports of the others
define install
	$(BIN)/uv pip sync --quiet $(if $(filter requirements-dev.lock,$(1)),--compile-bytecode )--python $(BIN)/python $(1)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@$(BIN)/python -m compileall -q src >/dev/null
	$(if $(filter requirements-dev.lock,$(1)),,@$(BIN)/python tools/warm_bytecode.py notebooks)
	@$(BIN)/python -m ipykernel install --sys-prefix --name csi-workbook --display-name "Python (csi-workbook)" >/dev/null
	@rm -f $(VENV)/.csi-setup
	@touch $(STAMP) $(if $(filter requirements-lab.lock requirements-dev.lock,$(1)),$(STAMP_LAB)) $(if $(filter requirements-dev.lock,$(1)),$(STAMP_DEV))
endef

run: $(DEMO_SECOND) ## run the demo's two cycles (quick when nothing changed); print the reports
	@echo "Demo reports (cycle 2026 Q3, compared with 2026 Q2):"
	@echo "$(CURDIR)/reports/shopfront-2026q3/06_present.html"
	@echo "$(CURDIR)/reports/shopfront-2026q3/07_implement.html"

# A cycle depends on its params, the code and the locked versions, not on when .venv was set up.
$(DEMO_FIRST): params/demo_q2.yaml $(CODE) pyproject.toml requirements.lock | $(STAMP)
	$(BIN)/csi run params/demo_q2.yaml

$(DEMO_SECOND): $(DEMO_FIRST) params/demo.yaml
	$(BIN)/python -m csi_helpers.chain.demo_owner params/demo_q2.yaml  # its owner carried it out
	$(BIN)/csi run params/demo.yaml

test: $(STAMP_DEV) ## run every test, the slow end-to-end ones included
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=20 $(PYTEST_ARGS)

test-fast: $(STAMP_DEV) ## run the tests without the slow ones
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow" $(PYTEST_ARGS)

mutation: $(STAMP_DEV) ## mutation testing of KPI formulas, hashing, event logs, verification (hours; MODULES=sla to pick, SURVIVORS=1 for the last survivors only, SHARD=1/2 to split one)
	$(BIN)/python tools/mutation.py $(MODULES) $(if $(SURVIVORS),--survivors) $(if $(SHARD),--shard $(SHARD))

lab: $(STAMP_LAB) ## install JupyterLab, open the workbook in it, notebooks first (LAB_ARGS="--no-browser" etc. passed on)
	$(BIN)/jupyter lab --ServerApp.root_dir=. --FileContentsManager.preferred_dir=notebooks \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

bench: bench-speed $(STAMP_DEV) ## all benchmarks but the batch: speed and scale, data preparation, NAB
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_nab.py

bench-speed: $(STAMP_DEV) ## chain vs CLI vs floor; 10M-row aggregation vs pandas vs DuckDB; large-data chain
	$(BIN)/python benchmarks/bench_speed.py

bench-batch: $(STAMP_DEV) ## 20 demo cycles serial against --jobs 2 (about 9 minutes)
	$(BIN)/python benchmarks/bench_batch.py

bench-false-alarms: $(STAMP_DEV) ## step 5 on 150 null cycles and 5 planted effects: false-finding rates and power
	[ -d runs/shopfront-2026q2/process ] || $(BIN)/csi run params/demo_q2.yaml
	$(BIN)/python benchmarks/bench_false_alarms.py $(BENCH_ARGS)

lint: $(STAMP_DEV) ## ruff over code and notebooks; notebooks must carry no outputs
	$(BIN)/ruff check src tests benchmarks tools notebooks
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/nbstripout --verify notebooks/*.ipynb

format: $(STAMP_DEV) ## format code and strip notebook outputs
	$(BIN)/ruff format src tests benchmarks tools
	$(BIN)/nbstripout notebooks/*.ipynb

hooks: $(STAMP_DEV) ## install the pre-commit hooks
	$(BIN)/pre-commit install

lock: | $(BIN)/uv ## re-resolve the three lock files from pyproject.toml (LOCK_ARGS=--upgrade moves the pins)
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 $(LOCK_ARGS) pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 $(LOCK_ARGS) --extra lab pyproject.toml -c requirements.lock -o requirements-lab.lock
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 $(LOCK_ARGS) --extra dev pyproject.toml -c requirements-lab.lock -o requirements-dev.lock

clean: ## remove run folders, reports and the generated demo data (keeps .venv)
	rm -rf runs reports/*/ data/demo .pytest_cache
