# Herald's commands. `make run` starts Herald on :1337 with its data in
# ./data (SQLite); `make test` runs every test, on SQLite and then, when
# HERALD_TEST_POSTGRES_URL is set, on PostgreSQL.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test check-templ test-sqlite test-postgres vet fmt fuzz bench

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/herald ./cmd/herald

# --dev lets webhooks reach loopback addresses, for receivers on this machine.
run: build
	./bin/herald serve --dev

test: check-templ test-sqlite test-postgres

# The generated templ files are committed: fail when one is stale.
check-templ:
	@tmp="$$(mktemp -d)"; mkdir -p "$$tmp/admin"; cp go.mod go.sum "$$tmp/"; cp -r admin/views "$$tmp/admin/"; \
		(cd "$$tmp" && $(GO) tool templ generate >/dev/null 2>&1) || { echo "templ generate failed"; exit 1; }; \
		for f in admin/views/*_templ.go; do \
			cmp -s "$$f" "$$tmp/$$f" || { echo "$$f is stale: run go tool templ generate"; rm -rf "$$tmp"; exit 1; }; \
		done; rm -rf "$$tmp"

# The whole suite with contenttest.OpenDB on fresh SQLite files. Tests that
# are about PostgreSQL run here too when HERALD_TEST_POSTGRES_URL is set.
# gofmt checks the packages' directories (dot-directories are not Go's).
test-sqlite:
	@dirs="$$($(GO) list -f '{{.Dir}}' ./...)"; \
		test -z "$$(gofmt -l $$dirs)" || (echo "gofmt needed on:"; gofmt -l $$dirs; exit 1)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# The whole suite again with every contenttest.OpenDB on a fresh PostgreSQL
# schema. Skipped with a message when HERALD_TEST_POSTGRES_URL is unset,
# unless HERALD_TEST_REQUIRE_POSTGRES=1 (CI) makes that a failure.
test-postgres:
	@if [ -n "$$HERALD_TEST_POSTGRES_URL" ]; then \
		echo "== the suite again on PostgreSQL (HERALD_TEST_DB=postgres)"; \
		HERALD_TEST_DB=postgres $(GO) test -count=1 -timeout 20m ./...; \
	elif [ "$$HERALD_TEST_REQUIRE_POSTGRES" = 1 ]; then \
		echo "HERALD_TEST_REQUIRE_POSTGRES=1 but HERALD_TEST_POSTGRES_URL is unset"; exit 1; \
	else \
		echo "== PostgreSQL pass skipped: to run the suite on PostgreSQL too, set" \
			"HERALD_TEST_POSTGRES_URL=postgres://user:password@host:5432/db?sslmode=disable" \
			"(a database where the user may create schemas), or run .ci/run"; \
	fi

fuzz:
	$(GO) test ./content/query -run '^$$' -fuzz FuzzParseCompile -fuzztime 2m

# The load generator (cmd/bench) against a fresh bin/herald: prints one
# table of medians over 3 runs (see README, Performance). BENCHFLAGS passes
# flags, such as BENCHFLAGS="-duration 10s -runs 5" or -growth "".
bench: build
	$(GO) build -o bin/bench ./cmd/bench
	./bin/bench -herald bin/herald $(BENCHFLAGS)
