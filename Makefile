# Skyhub. `make test` runs every test, installing the interop clients first.
GO ?= go

.PHONY: run build test test-short interop-deps vet fuzz bench clean

run:
	$(GO) run ./cmd/skyhub

build:
	$(GO) build -o bin/skyhub ./cmd/skyhub

interop-deps:
	bash test/interop/setup.sh

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './test/interop/node_modules/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Every test: unit, fuzz seeds (corpus in testdata/), durability and interop.
test: interop-deps vet
	SKYHUB_INTEROP=1 $(GO) test -race -count=1 -timeout 20m ./...

# Unit tests only, no external clients, no race detector.
test-short:
	$(GO) test -short -count=1 ./...

# Short fuzzing session of every fuzz target (FUZZTIME per target).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin data
