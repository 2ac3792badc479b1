package loadgen

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/units"
)

// The options' command-line form is stated once, in optionFlags: the CLI
// registers it (RegisterFlags) and whoever starts a load-generator process
// writes it (Flags), so the two cannot drift apart.

// optionFlag is one option's flag: its name (as OptionError names it), its
// help text, and the option it reads and writes.
type optionFlag struct {
	name, usage string
	bind        func(*Options) flagValue
}

// flagValue is a pflag.Value that also writes its option back as
// arguments: nil when the option is zero (its default).
type flagValue interface {
	pflag.Value
	args(name string) []string
}

var optionFlags = []optionFlag{
	{"url", "target `URL`, ws:// or wss:// (required); path defaults to /echo, or /push for push",
		func(o *Options) flagValue { return (*stringFlag)(&o.URL) }},
	{"workload", "rtt | throughput | push | hold | ramp",
		func(o *Options) flagValue { return (*workloadFlag)(&o.Workload) }},
	{"conns", "connections to open (at least 1; each is an open file, see ulimit -n)",
		func(o *Options) flagValue { return (*countFlag)(&o.Conns) }},
	{"connect-rate", "connections opened per second (0 = all at once)",
		func(o *Options) flagValue { return (*rateFlag)(&o.ConnectRate) }},
	{"rate", "rtt: messages per second over all connections (open model)",
		func(o *Options) flagValue { return (*rateFlag)(&o.Rate) }},
	{"size", "message sizes, `SIZES`: one size (64, 1KiB), a uniform range (16..4096) or sizes with weights (64:9,16KiB:1); at most 16MiB (rtt/throughput: at least 24B; push: one size, at least 16B)",
		func(o *Options) flagValue { return (*sizesFlag)(&o.Size) }},
	{"opcode", "data messages are binary | text (text payloads are valid UTF-8)",
		func(o *Options) flagValue { return (*stringFlag)(&o.Opcode) }},
	{"window", "throughput: messages in flight per connection",
		func(o *Options) flagValue { return (*intFlag)(&o.Window) }},
	{"push-rate", "push: messages per second the server sends on each connection",
		func(o *Options) flagValue { return (*rateFlag)(&o.PushRate) }},
	{"duration", "length of the measured load phase, after the connections are opened (and the warm-up)",
		func(o *Options) flagValue { return (*durationFlag)(&o.Duration) }},
	{"warmup", "rtt, throughput, push: run the load this long first, recording nothing (caches, page faults, first GCs stay out of the results)",
		func(o *Options) flagValue { return (*durationFlag)(&o.Warmup) }},
	{"ping-interval", "hold: send a ping (or --hold-send data) on each connection this often; 0 = silent",
		func(o *Options) flagValue { return (*durationFlag)(&o.PingInterval) }},
	{"hold-send", "hold: what --ping-interval sends: ping | data",
		func(o *Options) flagValue { return (*stringFlag)(&o.HoldSend) }},
	{"ramp-factor", "ramp: each step offers this many times the last step's rate (starting at --rate)",
		func(o *Options) flagValue { return (*floatFlag)(&o.RampFactor) }},
	{"step-duration", "ramp: length of each step (whole seconds)",
		func(o *Options) flagValue { return (*durationFlag)(&o.StepDuration) }},
	{"slo", "ramp: a step meets the SLO when its response-time p99 is at most this and nothing failed",
		func(o *Options) flagValue { return (*durationFlag)(&o.SLO) }},
	{"max-steps", "ramp: stop after this many steps",
		func(o *Options) flagValue { return (*intFlag)(&o.MaxSteps) }},
	{"handshake-timeout", "give up on a connection attempt after this long",
		func(o *Options) flagValue { return (*durationFlag)(&o.HandshakeTimeout) }},
	{"drain", "at the end, wait this long for replies still in flight",
		func(o *Options) flagValue { return (*durationFlag)(&o.Drain) }},
	{"no-read", "hold: never read, like a stalled client, to test a server's send timeout (epoll engine)",
		func(o *Options) flagValue { return (*boolFlag)(&o.NoRead) }},
	{"reconnect", "reopen connections that drop during the load phase (failover); rtt resumes its schedule",
		func(o *Options) flagValue { return (*boolFlag)(&o.Reconnect) }},
	{"churn", "hold: close this many connections per second (spread over them in turn) and reopen each; counted as churned, not dropped",
		func(o *Options) flagValue { return (*rateFlag)(&o.Churn) }},
	{"source-ips", "bind connections round-robin to these local `ADDRS` (list or range a.b.c.d-a.b.c.e)",
		func(o *Options) flagValue { return (*sourceIPsFlag)(&o.SourceIPs) }},
	{"resolve-each", "look the target's host name up before every connection (timed as dns) instead of once before the connect phase",
		func(o *Options) flagValue { return (*boolFlag)(&o.ResolveEach) }},
	{"header", "extra handshake header \"Name: value\" (repeatable), e.g. Origin",
		func(o *Options) flagValue { return (*listFlag)(&o.Headers) }},
	{"subprotocol", "offer this subprotocol in Sec-WebSocket-Protocol (repeatable, most wanted first); the one selected is counted, one not offered fails the handshake",
		func(o *Options) flagValue { return (*listFlag)(&o.Subprotocols) }},
	{"compression", "offer permessage-deflate (RFC 7692); where agreed, every message is sent compressed",
		func(o *Options) flagValue { return (*boolFlag)(&o.Compression) }},
	{"compression-context-takeover", "off offers client_no_context_takeover and server_no_context_takeover: each message compressed on its own",
		func(o *Options) flagValue { return (*takeoverFlag)(&o.NoContextTakeover) }},
	{"insecure", "wss: accept any server certificate (self-signed test setups)",
		func(o *Options) flagValue { return (*boolFlag)(&o.Insecure) }},
	{"timer-slack", "rtt: let sends due this close together leave in one wake-up (less CPU; the wait is measured, see lag); 0 = exact",
		func(o *Options) flagValue { return (*slackFlag)(&o.TimerSlack) }},
	{"engine", "I/O engine: auto | epoll (Linux, ws://) | goroutine (portable, wss://)",
		func(o *Options) flagValue { return (*stringFlag)(&o.Engine) }},
	{"loops", "event loops (0 = one per CPU)",
		func(o *Options) flagValue { return (*intFlag)(&o.Loops) }},
	{"start-at", "start at this wall-clock `TIME` (Unix ms or RFC 3339), to start several load generators together",
		func(o *Options) flagValue { return (*startAtFlag)(&o.StartAt) }},
}

// RegisterFlags defines a flag for every option on fs, bound to o: what o
// holds when it is called is each flag's default, and parsing fs sets o.
// Flag names are OptionError's option names, so fs.Changed can be passed
// to ValidateGiven.
func (o *Options) RegisterFlags(fs *pflag.FlagSet) {
	for _, f := range optionFlags {
		fl := fs.VarPF(f.bind(o), f.name, "", f.usage)
		if _, ok := fl.Value.(*boolFlag); ok {
			fl.NoOptDefVal = "true"
		}
	}
}

// Flags writes o as the command-line arguments RegisterFlags reads back,
// one flag per option that is not zero, in a fixed order. Parsing them into
// zero Options gives o again.
func (o Options) Flags() []string {
	var a []string
	for _, f := range optionFlags {
		a = append(a, f.bind(&o).args("--"+f.name)...)
	}
	return a
}

// The flag types. Each writes its option exactly (full precision), so a
// round trip through arguments loses nothing; each reads what units reads.

type (
	stringFlag    string
	workloadFlag  Workload
	countFlag     int
	sizesFlag     Sizes
	intFlag       int
	rateFlag      float64
	floatFlag     float64
	durationFlag  time.Duration
	boolFlag      bool
	listFlag      []string
	takeoverFlag  bool
	sourceIPsFlag []netip.Addr
	slackFlag     time.Duration
	startAtFlag   time.Time
)

func pair(name, v string) []string { return []string{name, v} }

func (f *stringFlag) String() string     { return string(*f) }
func (f *stringFlag) Set(s string) error { *f = stringFlag(s); return nil }
func (*stringFlag) Type() string         { return "string" }
func (f *stringFlag) args(n string) []string {
	if *f == "" {
		return nil
	}
	return pair(n, string(*f))
}

func (f *workloadFlag) String() string     { return Workload(*f).String() }
func (f *workloadFlag) Set(s string) error { return (*Workload)(f).Set(s) }
func (*workloadFlag) Type() string         { return "string" }
func (f *workloadFlag) args(n string) []string {
	if *f == 0 {
		return nil
	}
	return pair(n, f.String())
}

func (f *countFlag) String() string     { return units.Count(*f).String() }
func (f *countFlag) Set(s string) error { return (*units.Count)(f).Set(s) }
func (*countFlag) Type() string         { return "count" }
func (f *countFlag) args(n string) []string {
	if *f == 0 {
		return nil
	}
	return pair(n, strconv.Itoa(int(*f)))
}

func (f *sizesFlag) String() string     { return Sizes(*f).String() }
func (f *sizesFlag) Set(s string) error { return (*Sizes)(f).Set(s) }
func (*sizesFlag) Type() string         { return "sizes" }
func (f *sizesFlag) args(n string) []string {
	if Sizes(*f).IsZero() {
		return nil
	}
	return pair(n, f.String())
}

func (f *intFlag) String() string { return strconv.Itoa(int(*f)) }
func (f *intFlag) Set(s string) error {
	v, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil {
		return err
	}
	*f = intFlag(v)
	return nil
}
func (*intFlag) Type() string { return "int" }
func (f *intFlag) args(n string) []string {
	if *f == 0 {
		return nil
	}
	return pair(n, f.String())
}

func (f *rateFlag) String() string     { return units.Rate(*f).String() }
func (f *rateFlag) Set(s string) error { return (*units.Rate)(f).Set(s) }
func (*rateFlag) Type() string         { return "rate" }
func (f *rateFlag) args(n string) []string {
	if *f == 0 {
		return nil
	}
	return pair(n, strconv.FormatFloat(float64(*f), 'f', -1, 64))
}

func (f *floatFlag) String() string { return strconv.FormatFloat(float64(*f), 'g', -1, 64) }
func (f *floatFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	*f = floatFlag(v)
	return nil
}
func (*floatFlag) Type() string { return "float" }
func (f *floatFlag) args(n string) []string {
	if *f == 0 {
		return nil
	}
	return pair(n, f.String())
}

func (f *durationFlag) String() string     { return time.Duration(*f).String() }
func (f *durationFlag) Set(s string) error { return (*units.Duration)(f).Set(s) }
func (*durationFlag) Type() string         { return "duration" }
func (f *durationFlag) args(n string) []string {
	if *f == 0 {
		return nil
	}
	return pair(n, f.String())
}

func (f *boolFlag) String() string { return strconv.FormatBool(bool(*f)) }
func (f *boolFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*f = boolFlag(v)
	return nil
}
func (*boolFlag) Type() string { return "bool" }
func (f *boolFlag) args(n string) []string {
	if !*f {
		return nil
	}
	return []string{n}
}

// listFlag is repeatable: each use adds an item (a header, a subprotocol).
func (f *listFlag) String() string     { return strings.Join(*f, ", ") }
func (f *listFlag) Set(s string) error { *f = append(*f, s); return nil }
func (*listFlag) Type() string         { return "stringArray" }
func (f *listFlag) args(n string) []string {
	var a []string
	for _, h := range *f {
		a = append(a, n, h)
	}
	return a
}

// takeoverFlag is --compression-context-takeover on|off, held as
// Options.NoContextTakeover (whose zero is the default, on).
func (f *takeoverFlag) String() string {
	if *f {
		return "off"
	}
	return "on"
}
func (f *takeoverFlag) Set(s string) error {
	off, err := ParseContextTakeover(s)
	*f = takeoverFlag(off)
	return err
}

// ParseContextTakeover reads --compression-context-takeover: on (true)
// or off (false); off reports true, as Options.NoContextTakeover holds it.
func ParseContextTakeover(s string) (off bool, err error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "true":
		return false, nil
	case "off", "false":
		return true, nil
	}
	return false, fmt.Errorf("%q: want on or off", s)
}
func (*takeoverFlag) Type() string { return "on|off" }
func (f *takeoverFlag) args(n string) []string {
	if !*f {
		return nil
	}
	return pair(n, "off")
}

func (f *sourceIPsFlag) String() string {
	s := make([]string, len(*f))
	for i, a := range *f {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}
func (f *sourceIPsFlag) Set(s string) error {
	ips, err := ParseSourceIPs(s)
	if err != nil {
		return err
	}
	*f = ips
	return nil
}
func (*sourceIPsFlag) Type() string { return "string" }
func (f *sourceIPsFlag) args(n string) []string {
	if len(*f) == 0 {
		return nil
	}
	return pair(n, f.String())
}

// slackFlag: on the command line 0 means exact timers, which Options
// spells as a negative TimerSlack (its zero is the default slack).
func (f *slackFlag) String() string { return max(time.Duration(*f), 0).String() }
func (f *slackFlag) Set(s string) error {
	d, err := units.ParseDuration(s)
	if err != nil {
		return err
	}
	*f = slackFlag(d)
	if d == 0 {
		*f = -1
	}
	return nil
}
func (*slackFlag) Type() string { return "duration" }
func (f *slackFlag) args(n string) []string {
	switch {
	case *f < 0:
		return pair(n, "0")
	case *f > 0:
		return pair(n, f.String())
	}
	return nil
}

func (f *startAtFlag) String() string {
	if time.Time(*f).IsZero() {
		return ""
	}
	return time.Time(*f).Format(time.RFC3339Nano)
}
func (f *startAtFlag) Set(s string) error {
	t, err := parseStartAt(s)
	if err != nil {
		return err
	}
	*f = startAtFlag(t)
	return nil
}
func (*startAtFlag) Type() string { return "string" }
func (f *startAtFlag) args(n string) []string {
	if time.Time(*f).IsZero() {
		return nil
	}
	return pair(n, f.String())
}

// parseStartAt reads Unix milliseconds or RFC 3339.
func parseStartAt(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("want Unix milliseconds or RFC 3339 (2026-01-02T15:04:05Z)")
	}
	return t, nil
}
