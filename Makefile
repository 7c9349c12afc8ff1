# Chainright: everything a fresh machine needs is installed from this repository's own files.
#   make up     set up what is missing, then run the platform locally (Ctrl-C stops it)
#   make down   from another terminal: stop what `make up` runs (as Ctrl-C in its terminal)
#   make test   set up what is missing, then run the whole test suite
# `make setup` is idempotent: each step re-runs only when its inputs changed.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SOLC_VERSION := 0.8.28
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/.bin:$(PATH)
PYTEST_ARGS ?=
# The suite runs in parallel (pytest-xdist), one test file per worker at a time: each worker owns its
# chains, database servers and nodes on free ports. Most of a test's time is spent waiting on chains and
# child processes, so two cores carry three workers. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 3

.PHONY: setup webapp setup-ipfs setup-consortium up down test test-bft test-deps test-unit audit compile gas-snapshot lint typecheck clean distclean

setup: $(VENV)/.installed node_modules/.installed .solcx/solc-v$(SOLC_VERSION) .bin/anvil webapp

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 (3.10-3.12 work with didkit)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@grep -q 'chainright toolchain' $(BIN)/activate || printf '\n# chainright toolchain\nexport SOLCX_BINARY_PATH="%s/.solcx"\nexport PATH="%s/.bin:$$PATH"\n' "$(CURDIR)" "$(CURDIR)" >> $(BIN)/activate
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js 20 with npm"; exit 1; }
	@# npm ci installs exactly the lockfile and never rewrites it (it lists every platform's optional
	@# anvil/cast/forge package; npm picks this machine's).
	npm ci --no-audit --no-fund --loglevel=error
	@test -x node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil || { echo "error: anvil binary missing after npm install (was --omit=optional set?)"; exit 1; }
	@test -x node_modules/@foundry-rs/forge-linux-amd64/bin/forge || { echo "error: forge binary missing after npm install (was --omit=optional set?)"; exit 1; }
	@touch $@

.solcx/solc-v$(SOLC_VERSION): tools/solc-shim.cjs node_modules/.installed
	@mkdir -p .solcx
	@printf '#!/bin/sh\nexec node "%s/tools/solc-shim.cjs" "$$@"\n' "$(CURDIR)" > $@
	@chmod +x $@
	@$@ --version | grep -q 'Version: $(SOLC_VERSION)+commit' || { echo "error: solc shim does not answer --version"; exit 1; }

# The web app's script (viem + mipd, bundled by esbuild; gitignored), served by the API at /static/app.js.
webapp: api/web/static/dist/app.js

api/web/static/dist/app.js: node_modules/.installed tools/build-webapp.sh $(wildcard api/web/js/*.js)
	tools/build-webapp.sh

# A real IPFS node (js-ipfs) for the integration tests; about 290 MB, kept apart from the rest.
setup-ipfs: tools/ipfs-node/node_modules/.installed

tools/ipfs-node/node_modules/.installed: tools/ipfs-node/package.json tools/ipfs-node/package-lock.json
	@# npm install, not npm ci: npm ci refuses this lockfile ("Missing: headless@ from lock file", an
	@# optional peer of a js-ipfs dependency) although npm install finds it complete and leaves it as is;
	@# .ci/run fails if setup ever rewrites it.
	cd tools/ipfs-node && npm install --no-audit --no-fund --loglevel=error
	@touch $@

.bin/anvil: node_modules/.installed
	@mkdir -p .bin
	@ln -sf ../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil .bin/anvil
	@ln -sf ../node_modules/@foundry-rs/cast-linux-amd64/bin/cast .bin/cast
	@ln -sf ../node_modules/@foundry-rs/forge-linux-amd64/bin/forge .bin/forge
	@touch -h $@

# The consortium client: go-ethereum v1.13.15 (Clique) with our Shanghai/Cancun patch, built from
# the Go module proxy into .bin/geth. The script skips the build when that exact binary is there.
setup-consortium:
	@tools/geth/build-geth.sh

compile: setup
	$(BIN)/chainright compile

up: setup
	$(BIN)/chainright up

# SIGINT to the `chainright up` whose pid its supervisor writes (CHAINRIGHT_CHAIN_DATA_DIR, default
# .chainright); it stops its children and saves the chains, then exits. A stale pid is left alone.
down:
	@f="$${CHAINRIGHT_CHAIN_DATA_DIR:-.chainright}/run/supervisor.json"; \
	pid=$$($(BIN)/python -c 'import json, sys; print(json.load(open(sys.argv[1]))["pid"])' "$$f" 2>/dev/null); \
	if [ -z "$$pid" ] || ! ps -o args= -p "$$pid" 2>/dev/null | grep -q 'chainright up'; then \
		echo "nothing to stop: no 'chainright up' runs for $$f"; exit 0; fi; \
	kill -INT "$$pid"; \
	for i in $$(seq 1 120); do \
		kill -0 "$$pid" 2>/dev/null || { echo "stopped chainright up (pid $$pid)"; exit 0; }; sleep 0.5; done; \
	echo "error: chainright up (pid $$pid) still runs after 60 s"; exit 1

# What the suite needs besides the venv is independent: the IPFS node's packages (network), the geth
# build, PostgreSQL's binaries and the static checks run side by side (each one's output is printed
# whole when it ends); pytest starts when all of them passed.
test: setup
	@$(MAKE) --no-print-directory -j4 --output-sync=target setup-ipfs setup-consortium test-deps lint typecheck audit
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=25 -m "not bft" $(PYTEST_ARGS)

# System packages only the test suite needs (PostgreSQL server binaries for the API tests; Debian's
# Chromium for the web app's real-browser tests, driven by Playwright, which never downloads one).
test-deps:
	@case "$${CHAINRIGHT_TEST_DATABASES:-sqlite,postgresql}" in *postgresql*) tools/ensure-postgres.sh;; esac
	@tools/ensure-chromium.sh

# The BFT consortium engine's tests: they need .bin/bftd, whose first build (Go modules from the proxy,
# about 555 MB, then CometBFT + cosmos/evm compiled) takes 4-20 minutes, too long for every CI run.
test-bft: setup
	tools/bft/build.sh
	$(BIN)/python -m pytest -n 0 -m bft $(PYTEST_ARGS)

test-unit: setup
	$(BIN)/python -m pytest -m unit -p no:ape_test $(PYTEST_ARGS)

gas-snapshot: setup
	$(BIN)/chainright bench gas --write-snapshot

# slither over every contract of ours (see tools/audit.py); fails on untriaged high/medium findings
audit: setup
	$(BIN)/python tools/audit.py

lint: setup
	$(BIN)/ruff check chain record devnet bridge api bench did chainright scripts tests tools

typecheck: setup
	$(BIN)/mypy

clean:
	rm -rf .build .cache contracts/.cache .pytest_cache .hypothesis

distclean: clean
	rm -rf $(VENV) node_modules tools/ipfs-node/node_modules api/web/static/dist .solcx .bin .chainright
