# Quick start: `make demo` runs the main job, `make test` the whole suite.
# Both build the virtual environment from nothing on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/optviz: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

demo: $(BIN)/optviz
	$(BIN)/optviz compare

test: $(BIN)/optviz
	$(BIN)/python -m pytest -q

bench: $(BIN)/optviz
	$(BIN)/python bench/simulate.py

clean:
	rm -rf $(VENV) build *.egg-info
