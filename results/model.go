// Package results is wsbench's result model and its files: summary.json,
// HdrHistogram .hgrm percentile distributions, .hlog interval logs and
// timeseries.csv. It decodes everything it encodes, and renders reports.
// It knows nothing of how the load was made.
package results

import (
	"encoding/json"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Schema identifies the summary.json format.
const Schema = "wsbench/result/v1"

// Histogram range: every latency is recorded in microseconds, from 1 µs to
// one hour, with 3 significant digits.
const (
	LowestUS  = 1
	HighestUS = 3_600_000_000
	SigFigs   = 3
)

// Metric names. Each names a histogram (µs) and its files (<metric>.hgrm,
// <metric>.hlog).
const (
	MetricConnect   = "connect"   // dial start → TCP established
	MetricHandshake = "handshake" // dial start → 101 parsed (TCP + TLS + upgrade)
	MetricRTT       = "rtt"       // response time: receive − intended send
	MetricService   = "service"   // receive − actual send
	MetricLag       = "lag"       // schedule lag: actual − intended send
	MetricOneWay    = "oneway"    // push: receive − server's embedded send time
	MetricDrop      = "drop"      // hold: connection open → connection ended
	// MetricHandshakeFail times failed attempts: dial start → the failure
	// (a 502 after proxy_connect_timeout shows up here, not in handshake).
	MetricHandshakeFail = "handshake_fail"
	// MetricReconnect times the handshakes of connections reopened after a
	// drop (failover: dial start → 101 through the surviving backends), or
	// after the load generator closed them for churn.
	MetricReconnect = "reconnect"
	// MetricDNS times name resolution of the target: once before the
	// connect phase, or per connection with --resolve-each. connect and
	// handshake start at the TCP connect, after it.
	MetricDNS = "dns"
)

// NewHistogram returns an empty histogram with wsbench's range.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(LowestUS, HighestUS, SigFigs)
}

// Summary is summary.json: everything a reader needs to trust and compare a
// run without the histogram files.
type Summary struct {
	Schema      string            `json:"schema"`
	Tool        Tool              `json:"tool"`
	Host        Host              `json:"host"`
	Target      string            `json:"target"`   // what was measured: a URL, or a target name
	Workload    string            `json:"workload"` // rtt, throughput, push, hold
	Params      map[string]string `json:"params"`   // every load parameter, as canonical strings
	Start       time.Time         `json:"start"`
	End         time.Time         `json:"end"`
	Interrupted bool              `json:"interrupted"` // stopped by Ctrl-C; results are partial
	Connections Connections       `json:"connections"`
	Messages    Traffic           `json:"messages"`
	Bytes       Traffic           `json:"bytes"`
	Rates       Rates             `json:"rates"`
	// Failures counts failed connection attempts and broken connections by
	// cause: refused, reset, timeout, eof, http_<status>, bad_accept,
	// emfile, protocol_<close code>, other.
	Failures   map[string]int64 `json:"failures"`
	Histograms map[string]Stats `json:"histograms"` // by metric name
	Hold       *Hold            `json:"hold,omitempty"`
	// Backends counts connections by the backend that accepted them (the
	// X-Wsbench-Backend response header).
	Backends map[string]int64 `json:"backends,omitempty"`
	// Hellos holds the distinct hello messages backends sent (echo's
	// ?hello=1), which show the headers a proxy forwarded.
	Hellos []json.RawMessage `json:"hellos,omitempty"`
	// Negotiation is what the handshakes of the connections opened agreed
	// and what their backends said they were offered; nil when the run
	// offered neither a subprotocol nor compression.
	Negotiation *Negotiation `json:"negotiation,omitempty"`
	// Ramp is the outcome of a ramp workload: the offered load raised in
	// steps until the SLO broke.
	Ramp *Ramp `json:"ramp,omitempty"`
	// Self is the load generator's own resource use, so a reader can tell
	// whether the tool, not the target, was the bottleneck.
	Self *Self `json:"self,omitempty"`
	// ToolBound says why the run is loadgen-bound — the load generator,
	// not the target, set its pace — with the figure, e.g. "lag p99
	// 3.20ms > 1.00ms"; "" when it kept up. Write fills it from
	// LoadgenBound, which readers call (it judges older summaries too).
	ToolBound string   `json:"loadgen_bound,omitempty"`
	Notes     []string `json:"notes,omitempty"`
}

// Tool identifies the wsbench build that produced the run.
type Tool struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go_version"`
}

// Host describes the machine the load generator ran on.
type Host struct {
	Hostname  string `json:"hostname"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUModel  string `json:"cpu_model"`
	Cores     int    `json:"cores"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
}

// Ramp is a capacity search: each step offers more load; the answer is the
// highest step whose p99 stayed within the SLO without errors.
type Ramp struct {
	SLOUS  int64      `json:"slo_us"`           // the p99 bound of the primary metric
	Steps  []RampStep `json:"steps"`            // in the order they ran
	MaxOK  float64    `json:"max_ok"`           // highest offered rate (or connections) that met the SLO; 0 if none
	Unit   string     `json:"unit"`             // "msgs/s" or "conns"
	Broken string     `json:"broken,omitempty"` // why the ramp stopped: "p99 over SLO", "errors", "last step"
}

// RampStep is one step of a ramp.
type RampStep struct {
	Offered  float64 `json:"offered"`  // msgs/s (rtt) or connections (hold)
	Achieved float64 `json:"achieved"` // msgs/s received, or connections open
	Start    float64 `json:"start_sec"`
	End      float64 `json:"end_sec"`
	P50      int64   `json:"p50_us"`
	P99      int64   `json:"p99_us"`
	Errors   int64   `json:"errors"`
	OK       bool    `json:"ok"`
}

// Self is what the load generator itself used during the load phase.
type Self struct {
	CPUUserSec float64 `json:"cpu_user_sec"`
	CPUSysSec  float64 `json:"cpu_sys_sec"`
	// CPUPerMsgUS is user+sys CPU per data message sent or received,
	// whichever is larger.
	CPUPerMsgUS float64 `json:"cpu_per_msg_us"`
	RSSBytes    int64   `json:"rss_bytes"` // resident memory at the end of the load phase
	// RSSPerConnBytes is RSSBytes over the connections open then (hold
	// runs: the cost of holding a connection).
	RSSPerConnBytes float64 `json:"rss_per_conn_bytes"`
	// LoopBusy is the busiest event loop's share of the load phase spent
	// working rather than waiting for events (0..1). Near 1, the load
	// generator, not the target, set the pace.
	LoopBusy float64 `json:"loop_busy,omitempty"`

	msgs, open float64 // what the per-unit figures divide by, for merging
}

// Connections counts connection attempts and their fates.
type Connections struct {
	Attempted int64 `json:"attempted"`
	Opened    int64 `json:"opened"`      // handshake completed with 101
	Failed    int64 `json:"failed"`      // attempts that never opened
	Dropped   int64 `json:"dropped"`     // opened, then ended before the run did
	OpenAtEnd int64 `json:"open_at_end"` // still open when the run ended
	// Reconnects counts dropped connections opened again (loadgen
	// --reconnect); failed attempts are failures "reconnect_<cause>".
	Reconnects int64 `json:"reconnects,omitempty"`
	// Churned counts connections the load generator closed itself on its
	// churn schedule (loadgen --churn) and opened again: not drops. Failed
	// reopening attempts are failures "churn_<cause>".
	Churned int64 `json:"churned,omitempty"`
}

// Negotiation counts, over the connections opened (Connections.Opened),
// what the server agreed in the 101 (Sec-WebSocket-Protocol,
// Sec-WebSocket-Extensions) and what the echo backend reported it was
// offered (X-Wsbench-Protocols-Seen, X-Wsbench-Extensions-Seen): the two
// differ when a proxy drops an offer, or answers it itself.
type Negotiation struct {
	// Protocols counts connections by the subprotocol selected; those
	// without one are not counted.
	Protocols map[string]int64 `json:"protocols,omitempty"`
	// Extensions counts connections by the extensions agreed, as the 101
	// wrote them ("permessage-deflate;client_no_context_takeover").
	Extensions map[string]int64 `json:"extensions,omitempty"`
	// ProtocolsSeen counts connections whose backend saw every subprotocol
	// offered; DeflateSeen those whose backend saw permessage-deflate.
	ProtocolsSeen int64 `json:"protocols_seen"`
	DeflateSeen   int64 `json:"deflate_seen"`
}

// Traffic counts data messages or their bytes each way.
type Traffic struct {
	Sent     int64 `json:"sent"`
	Received int64 `json:"received"`
}

// Rates are per-second averages over the measurement window.
type Rates struct {
	WindowSec       float64 `json:"window_sec"`
	MsgsSentPerSec  float64 `json:"msgs_sent_per_sec"`
	MsgsRecvPerSec  float64 `json:"msgs_recv_per_sec"`
	BytesSentPerSec float64 `json:"bytes_sent_per_sec"`
	BytesRecvPerSec float64 `json:"bytes_recv_per_sec"`
}

// Stats summarises one histogram. Values are microseconds.
type Stats struct {
	Count  int64   `json:"count"`
	Min    int64   `json:"min_us"`
	Mean   float64 `json:"mean_us"`
	StdDev float64 `json:"stddev_us"`
	P50    int64   `json:"p50_us"`
	P90    int64   `json:"p90_us"`
	P99    int64   `json:"p99_us"`
	P999   int64   `json:"p99_9_us"`
	P9999  int64   `json:"p99_99_us"`
	Max    int64   `json:"max_us"`
}

// Hold is the outcome of a hold workload: how and when connections ended.
type Hold struct {
	// Outcomes counts connections by how they ended: open (still open at
	// the end), eof, reset, timeout, close_<code>.
	Outcomes map[string]int64 `json:"outcomes"`
	// Survival is the number of connections still open over time: a
	// first point at t=0 with every connection that opened (each is alive
	// until it ends), then one point per second and one at every change.
	Survival []SurvivalPoint `json:"survival"`
}

// SurvivalPoint is the count of open connections at T seconds after the
// first connection opened.
type SurvivalPoint struct {
	T    float64 `json:"t_sec"`
	Open int64   `json:"open"`
}

// Interval is one row of timeseries.csv: one second of the run.
type Interval struct {
	T         float64 `json:"t_sec"` // end of the interval, seconds since Start
	Open      int64   `json:"open"`  // connections open at the end of the interval
	MsgsSent  int64   `json:"msgs_sent"`
	MsgsRecv  int64   `json:"msgs_recv"`
	BytesSent int64   `json:"bytes_sent"`
	BytesRecv int64   `json:"bytes_recv"`
	Errors    int64   `json:"errors"`
	P50       int64   `json:"p50_us"` // of the workload's primary metric in this interval
	P99       int64   `json:"p99_us"`
	// Resources is what the load generator itself held at the end of the
	// interval (summed over the workers of a merged run).
	Resources
}

// Run is a complete result: the summary plus the histograms and time series
// it was computed from.
type Run struct {
	Summary Summary
	// Histograms holds each metric's whole-run histogram.
	Histograms map[string]*hdrhistogram.Histogram
	// Intervals holds each metric's per-second histograms, in order, with
	// StartTimeMs/EndTimeMs set (Unix milliseconds). Merging them gives the
	// whole-run histogram exactly. They are packed (sparse) because an
	// hour-long run keeps 3,600 of them per metric, where a dense histogram
	// costs 184 KB each.
	Intervals map[string][]*hdrhistogram.PackedHistogram
	Series    []Interval
	// ProxySeries is the proxy under test's resources, sampled about once
	// a second by `wsbench run` (proxy_timeseries.csv); nil when none was.
	ProxySeries []ResourceSample
}
