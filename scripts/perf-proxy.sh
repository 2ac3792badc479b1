#!/usr/bin/env bash
# perf-proxy.sh BIN OUT — the reference proxy against nginx and direct, on
# loopback, with wsbench's own echo backend and load generator:
#   rtt         50 connections, 10k round trips/s, 64 B: latency p50/p99 and
#               the proxy's CPU per round trip (two relayed messages); run
#               WSBENCH_PERF_ROUNDS (5) times, targets interleaved, medians
#               shown: one run of a shared 2-core machine is noise
#   throughput  64 B, 16 KiB and 1 MiB echo messages as fast as they go:
#               messages/s, MB/s, and CPU per relayed message
#   hold        WSBENCH_PERF_TUNNELS (9,000) idle tunnels: the proxy's RSS
#               and open descriptors per tunnel
# for: direct (no proxy), refproxy (splice), refproxy-copy (--splice=false,
# 4 KiB buffers), and nginx (/usr/sbin/nginx, one worker, the seeds' map
# config, run as a user process from a generated config in OUT/nginx).
# CPU is read from /proc/PID/stat around each load (nginx: its worker).
# Prints a side-by-side table; every run's results stay under OUT.
set -euo pipefail
bin=${1:?usage: perf-proxy.sh BIN OUT}
out=${2:?usage: perf-proxy.sh BIN OUT}
base=${WSBENCH_PERF_PORT:-19100}
duration=${WSBENCH_PERF_DURATION:-10s}
tunnels=${WSBENCH_PERF_TUNNELS:-9000}
rounds=${WSBENCH_PERF_ROUNDS:-5}
nginx_bin=${WSBENCH_NGINX:-/usr/sbin/nginx}
mkdir -p "$out"
out=$(cd "$out" && pwd)

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

wait_port() { # wait_port PORT: until something accepts on 127.0.0.1:PORT
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "perf-proxy: nothing listens on 127.0.0.1:$1" >&2
	return 1
}

cpu_ticks() { # user+system clock ticks (1/100 s) of PID, 0 for none
	[ "$1" = 0 ] && { echo 0; return; }
	awk '{print $14 + $15}' "/proc/$1/stat"
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }

echo_port=$base
"$bin" echo --listen "127.0.0.1:$echo_port" --id perf-echo --log-level error >"$out/echo.log" 2>&1 &
pids+=($!)
wait_port "$echo_port"

declare -A port pid
names=(direct refproxy refproxy-copy)
port[direct]=$echo_port
pid[direct]=0
# Timeouts of an hour: the hold phase measures idle tunnels, not timeouts.
common=(--upstream "127.0.0.1:$echo_port" --read-timeout 1h --send-timeout 1h --log-level error)
port[refproxy]=$((base + 1))
"$bin" proxy --listen "127.0.0.1:${port[refproxy]}" "${common[@]}" >"$out/refproxy.log" 2>&1 &
pid[refproxy]=$!
pids+=($!)
port[refproxy-copy]=$((base + 2))
"$bin" proxy --listen "127.0.0.1:${port[refproxy-copy]}" --splice=false "${common[@]}" >"$out/refproxy-copy.log" 2>&1 &
pid[refproxy-copy]=$!
pids+=($!)
wait_port "${port[refproxy]}"
wait_port "${port[refproxy-copy]}"

if [ -x "$nginx_bin" ]; then
	names+=(nginx)
	port[nginx]=$((base + 3))
	nd="$out/nginx"
	mkdir -p "$nd"
	chmod 755 "$nd"
	cat >"$nd/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $nd/nginx.pid;
error_log $nd/error.log warn;
events { worker_connections 19900; use epoll; }
http {
  access_log off;
  client_body_temp_path $nd/body;
  proxy_temp_path $nd/proxy;
  fastcgi_temp_path $nd/fastcgi;
  uwsgi_temp_path $nd/uwsgi;
  scgi_temp_path $nd/scgi;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  upstream backend { server 127.0.0.1:$echo_port; }
  server {
    listen 127.0.0.1:${port[nginx]};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}
EOF
	"$nginx_bin" -c "$nd/nginx.conf" -p "$nd" -e "$nd/error.log" &
	master=$!
	pids+=($master)
	wait_port "${port[nginx]}"
	pid[nginx]=$(awk '{print $1}' "/proc/$master/task/$master/children")
	nginx_version=$("$nginx_bin" -v 2>&1)
else
	echo "perf-proxy: $nginx_bin not found (apt-get install nginx); no nginx column" >&2
fi

per() { # per CPU_MS COUNT FACTOR: µs of CPU per (COUNT*FACTOR)
	awk -v c="$1" -v n="$2" -v f="$3" 'BEGIN { if (c > 0 && n > 0) printf "%.1f", c * 1000 / (n * f); else print "-" }'
}

declare -A res
load() { # load NAME KIND LOADGEN-FLAGS...: runs loadgen, records CPU and summary
	local name=$1 kind=$2
	shift 2
	local dir="$out/$name/$kind" c0 c1
	c0=$(cpu_ticks "${pid[$name]}")
	"$bin" loadgen --url "ws://127.0.0.1:${port[$name]}/echo" --duration "$duration" --quiet --out "$dir" "$@"
	c1=$(cpu_ticks "${pid[$name]}")
	res[$name.$kind.cpu_ms]=$(((c1 - c0) * 10))
	res[$name.$kind.recv]=$(jq '.messages.received' "$dir/summary.json")
}

median() { tr ' ' '\n' | { grep -v '^$' || true; } | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }
declare -A cpus p50s p99s
for r in $(seq "$rounds"); do
	for n in "${names[@]}"; do
		echo "== $n: rtt, round $r of $rounds" >&2
		load "$n" "rtt-$r" --workload rtt --conns 50 --rate 10k --size 64
		sum="$out/$n/rtt-$r/summary.json"
		[ "${pid[$n]}" = 0 ] || cpus[$n]+=" $(per "${res[$n.rtt-$r.cpu_ms]}" "${res[$n.rtt-$r.recv]}" 1)"
		p50s[$n]+=" $(jq '.histograms.rtt.p50_us' "$sum")"
		p99s[$n]+=" $(jq '.histograms.rtt.p99_us' "$sum")"
	done
done
for n in "${names[@]}"; do
	res[$n.rtt.p50]=$(echo "${p50s[$n]}" | median)
	res[$n.rtt.p99]=$(echo "${p99s[$n]}" | median)
	res[$n.rtt.cpu]=$(echo "${cpus[$n]:-}" | median)
	res[$n.rtt.cpus]=${cpus[$n]:-}
done

for n in "${names[@]}"; do
	for spec in "64B 50 16" "16KiB 50 4" "1MiB 8 1"; do
		read -r size conns window <<<"$spec"
		echo "== $n: throughput $size" >&2
		load "$n" "tp-$size" --workload throughput --conns "$conns" --window "$window" --size "$size"
		res[$n.tp-$size.msgs]=$(jq '.rates.msgs_recv_per_sec | floor' "$out/$n/tp-$size/summary.json")
		res[$n.tp-$size.mbs]=$(jq '.rates.bytes_recv_per_sec / 1e6 | . * 10 | floor / 10' "$out/$n/tp-$size/summary.json")
	done
	if [ "$n" != direct ]; then
		echo "== $n: hold $tunnels idle tunnels" >&2
		p=${pid[$n]}
		r0=$(rss_kib "$p")
		f0=$(fds "$p")
		hold=$((tunnels / 3000 + 12))s
		"$bin" loadgen --url "ws://127.0.0.1:${port[$n]}/sink" --workload hold --conns "$tunnels" --connect-rate 3000 \
			--duration "$hold" --quiet --out "$out/$n/hold" &
		lg=$!
		sleep $((tunnels / 3000 + 8)) # opened, then idle for a few seconds
		r1=$(rss_kib "$p")
		f1=$(fds "$p")
		wait "$lg"
		opened=$(jq '.connections.opened' "$out/$n/hold/summary.json")
		res[$n.hold.opened]=$opened
		res[$n.hold.rss]=$(awk -v a="$r0" -v b="$r1" -v n="$opened" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / n; else print "-" }')
		res[$n.hold.fds]=$(awk -v a="$f0" -v b="$f1" -v n="$opened" 'BEGIN { if (n > 0) printf "%.2f", (b - a) / n; else print "-" }')
	fi
done

{
	echo
	echo "wsbench proxy perf ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${nginx_version:-no nginx}), results in $out"
	echo "CPU is the proxy process's (nginx: its worker) user+system time; rt = round trip = 2 relayed messages."
	printf "\n%-34s" ""
	for n in "${names[@]}"; do printf "%16s" "$n"; done
	row() { # row LABEL KEY [per-FACTOR]
		printf "\n%-34s" "$1"
		for n in "${names[@]}"; do
			local v=${res[$n.$2]:--}
			if [ $# -ge 3 ] && [ "$v" != - ]; then
				v=$([ "${pid[$n]}" = 0 ] && echo - || per "${res[$n.${2%.*}.cpu_ms]}" "${res[$n.${2%.*}.recv]}" "$3")
			fi
			printf "%16s" "$v"
		done
	}
	row "rtt 10k/s 64B p50 (µs, median)" rtt.p50
	row "rtt 10k/s 64B p99 (µs, median)" rtt.p99
	row "CPU per round trip (µs, median)" rtt.cpu
	for size in 64B 16KiB 1MiB; do
		row "echo $size msgs/s" "tp-$size.msgs"
		row "echo $size MB/s (one way)" "tp-$size.mbs"
		row "echo $size CPU per relayed msg (µs)" "tp-$size.recv" 2
	done
	row "idle tunnels held" hold.opened
	row "RSS per idle tunnel (KiB)" hold.rss
	row "fds per idle tunnel" hold.fds
	echo
	echo
	echo "CPU per round trip in each of the $rounds rtt rounds:"
	for n in "${names[@]}"; do if [ -n "${res[$n.rtt.cpus]}" ]; then echo "  $n:${res[$n.rtt.cpus]}"; fi; done
} | tee "$out/table.txt"
