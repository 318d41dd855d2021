# Two entry points (README "Quick start"): `make figures` and `make test`. Both create the
# virtual environment .venv from requirements.txt first if it is missing or out of date.
PYTHON ?= python3
VENV := .venv
# Notebook kernels draw with the plain Agg backend, as the tests do; the notebooks display the saved PNG files,
# so what a reader sees is what was written.
export MPLBACKEND := agg
PY := $(VENV)/bin/python
NOTEBOOKS := fig1-overview.ipynb fig2-momentum.ipynb fig3-nongrad.ipynb fig4-adam.ipynb

.PHONY: setup figures test lint benchmark clean lab

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed

# Re-execute every figure notebook in place: rewrites results/, fig_images/ and the stored outputs.
figures: setup
	@for nb in $(NOTEBOOKS); do \
	  if [ -f $$nb ]; then echo "executing $$nb"; \
	    $(PY) -m jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False \
	      --ExecutePreprocessor.store_widget_state=False $$nb || exit 1; \
	    $(PY) tests/clear_explore_outputs.py $$nb || exit 1; fi; \
	done

# JupyterLab on localhost for reading and tweaking the notebooks (prints the URL with its token).
lab: setup
	$(PY) -m jupyter lab --ip=127.0.0.1 --no-browser $(if $(filter 0,$(shell id -u)),--allow-root,)

# Unit tests, results/ regression tests and nbval on the notebooks (configured in pyproject.toml).
test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Every benchmark writes its report to results/benchmarks/; the README's performance table is then regenerated.
benchmark: setup
	$(PY) tests/benchmarks/bench_euler_lagrange.py
	$(PY) tests/benchmarks/bench_least_action.py
	$(PY) tests/benchmarks/bench_ballistic.py
	$(PY) tests/benchmarks/bench_explorers.py
	$(PY) tests/benchmarks/bench_cnn_throughput.py --threads 2
	$(PY) tests/benchmarks/bench_cnn_throughput.py --threads 1
	$(PY) tests/benchmarks/bench_path_solver.py
	$(PY) tests/benchmarks/bench_exact_rule.py
	$(PY) tests/benchmarks/time_notebooks.py
	$(PY) tests/readme_tables.py

clean:
	rm -rf $(VENV)
