# Quick start: `make demo` runs the main job, `make test` the whole suite.
# Both build the virtual environment from nothing on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench gallery clean

$(BIN)/optviz: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

demo: $(BIN)/optviz
	$(BIN)/optviz compare

# The gallery test opens gallery/index.html in Debian's headless chromium;
# the interactive page's test drives it through Debian's chromedriver.
test: $(BIN)/optviz
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }
	$(BIN)/python -m pytest -q

gallery: $(BIN)/optviz
	$(BIN)/optviz gallery

bench: $(BIN)/optviz
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/gif.py
	$(BIN)/python bench/cli.py

clean:
	rm -rf $(VENV) build *.egg-info
