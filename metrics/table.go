package metrics

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/wsbench/wsbench/results"
)

// fixed holds every metric with a fixed name; fixedOrder is their order.
var (
	fixed      = map[string]Metric{}
	fixedOrder []string
)

func def(m Metric) {
	if _, dup := fixed[m.Name]; dup {
		panic("metrics: " + m.Name + " defined twice")
	}
	fixed[m.Name] = m
	fixedOrder = append(fixedOrder, m.Name)
}

// The table: one entry per metric.
func init() {
	def(Metric{Name: "handshake.success_ratio", Unit: Ratio, Better: HigherIsBetter,
		Description: "connections opened / connections attempted",
		Value: func(f Facts) (float64, string) {
			c := f.Summary.Connections
			if c.Attempted == 0 {
				return 0, "no connection was attempted"
			}
			return float64(c.Opened) / float64(c.Attempted), ""
		}})
	def(Metric{Name: "handshake.status", Unit: Status,
		Description: `most common non-101 HTTP status among failed handshakes (failures "http_NNN"); 101 when none failed with a status`,
		Value:       func(f Facts) (float64, string) { return float64(commonStatus(f.Summary.Failures)), "" }})
	def(count("handshake.failures", "connection attempts that never opened", func(s *results.Summary) int64 { return s.Connections.Failed }))
	def(count("connections.attempted", "connection attempts", func(s *results.Summary) int64 { return s.Connections.Attempted }))
	def(count("connections.opened", "connections whose handshake completed with 101", func(s *results.Summary) int64 { return s.Connections.Opened }))
	def(count("connections.open_at_end", "connections still open when the load phase ended", func(s *results.Summary) int64 { return s.Connections.OpenAtEnd }))
	def(count("connections.reconnects", "dropped connections opened again (load reconnect: true)", func(s *results.Summary) int64 { return s.Connections.Reconnects }))
	def(count("connections.churned", "connections the load generator closed on its churn schedule and opened again (load churn: R)", func(s *results.Summary) int64 { return s.Connections.Churned }))
	def(Metric{Name: "throughput.msgs_per_s", Unit: Rate, Better: HigherIsBetter,
		Description: "data messages received per second over the measurement window",
		Value:       rate(func(r results.Rates) float64 { return r.MsgsRecvPerSec }),
		Interval:    func(iv results.Interval) int64 { return iv.MsgsRecv }})
	def(Metric{Name: "throughput.bytes_per_s", Unit: ByteRate, Better: HigherIsBetter,
		Description: "data bytes received per second over the measurement window",
		Value:       rate(func(r results.Rates) float64 { return r.BytesRecvPerSec }),
		Interval:    func(iv results.Interval) int64 { return iv.BytesRecv }})
	def(Metric{Name: "throughput.sent_msgs_per_s", Unit: Rate,
		Description: "data messages sent per second over the measurement window",
		Value:       rate(func(r results.Rates) float64 { return r.MsgsSentPerSec })})
	def(Metric{Name: "throughput.sent_bytes_per_s", Unit: ByteRate,
		Description: "data bytes sent per second over the measurement window",
		Value:       rate(func(r results.Rates) float64 { return r.BytesSentPerSec })})
	def(count("messages.sent", "data messages sent", func(s *results.Summary) int64 { return s.Messages.Sent }))
	def(count("messages.received", "data messages received", func(s *results.Summary) int64 { return s.Messages.Received }))
	def(Metric{Name: "messages.lost_ratio", Unit: Ratio,
		Description: `messages never answered (failures "unanswered") / messages sent`,
		Value: func(f Facts) (float64, string) {
			if f.Summary.Messages.Sent == 0 {
				return 0, "no message was sent"
			}
			return float64(f.Summary.Failures["unanswered"]) / float64(f.Summary.Messages.Sent), ""
		}})
	def(drop("hold.median_drop", "median time from open to drop, of the connections that dropped", func(s results.Stats) int64 { return s.P50 }))
	def(drop("hold.min_drop", "earliest drop, from open", func(s results.Stats) int64 { return s.Min }))
	def(drop("hold.max_drop", "latest drop, from open", func(s results.Stats) int64 { return s.Max }))
	def(Metric{Name: "hold.survivors_ratio", Unit: Ratio,
		Description: "connections open at the end / connections opened",
		Value: func(f Facts) (float64, string) {
			c := f.Summary.Connections
			if c.Opened == 0 {
				return 0, "no connection opened"
			}
			return float64(c.OpenAtEnd) / float64(c.Opened), ""
		}})
	def(count("hold.dropped", "connections that opened, then ended before the run did", func(s *results.Summary) int64 { return s.Connections.Dropped }))
	def(Metric{Name: "balance.max_over_mean", Unit: Ratio,
		Description: "connections of the busiest backend / the mean per backend (1 = even)",
		Value:       maxOverMean})
	def(Metric{Name: "balance.backends", Unit: Count,
		Description: "distinct backends that accepted a connection (X-Wsbench-Backend)",
		Value: func(f Facts) (float64, string) {
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
		}})
	def(Metric{Name: "failures.total", Unit: Count,
		Description: "failed attempts and broken connections, every cause",
		Value: func(f Facts) (float64, string) {
			var n int64
			for _, c := range f.Summary.Failures {
				n += c
			}
			return float64(n), ""
		}})
	// Proxy CPU is divided by what the workload spends it on, and only
	// that: messages where messages are the work, handshakes where
	// connections are (hold). In a message workload the CPU "per
	// handshake" would be the relaying over a fixed number of connections,
	// moving with throughput; in hold there is no message to divide by.
	def(Metric{Name: "proxy.cpu_us_per_msg", Unit: Micros, Per: "msg", Better: LowerIsBetter,
		Description: "proxy CPU time / (data messages sent + received); workloads that exchange data messages (all but hold)",
		Value: proxyPer(func(s *results.Summary) (int64, string) {
			if !ExchangesMessages(s.Workload) {
				return 0, "a " + s.Workload + " run: its CPU goes to connections, see proxy.cpu_us_per_handshake"
			}
			return s.Messages.Sent + s.Messages.Received, "no data message was sent or received"
		})})
	def(Metric{Name: "proxy.cpu_us_per_handshake", Unit: Micros, Per: "handshake", Better: LowerIsBetter,
		Description: "proxy CPU time / connection attempts; workloads that only open connections (hold)",
		Value: proxyPer(func(s *results.Summary) (int64, string) {
			if ExchangesMessages(s.Workload) {
				return 0, "a " + orRTT(s.Workload) + " run: its CPU goes to messages, see proxy.cpu_us_per_msg"
			}
			return s.Connections.Attempted, "no connection was attempted"
		})})
	def(Metric{Name: "proxy.cpu_cores", Unit: Ratio,
		Description: "proxy CPU time / the measurement window (1 = one core busy)",
		Value: func(f Facts) (float64, string) {
			if f.Proxy == nil {
				return 0, NoProxy
			}
			if f.Summary.Rates.WindowSec <= 0 {
				return 0, "no measurement window"
			}
			return f.Proxy.CPU.Seconds() / f.Summary.Rates.WindowSec, ""
		}})
	def(Metric{Name: "proxy.mem_per_conn", Unit: Bytes, Per: "conn", Better: LowerIsBetter,
		Description: "proxy memory growth over the window / connections opened",
		Value: func(f Facts) (float64, string) {
			if f.Proxy == nil {
				return 0, NoProxy
			}
			if f.Summary.Connections.Opened == 0 {
				return 0, "no connection opened"
			}
			return float64(f.Proxy.MemoryGrowth) / float64(f.Summary.Connections.Opened), ""
		}})
	// The handshake's negotiation (load subprotocol:, compression:), each as
	// a share of the connections opened: the backend saw the offer (it
	// reached it through the proxy), and the client got an answer (the
	// 101 agreed). A proxy that drops the header shows in the first; one
	// that answers in the backend's stead, in the second alone.
	def(negotiated("subprotocol.backend_saw_ratio", "subprotocols",
		"connections whose backend saw every subprotocol offered (load subprotocol:) / connections opened",
		func(n *results.Negotiation) int64 { return n.ProtocolsSeen }))
	def(negotiated("subprotocol.agreed_ratio", "subprotocols",
		"connections whose 101 selected one of the subprotocols offered / connections opened",
		func(n *results.Negotiation) int64 { return sum(n.Protocols) }))
	def(negotiated("compression.backend_saw_ratio", "compression",
		"connections whose backend saw permessage-deflate offered (load compression: true) / connections opened",
		func(n *results.Negotiation) int64 { return n.DeflateSeen }))
	def(negotiated("compression.agreed_ratio", "compression",
		"connections whose 101 agreed permessage-deflate / connections opened",
		func(n *results.Negotiation) int64 {
			var c int64
			for x, k := range n.Extensions {
				if name, _, _ := strings.Cut(x, ";"); strings.TrimSpace(name) == "permessage-deflate" {
					c += k
				}
			}
			return c
		}))
	def(Metric{Name: "loadgen.cpu_us_per_msg", Unit: Micros, Per: "msg",
		Description: "the load generator's own CPU time (user + system) / data messages sent or received, whichever is more: what the client end pays, e.g. for compression",
		Value: func(f Facts) (float64, string) {
			if f.Summary.Self == nil || f.Summary.Self.CPUPerMsgUS <= 0 {
				return 0, "no load-generator CPU per message measured (no data message?)"
			}
			return f.Summary.Self.CPUPerMsgUS, ""
		}})
	def(Metric{Name: "soak.growth_ratio", Unit: Ratio,
		Description: "largest growth of any resource series (proxy and load generator: resident memory, open descriptors, goroutines): median of the last quarter of the held seconds over the median of the second quarter; 1 = flat",
		Value:       soakGrowthRatio})
}

// NoProxy is the reason proxy.* metrics have no value without usage.
const NoProxy = "no proxy usage measured (direct target, or the stack took no sample)"

// orRTT names a workload, an unnamed one (an old summary) as rtt.
func orRTT(w string) string {
	if w == "" {
		return "rtt"
	}
	return w
}

// negotiated is a share of the connections opened, from the handshakes'
// negotiation; param is the result parameter that says it was offered
// (the load key is its name without a plural s).
func negotiated(name, param, desc string, get func(*results.Negotiation) int64) Metric {
	return Metric{Name: name, Unit: Ratio, Better: HigherIsBetter, Description: desc,
		Value: func(f Facts) (float64, string) {
			s := f.Summary
			switch {
			case s.Params[param] == "" || s.Negotiation == nil:
				return 0, "not offered: the load has no " + strings.TrimSuffix(param, "s") + ":"
			case s.Connections.Opened == 0:
				return 0, "no connection opened"
			}
			return float64(get(s.Negotiation)) / float64(s.Connections.Opened), ""
		}}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func count(name, desc string, get func(*results.Summary) int64) Metric {
	return Metric{Name: name, Unit: Count, Description: desc,
		Value: func(f Facts) (float64, string) { return float64(get(f.Summary)), "" }}
}

func rate(get func(results.Rates) float64) func(Facts) (float64, string) {
	return func(f Facts) (float64, string) {
		if f.Summary.Rates.WindowSec <= 0 {
			return 0, "no measurement window"
		}
		return get(f.Summary.Rates), ""
	}
}

func drop(name, desc string, get func(results.Stats) int64) Metric {
	return Metric{Name: name, Unit: Duration, Description: desc,
		Value: func(f Facts) (float64, string) {
			s, ok := f.Summary.Histograms[results.MetricDrop]
			if !ok || s.Count == 0 {
				return 0, "no connection dropped"
			}
			return float64(get(s)), ""
		}}
}

// proxyPer divides the proxy's CPU by the events the workload spends it
// on; events returns 0 and why when there are none, or they do not apply.
func proxyPer(events func(*results.Summary) (int64, string)) func(Facts) (float64, string) {
	return func(f Facts) (float64, string) {
		if f.Proxy == nil {
			return 0, NoProxy
		}
		n, none := events(f.Summary)
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

// helloHas reports whether any hello message shows the request header.
func helloHas(header string) func(Facts) (float64, string) {
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

// A soak holds connections for a long time, with churn, and asks whether
// anything grows: the proxy's and the load generator's resident memory,
// open descriptors and goroutines, sampled once a second. The growth of a
// series is the median of its last quarter over the median of its second
// quarter, over the seconds in which the connections were held
// (results.ResourceTrends): 1 is flat. soak.growth_ratio is the largest.
func soakGrowthRatio(f Facts) (float64, string) {
	trends := results.ResourceTrends(f.Series, f.ProxySeries)
	if len(trends) == 0 {
		return 0, "no resource series recorded (a time series without resource columns)"
	}
	best := 0.0
	var why []string
	for _, tr := range trends {
		if tr.Growth == 0 {
			why = append(why, fmt.Sprintf("%s %s: %s", tr.Process, tr.Resource, tr.Why))
			continue
		}
		best = max(best, tr.Growth)
	}
	if len(why) > 0 {
		// A series that cannot be judged must not pass unseen.
		return 0, strings.Join(why, "; ")
	}
	return best, ""
}

// soakGrowth is one series' growth.
func soakGrowth(process, resource string) func(Facts) (float64, string) {
	return func(f Facts) (float64, string) {
		for _, tr := range results.ResourceTrends(f.Series, f.ProxySeries) {
			if tr.Process != process || tr.Resource != resource {
				continue
			}
			if tr.Growth == 0 {
				return 0, tr.Why
			}
			return tr.Growth, ""
		}
		if process == results.ProcessProxy {
			return 0, fmt.Sprintf("no proxy %s samples (direct target, or a proxy without an admin endpoint)", resource)
		}
		return 0, fmt.Sprintf("no load generator %s in the time series", resource)
	}
}
