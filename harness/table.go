package harness

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/wsbench/wsbench/metrics"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/units"
)

// writeTable prints a scenario's rows side by side: one line per target
// and workload, the headline numbers, and the verdict; then every failed
// expectation with the value that broke it.
func writeTable(w io.Writer, so *ScenarioOutcome) {
	if so.Err != "" {
		fmt.Fprintf(w, "   %s could not run: %s\n\n", so.Name, so.Err)
	}
	if len(so.Rows) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tworkload\tconns ok\tshake p50\tp99\tlatency\tp50\tp99\tp99.9\tmsgs/s\tproxy µs/msg\tmem/conn\tfailures\texpect\t")
	for _, r := range so.Rows {
		fmt.Fprintln(tw, rowLine(r))
	}
	tw.Flush()
	for _, r := range so.Rows {
		for _, v := range r.Verdicts {
			if !v.Pass {
				why := v.Got
				if v.Reason != "" {
					why = v.Reason
				}
				fmt.Fprintf(w, "   ✗ %s / %s: %s — got %s\n", r.Target, r.Workload, v.Expectation.Text, why)
			}
		}
		if r.Err != "" {
			fmt.Fprintf(w, "   ✗ %s / %s: %s\n", r.Target, r.Workload, r.Err)
		}
		if r.Skipped != "" {
			fmt.Fprintf(w, "   - %s / %s skipped: %s\n", r.Target, r.Workload, r.Skipped)
		}
		if why := loadgenBound(r); why != "" {
			fmt.Fprintf(w, "   ! %s / %s: loadgen-bound, %s: the load generator fell behind, so these figures are wsbench's limit, not the target's\n", r.Target, r.Workload, why)
		}
	}
	fmt.Fprintln(w)
}

func rowLine(r *Row) string {
	cells := []string{r.Target, r.Workload}
	switch {
	case r.Skipped != "":
		return strings.Join(append(cells, "skipped"), "\t") + "\t"
	case r.Summary == nil:
		return strings.Join(append(cells, "error"), "\t") + "\t"
	}
	s := r.Summary
	hs, rtt := s.Histograms[results.MetricHandshake], primaryLatency(s)
	cells = append(cells,
		fmt.Sprintf("%d/%d", s.Connections.Opened, s.Connections.Attempted),
		ms(hs.P50, hs.Count), ms(hs.P99, hs.Count), latencyName(s.Workload),
		ms(rtt.P50, rtt.Count), ms(rtt.P99, rtt.Count), ms(rtt.P999, rtt.Count),
		rate(s.Rates.MsgsRecvPerSec),
		cpuPerMsg(r), memPerConn(r),
		failures(s.Failures),
		verdict(r),
	)
	return strings.Join(cells, "\t") + "\t"
}

// primaryLatency is the workload's headline latency: rtt, service time
// for throughput, one-way for push, time to drop for hold.
func primaryLatency(s *results.Summary) results.Stats {
	return s.Histograms[results.PrimaryMetric(s.Workload)]
}

// latencyName labels the latency columns of a row: what was measured.
func latencyName(workload string) string {
	switch m := results.PrimaryMetric(workload); m {
	case results.MetricService:
		return "service"
	case results.MetricOneWay:
		return "one-way"
	case results.MetricDrop:
		return "to drop"
	default:
		return m
	}
}

func ms(us int64, count int64) string {
	if count == 0 {
		return "-"
	}
	return units.Micros(float64(us))
}

func rate(v float64) string {
	if v == 0 {
		return "-"
	}
	return units.Scaled(v)
}

// cpuPerMsg is the proxy's CPU per message, or per handshake ("/hs") in
// a workload that only opens connections: whichever the metric rule
// (package metrics) applies to the row.
func cpuPerMsg(r *Row) string {
	name, suffix := "proxy.cpu_us_per_msg", ""
	if !metrics.ExchangesMessages(r.Summary.Workload) {
		name, suffix = "proxy.cpu_us_per_handshake", "/hs"
	}
	v, ok := rowMetric(r, name)
	if !ok {
		return "-"
	}
	return units.Sig3(v) + suffix
}

func memPerConn(r *Row) string {
	per, ok := rowMetric(r, "proxy.mem_per_conn")
	if !ok || per <= 0 {
		return "-"
	}
	return units.Bytes(per)
}

// rowMetric reads a metric of the vocabulary from a measured row.
func rowMetric(r *Row, name string) (float64, bool) {
	m, err := metrics.Lookup(name)
	if err != nil {
		panic(err) // a name of this file
	}
	v, why := m.Value(metrics.Facts{Summary: r.Summary, Proxy: r.Usage})
	return v, why == ""
}

// failures lists the two most common causes, "http_400×200, reset×3".
func failures(f map[string]int64) string {
	if len(f) == 0 {
		return "-"
	}
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range f {
		if v > 0 {
			all = append(all, kv{k, v})
		}
	}
	if len(all) == 0 {
		return "-"
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].k < all[j].k })
	var parts []string
	for i, e := range all {
		if i == 2 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s×%d", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}

// verdict is the row's expectations, marked when its load generator set
// the pace (the figure is on a line of its own under the table).
func verdict(r *Row) string {
	v := fmt.Sprintf("FAIL %d/%d", r.Failed(), len(r.Verdicts))
	switch {
	case r.Err != "":
		return "ERROR"
	case len(r.Verdicts) == 0:
		v = "-"
	case r.Passed():
		v = fmt.Sprintf("pass %d/%d", len(r.Verdicts), len(r.Verdicts))
	}
	if loadgenBound(r) != "" {
		v += " loadgen-bound"
	}
	return v
}

// loadgenBound says why the row's load generator, not the target, set the
// pace (results.Summary.LoadgenBound), or "".
func loadgenBound(r *Row) string {
	if r.Summary == nil {
		return ""
	}
	_, why := r.Summary.LoadgenBound()
	return why
}
