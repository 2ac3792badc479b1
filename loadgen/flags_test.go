package loadgen

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// parseFlags reads args into zero Options through RegisterFlags.
func parseFlags(t *testing.T, args []string) (Options, *pflag.FlagSet) {
	t.Helper()
	var o Options
	fs := pflag.NewFlagSet("loadgen", pflag.ContinueOnError)
	o.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return o, fs
}

// Options → Flags → parse gives the same Options, for every field.
func TestFlagsRoundTrip(t *testing.T) {
	start := time.Date(2026, 12, 3, 17, 4, 5, 123456789, time.UTC)
	tests := []struct {
		name string
		o    Options
	}{
		{"zero", Options{}},
		{"rtt", Options{URL: "ws://127.0.0.1:9000/echo?hello=1", Conns: 7, ConnectRate: 333.3333333333333,
			Rate: 1234.5678, Size: FixedSize(100), Duration: 1500 * time.Millisecond, Warmup: 250 * time.Millisecond,
			TimerSlack: -1, Loops: 3, Engine: "goroutine", Drain: 3 * time.Millisecond}},
		{"throughput", Options{URL: "ws://h:1/", Workload: WorkloadThroughput, Window: 9, Size: FixedSize(1 << 20), TimerSlack: 10 * time.Microsecond}},
		{"push", Options{URL: "wss://h/push", Workload: WorkloadPush, PushRate: 0.5, Insecure: true,
			Headers: []string{"Origin: https://x", "X-A: b: c"}}},
		{"hold", Options{URL: "ws://h:2/echo", Workload: WorkloadHold, PingInterval: 20 * time.Second, HoldSend: "data",
			NoRead: true, Reconnect: true, Churn: 2.5, ResolveEach: true, HandshakeTimeout: 3 * time.Second,
			SourceIPs: []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("::1")}, Engine: "epoll"}},
		{"ramp", Options{URL: "ws://h:3/echo", Workload: WorkloadRamp, Rate: 1000, RampFactor: 1.25,
			StepDuration: 2 * time.Second, SLO: 1500 * time.Microsecond, MaxSteps: 4, StartAt: start}},
		{"protocol", Options{URL: "ws://h:4/echo", Size: mustSizes(t, "16..4KiB"), Opcode: "text",
			Subprotocols: []string{"chat.v2", "chat.v1"}, Compression: true, NoContextTakeover: true}},
		{"weighted sizes", Options{URL: "ws://h:4/echo", Size: mustSizes(t, "64:9,16KiB:1,100")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.o.Flags()
			got, _ := parseFlags(t, args)
			if !reflect.DeepEqual(got, tt.o) {
				t.Fatalf("args %q\nparsed %+v\nwant   %+v", args, got, tt.o)
			}
		})
	}
}

// Every exported field has a flag: set alone to something not zero, it
// shows in Flags and comes back. A field added to Options without a row in
// optionFlags fails here.
func TestFlagsCoverEveryField(t *testing.T) {
	typ := reflect.TypeOf(Options{})
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			var o Options
			v := reflect.ValueOf(&o).Elem().Field(i)
			switch v.Kind() {
			case reflect.String:
				v.SetString("x")
			case reflect.Int, reflect.Int64:
				v.SetInt(3)
			case reflect.Uint8:
				v.SetUint(uint64(WorkloadHold))
			case reflect.Float64:
				v.SetFloat(1.5)
			case reflect.Bool:
				v.SetBool(true)
			case reflect.Slice:
				if f.Type.Elem() == reflect.TypeOf(netip.Addr{}) {
					v.Set(reflect.ValueOf([]netip.Addr{netip.MustParseAddr("10.0.0.1")}))
				} else {
					v.Set(reflect.ValueOf([]string{"A: b"}))
				}
			case reflect.Struct:
				if f.Type == reflect.TypeOf(Sizes{}) {
					v.Set(reflect.ValueOf(mustSizes(t, "64:9,16KiB:1")))
					break
				}
				v.Set(reflect.ValueOf(time.UnixMilli(1700000000000).UTC())) // Flags writes UTC
			default:
				t.Fatalf("no test value for a %s", f.Type)
			}
			args := o.Flags()
			if len(args) == 0 {
				t.Fatalf("%s set, but Flags wrote nothing", f.Name)
			}
			got, _ := parseFlags(t, args)
			if got := reflect.ValueOf(got).Field(i).Interface(); !reflect.DeepEqual(got, v.Interface()) {
				t.Fatalf("args %q: %s came back as %v, want %v", args, f.Name, got, v.Interface())
			}
		})
	}
}

// The command-line spellings RegisterFlags reads besides its own output,
// and fs.Changed naming options as ValidateGiven wants.
func TestRegisterFlagsReads(t *testing.T) {
	o, fs := parseFlags(t, []string{"--url", "ws://h/", "--conns", "15k", "--rate", "10k", "--size", "1KiB",
		"--subprotocol", "a", "--subprotocol", "b", "--compression", "--compression-context-takeover", "OFF",
		"--timer-slack", "0", "--start-at", "1700000000000", "--source-ips", "127.0.0.2-127.0.0.4", "--no-read", "--window", "0"})
	want := Options{URL: "ws://h/", Conns: 15000, Rate: 10000, Size: FixedSize(1024), TimerSlack: -1,
		Subprotocols: []string{"a", "b"}, Compression: true, NoContextTakeover: true, StartAt: time.UnixMilli(1700000000000), NoRead: true,
		SourceIPs: []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("127.0.0.4")}}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("parsed %+v\nwant   %+v", o, want)
	}
	var oe *OptionError
	if err := o.ValidateGiven(fs.Changed); !errors.As(err, &oe) || oe.Option != "window" {
		t.Fatalf("ValidateGiven(fs.Changed) = %v, want the explicit window 0 refused", err)
	}
}

func mustSizes(t *testing.T, s string) Sizes {
	t.Helper()
	d, err := ParseSizes(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
