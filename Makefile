# Quick start: `make demo` runs the main job, `make test` the whole suite.
# Each builds its own virtual environment from nothing on first use: .venv holds optviz and
# what the main job needs (torch's CPU build, numpy, matplotlib, pillow, click); .venv-test
# adds the test tools and the optional extras. Both install with constraints.txt.
PYTHON ?= python3
DEMO   := .venv/bin
TEST   := .venv-test/bin

.PHONY: demo test bench gallery clean

$(DEMO)/optviz: pyproject.toml constraints.txt
	$(PYTHON) -m venv .venv
	$(DEMO)/pip install --quiet --upgrade pip
	$(DEMO)/pip install --quiet -c constraints.txt -e .
	touch $@

$(TEST)/optviz: pyproject.toml constraints.txt
	$(PYTHON) -m venv .venv-test
	$(TEST)/pip install --quiet --upgrade pip
	$(TEST)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

demo: $(DEMO)/optviz
	$(DEMO)/optviz compare

# The gallery test opens gallery/index.html in Debian's headless chromium;
# the interactive page's test drives it through Debian's chromedriver.
test: $(TEST)/optviz
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }
	$(TEST)/python -m pytest -q

gallery: $(DEMO)/optviz
	$(DEMO)/optviz gallery

bench: $(TEST)/optviz
	$(TEST)/python bench/simulate.py
	$(TEST)/python bench/gif.py
	$(TEST)/python bench/cli.py

clean:
	rm -rf .venv .venv-test build *.egg-info
