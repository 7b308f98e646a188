# divulge: `make demo` sets up and runs the main job on a bundled example; `make test` runs everything.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# python3.12 from PATH, else pyenv's or Debian's; override with `make PYTHON=/path/to/python3.12`.
PYTHON ?= $(shell for p in python3.12 $$(ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null) /usr/bin/python3.12 /usr/local/bin/python3.12; do \
            "$$p" -c 'import sys; assert sys.version_info[:2] >= (3, 12)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
DEMO_OUT := demo-output
DEBIAN_TOOLS := apktool zipalign apksigner dexdump java chromium cc

.PHONY: demo test lint venv system-deps fixtures agent bench clean

# Two stamps: the demo needs only divulge itself, the tests also need their extras.
$(VENV)/.installed: setup.cfg pyproject.toml
	@test -n "$(PYTHON)" || { echo "divulge needs Python >= 3.12 (set PYTHON=...)"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip install -q --no-deps 'exodus-core==1.3.15'
	@touch $@

venv: $(VENV)/.installed-test

# The main job on the bundled shopping app: static analysis + its capture + its declaration -> reports.
demo: $(VENV)/.installed
	$(BIN)/divulge scan fixtures/apks/shopping.apk \
	  --policy fixtures/declarations/shopping.privacy.yaml \
	  --traffic fixtures/captures/shopping.har --device fixtures/devices/test-phone.yaml \
	  --format html,json,sarif,md -o $(DEMO_OUT) --fail-on none
	@echo
	$(BIN)/divulge report $(DEMO_OUT)/findings.json --format text
	@echo "demo output: $(CURDIR)/$(DEMO_OUT)/  (open report.html in a browser; summary.md is the short version)"

# Debian tools the tests drive for real (fixture builds, apksigner checks, exodus-core's dexdump, the browser,
# a C compiler for the process the runtime monitor attaches to, and a CJK font so the zh report renders Chinese).
system-deps:
	@missing=""; for t in $(DEBIAN_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	test -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages for:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      apktool zipalign apksigner dexdump openjdk-17-jdk-headless chromium fonts-wqy-microhei gcc >/dev/null; \
	  else echo "warning: missing$$missing (not root: tests needing them will skip)"; fi; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check scanner rules reports tests bench fixtures
	$(BIN)/mypy scanner reports

test: system-deps $(VENV)/.installed-test lint
	$(BIN)/python -m pytest -n 2 -q

fixtures: $(VENV)/.installed
	$(BIN)/python fixtures/build.py

# The Frida agent of `divulge monitor`, with frida-java-bridge compiled in (needs npm once; the bundle is committed).
agent: $(VENV)/.installed-test
	$(BIN)/python -m scanner.dynamic.agent_build

bench: $(VENV)/.installed-test
	$(BIN)/python bench/static_bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info $(DEMO_OUT) test-artifacts
