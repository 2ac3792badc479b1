# wsbench — see README.md. `make test` is what CI runs; `make bench` measures.
GO        ?= go
BIN       := bin/wsbench
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
RUN_ID    ?= $(shell date -u +%Y%m%dT%H%M%SZ)
OUT       ?= runs/$(RUN_ID)

.PHONY: all build test fmt-check vet unit bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/wsbench

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

test: fmt-check vet unit

# bench: an echo backend and the load generator on loopback, rtt then
# throughput, written under $(OUT) and summarised.
bench: build
	./scripts/bench-loopback.sh $(BIN) $(OUT)

clean:
	rm -rf bin
