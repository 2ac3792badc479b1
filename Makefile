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

.PHONY: all build test fmt-check vet provision unit bench bench-loopback perf clean

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

# provision: the host proxies the tests run (nginx, haproxy, apache2,
# caddy), installed when missing — as root, with apt-get or go install, each
# command printed first; otherwise doctor prints the command to run. Tests
# whose proxy is still missing skip (fail where WSBENCH_REQUIRE_* says so),
# so its status is not make's.
provision: build
	-$(BIN) doctor proxies --runtime local --install

test: fmt-check vet provision unit

# bench: every built-in scenario — echo backends, the reference proxy and
# nginx in containers — side by side, written to $(OUT). The run finds each
# proxy itself: its official image if present or pullable, else the host's
# binary, else (as root) installs it, and says which (see wsbench doctor).
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
