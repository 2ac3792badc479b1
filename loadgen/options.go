package loadgen

import (
	"cmp"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Workloads.
const (
	WorkloadRTT        = "rtt"
	WorkloadThroughput = "throughput"
	WorkloadPush       = "push"
	WorkloadHold       = "hold"
	// WorkloadRamp is rtt with the rate raised step by step until the
	// response-time p99 of a step exceeds the SLO or the step has errors.
	WorkloadRamp = "ramp"
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
	URL         string        // ws:// or wss:// target
	Workload    string        // rtt, throughput, push, hold
	Conns       int           // connections to open
	ConnectRate float64       // connections opened per second; 0 = all at once
	Rate        float64       // rtt: messages per second over all connections
	Size        int           // message size in bytes (payload)
	Window      int           // throughput: messages in flight per connection
	PushRate    float64       // push: messages per second the server sends on each connection
	Duration    time.Duration // length of the load phase, after all connections are attempted
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
	Insecure  bool         // wss: accept any certificate
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
	// StartAt delays the start until this wall-clock time, so several
	// load-generator processes can start together. Zero = now.
	StartAt time.Time
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	o.Workload = cmp.Or(o.Workload, WorkloadRTT)
	o.Conns = cmp.Or(o.Conns, DefaultConns)
	o.Rate = cmp.Or(o.Rate, DefaultRate)
	o.Size = cmp.Or(o.Size, DefaultSize)
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

// Validate reports the first invalid option, naming it.
func (o Options) Validate() error {
	o = o.withDefaults()
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		return fmt.Errorf("loadgen: url: missing (want e.g. ws://127.0.0.1:9000/echo)")
	case err != nil:
		return fmt.Errorf("loadgen: url %q: %w", o.URL, err)
	case u.Scheme != "ws" && u.Scheme != "wss":
		return fmt.Errorf("loadgen: url %q: scheme %q, want ws or wss", o.URL, u.Scheme)
	case u.Host == "":
		return fmt.Errorf("loadgen: url %q: missing host", o.URL)
	}
	switch o.Workload {
	case WorkloadRTT, WorkloadThroughput, WorkloadPush, WorkloadHold, WorkloadRamp:
	default:
		return fmt.Errorf("loadgen: workload %q: want rtt, throughput, push, hold or ramp", o.Workload)
	}
	if o.Workload == WorkloadRamp {
		if err := o.validateRamp(); err != nil {
			return err
		}
	}
	if o.Conns < 0 {
		return fmt.Errorf("loadgen: conns %d: must be positive", o.Conns)
	}
	if (o.Workload == WorkloadRTT || o.Workload == WorkloadThroughput || o.Workload == WorkloadRamp) && o.Size < MinRTTSize {
		return fmt.Errorf("loadgen: size %d: the %s workload needs at least %d bytes (sequence number and timestamps)", o.Size, o.Workload, MinRTTSize)
	}
	if o.Size > 64<<20 {
		return fmt.Errorf("loadgen: size %d: larger than the 64 MiB this tool sends", o.Size)
	}
	if o.Window < 1 {
		return fmt.Errorf("loadgen: window %d: must be at least 1", o.Window)
	}
	switch o.HoldSend {
	case "ping", "data":
	default:
		return fmt.Errorf("loadgen: hold-send %q: want ping or data", o.HoldSend)
	}
	switch o.Engine {
	case "auto", "epoll", "goroutine":
	default:
		return fmt.Errorf("loadgen: engine %q: want auto, epoll or goroutine", o.Engine)
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
			return fmt.Errorf("loadgen: header %q: want \"Name: value\"", h)
		}
	}
	return nil
}

func (o Options) validateRamp() error {
	switch {
	case o.RampFactor <= 1:
		return fmt.Errorf("loadgen: ramp-factor %v: want more than 1", o.RampFactor)
	case o.StepDuration < time.Second || o.StepDuration%time.Second != 0:
		return fmt.Errorf("loadgen: step-duration %v: want whole seconds, at least 1s", o.StepDuration)
	case o.MaxSteps < 1 || o.MaxSteps > 100:
		return fmt.Errorf("loadgen: max-steps %d: want 1 to 100", o.MaxSteps)
	case o.Rate <= 0:
		return fmt.Errorf("loadgen: rate %v: the ramp's first step needs a rate", o.Rate)
	}
	return nil
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
		if q.Get("size") == "" {
			q.Set("size", strconv.Itoa(o.Size))
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
		"workload":          o.Workload,
		"conns":             strconv.Itoa(o.Conns),
		"connect_rate":      strconv.FormatFloat(o.ConnectRate, 'f', -1, 64),
		"size":              strconv.Itoa(o.Size),
		"duration":          o.Duration.String(),
		"handshake_timeout": o.HandshakeTimeout.String(),
		"drain":             o.Drain.String(),
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
	return p
}
