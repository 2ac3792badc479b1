package echo

import (
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/wire"
)

func TestParseOptions(t *testing.T) {
	const maxMsg = 1 << 20
	tests := []struct {
		uri  string
		want options
	}{
		{"/", options{workload: WorkloadEcho, closeCode: 1000}},
		{"/echo", options{workload: WorkloadEcho, closeCode: 1000}},
		{"/anything", options{workload: WorkloadEcho, closeCode: 1000}},
		{"/push", options{workload: WorkloadPush, closeCode: 1000, rate: DefaultPushRate, size: DefaultPushSize}},
		{"/ws/push?rate=5k&size=16KiB", options{workload: WorkloadPush, closeCode: 1000, rate: 5000, size: 16 << 10}},
		{"/sink?hello=1", options{workload: WorkloadSink, closeCode: 1000, hello: true}},
		{"/echo?ping=2s", options{closeCode: 1000, ping: 2 * time.Second, pingSet: true}},
		{"/echo?ping=0", options{closeCode: 1000, pingSet: true}},
		{"/echo?close_after=1s&close_code=1001", options{closeCode: 1001, closeAfter: time.Second}},
		{"/echo?close_after=1.5", options{closeCode: 1000, closeAfter: 1500 * time.Millisecond}},
		{"/echo?stall=200ms&stall_every=1s&delay=2ms", options{closeCode: 1000, stall: 200 * time.Millisecond, stallEvery: time.Second, delay: 2 * time.Millisecond}},
		{"http://host/echo?hello=true", options{closeCode: 1000, hello: true}},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			got, err := parseOptions(tt.uri, maxMsg)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseOptions(%q) = %+v, want %+v", tt.uri, got, tt.want)
			}
		})
	}
}

// Every bad value names its parameter, so the 400 body tells the user what
// to fix.
func TestParseOptionsErrors(t *testing.T) {
	tests := []struct{ uri, mention string }{
		{"/echo?stal=1s", `unknown query parameter "stal"`},
		{"/echo?hello=yes", "hello"},
		{"/echo?hello=1&hello=0", `"hello" given 2 times`},
		{"/echo?ping=soon", "ping"},
		{"/echo?ping=NaN", "ping"},
		{"/echo?ping=-1s", "ping"},
		{"/echo?close_after=0", "close_after"},
		{"/echo?close_code=1000", "close_code needs close_after"},
		{"/echo?close_after=1s&close_code=1005", "close_code"},
		{"/echo?close_after=1s&close_code=999", "close_code"},
		{"/echo?close_after=1s&close_code=5000", "close_code"},
		{"/echo?close_after=1s&close_code=abc", "close_code"},
		{"/echo?stall=1s", "stall and stall_every"},
		{"/echo?stall_every=1s", "stall and stall_every"},
		{"/echo?stall=1s&stall_every=1s", "stall=1s"},
		{"/echo?stall=0&stall_every=1s", "stall=0s"},
		{"/echo?delay=x", "delay"},
		{"/echo?delay=2m", "delay=2m0s"},
		{"/echo?stall=1s&stall_every=1h", "stall_every=1h0m0s"},
		{"/echo?rate=10", "rate and size apply to /push only"},
		{"/sink?size=64", "rate and size apply to /push only"},
		{"/push?rate=0", "rate"},
		{"/push?rate=NaN", "rate"},
		{"/push?rate=2M", "rate"},
		{"/push?size=15", "size"},
		{"/push?size=2MiB", "above the backend's max message size"},
		{"/echo?%zz", "query"},
		{"no-slash", "request URI"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			_, err := parseOptions(tt.uri, 1<<20)
			if err == nil {
				t.Fatalf("parseOptions(%q) = nil error, want one mentioning %q", tt.uri, tt.mention)
			}
			if !strings.Contains(err.Error(), tt.mention) || !strings.HasPrefix(err.Error(), "echo: ") {
				t.Errorf("error %q: want the echo: prefix and %q", err, tt.mention)
			}
		})
	}
}

func TestStallLeft(t *testing.T) {
	at := func(ms int64) time.Time { return time.Unix(1_700_000_000, ms*int64(time.Millisecond)) }
	const stall, every = 200 * time.Millisecond, time.Second
	tests := []struct {
		name  string
		t     time.Time
		stall time.Duration
		want  time.Duration
	}{
		{"window start", at(0), stall, 200 * time.Millisecond},
		{"inside", at(150), stall, 50 * time.Millisecond},
		{"window end", at(200), stall, 0},
		{"outside", at(700), stall, 0},
		{"next period", at(1050), stall, 150 * time.Millisecond},
		{"no stall", at(0), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stallLeft(tt.t, tt.stall, every); got != tt.want {
				t.Errorf("stallLeft = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidCloseCode(t *testing.T) {
	for code, want := range map[ws.StatusCode]bool{
		999: false, 1000: true, 1003: true, 1004: false, 1005: false, 1006: false,
		1007: true, 1014: true, 1015: false, 2999: false, 3000: true, 4999: true, 5000: false,
	} {
		if got := frame.ValidCloseCode(code); got != want {
			t.Errorf("frame.ValidCloseCode(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestBufferClasses(t *testing.T) {
	tests := []struct{ n, class int }{
		{1, 0}, {minBuffer, 0}, {minBuffer + 1, 1}, {2 * minBuffer, 1}, {2*minBuffer + 1, 2},
		{16<<20 + 14, 10}, {maxPooledBuffer, 10}, {maxPooledBuffer + 1, -1},
	}
	for _, tt := range tests {
		if got := class(tt.n); got != tt.class {
			t.Errorf("class(%d) = %d, want %d", tt.n, got, tt.class)
		}
		b := getBuffer(tt.n)
		if len(b.b) < tt.n {
			t.Errorf("getBuffer(%d) holds %d bytes", tt.n, len(b.b))
		}
		putBuffer(b)
	}
}

func TestPushHeaderRoundTrip(t *testing.T) {
	p := make([]byte, wire.PushHeaderSize+4)
	wire.PutPushHeader(p, -42, 1<<63+7)
	sent, seq, ok := wire.ParsePushHeader(p)
	if !ok || sent != -42 || seq != 1<<63+7 {
		t.Errorf("wire.ParsePushHeader = %d %d %v, want -42 %d true", sent, seq, ok, uint64(1<<63+7))
	}
	if _, _, ok := wire.ParsePushHeader(p[:wire.PushHeaderSize-1]); ok {
		t.Error("wire.ParsePushHeader of 15 bytes: ok, want not ok")
	}
}
