# One-command entry points (README "Quick start"). Each target creates .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test,web]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/epass demo

# The suite runs beside a private pcscd with a vpcd virtual reader (tools/with-pcscd: installs
# the packages and the pcsc extra when missing as root or with CI=true; otherwise the PC/SC
# integration tests skip, except under CI=true where that is a failure), with headless
# Chromium for the browser tests (tools/with-chromium: the same rules for Debian's chromium).
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	tools/with-chromium tools/with-pcscd $(BIN) $(BIN)/pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
