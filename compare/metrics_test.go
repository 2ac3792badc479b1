package compare

import (
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
)

// Proxy CPU is divided by what the workload spends it on: messages, or
// (hold) connections.
func TestProxyCPUMetricsFollowTheWorkload(t *testing.T) {
	u := &results.Usage{CPU: 300 * time.Millisecond}
	msgs := results.Summary{Workload: "rtt", Messages: results.Traffic{Sent: 500, Received: 500}, Connections: results.Connections{Attempted: 10}}
	hold := results.Summary{Workload: "hold", Connections: results.Connections{Attempted: 1000, Opened: 1000}}
	for _, tc := range []struct {
		metric string
		s      results.Summary
		u      *results.Usage
		want   float64
		why    string
	}{
		{"proxy.cpu_us_per_msg", msgs, u, 300, ""},
		{"proxy.cpu_us_per_msg", hold, u, 0, "a hold run"},
		{"proxy.cpu_us_per_handshake", hold, u, 300, ""},
		{"proxy.cpu_us_per_handshake", msgs, u, 0, "a rtt run: its CPU goes to messages"},
		{"proxy.cpu_us_per_msg", msgs, nil, 0, "no proxy usage measured"},
	} {
		t.Run(tc.metric+" "+tc.s.Workload, func(t *testing.T) {
			m, err := lookupMetric(tc.metric)
			if err != nil {
				t.Fatal(err)
			}
			v, why := m.value(&tc.s, tc.u)
			if v != tc.want || !strings.Contains(why, tc.why) || (tc.why == "") != (why == "") {
				t.Fatalf("%v, %q; want %v, %q", v, why, tc.want, tc.why)
			}
		})
	}
}

// A whole run's percentile needs ten values beyond it; one repetition's,
// as a sample, one.
func TestPercentileValueCounts(t *testing.T) {
	s := &results.Summary{Histograms: map[string]results.Stats{"handshake": {Count: 50, P50: 900, P99: 2000}}}
	for _, tc := range []struct {
		metric        string
		value, sample string // "" when it gives a number
	}{
		{"handshake.p50", "", ""},
		{"handshake.p99", "50 handshake values; p99 needs at least 1000", "50 handshake values; p99 needs at least 100"},
		{"rtt.p50", "no rtt samples", "no rtt samples"},
	} {
		m, err := lookupMetric(tc.metric)
		if err != nil {
			t.Fatal(err)
		}
		if _, why := m.value(s, nil); why != tc.value {
			t.Errorf("%s value: %q, want %q", tc.metric, why, tc.value)
		}
		if _, why := m.sample(s, nil); why != tc.sample {
			t.Errorf("%s sample: %q, want %q", tc.metric, why, tc.sample)
		}
	}
}
