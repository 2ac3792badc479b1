package report

import (
	"bufio"
	"fmt"
	"github.com/wsbench/wsbench/internal/wrap"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/units"
)

// metricOrder is the order histograms appear in a report: the connection
// phases, then the workload's latencies, then anything else by name.
var metricOrder = []string{
	results.MetricDNS, results.MetricConnect, results.MetricHandshake, results.MetricHandshakeFail, results.MetricRTT, results.MetricService, results.MetricLag, results.MetricOneWay, results.MetricDrop,
}

// Report writes a readable summary of one run: what was measured and how,
// connection counts, failures by cause, messages and bytes each way, one
// row per histogram (count, p50, p90, p99, p99.9, max, each with its unit),
// hold outcomes and survival, backends, what handshakes negotiated, hello
// messages and notes. An
// interrupted run is marked as partial at the top.
func Report(w io.Writer, s *results.Summary) error {
	bw := bufio.NewWriter(w)
	reportHeader(bw, s)
	reportConnections(bw, s)
	reportTraffic(bw, s)
	reportLatency(bw, s)
	reportHold(bw, s.Hold, s.Connections.Opened)
	reportBackends(bw, s.Backends)
	reportNegotiation(bw, s.Negotiation)
	reportRamp(bw, s.Ramp)
	reportSelf(bw, s.Self)
	reportBound(bw, s)
	for i, h := range s.Hellos {
		fmt.Fprintf(bw, "%-12s %s\n", label(i, "hello"), wrap.Clip(string(h), 100))
	}
	for i, n := range s.Notes {
		fmt.Fprintf(bw, "%-12s %s\n", label(i, "note"), n)
	}
	return bw.Flush()
}

// label names the first line of a list and leaves the others blank.
func label(i int, name string) string {
	if i == 0 {
		return name
	}
	return ""
}

func reportHeader(w io.Writer, s *results.Summary) {
	fmt.Fprintf(w, "wsbench %s → %s\n", orDash(s.Workload), orDash(s.Target))
	if s.Interrupted {
		fmt.Fprintln(w, "INTERRUPTED: the run was stopped early; these results are partial")
	}
	fmt.Fprintf(w, "%-12s %s, %s", "run", s.Start.UTC().Format("2006-01-02 15:04:05.000 MST"), units.Seconds(s.End.Sub(s.Start).Seconds()))
	if s.Rates.WindowSec > 0 {
		fmt.Fprintf(w, " (measured over %s)", units.Seconds(s.Rates.WindowSec))
	}
	fmt.Fprintln(w)
	t := s.Tool
	fmt.Fprintf(w, "%-12s %s %s (commit %s, %s)\n", "tool", orDash(t.Name), orDash(t.Version), orDash(t.Commit), orDash(t.GoVersion))
	h := s.Host
	fmt.Fprintf(w, "%-12s %s: %s/%s, %s, %d cores, %s\n", "host", orDash(h.Hostname), orDash(h.OS), orDash(h.Arch),
		orDash(h.CPUModel), h.Cores, orDash(h.Kernel))
	var params []string
	for _, k := range slices.Sorted(maps.Keys(s.Params)) {
		params = append(params, k+"="+s.Params[k])
	}
	for i, line := range wrap.Words(params, 88) {
		fmt.Fprintf(w, "%-12s %s\n", label(i, "params"), line)
	}
}

func reportConnections(w io.Writer, s *results.Summary) {
	c := s.Connections
	fmt.Fprintf(w, "\n%-12s attempted %s, opened %s, failed %s, dropped %s, open at end %s\n", "connections",
		units.Thousands(c.Attempted), units.Thousands(c.Opened), units.Thousands(c.Failed), units.Thousands(c.Dropped), units.Thousands(c.OpenAtEnd))
	fmt.Fprintf(w, "%-12s %s\n", "failures", fmtByCount(s.Failures, "none"))
	if c.Reconnects > 0 {
		fmt.Fprintf(w, "%-12s %s dropped connections opened again\n", "reconnects", units.Thousands(c.Reconnects))
	}
	if c.Churned > 0 {
		fmt.Fprintf(w, "%-12s %s connections closed by the load generator and opened again (not drops)\n", "churned", units.Thousands(c.Churned))
	}
}

// reportRamp lists a ramp's steps and the capacity it found.
func reportRamp(w io.Writer, r *results.Ramp) {
	if r == nil {
		return
	}
	fmt.Fprintf(w, "\n%-12s %12s %12s %10s %10s %8s\n", "ramp", "offered/s", "achieved/s", "p50", "p99", "errors")
	for _, st := range r.Steps {
		mark := "ok"
		if !st.OK {
			mark = "BROKE"
		}
		fmt.Fprintf(w, "%-12s %12s %12s %10s %10s %8s  %s\n", "", units.Scaled(st.Offered), units.Scaled(st.Achieved),
			units.Micros(float64(st.P50)), units.Micros(float64(st.P99)), units.Thousands(st.Errors), mark)
	}
	fmt.Fprintf(w, "%-12s highest step within p99 ≤ %s: %s %s (stopped: %s)\n", "capacity",
		units.Micros(float64(r.SLOUS)), units.Scaled(r.MaxOK), r.Unit, r.Broken)
}

// reportSelf shows what the load generator itself used, so a reader can
// tell when the tool, not the target, was the limit.
func reportSelf(w io.Writer, me *results.Self) {
	if me == nil {
		return
	}
	fmt.Fprintf(w, "\n%-12s CPU %s user + %s sys", "loadgen", units.Seconds(me.CPUUserSec), units.Seconds(me.CPUSysSec))
	if me.CPUPerMsgUS > 0 {
		fmt.Fprintf(w, " (%s per message)", units.Micros(me.CPUPerMsgUS))
	}
	fmt.Fprintf(w, ", RSS %s", units.Bytes(float64(me.RSSBytes)))
	if me.RSSPerConnBytes > 0 {
		fmt.Fprintf(w, " (%s per open connection)", units.Bytes(me.RSSPerConnBytes))
	}
	fmt.Fprintln(w)
}

// reportBound warns when the load generator, not the target, set the pace.
func reportBound(w io.Writer, s *results.Summary) {
	if bound, why := s.LoadgenBound(); bound {
		fmt.Fprintf(w, "%-12s LOADGEN-BOUND: %s; these figures are wsbench's limit, not the target's\n", "", why)
	}
}

func reportTraffic(w io.Writer, s *results.Summary) {
	fmt.Fprintf(w, "\n%-12s %26s %26s\n", "traffic", "sent", "received")
	fmt.Fprintf(w, "%-12s %26s %26s\n", "  messages",
		units.Thousands(s.Messages.Sent)+" ("+units.Scaled(s.Rates.MsgsSentPerSec)+"/s)",
		units.Thousands(s.Messages.Received)+" ("+units.Scaled(s.Rates.MsgsRecvPerSec)+"/s)")
	fmt.Fprintf(w, "%-12s %26s %26s\n", "  bytes",
		units.Bytes(float64(s.Bytes.Sent))+" ("+units.Bytes(s.Rates.BytesSentPerSec)+"/s)",
		units.Bytes(float64(s.Bytes.Received))+" ("+units.Bytes(s.Rates.BytesRecvPerSec)+"/s)")
}

func reportLatency(w io.Writer, s *results.Summary) {
	names := slices.DeleteFunc(slices.Sorted(maps.Keys(s.Histograms)), func(m string) bool { return slices.Contains(metricOrder, m) })
	var ordered []string
	for _, m := range metricOrder {
		if _, ok := s.Histograms[m]; ok {
			ordered = append(ordered, m)
		}
	}
	ordered = append(ordered, names...)
	if len(ordered) == 0 {
		fmt.Fprintf(w, "\n%-12s no histogram has data\n", "latency")
		return
	}
	fmt.Fprintf(w, "\n%-16s %10s %9s %9s %9s %9s %9s\n", "latency", "count", "p50", "p90", "p99", "p99.9", "max")
	for _, m := range ordered {
		st := s.Histograms[m]
		fmt.Fprintf(w, "  %-14s %10s %9s %9s %9s %9s %9s\n", m, units.Thousands(st.Count),
			units.Micros(float64(st.P50)), units.Micros(float64(st.P90)), units.Micros(float64(st.P99)), units.Micros(float64(st.P999)), units.Micros(float64(st.Max)))
	}
}

// reportHold writes the hold outcomes and survival; opened is what the
// shares are of (a curve from an older wsbench may lack its t=0 point).
func reportHold(w io.Writer, h *results.Hold, opened int64) {
	if h == nil {
		return
	}
	fmt.Fprintf(w, "\n%-12s %s\n", "hold", fmtByCount(h.Outcomes, "no connections"))
	if len(h.Survival) == 0 {
		return
	}
	first, last := h.Survival[0], h.Survival[len(h.Survival)-1]
	var points []string
	for i := range 5 {
		t := first.T + (last.T-first.T)*float64(i)/4
		points = append(points, fmt.Sprintf("%s %s", units.Seconds(t), units.Thousands(openAt(h.Survival, t))))
		if last.T == first.T {
			break
		}
	}
	fmt.Fprintf(w, "%-12s open at %s\n", "  survival", strings.Join(points, " · "))
	// Connections still open when the run ended did not drop, even if the
	// curve's last point shows them closed by the load generator itself.
	var total int64
	for _, n := range h.Outcomes {
		total += n
	}
	stillOpen := h.Outcomes["open"]
	half := fmt.Sprintf("fewer than half of the %s connections dropped (%s open at the end)", units.Thousands(opened), units.Thousands(stillOpen))
	if 2*(total-stillOpen) >= total && opened > 0 {
		for _, p := range h.Survival {
			if p.Open*2 <= opened {
				half = fmt.Sprintf("half of the %s connections had dropped by %s", units.Thousands(opened), units.Seconds(p.T))
				break
			}
		}
	}
	fmt.Fprintf(w, "%-12s %s\n", "", half)
}

// openAt is the survival curve's value at t: its last point at or before t.
func openAt(curve []results.SurvivalPoint, t float64) int64 {
	var open int64
	for _, p := range curve {
		if p.T > t {
			break
		}
		open = p.Open
	}
	return open
}

func reportBackends(w io.Writer, b map[string]int64) {
	if len(b) == 0 {
		return
	}
	var total, most int64
	for _, n := range b {
		total += n
		most = max(most, n)
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(b)) {
		parts = append(parts, fmt.Sprintf("%s %s (%.0f%%)", name, units.Thousands(b[name]), 100*float64(b[name])/float64(max(total, 1))))
	}
	mean := float64(total) / float64(len(b))
	fmt.Fprintf(w, "\n%-12s %s; max/mean %.2f\n", "backends", strings.Join(parts, ", "), float64(most)/math.Max(mean, 1))
}

// reportNegotiation says what the handshakes agreed (subprotocols,
// extensions) and how many backends saw the offer.
func reportNegotiation(w io.Writer, n *results.Negotiation) {
	if n == nil {
		return
	}
	fmt.Fprintf(w, "\n%-12s subprotocol %s; extensions %s\n", "negotiated",
		fmtByCount(n.Protocols, "none selected"), fmtByCount(n.Extensions, "none agreed"))
	fmt.Fprintf(w, "%-12s backend saw every subprotocol offered on %s, permessage-deflate on %s\n", "",
		units.Thousands(n.ProtocolsSeen), units.Thousands(n.DeflateSeen))
}

// fmtByCount lists a count map largest first, ties by name.
func fmtByCount(m map[string]int64, empty string) string {
	if len(m) == 0 {
		return empty
	}
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return int(m[b] - m[a]) })
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+units.Thousands(m[k]))
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
