package scenarios

import (
	"errors"
	"fmt"
	"sort"

	"github.com/wsbench/wsbench/metrics"
)

// Facts are what an expectation is checked against: the result of one
// workload on one target, and what the target's proxy used meanwhile (the
// metrics package reads them).
type Facts metrics.Facts

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

// kinds is how expectations write each unit of the vocabulary.
var kinds = [...]kind{
	metrics.Duration: kindSeconds, metrics.Micros: kindMicros, metrics.Bytes: kindBytes,
	metrics.Count: kindCount, metrics.Ratio: kindRatio, metrics.Rate: kindRate,
	metrics.ByteRate: kindByteRate, metrics.Status: kindStatus, metrics.Presence: kindPresence,
}

// valueFunc computes a metric from facts. A non-empty reason says why it
// cannot be computed (no samples, no proxy, …).
type valueFunc func(f Facts) (v float64, reason string)

type metricDef struct {
	name, desc string
	kind       kind
	value      valueFunc
}

// lookupMetric finds a metric of the vocabulary, as expectations write it:
// durations in seconds.
func lookupMetric(name string) (metricDef, error) {
	m, err := metrics.Lookup(name)
	if errors.Is(err, metrics.ErrUnknown) {
		msg := fmt.Sprintf("unknown metric %q", name)
		if s := suggest(name, metrics.Names()); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		} else {
			msg += " (see 'wsbench run --help' for the list)"
		}
		return metricDef{}, fmt.Errorf("%s", msg)
	}
	if err != nil {
		return metricDef{}, err
	}
	return fromVocabulary(m), nil
}

func fromVocabulary(m metrics.Metric) metricDef {
	d := metricDef{name: m.Name, desc: m.Description, kind: kinds[m.Unit]}
	d.value = func(f Facts) (float64, string) {
		v, reason := m.Value(metrics.Facts(f))
		if m.Unit == metrics.Duration {
			v /= 1e6 // µs as recorded → seconds, as expectations write them
		}
		return v, reason
	}
	return d
}

// validHeaderName accepts an HTTP field name (RFC 9110 token).
func validHeaderName(s string) bool { return metrics.ValidHeaderName(s) }

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
// then failures.<cause>, soak.<process>.<resource> and hello.<Header-Name>.
func Metrics() []MetricInfo {
	var out []MetricInfo
	for _, h := range metrics.Histograms {
		out = append(out, MetricInfo{Name: h.Name + ".<stat>", Unit: "s",
			Description: h.Description + "; <stat> is " + metrics.StatNames()})
	}
	for _, m := range metrics.Fixed() {
		out = append(out, MetricInfo{Name: m.Name, Unit: kindUnits[kinds[m.Unit]], Description: m.Description})
	}
	for _, f := range metrics.Families {
		out = append(out, MetricInfo{Name: f.Name, Unit: f.Unit, Description: f.Description})
	}
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
