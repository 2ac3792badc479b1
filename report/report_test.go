package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/internal/golden"
	"github.com/wsbench/wsbench/results"
)

// reportRun is the sample run, written so its stats are real, with a hold
// section and an interruption.
func reportSummary(t *testing.T) *results.Summary {
	run := sampleRun(t)
	run.Summary.Interrupted = true
	run.Summary.Hold = &results.Hold{
		Outcomes: map[string]int64{"open": 20, "close_1001": 25, "eof": 5},
		Survival: []results.SurvivalPoint{{T: 0, Open: 50}, {T: 1, Open: 50}, {T: 30.5, Open: 35}, {T: 31, Open: 20}, {T: 60, Open: 20}},
	}
	if err := run.Write(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	return &run.Summary
}

func TestReportGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := Report(&buf, reportSummary(t)); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "report.golden", buf.Bytes())
}

func TestReportContents(t *testing.T) {
	var buf bytes.Buffer
	if err := Report(&buf, reportSummary(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"wsbench rtt → ws://127.0.0.1:9000/echo",
		"INTERRUPTED",
		"failures     http_502 2, reset 1",
		"hold         close_1001 25, open 20, eof 5",
		"half of the 50 connections had dropped by 31.0s",
		"backends     echo-a 26 (52%), echo-b 24 (48%); max/mean 1.04",
		`hello        {"id":"echo-a"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 7 {
			rows[f[0]] = strings.Join(f[1:], " ")
		}
	}
	// rtt holds 7, 100, 200, 300 µs and 5 s: p50 200 µs, the rest the 5 s outlier.
	if got, want := rows["rtt"], "5 200µs 5.00s 5.00s 5.00s 5.00s"; got != want {
		t.Errorf("rtt row %q, want %q", got, want)
	}
	if got, want := rows["connect"], "3 95µs 120µs 120µs 120µs 120µs"; got != want {
		t.Errorf("connect row %q, want %q", got, want)
	}
	if strings.Index(out, "  connect") > strings.Index(out, "  rtt") {
		t.Errorf("connect should come before rtt:\n%s", out)
	}
}

// What the handshakes negotiated is shown when the run offered anything.
func TestReportNegotiation(t *testing.T) {
	s := reportSummary(t)
	var plain bytes.Buffer
	if err := Report(&plain, s); err != nil || strings.Contains(plain.String(), "negotiated") {
		t.Fatalf("negotiation shown for a run that offered none: %v\n%s", err, plain.String())
	}
	s.Negotiation = &results.Negotiation{Protocols: map[string]int64{"wsbench.echo": 20}, Extensions: map[string]int64{"permessage-deflate": 18}, ProtocolsSeen: 20, DeflateSeen: 19}
	var buf bytes.Buffer
	if err := Report(&buf, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"negotiated   subprotocol wsbench.echo 20; extensions permessage-deflate 18",
		"backend saw every subprotocol offered on 20, permessage-deflate on 19",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
}

// A load generator closes the connections still open at the end itself;
// that is not a drop.
func TestReportHoldStillOpen(t *testing.T) {
	s := &results.Summary{Connections: results.Connections{Attempted: 20, Opened: 20}, Hold: &results.Hold{
		Outcomes: map[string]int64{"open": 18, "eof": 2},
		Survival: []results.SurvivalPoint{{T: 0, Open: 20}, {T: 1, Open: 18}, {T: 2, Open: 0}},
	}}
	var buf bytes.Buffer
	if err := Report(&buf, s); err != nil {
		t.Fatal(err)
	}
	if want := "fewer than half of the 20 connections dropped (18 open at the end)"; !strings.Contains(buf.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, buf.String())
	}
}

func TestReportEmptySummary(t *testing.T) {
	var buf bytes.Buffer
	if err := Report(&buf, &results.Summary{Schema: results.Schema}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wsbench - → -", "failures     none", "no histogram has data"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report of an empty summary lacks %q:\n%s", want, buf.String())
		}
	}
}

// A summary judged loadgen-bound says so in the text report.
func TestReportLoadgenBound(t *testing.T) {
	s := sampleSummary()
	s.Self = &results.Self{LoopBusy: 0.97}
	var b bytes.Buffer
	if err := Report(&b, &s); err != nil {
		t.Fatal(err)
	}
	if want := "LOADGEN-BOUND: busiest loop 97% busy > 90%; these figures are wsbench's limit, not the target's"; !strings.Contains(b.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, b.String())
	}
}
