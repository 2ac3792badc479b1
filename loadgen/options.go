package loadgen

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/internal/httpsyntax"
	"github.com/wsbench/wsbench/units"
	"github.com/wsbench/wsbench/wire"
)

// Defaults shared by the library and the CLI.
const (
	DefaultConns            = 50
	DefaultRate             = 10_000
	DefaultSize             = 64
	DefaultWindow           = 16
	DefaultPushRate         = 10
	DefaultDuration         = 10 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultDrain            = time.Second
	DefaultTimerSlack       = 250 * time.Microsecond
	DefaultRampFactor       = 1.5
	DefaultStepDuration     = 5 * time.Second
	DefaultSLO              = 10 * time.Millisecond
	DefaultMaxSteps         = 20
	// MinRTTSize is the smallest rtt/throughput message: sequence number,
	// intended send time and actual send time, 8 bytes each.
	MinRTTSize = 24
)

// Options configures one load-generator run. The zero value of a field
// means its default (see With defaults), except where noted.
type Options struct {
	URL         string   // ws:// or wss:// target
	Workload    Workload // zero: rtt
	Conns       int      // connections to open
	ConnectRate float64  // connections opened per second; 0 = all at once
	Rate        float64  // rtt: messages per second over all connections
	Size        Sizes    // message sizes in bytes (payload): one, or a distribution
	// Opcode is what data messages are sent as: "binary" (default) or
	// "text". Text payloads are valid UTF-8: the numbers every rtt and
	// throughput message carries are written 7 bits to a byte.
	Opcode   string
	Window   int           // throughput: messages in flight per connection
	PushRate float64       // push: messages per second the server sends on each connection
	Duration time.Duration // length of the measured load phase, after all connections are attempted
	// Warmup (rtt, throughput, push) runs the load at full rate for this
	// long before Duration starts, recording nothing: cold caches, page
	// faults, first GC cycles and lazy allocations stay out of the
	// results. A message belongs to the warm-up or the measurement by its
	// (intended) send time; the schedule runs on across the boundary.
	Warmup time.Duration
	// PingInterval makes each connection send something every interval: for
	// hold, what HoldSend says; for the other workloads, a ping.
	PingInterval time.Duration
	// HoldSend is what a held connection sends every PingInterval: "ping"
	// (default) or "data" (a small binary message).
	HoldSend         string
	HandshakeTimeout time.Duration
	// Drain is how long to wait for replies still in flight when the load
	// phase ends before counting them as unanswered.
	Drain     time.Duration
	SourceIPs []netip.Addr // local addresses to bind, round-robin
	Headers   []string     // extra handshake headers, "Name: value"
	// Subprotocols are offered in Sec-WebSocket-Protocol, most wanted
	// first. What the server selects is counted (Summary.Negotiation); a
	// subprotocol it selects that was not offered fails the handshake
	// (RFC 6455 section 4.1) with cause bad_subprotocol.
	Subprotocols []string
	// Compression offers permessage-deflate (RFC 7692); where the server
	// agrees, every data message is sent compressed and what comes back
	// compressed is inflated (and counted at its inflated size).
	Compression bool
	// NoContextTakeover offers compression with client_no_context_takeover
	// and server_no_context_takeover: every message compressed on its own,
	// without the window of the ones before (flag
	// --compression-context-takeover off).
	NoContextTakeover bool
	Insecure          bool // wss: accept any certificate
	// Engine selects the I/O engine: "auto" (epoll on Linux for ws://),
	// "epoll", or "goroutine" (portable; also used for wss://).
	Engine string
	// Loops is the number of epoll event loops; 0 = GOMAXPROCS.
	Loops int
	// TimerSlack lets a timer fire up to this late so that sends due close
	// together leave in one wake-up: at 10k msgs/s, 250µs cuts the load
	// generator's CPU per message by about a third. Response time is
	// measured from the intended send time, so the wait is counted, never
	// hidden (the lag histogram shows it). Negative means exact timers;
	// zero means DefaultTimerSlack.
	TimerSlack time.Duration
	// NoRead (hold) never reads from the connections, as a client that
	// stops reading: the server's (or proxy's) writes back up until its send
	// timeout closes the connection. Needs the epoll engine.
	NoRead bool
	// Reconnect reopens a connection that drops during the load phase (with
	// backoff from 100 ms to 2 s while attempts fail). A reopened rtt
	// connection resumes the schedule where it stopped, so the outage shows
	// as response time.
	Reconnect bool
	// Churn (hold) closes this many connections per second, spread over
	// them in turn on an open-model schedule, with a normal close, and
	// reopens each in its place: a soak's steady turnover. Churned
	// connections are counted (Connections.Churned), not dropped; their
	// reopening handshakes are timed in the reconnect histogram.
	Churn float64
	// Ramp: the first step offers Rate; each next step RampFactor times
	// more, StepDuration long (whole seconds), at most MaxSteps. A step
	// meets the SLO when its response-time p99 is within SLO and nothing
	// failed; the ramp stops at the first step that does not.
	RampFactor   float64
	StepDuration time.Duration
	SLO          time.Duration
	MaxSteps     int
	// ResolveEach looks the target's host name up before every connection
	// attempt (timed into the dns histogram, not into connect or
	// handshake) instead of once before the connect phase.
	ResolveEach bool
	// StartAt delays the start until this wall-clock time, so several
	// load-generator processes can start together. Zero = now.
	StartAt time.Time

	lookup lookupFunc // tests: resolves the host instead of the system resolver
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	o.Conns = cmp.Or(o.Conns, DefaultConns)
	o.Rate = cmp.Or(o.Rate, DefaultRate)
	if o.Size.IsZero() {
		o.Size = FixedSize(DefaultSize)
	}
	o.Opcode = cmp.Or(o.Opcode, "binary")
	o.Window = cmp.Or(o.Window, DefaultWindow)
	o.PushRate = cmp.Or(o.PushRate, DefaultPushRate)
	o.Duration = cmp.Or(o.Duration, DefaultDuration)
	o.HandshakeTimeout = cmp.Or(o.HandshakeTimeout, DefaultHandshakeTimeout)
	o.Drain = cmp.Or(o.Drain, DefaultDrain)
	o.HoldSend = cmp.Or(o.HoldSend, "ping")
	o.Engine = cmp.Or(o.Engine, "auto")
	o.TimerSlack = cmp.Or(o.TimerSlack, DefaultTimerSlack)
	o.RampFactor = cmp.Or(o.RampFactor, DefaultRampFactor)
	o.StepDuration = cmp.Or(o.StepDuration, DefaultStepDuration)
	o.SLO = cmp.Or(o.SLO, DefaultSLO)
	o.MaxSteps = cmp.Or(o.MaxSteps, DefaultMaxSteps)
	return o
}

// Limits on what one load-generator process can be asked for: beyond them
// a value is a typo or cannot work, so Validate refuses it before any load.
const (
	// MaxSize is the largest message: replies are read with frame's
	// default limit, so a bigger echo would end the connection mid-run.
	MaxSize = frame.DefaultMaxMessage
	// MaxConns is far more connections than one process can hold: each is
	// an open file, and Linux caps a process at fs.nr_open (1<<20 by
	// default).
	MaxConns = 1 << 24
	// MaxRate bounds --rate and --connect-rate, far above the million or
	// so messages a second one process sends.
	MaxRate = 10_000_000
	// MaxWindow bounds the messages in flight on one connection.
	MaxWindow = 1 << 16
)

// OptionError is an option outside its range. Option is named as its flag
// is, without the dashes, so the CLI and scenario files can point at what
// was typed.
type OptionError struct {
	Option string // e.g. "window", "connect-rate"
	Value  string // e.g. "0"
	Want   string // e.g. "want at least 1 message in flight"
}

func (e *OptionError) Error() string { return "loadgen: " + e.Option + " " + e.Value + ": " + e.Want }

// Validate reports the first invalid option, naming it. A zero option
// takes its default (see Options).
func (o Options) Validate() error { return o.ValidateGiven(nil) }

// ValidateGiven is Validate for options a user typed: an option for which
// given (called with its flag name, e.g. "window") reports true is checked
// as it is, so an explicit 0 is refused where a zero value would otherwise
// quietly mean the default. given may be nil (nothing given).
func (o Options) ValidateGiven(given func(option string) bool) error {
	d := o.withDefaults()
	raw, def := o.ranges(d.Workload), d.ranges(d.Workload)
	for i, c := range def {
		if given != nil && given(c.name) {
			c = raw[i]
		}
		if !c.ok {
			return &OptionError{Option: c.name, Value: c.value, Want: c.want}
		}
	}
	return d.validate()
}

// optionRange is one numeric option's range, as ranges reports it.
type optionRange struct {
	name, value string
	ok          bool
	want        string
}

// ranges checks every numeric option of o as it holds it (zero included)
// for the workload, so that each range is stated once.
func (o Options) ranges(workload Workload) []optionRange {
	minSize, why := 1, "byte"
	switch workload {
	case WorkloadRTT, WorkloadThroughput, WorkloadRamp:
		minSize, why = MinRTTSize, "bytes (sequence number and timestamps)"
	case WorkloadPush:
		minSize, why = wire.PushHeaderSize, "bytes (the push header)"
	}
	sizeWant := fmt.Sprintf("the %s workload needs at least %d %s", workload, minSize, why)
	if o.Size.Max() > MaxSize {
		sizeWant = fmt.Sprintf("too large, want at most %s (the largest message the load generator reads back)", units.Size(MaxSize))
	}
	rate := func(r float64) string { return units.Rate(r).String() }
	dur := func(d time.Duration) string { return d.String() }
	return []optionRange{
		{"conns", units.Count(o.Conns).String(), o.Conns >= 1 && o.Conns <= MaxConns,
			fmt.Sprintf("want 1 to %d connections (each is an open file)", MaxConns)},
		{"connect-rate", rate(o.ConnectRate), o.ConnectRate >= 0 && o.ConnectRate <= MaxRate,
			fmt.Sprintf("want 0 (all at once) to %s connections/s", rate(MaxRate))},
		{"rate", rate(o.Rate), o.Rate > 0 && o.Rate <= MaxRate,
			fmt.Sprintf("want above 0 and at most %s messages/s", rate(MaxRate))},
		{"size", sizeText(o.Size), o.Size.Min() >= minSize && o.Size.Max() <= MaxSize, sizeWant},
		{"window", strconv.Itoa(o.Window), o.Window >= 1 && o.Window <= MaxWindow,
			fmt.Sprintf("want 1 to %d messages in flight per connection", MaxWindow)},
		{"push-rate", rate(o.PushRate), o.PushRate > 0 && o.PushRate <= wire.MaxPushRate,
			fmt.Sprintf("want above 0 and at most %s messages/s (the echo backend's limit)", rate(wire.MaxPushRate))},
		{"duration", dur(o.Duration), o.Duration > 0, "want more than 0"},
		{"warmup", dur(o.Warmup), o.Warmup >= 0, "want 0 (none) or more"},
		{"ping-interval", dur(o.PingInterval), o.PingInterval >= 0, "want 0 (never) or more"},
		{"handshake-timeout", dur(o.HandshakeTimeout), o.HandshakeTimeout > 0, "want more than 0"},
		{"drain", dur(o.Drain), o.Drain > 0, "want more than 0 (e.g. 1ms to stop waiting at once)"},
		{"loops", strconv.Itoa(o.Loops), o.Loops >= 0, "want 0 (one per CPU) or more"},
		{"ramp-factor", strconv.FormatFloat(o.RampFactor, 'g', -1, 64), o.RampFactor > 1 && o.RampFactor <= 100,
			"want more than 1 and at most 100"},
		{"step-duration", dur(o.StepDuration), o.StepDuration >= time.Second && o.StepDuration%time.Second == 0,
			"want whole seconds, at least 1s"},
		{"slo", dur(o.SLO), o.SLO > 0, "want more than 0"},
		{"max-steps", strconv.Itoa(o.MaxSteps), o.MaxSteps >= 1 && o.MaxSteps <= 100, "want 1 to 100"},
	}
}

// sizeText is a size as an error quotes it: one size with its unit, a
// distribution as written.
func sizeText(s Sizes) string {
	if n, ok := s.Fixed(); ok {
		return units.Size(n).String()
	}
	return s.String()
}

// validate checks the options that are not ranges, with defaults filled.
func (o Options) validate() error {
	bad := func(option, value, format string, args ...any) error {
		return &OptionError{Option: option, Value: value, Want: fmt.Sprintf(format, args...)}
	}
	u, err := url.Parse(o.URL)
	q := strconv.Quote(o.URL)
	switch {
	case o.URL == "":
		return bad("url", `""`, "missing (want e.g. ws://127.0.0.1:9000/echo)")
	case err != nil:
		return bad("url", q, "%v", errors.Unwrap(err))
	case u.Scheme != "ws" && u.Scheme != "wss":
		return bad("url", q, "scheme %q, want ws or wss", u.Scheme)
	case u.Hostname() == "":
		return bad("url", q, "missing host (want e.g. ws://127.0.0.1:9000/echo)")
	case u.Port() != "" && !validPort(u.Port()):
		return bad("url", q, "port %s: want 1 to 65535", u.Port())
	}
	if o.Workload >= numWorkloads {
		return bad("workload", o.Workload.String(), "%v", errWorkload)
	}
	if o.Warmup > 0 && !o.Workload.warms() {
		return bad("warmup", o.Warmup.String(), "only for the rtt, throughput and push workloads, not %s (it measures from the first connection)", o.Workload)
	}
	switch o.HoldSend {
	case "ping", "data":
	default:
		return bad("hold-send", strconv.Quote(o.HoldSend), "want ping or data")
	}
	switch o.Engine {
	case "auto", "epoll", "goroutine":
	default:
		return bad("engine", strconv.Quote(o.Engine), "want auto, epoll or goroutine")
	}
	switch {
	case o.Churn < 0:
		return fmt.Errorf("loadgen: churn %v: want 0 (none) or more connections per second", o.Churn)
	case o.Churn > 0 && o.Workload != WorkloadHold:
		return fmt.Errorf("loadgen: churn: only for the hold workload, not %s", o.Workload)
	case o.Churn > 0 && o.NoRead:
		return fmt.Errorf("loadgen: churn: a client that never reads cannot see the close replies (no-read)")
	}
	if o.NoRead && (o.Workload != WorkloadHold || o.Engine == "goroutine" || u.Scheme == "wss" || !epollSupported) {
		return fmt.Errorf("loadgen: no-read: only for the hold workload on the epoll engine (Linux, ws://)")
	}
	for _, h := range o.Headers {
		if k, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(k) == "" {
			return bad("header", strconv.Quote(h), `want "Name: value"`)
		}
	}
	if _, one := o.Size.Fixed(); !one && o.Workload == WorkloadPush {
		return bad("size", o.Size.String(), "the push workload takes one size (the echo backend sends every push message that size)")
	}
	switch o.Opcode {
	case "binary":
	case "text":
		if o.Workload == WorkloadPush {
			return bad("opcode", "text", "the push workload sends no data messages (the server does)")
		}
	default:
		return bad("opcode", strconv.Quote(o.Opcode), "want binary or text")
	}
	if o.NoContextTakeover && !o.Compression {
		return bad("compression-context-takeover", "off", "needs --compression (the offer it changes)")
	}
	for i, p := range o.Subprotocols {
		if !httpsyntax.IsToken(p) {
			return bad("subprotocol", strconv.Quote(p), "want a token (RFC 6455 4.1: letters, digits and !#$%%&'*+-.^_`|~), e.g. chat.v2")
		}
		if slices.Contains(o.Subprotocols[:i], p) {
			return bad("subprotocol", strconv.Quote(p), "offered twice")
		}
	}
	return nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// target returns the URL to dial: a push workload without an explicit
// rate gets the echo backend's push path and parameters.
func (o Options) target() string {
	u, err := url.Parse(o.URL)
	if err != nil {
		return o.URL
	}
	if u.Path == "" || u.Path == "/" {
		if o.Workload == WorkloadPush {
			u.Path = "/push"
		} else {
			u.Path = "/echo"
		}
	}
	if o.Workload == WorkloadPush {
		q := u.Query()
		if q.Get("rate") == "" {
			q.Set("rate", strconv.FormatFloat(o.PushRate, 'f', -1, 64))
		}
		if n, one := o.Size.Fixed(); one && q.Get("size") == "" {
			q.Set("size", strconv.Itoa(n))
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Params renders every load parameter as canonical strings for the result.
func (o Options) Params() map[string]string {
	o = o.withDefaults()
	p := map[string]string{
		"url":               o.target(),
		"workload":          o.Workload.String(),
		"conns":             strconv.Itoa(o.Conns),
		"connect_rate":      strconv.FormatFloat(o.ConnectRate, 'f', -1, 64),
		"size":              o.Size.String(),
		"duration":          o.Duration.String(),
		"handshake_timeout": o.HandshakeTimeout.String(),
		"drain":             o.Drain.String(),
		"resolve":           "once",
	}
	if o.ResolveEach {
		p["resolve"] = "each"
	}
	if o.Workload.warms() {
		p["warmup"] = o.Warmup.String()
	}
	switch o.Workload {
	case WorkloadRTT:
		p["rate"] = strconv.FormatFloat(o.Rate, 'f', -1, 64)
		p["timer_slack"] = max(o.TimerSlack, 0).String()
	case WorkloadThroughput:
		p["window"] = strconv.Itoa(o.Window)
	case WorkloadPush:
		p["push_rate"] = strconv.FormatFloat(o.PushRate, 'f', -1, 64)
	case WorkloadHold:
		p["hold_send"] = o.HoldSend
	case WorkloadRamp:
		p["rate"] = strconv.FormatFloat(o.Rate, 'f', -1, 64)
		p["ramp_factor"] = strconv.FormatFloat(o.RampFactor, 'f', -1, 64)
		p["step_duration"] = o.StepDuration.String()
		p["slo"] = o.SLO.String()
		p["max_steps"] = strconv.Itoa(o.MaxSteps)
		p["timer_slack"] = max(o.TimerSlack, 0).String()
	}
	if o.PingInterval > 0 {
		p["ping_interval"] = o.PingInterval.String()
	}
	if len(o.SourceIPs) > 0 {
		p["source_ips"] = strconv.Itoa(len(o.SourceIPs))
	}
	if len(o.Headers) > 0 {
		p["headers"] = strings.Join(o.Headers, "; ")
	}
	if o.NoRead {
		p["no_read"] = "true"
	}
	if o.Reconnect {
		p["reconnect"] = "true"
	}
	if o.Churn > 0 {
		p["churn"] = strconv.FormatFloat(o.Churn, 'f', -1, 64)
	}
	if o.Opcode != "binary" {
		p["opcode"] = o.Opcode
	}
	if len(o.Subprotocols) > 0 {
		p["subprotocols"] = strings.Join(o.Subprotocols, ", ")
	}
	if o.Compression {
		p["compression"] = offerText(o.NoContextTakeover)
	}
	return p
}
