#!/usr/bin/env bash
# bench-loopback.sh BIN OUT — an echo backend and the load generator on
# loopback: rtt at a fixed rate, then echo throughput, about 10 s each.
# Results go to OUT/<workload>/; each run's summary is printed.
set -euo pipefail
bin=${1:?usage: bench-loopback.sh BIN OUT}
out=${2:?usage: bench-loopback.sh BIN OUT}
port=${WSBENCH_BENCH_PORT:-19000}
duration=${WSBENCH_BENCH_DURATION:-10s}

"$bin" echo --listen "127.0.0.1:$port" --id bench-echo &
echo_pid=$!
trap 'kill -TERM $echo_pid 2>/dev/null; wait $echo_pid 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 50); do # wait until the backend accepts connections
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
	sleep 0.1
done

url="ws://127.0.0.1:$port/echo"
echo "== rtt: 50 connections, 10k msgs/s, 64 B, $duration"
"$bin" loadgen --url "$url" --workload rtt --conns 50 --rate 10k --size 64 --duration "$duration" --out "$out/rtt"
echo
echo "== throughput: 50 connections, window 16, 64 B, $duration"
"$bin" loadgen --url "$url" --workload throughput --conns 50 --window 16 --size 64 --duration "$duration" --out "$out/throughput"
echo
echo "results: $out"
