# Two commands: `make demo` (the quickstart) and `make test`.
# `make setup` creates .venv/ and installs everything (mmcv is built once and
# its wheel cached outside the repository); the other targets run it first,
# and it does nothing when its inputs have not changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
SETUP_INPUTS := requirements.txt requirements/tests.txt requirements/onnx.txt pyproject.toml scripts/setup_env.sh
PYTEST_ARGS ?=

.PHONY: setup test test-slow demo clean

setup: $(STAMP)

$(STAMP): $(SETUP_INPUTS)
	PYTHON=$(PYTHON) bash scripts/setup_env.sh
	@touch $(STAMP)

# pytest exits 5 when it collected no test: make treats that as a failure.
test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: setup
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

demo: setup
	$(PY) tools/quickstart.py

clean:
	rm -rf $(VENV) work_dirs data/quickstart
