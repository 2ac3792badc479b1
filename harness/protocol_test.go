package harness

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/stack"
	"github.com/wsbench/wsbench/wire"
)

// onlyTargets keeps the targets of s named in keep, in every workload too.
func onlyTargets(s *scenarios.Scenario, keep ...string) {
	s.Targets = slices.DeleteFunc(s.Targets, func(t scenarios.Target) bool { return !slices.Contains(keep, t.Name) })
	for i := range s.Workloads {
		w := &s.Workloads[i]
		if len(w.Targets) == 0 {
			w.Targets = keep
		} else {
			w.Targets = slices.DeleteFunc(w.Targets, func(n string) bool { return !slices.Contains(keep, n) })
		}
	}
}

// The built-in protocol scenario, half length, on the local runtime
// through the reference proxy and a real nginx (and direct): the
// subprotocol and compression offers reach the backend and the agreement
// comes back on every connection, compressed text of mixed sizes round
// trips, and the cost rows run with what they offered recorded. The
// haproxy, apache and caddy rows are the same workload; `wsbench run
// protocol` runs them.
func TestProtocolScenarioLocal(t *testing.T) {
	needNginx(t)
	sc := load(t, "protocol")[0]
	onlyTargets(sc, "direct", "refproxy", "nginx")
	out, err := Run(context.Background(), Options{Scenarios: []*scenarios.Scenario{sc}, Dir: t.TempDir(), Scale: 0.5,
		Spec: stack.Spec{Runtime: stack.RuntimeLocal}, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	requirePassed(t, out)
	rows := out.Scenarios[0].Rows
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6 (negotiate on 3 targets, 3 cost rows direct)", len(rows))
	}
	for _, r := range rows {
		s := r.Summary
		if s == nil {
			t.Fatalf("%s/%s: no summary", r.Target, r.Workload)
		}
		if r.Workload != "negotiate" {
			continue
		}
		n := s.Negotiation
		if n == nil || n.Protocols[wire.Subprotocol] != s.Connections.Opened || n.Extensions["permessage-deflate"] != s.Connections.Opened {
			t.Errorf("%s: negotiation %+v over %d connections: want %s and permessage-deflate on each", r.Target, n, s.Connections.Opened, wire.Subprotocol)
		}
		if s.Params["opcode"] != "text" || s.Params["size"] != "64:9,4096:1" || s.Params["compression"] != "permessage-deflate" {
			t.Errorf("%s: params %v: want the load's opcode, sizes and offer", r.Target, s.Params)
		}
	}
	// The plain cost row offered nothing; the others say what they offered.
	for _, r := range rows[3:] {
		if got, want := r.Summary.Params["compression"], map[string]string{
			"plain-16k": "", "deflate-16k": "permessage-deflate",
			"deflate-16k-no-takeover": "permessage-deflate;server_no_context_takeover;client_no_context_takeover",
		}[r.Workload]; got != want {
			t.Errorf("%s: compression %q, want %q", r.Workload, got, want)
		}
	}
}

// What the hello of a connection through nginx says it was offered and
// agreed: the backend's own account, beside the 101's.
func TestProtocolHelloThroughNginx(t *testing.T) {
	needNginx(t)
	sc, err := scenarios.Parse("hello.yaml", []byte(`name: hello
description: protocol hello through nginx
backends: {count: 1}
targets: [{name: nginx, kind: nginx, config: map}]
workloads:
  - name: hello
    load: {workload: hold, path: "/echo?hello=1", conns: 2, duration: 300ms, subprotocol: [a, wsbench.echo], compression: true,
           compression_context_takeover: off}
    expect: {"*": [subprotocol.agreed_ratio == 1, compression.agreed_ratio == 1]}
`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), Options{Scenarios: []*scenarios.Scenario{sc}, Dir: t.TempDir(),
		Spec: stack.Spec{Runtime: stack.RuntimeLocal}, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	requirePassed(t, out)
	hellos := out.Scenarios[0].Rows[0].Summary.Hellos
	if len(hellos) == 0 {
		t.Fatal("no hello kept")
	}
	for _, raw := range hellos {
		var h echo.Hello
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatal(err)
		}
		if h.OfferedProtocols != "a, wsbench.echo" || h.Protocol != wire.Subprotocol ||
			h.OfferedExtensions != "permessage-deflate;server_no_context_takeover;client_no_context_takeover" ||
			h.Extensions != "permessage-deflate;server_no_context_takeover;client_no_context_takeover" {
			t.Errorf("hello through nginx: offered %q %q, agreed %q %q", h.OfferedProtocols, h.OfferedExtensions, h.Protocol, h.Extensions)
		}
	}
}
