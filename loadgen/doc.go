// Package loadgen is wsbench's load generator: it opens WebSocket
// connections to a target, runs a workload over them and returns what it
// measured as a results.Run (HDR histograms, a per-second series, counts).
//
// # Open model
//
// An rtt run is an open-model run: messages are sent on a fixed schedule
// (Options.Rate over all connections; message k of connection i is due
// at (i + k·conns)/rate), whatever the target does. Response time is
// measured from a message's intended send time, not from when it actually
// left, so a target that stalls shows up as latency of every message that
// was due during the stall instead of as fewer, happier samples — the
// coordinated omission a closed loop (send, wait, send) hides. Service
// time (from the actual send) and schedule lag (actual − intended) are
// recorded beside it. A target slower than the rate leaves a backlog at
// the end of the load phase: those messages, due before the end, are still
// sent and measured during the drain (Options.Drain), and whatever has no
// answer when it ends counts as an "unanswered" failure. Connections are opened on an open-model schedule
// too (Options.ConnectRate): attempt k starts at k/rate, however the
// earlier ones fared.
//
// The other workloads: throughput keeps Window messages in flight per
// connection (the most the target echoes), push times the echo backend's
// timestamped messages one way, hold keeps connections open and records
// how each one ended, ramp raises the rtt rate step by step until the
// response-time p99 of a step exceeds an SLO.
//
// # Messages and handshakes
//
// Options.Size is a distribution (Sizes: one size, a uniform range, or
// sizes with weights), drawn per message; Options.Opcode sends text
// instead of binary (numbers written 7 bits a byte, so payloads are valid
// UTF-8). Options.Subprotocols and Options.Compression are offered in the
// handshake; what each connection's 101 agreed, and what the echo backend
// reports it saw offered, is counted in Summary.Negotiation. Where
// permessage-deflate is agreed every data message goes compressed; the
// default path (one size, binary, no compression) is unchanged by it.
//
// # As a library
//
// Fill Options (a zero field is its default), call Run, read the result:
//
//	run, err := loadgen.Run(ctx, loadgen.Options{
//		URL:      "ws://127.0.0.1:9000/echo",
//		Workload: loadgen.WorkloadRTT,
//		Conns:    50,
//		Rate:     10_000,
//		Duration: 10 * time.Second,
//	}, loadgen.Progress{})
//	if err != nil { /* an invalid option (*OptionError) or a target that does not resolve */ }
//	p99 := run.Summary.Histograms["rtt"].P99 // µs
//	err = run.Write("runs/x")                // summary.json, .hgrm, .hlog, timeseries.csv
//
// Cancelling ctx ends the run early; what was measured comes back, with
// Summary.Interrupted set. Connection failures are not errors: they are
// counted by cause in Summary.Failures (http_503, refused, timeout, …).
//
// The same options are the wsbench loadgen command's flags:
// Options.RegisterFlags defines them on a pflag.FlagSet and Options.Flags
// writes them back, which is how the harness starts load-generator
// processes. Validate (or ValidateGiven, for what a user typed) names the
// first bad option as its flag is named.
//
// # Cost
//
// On Linux a ws:// run uses epoll event loops (one per CPU, Options.Loops):
// in steady state the send and receive paths allocate nothing, histograms
// are per loop and merged once a second, and nothing on them takes a lock.
// wss:// and other systems use a goroutine per connection.
package loadgen
