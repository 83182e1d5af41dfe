# The two commands a newcomer needs: `make run` and `make test`. Everything else they need
# (virtual environment, Python packages, the playground's assets, the Neo4j server jars)
# is installed by these targets on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEPS   := $(VENV)/.deps-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
ASSETS := playground/node_modules/.package-lock.json
EXPLORER := explorer/node_modules/.package-lock.json
AUDIT  := tests/http-audit/node_modules/.package-lock.json
DEMO_PERSONS ?= 2000

.PHONY: run test proof bench bench-screening bench-identity lint setup browser stop clean

# Development mode: an HS256 secret generated into .local/, demo data, demo tokens, the
# playground and introspection. Production (GATEWAY_ENV's default) needs GATEWAY_JWKS_URL.
run: export GATEWAY_ENV = development
run: export GATEWAY_AUDIT_JOURNAL ?= $(CURDIR)/.local/audit-journal
run: setup
	@echo "Development mode (GATEWAY_ENV=development): demo data and tokens; never expose this server."
	$(BIN)/gateway neo4j start
	$(BIN)/gateway migrate
	$(BIN)/gateway seed --if-empty --persons $(DEMO_PERSONS) --seed 1
	$(BIN)/gateway identity-scan
	@echo "Demo tokens (8 h), for the Authorization: Bearer header:"
	@$(BIN)/gateway demo-tokens
	@echo "Playground: http://127.0.0.1:8000/playground   Explorer: http://127.0.0.1:8000/explorer   GraphQL: http://127.0.0.1:8000/graphql"
	GATEWAY_DEMO_TOKENS=true $(BIN)/gateway serve

test: setup
	$(BIN)/pytest

# The proof: PROOF_CASES random (graph, caller, query) cases against the plain-Python oracle
# (make test runs 1,000 of them); prints the count and any counterexample, shrunk.
PROOF_CASES ?= 20000
proof: setup
	PROOF_CASES=$(PROOF_CASES) $(BIN)/pytest tests/test_property.py -q

# The gateway against the peer (@neo4j/graphql on Apollo Server, installed here only),
# hand-written Cypher, and Cypher plus an access record, interleaved (BENCH_PERSONS, BENCH_ROUNDS).
PEER := bench/peers/neo4j-graphql
bench: setup $(PEER)/node_modules/.package-lock.json
	$(BIN)/python -m bench.run

$(PEER)/node_modules/.package-lock.json: $(PEER)/package.json $(PEER)/package-lock.json
	npm ci --prefix $(PEER) --no-audit --no-fund --loglevel=error

# Identity links: precision and recall against the seed's planted duplicates, scan time.
bench-identity: setup
	$(BIN)/python -m bench.identity_links

# Screening recall, precision, hidden-record independence and latency (BENCH_PERSONS=1000000).
bench-screening: setup
	$(BIN)/python -m bench.screening

lint: setup
	$(BIN)/ruff check gateway graph_schema seed tests bench
	$(BIN)/mypy gateway graph_schema seed

setup: $(DEPS) $(ASSETS) $(EXPLORER) $(AUDIT) browser
	$(BIN)/gateway neo4j install

# The playground's and the explorer's browser tests drive Debian's Chromium (browser downloads
# from elsewhere are not reachable): installed here when missing, as root through apt-get.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser test"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }; \
	  else echo "the browser test needs chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(DEPS): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(ASSETS): playground/package.json playground/package-lock.json
	npm ci --prefix playground --no-audit --no-fund --loglevel=error

# The graph explorer's drawing library (cytoscape), served by the gateway at /explorer.
$(EXPLORER): explorer/package.json explorer/package-lock.json
	npm ci --prefix explorer --no-audit --no-fund --loglevel=error

# The graphql-http conformance audit that tests/test_graphql_over_http.py runs (registry only).
$(AUDIT): tests/http-audit/package.json tests/http-audit/package-lock.json
	npm ci --prefix tests/http-audit --no-audit --no-fund --loglevel=error

stop:
	-$(BIN)/gateway neo4j stop

clean: stop
	rm -rf $(VENV) .local playground/node_modules explorer/node_modules tests/http-audit/node_modules $(PEER)/node_modules
