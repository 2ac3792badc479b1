# wsbench — see README.md. `make test` is what CI runs; `make bench` measures.
GO        ?= go
BIN       := bin/wsbench
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
RUN_ID    ?= $(shell date -u +%Y%m%d-%H%M%S)
OUT       ?= runs/$(RUN_ID)
# Extra `wsbench run` flags, e.g. make bench BENCH_FLAGS='--runtime local' or
# BENCH_FLAGS='seed-configs --scale 2'.
BENCH_FLAGS ?=

.PHONY: all build test fmt-check vet unit bench bench-loopback perf clean

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

# bench: every built-in scenario — echo backends, the reference proxy and
# nginx in containers — side by side, written to $(OUT).
bench: build
	$(BIN) run --out $(OUT) $(BENCH_FLAGS)

# bench-loopback: just the echo backend and the load generator on loopback
# (rtt, then throughput), no containers.
bench-loopback: build
	./scripts/bench-loopback.sh $(BIN) $(OUT)

# perf: the reference proxy against nginx and direct, on loopback: added
# latency, throughput, CPU per message, memory and fds per idle tunnel.
perf: build
	./scripts/perf-proxy.sh $(BIN) $(OUT)

clean:
	rm -rf bin
