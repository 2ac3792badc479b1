package scenarios

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wsbench/wsbench/results"
)

// Facts are what an expectation is checked against: the result of one
// workload on one target, and what the target's proxy used meanwhile.
type Facts struct {
	Summary *results.Summary // the merged result of the workload on one target
	Proxy   *Usage           // the target's proxy over the load window; nil for direct
	// Backends is how many echo backends the target balances over. When
	// set, balance.max_over_mean divides by it, so a backend that got no
	// connection at all counts in the mean; 0 = only the backends seen.
	Backends int
	// Series is the result's time series (with the load generator's
	// resources) and ProxySeries the proxy's resource samples, for the
	// soak.* metrics; nil when not given.
	Series      []results.Interval
	ProxySeries []results.ResourceSample
}

// Usage is a proxy's resource use over the stack's measurement window.
type Usage struct {
	CPU          time.Duration // user + system CPU time
	MemoryGrowth int64         // bytes: memory at the end of the window minus at its start
}

// MetricInfo describes one metric an expectation can name.
type MetricInfo struct {
	Name        string // e.g. "hold.median_drop"; families as "rtt.<stat>", "failures.<cause>"
	Unit        string // what values are written in: s, µs, bytes, count, ratio, msgs/s, bytes/s, status, present/absent
	Description string
}

// kind is how a metric's values are written in a scenario and shown in a
// verdict.
type kind int

const (
	kindSeconds  kind = iota // durations: 5s, 500ms; a bare number is seconds
	kindMicros               // CPU per event: 46µs, 0.05ms; a bare number is µs
	kindBytes                // 2KiB, 1MB, 512
	kindCount                // 200, 10k
	kindRatio                // 0.999, 99.9%
	kindRate                 // messages per second: 10k, 10k/s
	kindByteRate             // bytes per second: 64MiB/s, 1MB
	kindStatus               // an HTTP status code: 101, 403, 505
	kindPresence             // present / absent
)

var kindUnits = [...]string{
	kindSeconds: "s", kindMicros: "µs", kindBytes: "bytes", kindCount: "count", kindRatio: "ratio",
	kindRate: "msgs/s", kindByteRate: "bytes/s", kindStatus: "status", kindPresence: "present/absent",
}

// valueFunc computes a metric from facts. A non-empty reason says why it
// cannot be computed (no samples, no proxy, …).
type valueFunc func(f Facts) (v float64, reason string)

type metricDef struct {
	name, desc string
	kind       kind
	value      valueFunc
}

// histograms are the latency histograms a result can hold; each gives the
// metrics <name>.<stat>.
var histograms = []struct{ name, desc string }{
	{results.MetricDNS, "lookup of the target's host name: once before the connect phase (one sample), or per attempt with --resolve-each"},
	{results.MetricConnect, "TCP connect time: dial start → connection established"},
	{results.MetricHandshake, "handshake time: dial start → 101 parsed (TCP + TLS + upgrade)"},
	{results.MetricHandshakeFail, "time to fail, of failed attempts: dial start → the failure (a 504 after proxy_connect_timeout)"},
	{results.MetricRTT, "response time: receive − intended send (coordinated-omission free)"},
	{results.MetricService, "service time: receive − actual send"},
	{results.MetricLag, "schedule lag: actual − intended send"},
	{results.MetricOneWay, "push one-way latency: receive − the server's send timestamp"},
	{results.MetricReconnect, "handshake time of connections reopened after a drop (failover through the surviving backends) or after churn"},
}

// stats are the statistics of a histogram metric, by suffix.
var stats = []struct {
	name string
	get  func(results.Stats) float64
}{
	{"min", func(s results.Stats) float64 { return float64(s.Min) }},
	{"mean", func(s results.Stats) float64 { return s.Mean }},
	{"p50", func(s results.Stats) float64 { return float64(s.P50) }},
	{"p90", func(s results.Stats) float64 { return float64(s.P90) }},
	{"p99", func(s results.Stats) float64 { return float64(s.P99) }},
	{"p999", func(s results.Stats) float64 { return float64(s.P999) }},
	{"p9999", func(s results.Stats) float64 { return float64(s.P9999) }},
	{"max", func(s results.Stats) float64 { return float64(s.Max) }},
}

// metrics holds every metric with a fixed name.
var metrics = map[string]metricDef{}

// fixedOrder is the order of Metrics().
var fixedOrder []string

func def(name string, k kind, desc string, v valueFunc) {
	metrics[name] = metricDef{name: name, desc: desc, kind: k, value: v}
	fixedOrder = append(fixedOrder, name)
}

func init() {
	def("handshake.success_ratio", kindRatio, "connections opened / connections attempted", func(f Facts) (float64, string) {
		c := f.Summary.Connections
		if c.Attempted == 0 {
			return 0, "no connection was attempted"
		}
		return float64(c.Opened) / float64(c.Attempted), ""
	})
	def("handshake.status", kindStatus, `most common non-101 HTTP status among failed handshakes (failures "http_NNN"); 101 when none failed with a status`,
		func(f Facts) (float64, string) { return float64(commonStatus(f.Summary.Failures)), "" })
	def("handshake.failures", kindCount, "connection attempts that never opened", func(f Facts) (float64, string) {
		return float64(f.Summary.Connections.Failed), ""
	})
	def("connections.attempted", kindCount, "connection attempts", func(f Facts) (float64, string) {
		return float64(f.Summary.Connections.Attempted), ""
	})
	def("connections.opened", kindCount, "connections whose handshake completed with 101", func(f Facts) (float64, string) {
		return float64(f.Summary.Connections.Opened), ""
	})
	def("connections.open_at_end", kindCount, "connections still open when the load phase ended", func(f Facts) (float64, string) {
		return float64(f.Summary.Connections.OpenAtEnd), ""
	})
	def("connections.reconnects", kindCount, "dropped connections opened again (load reconnect: true)", func(f Facts) (float64, string) {
		return float64(f.Summary.Connections.Reconnects), ""
	})
	def("connections.churned", kindCount, "connections the load generator closed on its churn schedule and opened again (load churn: R)", func(f Facts) (float64, string) {
		return float64(f.Summary.Connections.Churned), ""
	})
	def("throughput.msgs_per_s", kindRate, "data messages received per second over the measurement window", rate(func(r results.Rates) float64 { return r.MsgsRecvPerSec }))
	def("throughput.bytes_per_s", kindByteRate, "data bytes received per second over the measurement window", rate(func(r results.Rates) float64 { return r.BytesRecvPerSec }))
	def("throughput.sent_msgs_per_s", kindRate, "data messages sent per second over the measurement window", rate(func(r results.Rates) float64 { return r.MsgsSentPerSec }))
	def("throughput.sent_bytes_per_s", kindByteRate, "data bytes sent per second over the measurement window", rate(func(r results.Rates) float64 { return r.BytesSentPerSec }))
	def("messages.sent", kindCount, "data messages sent", func(f Facts) (float64, string) { return float64(f.Summary.Messages.Sent), "" })
	def("messages.received", kindCount, "data messages received", func(f Facts) (float64, string) { return float64(f.Summary.Messages.Received), "" })
	def("messages.lost_ratio", kindRatio, `messages never answered (failures "unanswered") / messages sent`, func(f Facts) (float64, string) {
		if f.Summary.Messages.Sent == 0 {
			return 0, "no message was sent"
		}
		return float64(f.Summary.Failures["unanswered"]) / float64(f.Summary.Messages.Sent), ""
	})
	def("hold.median_drop", kindSeconds, "median time from open to drop, of the connections that dropped", drop(func(s results.Stats) int64 { return s.P50 }))
	def("hold.min_drop", kindSeconds, "earliest drop, from open", drop(func(s results.Stats) int64 { return s.Min }))
	def("hold.max_drop", kindSeconds, "latest drop, from open", drop(func(s results.Stats) int64 { return s.Max }))
	def("hold.survivors_ratio", kindRatio, "connections open at the end / connections opened", func(f Facts) (float64, string) {
		c := f.Summary.Connections
		if c.Opened == 0 {
			return 0, "no connection opened"
		}
		return float64(c.OpenAtEnd) / float64(c.Opened), ""
	})
	def("hold.dropped", kindCount, "connections that opened, then ended before the run did", func(f Facts) (float64, string) {
		return float64(f.Summary.Connections.Dropped), ""
	})
	def("balance.max_over_mean", kindRatio, "connections of the busiest backend / the mean per backend (1 = even)", maxOverMean)
	def("balance.backends", kindCount, "distinct backends that accepted a connection (X-Wsbench-Backend)", func(f Facts) (float64, string) {
		if len(f.Summary.Backends) == 0 {
			return 0, "no backend id recorded (no connection opened?)"
		}
		n := 0
		for _, c := range f.Summary.Backends {
			if c > 0 {
				n++
			}
		}
		return float64(n), ""
	})
	def("failures.total", kindCount, "failed attempts and broken connections, every cause", func(f Facts) (float64, string) {
		var n int64
		for _, c := range f.Summary.Failures {
			n += c
		}
		return float64(n), ""
	})
	def("proxy.cpu_us_per_msg", kindMicros, "proxy CPU time / (data messages sent + received)", proxyPer(func(s *results.Summary) int64 { return s.Messages.Sent + s.Messages.Received }, "no data message was sent or received"))
	def("proxy.cpu_us_per_handshake", kindMicros, "proxy CPU time / connection attempts", proxyPer(func(s *results.Summary) int64 { return s.Connections.Attempted }, "no connection was attempted"))
	def("proxy.cpu_cores", kindRatio, "proxy CPU time / the measurement window (1 = one core busy)", func(f Facts) (float64, string) {
		if f.Proxy == nil {
			return 0, noProxy
		}
		if f.Summary.Rates.WindowSec <= 0 {
			return 0, "no measurement window"
		}
		return f.Proxy.CPU.Seconds() / f.Summary.Rates.WindowSec, ""
	})
	def("proxy.mem_per_conn", kindBytes, "proxy memory growth over the window / connections opened", func(f Facts) (float64, string) {
		if f.Proxy == nil {
			return 0, noProxy
		}
		if f.Summary.Connections.Opened == 0 {
			return 0, "no connection opened"
		}
		return float64(f.Proxy.MemoryGrowth) / float64(f.Summary.Connections.Opened), ""
	})
}

const noProxy = "no proxy usage measured (direct target, or the stack took no sample)"

func rate(get func(results.Rates) float64) valueFunc {
	return func(f Facts) (float64, string) {
		if f.Summary.Rates.WindowSec <= 0 {
			return 0, "no measurement window"
		}
		return get(f.Summary.Rates), ""
	}
}

func drop(get func(results.Stats) int64) valueFunc {
	return func(f Facts) (float64, string) {
		s, ok := f.Summary.Histograms[results.MetricDrop]
		if !ok || s.Count == 0 {
			return 0, "no connection dropped"
		}
		return float64(get(s)) / 1e6, ""
	}
}

func proxyPer(events func(*results.Summary) int64, none string) valueFunc {
	return func(f Facts) (float64, string) {
		if f.Proxy == nil {
			return 0, noProxy
		}
		n := events(f.Summary)
		if n == 0 {
			return 0, none
		}
		return float64(f.Proxy.CPU) / 1e3 / float64(n), ""
	}
}

func maxOverMean(f Facts) (float64, string) {
	var total, most int64
	seen := 0
	for _, c := range f.Summary.Backends {
		total += c
		most = max(most, c)
		if c > 0 {
			seen++
		}
	}
	if total == 0 {
		return 0, "no backend id recorded (no connection opened?)"
	}
	n := max(f.Backends, seen)
	return float64(most) / (float64(total) / float64(n)), ""
}

// commonStatus is the most frequent status among failures "http_NNN"
// (the lowest code on a tie), or 101 when there is none.
func commonStatus(failures map[string]int64) int {
	best, bestN := 101, int64(0)
	for cause, n := range failures {
		code, ok := strings.CutPrefix(cause, "http_")
		if !ok || n <= 0 {
			continue
		}
		c, err := strconv.Atoi(code)
		if err != nil || c == 101 {
			continue
		}
		if n > bestN || n == bestN && c < best {
			best, bestN = c, n
		}
	}
	return best
}

// lookupMetric finds a metric: a fixed name, a histogram statistic
// (<histogram>.<stat>), failures.<cause> or hello.<Header-Name>.
func lookupMetric(name string) (metricDef, error) {
	if d, ok := metrics[name]; ok {
		return d, nil
	}
	family, rest, _ := strings.Cut(name, ".")
	switch family {
	case "failures":
		if !validCause(rest) {
			return metricDef{}, fmt.Errorf("metric %q: want failures.<cause>, a cause such as http_503, refused, timeout, unanswered", name)
		}
		return metricDef{name: name, kind: kindCount, value: func(f Facts) (float64, string) {
			return float64(f.Summary.Failures[rest]), ""
		}}, nil
	case "soak":
		process, resource, _ := strings.Cut(rest, ".")
		if !contains([]string{results.ProcessProxy, results.ProcessLoadgen}, process) ||
			!contains([]string{results.ResourceRSS, results.ResourceFDs, results.ResourceGoroutines}, resource) {
			return metricDef{}, fmt.Errorf("metric %q: want soak.growth_ratio or soak.<proxy|loadgen>.<rss|fds|goroutines>", name)
		}
		return metricDef{name: name, kind: kindRatio, value: soakGrowth(process, resource)}, nil
	case "hello":
		if !validHeaderName(rest) {
			return metricDef{}, fmt.Errorf("metric %q: want hello.<Header-Name>, e.g. hello.X-Real-IP", name)
		}
		return metricDef{name: name, kind: kindPresence, value: helloHas(rest)}, nil
	}
	for _, h := range histograms {
		if h.name != family {
			continue
		}
		for _, st := range stats {
			if st.name == rest {
				return metricDef{name: name, kind: kindSeconds, value: histStat(h.name, st.get)}, nil
			}
		}
		return metricDef{}, fmt.Errorf("metric %q: unknown statistic %q (want %s)", name, rest, statNames())
	}
	msg := fmt.Sprintf("unknown metric %q", name)
	if s := suggest(name, knownMetricNames()); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	} else {
		msg += " (see 'wsbench run --help' for the list)"
	}
	return metricDef{}, fmt.Errorf("%s", msg)
}

func histStat(name string, get func(results.Stats) float64) valueFunc {
	return func(f Facts) (float64, string) {
		s, ok := f.Summary.Histograms[name]
		if !ok || s.Count == 0 {
			return 0, fmt.Sprintf("no %s samples", name)
		}
		return get(s) / 1e6, ""
	}
}

// helloHas reports whether any hello message shows the request header.
func helloHas(header string) valueFunc {
	return func(f Facts) (float64, string) {
		if len(f.Summary.Hellos) == 0 {
			return 0, "no hello message received (the path needs ?hello=1, and a connection must open)"
		}
		for _, raw := range f.Summary.Hellos {
			var h struct {
				Host    string            `json:"host"`
				Headers map[string]string `json:"headers"`
			}
			if err := json.Unmarshal(raw, &h); err != nil {
				return 0, fmt.Sprintf("hello message is not echo's JSON: %v", err)
			}
			if strings.EqualFold(header, "Host") && h.Host != "" {
				return 1, ""
			}
			for k := range h.Headers {
				if strings.EqualFold(k, header) {
					return 1, ""
				}
			}
		}
		return 0, ""
	}
}

func validCause(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validHeaderName accepts an HTTP field name (RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}

func statNames() string {
	names := make([]string, len(stats))
	for i, s := range stats {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

func knownMetricNames() []string {
	names := append([]string(nil), fixedOrder...)
	for _, h := range histograms {
		for _, s := range stats {
			names = append(names, h.name+"."+s.name)
		}
	}
	return names
}

// Value computes a metric from f (in its base unit: seconds, µs for CPU
// per event, bytes, counts, ratios, per second; 1 or 0 for present/absent).
// It reports false when the metric is unknown or cannot be computed from
// these facts (no samples, no proxy).
func (f Facts) Value(metric string) (float64, bool) {
	v, reason := f.value(metric)
	return v, reason == ""
}

func (f Facts) value(metric string) (float64, string) {
	d, err := lookupMetric(metric)
	if err != nil {
		return 0, err.Error()
	}
	if f.Summary == nil {
		return 0, "no result"
	}
	return d.value(f)
}

// Metrics lists every metric expectations can name, for --help and the
// README: the histogram families (<histogram>.<stat>), the fixed names,
// then failures.<cause> and hello.<Header-Name>.
func Metrics() []MetricInfo {
	out := make([]MetricInfo, 0, len(fixedOrder)+len(histograms)+2)
	for _, h := range histograms {
		out = append(out, MetricInfo{Name: h.name + ".<stat>", Unit: "s",
			Description: h.desc + "; <stat> is " + statNames()})
	}
	for _, n := range fixedOrder {
		d := metrics[n]
		out = append(out, MetricInfo{Name: n, Unit: kindUnits[d.kind], Description: d.desc})
	}
	out = append(out,
		MetricInfo{Name: "failures.<cause>", Unit: "count", Description: "failures of one cause (http_503, refused, reset, timeout, eof, unanswered, …); 0 when absent"},
		MetricInfo{Name: "soak.<process>.<resource>", Unit: "ratio", Description: "growth of one series, as soak.growth_ratio computes it; <process> is proxy or loadgen, <resource> is rss, fds or goroutines"},
		MetricInfo{Name: "hello.<Header-Name>", Unit: "present/absent", Description: "whether any backend hello message (path ?hello=1) shows that request header, e.g. hello.X-Real-IP present"},
	)
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
