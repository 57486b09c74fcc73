PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SCENARIOS := baseline aca_guatemala aca_families_first aca_high_cap all_three_agreements aca_capacity_building aca_capacity_linked historical

.PHONY: run test lint bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# After installing, the package's own bytecode is written once (and the compiled kernels,
# lanes and journeys, into numba's cache, so no run pays their compilation): where PYTHONDONTWRITEBYTECODE
# is set (as on the shared machines), Python would otherwise compile the ~80 modules of a
# `migsim run` from source at every start (~0.08 s); an edited module is compiled afresh.
COMPILE := $(BIN)/python -m compileall -q sim && $(BIN)/python -c "import sim.kernels; sim.kernels.warm_kernels()"

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(COMPILE)
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(COMPILE)
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	@for s in $(SCENARIOS); do $(BIN)/migsim run scenarios/$$s.toml || exit $$?; done

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 tests

lint: $(VENV)/.installed-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# regenerate the tracked lever reference (`migsim levers --markdown` alone only prints it)
docs: $(VENV)/.installed-run
	$(BIN)/migsim levers --markdown --out docs/levers.md

bench: $(VENV)/.installed-run
	$(BIN)/python benchmarks/bench_full_scale.py

clean:
	rm -rf $(VENV) results/*/ .pytest_cache
