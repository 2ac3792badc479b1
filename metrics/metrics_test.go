package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
)

// Every name the vocabulary lists is found, with a description and a
// value function; unknown names say so in a way callers can test.
func TestEveryNameLooksUp(t *testing.T) {
	for _, name := range Names() {
		m, err := Lookup(name)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", name, err)
		}
		if m.Name != name || m.Value == nil {
			t.Errorf("Lookup(%q) = %+v", name, m)
		}
	}
	for _, m := range Fixed() {
		if m.Description == "" {
			t.Errorf("%s has no description", m.Name)
		}
	}
	if _, err := Lookup("rtt.p42"); err == nil || errors.Is(err, ErrUnknown) {
		t.Errorf("rtt.p42: %v, want an unknown statistic", err)
	}
	if _, err := Lookup("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("nope: %v, want ErrUnknown", err)
	}
}

// Proxy CPU is divided by what the workload spends it on, and the other
// figure is not applicable, with the reason.
func TestProxyCPUFollowsTheWorkload(t *testing.T) {
	u := &results.Usage{CPU: 300 * time.Millisecond}
	rtt := &results.Summary{Workload: "rtt", Messages: results.Traffic{Sent: 500, Received: 500}, Connections: results.Connections{Attempted: 10}}
	hold := &results.Summary{Workload: "hold", Connections: results.Connections{Attempted: 1000}}
	for _, tc := range []struct {
		metric string
		s      *results.Summary
		u      *results.Usage
		want   float64
		why    string
	}{
		{"proxy.cpu_us_per_msg", rtt, u, 300, ""},
		{"proxy.cpu_us_per_msg", hold, u, 0, "a hold run: its CPU goes to connections"},
		{"proxy.cpu_us_per_handshake", hold, u, 300, ""},
		{"proxy.cpu_us_per_handshake", rtt, u, 0, "a rtt run: its CPU goes to messages"},
		{"proxy.cpu_us_per_handshake", &results.Summary{}, u, 0, "a rtt run"}, // an old summary without a workload
		{"proxy.cpu_us_per_msg", rtt, nil, 0, NoProxy},
	} {
		m, err := Lookup(tc.metric)
		if err != nil {
			t.Fatal(err)
		}
		v, why := m.Value(Facts{Summary: tc.s, Proxy: tc.u})
		if v != tc.want || !strings.Contains(why, tc.why) || (tc.why == "") != (why == "") {
			t.Errorf("%s on %q: %v, %q; want %v, %q", tc.metric, tc.s.Workload, v, why, tc.want, tc.why)
		}
	}
}

// Histogram statistics are read as recorded (µs) and labelled so.
func TestHistogramStatistic(t *testing.T) {
	m, err := Lookup("rtt.p99")
	if err != nil {
		t.Fatal(err)
	}
	s := &results.Summary{Histograms: map[string]results.Stats{"rtt": {Count: 5, P99: 1500}}}
	if v, why := m.Value(Facts{Summary: s}); v != 1500 || why != "" || m.Label() != "µs" || m.Quantile != 0.99 || m.Better != LowerIsBetter {
		t.Fatalf("rtt.p99 = %v %q, label %s, q %v", v, why, m.Label(), m.Quantile)
	}
	if _, why := m.Value(Facts{Summary: &results.Summary{}}); why != "no rtt samples" {
		t.Fatalf("empty: %q", why)
	}
}

// The negotiation ratios are shares of the connections opened, and not
// applicable where the load offered nothing.
func TestNegotiationRatios(t *testing.T) {
	offered := &results.Summary{
		Params:      map[string]string{"subprotocols": "chat", "compression": "permessage-deflate"},
		Connections: results.Connections{Opened: 10},
		Negotiation: &results.Negotiation{
			Protocols:     map[string]int64{"chat": 6, "chat.v1": 2},
			Extensions:    map[string]int64{"permessage-deflate": 3, "permessage-deflate;client_no_context_takeover": 4, "x-other": 3},
			ProtocolsSeen: 9, DeflateSeen: 10,
		},
	}
	for _, tc := range []struct {
		metric string
		s      *results.Summary
		want   float64
		why    string
	}{
		{"subprotocol.backend_saw_ratio", offered, 0.9, ""},
		{"subprotocol.agreed_ratio", offered, 0.8, ""},
		{"compression.backend_saw_ratio", offered, 1, ""},
		{"compression.agreed_ratio", offered, 0.7, ""},
		{"subprotocol.agreed_ratio", &results.Summary{Connections: results.Connections{Opened: 10}}, 0, "not offered: the load has no subprotocol:"},
		{"compression.agreed_ratio", &results.Summary{Params: map[string]string{"compression": "permessage-deflate"}, Negotiation: &results.Negotiation{}}, 0, "no connection opened"},
		{"loadgen.cpu_us_per_msg", &results.Summary{Self: &results.Self{CPUPerMsgUS: 26.5}}, 26.5, ""},
		{"loadgen.cpu_us_per_msg", &results.Summary{}, 0, "no load-generator CPU per message"},
	} {
		m, err := Lookup(tc.metric)
		if err != nil {
			t.Fatal(err)
		}
		v, why := m.Value(Facts{Summary: tc.s})
		if v != tc.want || !strings.HasPrefix(why, tc.why) {
			t.Errorf("%s = %v (%q), want %v (%q)", tc.metric, v, why, tc.want, tc.why)
		}
	}
}
