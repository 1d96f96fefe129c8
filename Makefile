# The two commands: `make run` (set up, then run the demo) and `make test` (set up, then test).
# Everything they need is installed here: nothing is expected to be installed by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES_FOR_JAVA := openjdk-17-jre-headless

.PHONY: run test lint faults load sample bench bench-deps bench-ingest bench-realtime setup python-deps graphiql-assets neo4j-server system-deps browser apt-install clean

run: setup
	$(BIN)/accountgraph run

test: setup browser lint
	$(BIN)/pytest

# Lint (ruff: pyflakes, pycodestyle, isort, bugbear, pyupgrade) and types (mypy --strict on service/).
lint: python-deps
	$(BIN)/ruff check service tests benchmarks
	$(BIN)/mypy service

# Fault tests alone (also part of `make test`): Neo4j down at start-up, killed and restarted under
# the service, killed in the middle of a large import, a deadlocked write retried (docs/reliability.md).
faults: setup
	$(BIN)/pytest -m faults

# Load test: 20 concurrent writers x 250 web visits and 4 readers against three service processes on a
# throwaway Neo4j; checks every visit is in the graph exactly once and times a subscriber; report in
# docs/benchmarks/load.md.
load: setup
	$(BIN)/python -m benchmarks.load --processes 3

# A synthetic export of PEOPLE people (four sources and MDM, deterministic) in .cache/sample/, to seed or import.
PEOPLE ?= 10000
sample: python-deps
	$(BIN)/python -m benchmarks.generate --people $(PEOPLE) .cache/sample

# The performance benchmark: ingest, audience (vs naive N+1 and PostgreSQL), GraphQL over HTTP (vs
# @neo4j/graphql) at scales S (10k people), M (100k), L (1M); `make bench SCALE=S` for a quick check.
# Results, table and plots in docs/benchmarks/ (README.md).
SCALE ?= S M L
bench: setup bench-deps
	$(BIN)/python -m benchmarks.suite $(SCALE)

# PostgreSQL (the relational alternative) from Debian's packages; the plotting and PostgreSQL client libraries.
bench-deps:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || $(MAKE) --no-print-directory apt-install PACKAGES="postgresql"
	$(BIN)/pip install --quiet -e '.[test,bench]'

# Ingestion throughput on synthetic exports (generated once into .cache/bench/); figures in docs/benchmarks/.
bench-ingest: setup
	$(BIN)/python -m benchmarks.ingest --people 100000
	$(BIN)/python -m benchmarks.ingest --people 1000000

# Live-audience latency under a fixed-rate stream of events (100k people); table, JSON and plot in docs/benchmarks/.
bench-realtime: setup bench-deps
	$(BIN)/python -m benchmarks.realtime --people 100000

setup: system-deps python-deps graphiql-assets neo4j-server

python-deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

graphiql-assets: graphiql/node_modules/.installed

graphiql/node_modules/.installed: graphiql/package.json graphiql/package-lock.json
	npm ci --prefix graphiql --no-audit --no-fund --loglevel=error
	touch $@

# The local Neo4j server's jars, unless NEO4J_URI names a server or Docker runs one.
neo4j-server: python-deps
	@if [ -z "$$NEO4J_URI" ] && ! docker info >/dev/null 2>&1; then $(BIN)/accountgraph db install; fi

# Java 17 and Maven for the local Neo4j, Node.js for the GraphiQL assets: from Debian's packages if missing.
system-deps:
	@missing=""; \
	command -v java >/dev/null || missing="$$missing $(APT_PACKAGES_FOR_JAVA)"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then $(MAKE) --no-print-directory apt-install PACKAGES="$$missing"; fi

# Headless Chromium for the GraphiQL browser test.
browser:
	@[ -x /usr/bin/chromium ] || $(MAKE) --no-print-directory apt-install PACKAGES="chromium chromium-driver"

apt-install:
	@if [ "$$(id -u)" != 0 ]; then echo "Please install with your package manager: $(PACKAGES)"; exit 1; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PACKAGES)

clean:
	-$(BIN)/accountgraph db stop
	rm -rf $(VENV) graphiql/node_modules .cache test-artifacts
