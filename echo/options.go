package echo

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/units"
	"github.com/wsbench/wsbench/wire"
)

// Workload is what a connection does with the messages it gets.
type Workload int

const (
	WorkloadEcho Workload = iota // every data message back, same opcode
	WorkloadPush                 // server sends timestamped messages at a rate
	WorkloadSink                 // data messages are read and discarded
)

func (w Workload) String() string {
	switch w {
	case WorkloadPush:
		return "push"
	case WorkloadSink:
		return "sink"
	}
	return "echo"
}

// Push defaults, used when /push comes without rate or size.
const (
	DefaultPushRate = 10 // messages per second
	DefaultPushSize = 64 // bytes per message, push header included
)

// maxWait bounds stall_every and delay: longer pauses are a typo, and would
// keep a connection's handler asleep past any drain.
const maxWait = time.Minute

// options is one connection's behaviour, parsed from its request URI.
type options struct {
	workload   Workload
	hello      bool
	ping       time.Duration // server ping interval; 0 = none
	pingSet    bool          // ping= was given (it overrides Config.PingInterval, 0 included)
	closeAfter time.Duration // server closes after this long; 0 = never
	closeCode  ws.StatusCode
	stall      time.Duration // pause length ...
	stallEvery time.Duration // ... once per this wall-clock period
	delay      time.Duration // each reply goes out this much after its bytes were read
	rate       float64       // push: messages per second
	size       int           // push: bytes per message
}

// queryParams lists every query parameter the backend understands, so a
// typo is an error instead of a silently ignored option.
var queryParams = map[string]func(*options, string) error{
	"hello":       parseHello,
	"ping":        durationParam(func(o *options, d time.Duration) { o.ping, o.pingSet = d, true }),
	"close_after": durationParam(func(o *options, d time.Duration) { o.closeAfter = d }),
	"close_code":  parseCloseCode,
	"stall":       durationParam(func(o *options, d time.Duration) { o.stall = d }),
	"stall_every": durationParam(func(o *options, d time.Duration) { o.stallEvery = d }),
	"delay":       durationParam(func(o *options, d time.Duration) { o.delay = d }),
	"rate":        parseRate,
	"size":        parseSize,
}

// parseOptions reads the workload from the last path segment of uri and the
// per-connection options from its query. maxMessage bounds the push size.
// The error text is sent to the client as the body of a 400 response.
func parseOptions(uri string, maxMessage int64) (options, error) {
	o := options{closeCode: ws.StatusNormalClosure}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return o, fmt.Errorf("echo: request URI %q: %w", uri, err)
	}
	o.workload = workloadOf(u.Path)
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return o, fmt.Errorf("echo: query %q: %w", u.RawQuery, err)
	}
	seen := map[string]bool{}
	for _, k := range sortedKeys(q) {
		parse, ok := queryParams[k]
		if !ok {
			return o, fmt.Errorf("echo: unknown query parameter %q; known: %s", k, knownParams())
		}
		if len(q[k]) > 1 {
			return o, fmt.Errorf("echo: query parameter %q given %d times, want once", k, len(q[k]))
		}
		if err := parse(&o, q[k][0]); err != nil {
			return o, fmt.Errorf("echo: query parameter %s=%q: %w", k, q[k][0], err)
		}
		seen[k] = true
	}
	return o, o.check(seen, maxMessage)
}

// workloadOf picks the workload from the last path segment, so a proxy that
// adds a prefix (/ws/push) still reaches the same workload. Any other path
// echoes.
func workloadOf(path string) Workload {
	last := path[strings.LastIndexByte(path, '/')+1:]
	switch last {
	case "push":
		return WorkloadPush
	case "sink":
		return WorkloadSink
	}
	return WorkloadEcho
}

// check validates combinations of parameters and fills push defaults.
func (o *options) check(seen map[string]bool, maxMessage int64) error {
	switch {
	case o.workload != WorkloadPush && (seen["rate"] || seen["size"]):
		return fmt.Errorf("echo: query parameters rate and size apply to /push only, got them on /%s", o.workload)
	case seen["close_code"] && !seen["close_after"]:
		return fmt.Errorf("echo: query parameter close_code needs close_after")
	case seen["close_after"] && o.closeAfter <= 0:
		return fmt.Errorf("echo: query parameter close_after=%s: want a duration above 0", o.closeAfter)
	case seen["stall"] != seen["stall_every"]:
		return fmt.Errorf("echo: query parameters stall and stall_every go together, got only one")
	case seen["stall"] && (o.stall <= 0 || o.stall >= o.stallEvery):
		return fmt.Errorf("echo: query parameter stall=%s: want above 0 and below stall_every=%s", o.stall, o.stallEvery)
	case o.stallEvery > maxWait || o.delay > maxWait:
		return fmt.Errorf("echo: query parameters stall_every=%s, delay=%s: want at most %s", o.stallEvery, o.delay, maxWait)
	}
	if o.workload != WorkloadPush {
		return nil
	}
	if !seen["rate"] {
		o.rate = DefaultPushRate
	}
	if !seen["size"] {
		o.size = DefaultPushSize
	}
	if int64(o.size) > maxMessage {
		return fmt.Errorf("echo: query parameter size=%d: above the backend's max message size %d", o.size, maxMessage)
	}
	return nil
}

func parseHello(o *options, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("want 1 or 0")
	}
	o.hello = b
	return nil
}

func durationParam(set func(*options, time.Duration)) func(*options, string) error {
	return func(o *options, v string) error {
		d, err := units.ParseDuration(v)
		if err != nil {
			return err
		}
		if d < 0 { // units accepts "NaN" as a number of seconds
			return fmt.Errorf("want a duration of 0 or more")
		}
		set(o, time.Duration(d))
		return nil
	}
}

func parseCloseCode(o *options, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || !frame.ValidCloseCode(ws.StatusCode(n)) {
		return fmt.Errorf("want a close code a server may send: 1000-1003, 1007-1014 or 3000-4999")
	}
	o.closeCode = ws.StatusCode(n)
	return nil
}

func parseRate(o *options, v string) error {
	r, err := units.ParseRate(v)
	if err != nil {
		return err
	}
	if !(r > 0 && r <= wire.MaxPushRate) { // also refuses NaN
		return fmt.Errorf("want a rate above 0 and at most %d messages/s", wire.MaxPushRate)
	}
	o.rate = float64(r)
	return nil
}

func parseSize(o *options, v string) error {
	s, err := units.ParseSize(v)
	if err != nil {
		return err
	}
	if s < wire.PushHeaderSize {
		return fmt.Errorf("want at least %d bytes (the push header)", wire.PushHeaderSize)
	}
	o.size = int(s)
	return nil
}

func sortedKeys(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func knownParams() string {
	keys := make([]string, 0, len(queryParams))
	for k := range queryParams {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// stallLeft reports how much of the stall window containing t is left, or 0
// when t is outside one. Windows start at every multiple of every since the
// Unix epoch, so all connections (and all backends on one host) stall in
// phase.
func stallLeft(t time.Time, stall, every time.Duration) time.Duration {
	if stall <= 0 || every <= 0 {
		return 0
	}
	phase := time.Duration(t.UnixNano() % int64(every))
	if phase < stall {
		return stall - phase
	}
	return 0
}
