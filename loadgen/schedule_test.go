package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestConnectAt(t *testing.T) {
	tests := []struct {
		name string
		k    int
		rate float64
		want time.Duration
	}{
		{name: "all at once", k: 999, rate: 0, want: 0},
		{name: "first", k: 0, rate: 500, want: 0},
		{name: "500/s", k: 1, rate: 500, want: 2 * time.Millisecond},
		{name: "500/s later", k: 1000, rate: 500, want: 2 * time.Second},
		{name: "fractional", k: 3, rate: 2.5, want: 1200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := connectAt(tt.k, tt.rate); got != tt.want {
				t.Fatalf("connectAt(%d, %v) = %v, want %v", tt.k, tt.rate, got, tt.want)
			}
		})
	}
}

// The schedule must send one message every 1/rate over the whole run,
// each connection taking every n-th slot.
func TestRTTScheduleSpreadsEvenly(t *testing.T) {
	s := rttSchedule{n: 4, rate: 1000}
	seen := map[int64]bool{}
	for i := 0; i < 4; i++ {
		for k := int64(0); k < 25; k++ {
			at := s.at(i, k)
			if seen[at] {
				t.Fatalf("two messages intended at %d ns", at)
			}
			seen[at] = true
			if at%int64(time.Millisecond) != 0 {
				t.Fatalf("conn %d msg %d at %d ns, want a whole millisecond", i, k, at)
			}
			if k > 0 && at-s.at(i, k-1) != 4*int64(time.Millisecond) {
				t.Fatalf("conn %d: gap %d ns, want 4ms", i, at-s.at(i, k-1))
			}
		}
	}
	for ms := int64(0); ms < 100; ms++ {
		if !seen[ms*int64(time.Millisecond)] {
			t.Fatalf("no message intended at %d ms", ms)
		}
	}
}

func TestParseSourceIPs(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		first   string
		last    string
		wantErr bool
	}{
		{in: "127.0.0.2-127.0.0.40", want: 39, first: "127.0.0.2", last: "127.0.0.40"},
		{in: "127.0.0.1, 127.0.1.1", want: 2, first: "127.0.0.1", last: "127.0.1.1"},
		{in: "127.0.0.255-127.0.1.1", want: 3, first: "127.0.0.255", last: "127.0.1.1"},
		{in: "::1", want: 1, first: "::1", last: "::1"},
		{in: "127.0.0.9-127.0.0.2", wantErr: true},
		{in: "127.0.0.1-::1", wantErr: true},
		{in: "localhost", wantErr: true},
		{in: "10.0.0.0-10.255.255.255", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSourceIPs(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if len(got) != tt.want || got[0].String() != tt.first || got[len(got)-1].String() != tt.last {
				t.Fatalf("got %d addresses %v … %v, want %d %s … %s", len(got), got[0], got[len(got)-1], tt.want, tt.first, tt.last)
			}
		})
	}
}

func TestValidateNamesTheOption(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{name: "no url", o: Options{}, want: "url"},
		{name: "http url", o: Options{URL: "http://x/"}, want: "scheme"},
		{name: "workload", o: Options{URL: "ws://x/", Workload: numWorkloads}, want: "workload"},
		{name: "small rtt size", o: Options{URL: "ws://x/", Size: FixedSize(8)}, want: "size 8"},
		{name: "hold-send", o: Options{URL: "ws://x/", HoldSend: "carrier pigeon"}, want: "hold-send"},
		{name: "header", o: Options{URL: "ws://x/", Headers: []string{"NoColon"}}, want: "header"},
		{name: "engine", o: Options{URL: "ws://x/", Engine: "turbo"}, want: "engine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	if err := (Options{URL: "ws://127.0.0.1:1/echo", Workload: WorkloadPush, Size: FixedSize(16)}).Validate(); err != nil {
		t.Fatalf("valid push options rejected: %v", err)
	}
}
