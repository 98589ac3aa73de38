# Two commands on a fresh machine:  make run  (open the tutor)  and  make test.
# Both create .venv when it is missing. pip (not uv or poetry): on our machines pip
# installs torch from local disk, the others download several GB.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys; print(hashlib.sha1(open('pyproject.toml','rb').read()).hexdigest()[:10])" 2>/dev/null)
PYTEST_ARGS ?=

.PHONY: run test check doctor bench clean install

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 10) else 'tutor needs Python 3.10 or newer; set PYTHON=python3.x')"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/tutor

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/tutor check

doctor: $(STAMP)
	$(BIN)/tutor doctor

bench: $(STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
