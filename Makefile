# Two entry points (README): `make tour` sets everything up and runs the tour,
# `make test` runs the test suite. Both create the virtual environment first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup tour test docs serve figures lint mutants notebooks
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/system-deps.sh
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	bash scripts/system-deps.sh
	touch $@

tour: setup
	$(VENV)/bin/cellnas tour

test: setup
	$(PY) -m pytest

# The textbook site (docs/): KaTeX is fetched from npm into docs/assets/vendor/ (no CDN).
docs: setup
	bash scripts/fetch-docs-assets.sh
	$(PY) scripts/make_notebooks.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

serve: setup
	bash scripts/fetch-docs-assets.sh
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

# Each chapter as a Jupyter notebook (docs/notebooks/*.ipynb, committed; tests/test_notebooks.py checks they are current).
notebooks: setup
	$(PY) scripts/make_notebooks.py

# Regenerate every figure the site shows into docs/figures/ (CPU defaults).
figures: setup
	$(PY) examples/make_figures.py

# ruff is pinned in pyproject.toml (rules change between releases). The notebooks are not linted: they are
# generated from docs/*.md by scripts/make_notebooks.py, and a bare last expression (ruff's B018) is how a notebook
# cell shows its value; their code is the pages' doctest blocks, which the tests run.
lint: setup
	$(VENV)/bin/ruff check cellnas_edu tests theory examples benchmarks scripts

# Mutation testing of the core modules (not part of `make test`): each mutant runs against its module's own
# tests; about 30 minutes on 2 cores. Kill rates per module -> results/mutants/summary.json.
mutants: setup
	$(PY) scripts/mutants.py --jobs 2 --max-per-module 16
