package metrics

import (
	"fmt"
	"strings"

	"github.com/wsbench/wsbench/internal/httpsyntax"
	"github.com/wsbench/wsbench/results"
)

// Unit is what a metric's values count, and so how they are written.
type Unit int

const (
	Duration Unit = iota // a latency: µs, as results records histograms; expectations write seconds
	Micros               // CPU time per event, µs
	Bytes                // bytes (per Per, if set)
	Count                // events
	Ratio                // a fraction or a multiple
	Rate                 // messages per second
	ByteRate             // bytes per second
	Status               // an HTTP status code
	Presence             // 1 present, 0 absent
)

var unitNames = [...]string{
	Duration: "µs", Micros: "µs", Bytes: "bytes", Count: "count", Ratio: "ratio",
	Rate: "msgs/s", ByteRate: "bytes/s", Status: "status", Presence: "present/absent",
}

func (u Unit) String() string { return unitNames[u] }

// Direction says which way a metric improves, and so which limit the gate
// takes for it: latencies and costs a --max, throughput a --min.
type Direction int

const (
	Unordered      Direction = iota // neither way is better: the gate does not compare it
	LowerIsBetter                   // a rise is a regression
	HigherIsBetter                  // a fall is a regression
)

// Facts are what a metric is read from: the result of one workload on one
// target, and what the target's proxy used meanwhile.
type Facts struct {
	Summary *results.Summary // the merged result of the workload on one target
	Proxy   *results.Usage   // the target's proxy over the load window; nil for direct
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

// Metric is one figure of a result.
type Metric struct {
	Name        string // e.g. "rtt.p99", "proxy.cpu_us_per_msg"
	Unit        Unit
	Per         string    // what Micros and Bytes are per ("msg", "handshake", "conn"); "" for none
	Better      Direction // set where the regression gate compares the metric
	Description string
	// Value reads the metric (in Unit); a non-empty reason says why it has
	// none for these facts: not applicable, no samples, no proxy.
	Value func(Facts) (v float64, reason string)

	// Histogram and Stat name a histogram statistic (<histogram>.<stat>),
	// Quantile its percentile as a fraction (0.99 for p99; 0 for min,
	// mean, max); empty for other metrics.
	Histogram, Stat string
	Quantile        float64
	// Interval is, for a rate, the per-interval count it is the rate of,
	// so that a time series gives per-second samples; nil otherwise.
	Interval func(results.Interval) int64
}

// Label is the unit as tables write it: µs/msg, bytes/conn, msgs/s.
func (m Metric) Label() string {
	if m.Per != "" {
		return m.Unit.String() + "/" + m.Per
	}
	return m.Unit.String()
}

// ExchangesMessages reports whether a workload's work is data messages
// (rtt, throughput, push, ramp), so that proxy CPU per message applies;
// hold only opens connections and keeps them.
func ExchangesMessages(workload string) bool { return workload != "hold" }

// Histograms are the latency histograms a result can hold; each gives the
// metrics <name>.<stat>.
var Histograms = []struct{ Name, Description string }{
	{results.MetricDNS, "lookup of the target's host name: once before the connect phase (one sample), or per attempt with --resolve-each"},
	{results.MetricConnect, "TCP connect time: dial start → connection established"},
	{results.MetricHandshake, "handshake time: dial start → 101 parsed (TCP + TLS + upgrade)"},
	{results.MetricHandshakeFail, "time to fail, of failed attempts: dial start → the failure (a 504 after proxy_connect_timeout)"},
	{results.MetricRTT, "response time: receive − intended send (coordinated-omission free)"},
	{results.MetricService, "service time: receive − actual send"},
	{results.MetricLag, "schedule lag: actual − intended send"},
	{results.MetricOneWay, "push one-way latency: receive − the server's send timestamp"},
	{results.MetricDrop, "hold: time from open to drop, of the connections that dropped"},
	{results.MetricReconnect, "handshake time of connections reopened after a drop (failover through the surviving backends) or after churn"},
}

// Stats are the statistics of a histogram, by suffix; Q is the percentile
// as a fraction (0 for min, mean and max).
var Stats = []struct {
	Name string
	Q    float64
	Get  func(results.Stats) float64
}{
	{"min", 0, func(s results.Stats) float64 { return float64(s.Min) }},
	{"mean", 0, func(s results.Stats) float64 { return s.Mean }},
	{"p50", 0.50, func(s results.Stats) float64 { return float64(s.P50) }},
	{"p90", 0.90, func(s results.Stats) float64 { return float64(s.P90) }},
	{"p99", 0.99, func(s results.Stats) float64 { return float64(s.P99) }},
	{"p999", 0.999, func(s results.Stats) float64 { return float64(s.P999) }},
	{"p9999", 0.9999, func(s results.Stats) float64 { return float64(s.P9999) }},
	{"max", 0, func(s results.Stats) float64 { return float64(s.Max) }},
}

// StatNames lists the statistic suffixes, "min, mean, …".
func StatNames() string {
	names := make([]string, len(Stats))
	for i, s := range Stats {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// Families are the metric names with a free part, for help texts.
var Families = []struct{ Name, Unit, Description string }{
	{"failures.<cause>", "count", "failures of one cause (http_503, refused, reset, timeout, eof, unanswered, …); 0 when absent"},
	{"soak.<process>.<resource>", "ratio", "growth of one series, as soak.growth_ratio computes it; <process> is proxy or loadgen, <resource> is rss, fds or goroutines"},
	{"hello.<Header-Name>", "present/absent", "whether any backend hello message (path ?hello=1) shows that request header, e.g. hello.X-Real-IP present"},
}

// ErrUnknown wraps the error of Lookup for a name that is no metric, so
// callers can add their own hint (the names they accept).
var ErrUnknown = fmt.Errorf("unknown metric")

// Lookup finds a metric: a fixed name, a histogram statistic
// (<histogram>.<stat>), failures.<cause>, soak.<process>.<resource> or
// hello.<Header-Name>.
func Lookup(name string) (Metric, error) {
	if m, ok := fixed[name]; ok {
		return m, nil
	}
	family, rest, _ := strings.Cut(name, ".")
	switch family {
	case "failures":
		if !validCause(rest) {
			return Metric{}, fmt.Errorf("metric %q: want failures.<cause>, a cause such as http_503, refused, timeout, unanswered", name)
		}
		return Metric{Name: name, Unit: Count, Value: func(f Facts) (float64, string) {
			return float64(f.Summary.Failures[rest]), ""
		}}, nil
	case "soak":
		process, resource, _ := strings.Cut(rest, ".")
		if !oneOf(process, results.ProcessProxy, results.ProcessLoadgen) ||
			!oneOf(resource, results.ResourceRSS, results.ResourceFDs, results.ResourceGoroutines) {
			return Metric{}, fmt.Errorf("metric %q: want soak.growth_ratio or soak.<proxy|loadgen>.<rss|fds|goroutines>", name)
		}
		return Metric{Name: name, Unit: Ratio, Value: soakGrowth(process, resource)}, nil
	case "hello":
		if !ValidHeaderName(rest) {
			return Metric{}, fmt.Errorf("metric %q: want hello.<Header-Name>, e.g. hello.X-Real-IP", name)
		}
		return Metric{Name: name, Unit: Presence, Value: helloHas(rest)}, nil
	}
	for _, h := range Histograms {
		if h.Name != family {
			continue
		}
		for _, st := range Stats {
			if st.Name == rest {
				return histogramMetric(h.Name, st.Name, st.Q, st.Get), nil
			}
		}
		return Metric{}, fmt.Errorf("metric %q: unknown statistic %q (want %s)", name, rest, StatNames())
	}
	return Metric{}, fmt.Errorf("%w %q", ErrUnknown, name)
}

func histogramMetric(hist, stat string, q float64, get func(results.Stats) float64) Metric {
	return Metric{
		Name: hist + "." + stat, Unit: Duration, Better: LowerIsBetter,
		Histogram: hist, Stat: stat, Quantile: q,
		Value: func(f Facts) (float64, string) {
			s, ok := f.Summary.Histograms[hist]
			if !ok || s.Count == 0 {
				return 0, fmt.Sprintf("no %s samples", hist)
			}
			return get(s), ""
		},
	}
}

// Fixed lists the metrics with a fixed name, in the order help shows them.
func Fixed() []Metric {
	out := make([]Metric, len(fixedOrder))
	for i, n := range fixedOrder {
		out[i] = fixed[n]
	}
	return out
}

// Names lists every metric name a caller can give (histogram statistics
// spelled out), for suggestions.
func Names() []string {
	names := append([]string(nil), fixedOrder...)
	for _, h := range Histograms {
		for _, s := range Stats {
			names = append(names, h.Name+"."+s.Name)
		}
	}
	return names
}

func oneOf(s string, list ...string) bool {
	for _, l := range list {
		if s == l {
			return true
		}
	}
	return false
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

// ValidHeaderName accepts an HTTP field name (RFC 9110 token).
func ValidHeaderName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !httpsyntax.IsTokenChar(s[i]) {
			return false
		}
	}
	return true
}
