package scenarios

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
)

// facts is a hand-built result: 1,000 attempts, 990 opened, 600 dropped
// after a median of 5.01 s, four backends, two hello messages, a proxy that
// used 2 s of CPU and grew by 9.9 MB.
func facts() Facts {
	return Facts{
		Summary: &results.Summary{
			Connections: results.Connections{Attempted: 1000, Opened: 990, Failed: 10, Dropped: 600, OpenAtEnd: 390, Reconnects: 7},
			Messages:    results.Traffic{Sent: 20_000, Received: 19_990},
			Bytes:       results.Traffic{Sent: 1 << 20, Received: 1 << 20},
			Rates:       results.Rates{WindowSec: 2, MsgsRecvPerSec: 9995, BytesRecvPerSec: 64 << 20, MsgsSentPerSec: 10_000, BytesSentPerSec: 1 << 20},
			Failures:    map[string]int64{"http_503": 6, "http_502": 3, "refused": 1, "unanswered": 10},
			Histograms: map[string]results.Stats{
				results.MetricHandshake:     {Count: 990, Min: 900, Mean: 2500.5, P50: 2000, P90: 4000, P99: 9000, P999: 20_000, P9999: 30_000, Max: 31_000},
				results.MetricRTT:           {Count: 20_000, Min: 50, P50: 120, P90: 300, P99: 1500, P999: 4000, Max: 9000},
				results.MetricDrop:          {Count: 600, Min: 4_990_000, P50: 5_010_000, Max: 5_100_000},
				results.MetricHandshakeFail: {Count: 10, P50: 2_003_000},
			},
			Backends: map[string]int64{"backend-1": 300, "backend-2": 250, "backend-3": 240, "backend-4": 200},
			Hellos: []json.RawMessage{
				json.RawMessage(`{"backend":"backend-1","host":"example","headers":{"X-Real-Ip":"10.0.0.1"}}`),
				json.RawMessage(`{"backend":"backend-2","host":"example","headers":{"X-Forwarded-For":"10.0.0.1","Origin":"https://app.example"}}`),
			},
		},
		Proxy: &results.Usage{CPU: 2 * time.Second, MemoryGrowth: 9_900_000},
	}
}

func TestExpectations(t *testing.T) {
	tests := []struct {
		text string
		pass bool
		got  string
	}{
		// every operator
		{"handshake.success_ratio >= 0.99", true, "0.99"},
		{"handshake.success_ratio > 0.99", false, "0.99"},
		{"handshake.success_ratio <= 0.99", true, "0.99"},
		{"handshake.success_ratio < 0.99", false, "0.99"},
		{"handshake.success_ratio == 0.99", true, "0.99"},
		{"handshake.success_ratio != 0.99", false, "0.99"},
		{"handshake.success_ratio == 1", false, "0.99"},
		{"handshake.success_ratio >= 99%", true, "0.99"},
		{"handshake.success_ratio == 98% ± 1%", true, "0.99"},
		{"handshake.success_ratio == 97% ± 1%", false, "0.99"},
		{"handshake.success_ratio != 97% ± 1%", true, "0.99"},
		// durations, with tolerance and every spelling of ±
		{"hold.median_drop == 5s ± 0.5s", true, "5.01s"},
		{"hold.median_drop == 5s +- 5ms", false, "5.01s"},
		{"hold.median_drop == 5s +/- 10ms", true, "5.01s"},
		{"hold.median_drop==5s±0.5s", true, "5.01s"},
		{"hold.min_drop >= 4.5s", true, "4.99s"},
		{"hold.max_drop <= 5100ms", true, "5.10s"},
		{"hold.max_drop < 5.1", false, "5.10s"},
		{"handshake.p50 == 2ms", true, "2.00ms"},
		{"handshake.p99 < 10ms", true, "9.00ms"},
		{"handshake.p999 < 10ms", false, "20.0ms"},
		{"handshake.max <= 31ms", true, "31.0ms"},
		{"handshake.mean < 2.6ms", true, "2.50ms"},
		{"handshake.min > 900µs", false, "900µs"},
		{"handshake.p9999 == 30ms", true, "30.0ms"},
		{"rtt.p50 < 200us", true, "120µs"},
		{"handshake_fail.p50 == 2s ± 0.5s", true, "2.00s"},
		// counts and statuses
		{"hold.dropped == 600", true, "600"},
		{"hold.dropped < 1k", true, "600"},
		{"handshake.failures == 10", true, "10"},
		{"connections.attempted == 1k", true, "1000"},
		{"connections.opened == 990", true, "990"},
		{"connections.open_at_end == 390", true, "390"},
		{"connections.reconnects == 7", true, "7"},
		{"failures.http_503 == 6", true, "6"},
		{"failures.timeout == 0", true, "0"},
		{"failures.total == 20", true, "20"},
		{"handshake.status == 503", true, "503"},
		{"handshake.status != 101", true, "503"},
		{"messages.sent == 20k", true, "20000"},
		{"messages.received < 20k", true, "19990"},
		{"messages.lost_ratio <= 0.05%", true, "0.0005"},
		{"hold.survivors_ratio == 0.394 ± 0.001", true, "0.3939"},
		// rates and sizes
		{"throughput.msgs_per_s >= 9.9k", true, "9.99k/s"},
		{"throughput.msgs_per_s >= 10k/s", false, "9.99k/s"},
		{"throughput.bytes_per_s == 64MiB/s", true, "64.0MiB/s"},
		{"throughput.sent_msgs_per_s == 10k", true, "10.0k/s"},
		{"throughput.sent_bytes_per_s < 2MB/s", true, "1.00MiB/s"},
		// balance
		{"balance.backends == 4", true, "4"},
		{"balance.max_over_mean <= 1.25", true, "1.212"},
		{"balance.max_over_mean <= 1.2", false, "1.212"},
		// proxy cost
		{"proxy.cpu_us_per_msg == 50µs ± 0.1µs", true, "50.0µs"},
		{"proxy.cpu_us_per_msg < 50", false, "50.0µs"},
		{"proxy.cpu_us_per_msg < 0.06ms", true, "50.0µs"},
		{"proxy.cpu_cores == 1", true, "1"},
		{"proxy.mem_per_conn == 10000", true, "9.77KiB"},
		{"proxy.mem_per_conn < 10KiB", true, "9.77KiB"},
		{"proxy.mem_per_conn < 9KB", false, "9.77KiB"},
		// hello headers, any case
		{"hello.X-Real-IP present", true, "present"},
		{"hello.x-forwarded-for present", true, "present"},
		{"hello.Origin present", true, "present"},
		{"hello.Host present", true, "present"},
		{"hello.X-Forwarded-Proto absent", true, "absent"},
		{"hello.X-Forwarded-Proto present", false, "absent"},
	}
	f := facts()
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			e, err := ParseExpectation(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			v := e.Check(f)
			if v.Pass != tt.pass || v.Got != tt.got || v.Reason != "" {
				t.Errorf("Check = pass %v got %q reason %q, want pass %v got %q", v.Pass, v.Got, v.Reason, tt.pass, tt.got)
			}
			if _, ok := f.Value(e.Metric); !ok {
				t.Errorf("Value(%s) not available", e.Metric)
			}
		})
	}
}

func TestParseExpectationFields(t *testing.T) {
	tests := []struct {
		text       string
		metric, op string
		value, tol float64
	}{
		{"hold.median_drop == 5s ± 0.5s", "hold.median_drop", "==", 5, 0.5},
		{"  rtt.p99   <   250ms  ", "rtt.p99", "<", 0.25, 0},
		{"hold.median_drop == 5", "hold.median_drop", "==", 5, 0}, // bare number: seconds
		{"proxy.cpu_us_per_msg < 46", "proxy.cpu_us_per_msg", "<", 46, 0},
		{"proxy.mem_per_conn <= 17.8KiB", "proxy.mem_per_conn", "<=", 18227, 0}, // sizes are whole bytes
		{"proxy.mem_per_conn <= 2KB", "proxy.mem_per_conn", "<=", 2000, 0},
		{"connections.opened >= 1.5k", "connections.opened", ">=", 1500, 0},
		{"handshake.success_ratio >= 99.9%", "handshake.success_ratio", ">=", 0.999, 0},
		{"throughput.msgs_per_s > 2.5k/s", "throughput.msgs_per_s", ">", 2500, 0},
		{"throughput.bytes_per_s > 1MiB/s", "throughput.bytes_per_s", ">", 1 << 20, 0},
		{"hello.X-Real-IP present", "hello.X-Real-IP", OpPresent, 0, 0},
		{"hello.X-Real-IP absent", "hello.X-Real-IP", OpAbsent, 0, 0},
		{"failures.http_504 != 0", "failures.http_504", "!=", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			e, err := ParseExpectation(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if e.Metric != tt.metric || e.Op != tt.op || math.Abs(e.Value-tt.value) > 1e-9 || math.Abs(e.Tol-tt.tol) > 1e-9 || e.Text != tt.text {
				t.Errorf("got %+v, want %s %s %v ± %v", e, tt.metric, tt.op, tt.value, tt.tol)
			}
		})
	}
}

func TestParseExpectationErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", `want "metric op value"`},
		{"== 5", `want "metric op value"`},
		{"hold.median_drop", `operator "": want one of < <= == != >= >`},
		{"hold.median_drop = 5s", `operator "=": did you mean ==?`},
		{"hold.median_drop => 5s", `operator "=>": did you mean ==?`},
		{"hold.median_drop ~ 5s", `operator "~": want one of`},
		{"hold.median_drop ==", "hold.median_drop: missing value"},
		{"hold.median_drop == 2KiB", `hold.median_drop is a duration: value "2KiB": want e.g. 5s, 500ms`},
		{"hold.median_drop == -1s", `hold.median_drop is a duration: value "-1s"`},
		{"proxy.mem_per_conn < 5s", `proxy.mem_per_conn is a size: value "5s"`},
		{"handshake.success_ratio > 5s", `handshake.success_ratio is a ratio: value "5s": want a plain number or a percentage`},
		{"hold.dropped == 1.5", `hold.dropped is a count: value "1.5": want a whole number`},
		{"hold.dropped == 5s", `hold.dropped is a count`},
		{"handshake.status == 99", "want a status code from 100 to 599"},
		{"handshake.status == ok", "want a status code"},
		{"throughput.msgs_per_s > fast", "is a rate in messages/s"},
		{"throughput.bytes_per_s > 10k/s", ""}, // 10k is a size (10 KiB): allowed
		{"proxy.cpu_us_per_msg < 5KiB", "is CPU time per event"},
		{"hold.median_drop < 5s ± 1s", "a tolerance (±) goes with == or !=, not <"},
		{"hold.median_drop == 5s ± ", "tolerance: hold.median_drop: missing value"},
		{"handshake.success_ratio >= NaN", "not a finite number"},
		{"hold.medain_drop == 5s", `unknown metric "hold.medain_drop" (did you mean hold.median_drop?)`},
		{"nonsense.metric == 1", `unknown metric "nonsense.metric" (see 'wsbench run --help' for the list)`},
		{"rtt.p95 < 1s", `metric "rtt.p95": unknown statistic "p95" (want min, mean, p50, p90, p99, p999, p9999, max)`},
		{"failures. == 1", "want failures.<cause>"},
		{"failures.HTTP_503 == 1", "want failures.<cause>"},
		{"hello. present", "want hello.<Header-Name>"},
		{"hello.X-Real-IP == 1", `hello.X-Real-IP is present or absent, got "== 1"`},
		{"hello.X-Real-IP", `hello.X-Real-IP is present or absent, got ""`},
		{"handshake.p99 present", `operator "present"`},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := ParseExpectation(tt.text)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "scenarios: expectation ") {
				t.Errorf("error %q, want it to start with \"scenarios: expectation \" and contain %q", err, tt.want)
			}
		})
	}
}

// TestCheckUnavailable: a metric that cannot be computed fails, with why.
func TestCheckUnavailable(t *testing.T) {
	empty := Facts{Summary: &results.Summary{}}
	tests := []struct {
		text   string
		facts  Facts
		reason string
	}{
		{"handshake.success_ratio == 1", empty, "no connection was attempted"},
		{"handshake.p99 < 1s", empty, "no handshake samples"},
		{"hold.median_drop == 5s ± 0.5s", empty, "no connection dropped"},
		{"hold.survivors_ratio == 1", empty, "no connection opened"},
		{"messages.lost_ratio == 0", empty, "no message was sent"},
		{"throughput.msgs_per_s > 1", empty, "no measurement window"},
		{"balance.backends == 1", empty, "no backend id recorded"},
		{"balance.max_over_mean < 2", empty, "no backend id recorded"},
		{"hello.X-Real-IP absent", empty, "no hello message received"},
		{"proxy.cpu_us_per_msg < 1ms", empty, "no proxy usage measured"},
		{"proxy.mem_per_conn < 1MiB", empty, "no proxy usage measured"},
		{"proxy.cpu_cores < 1", Facts{Summary: &results.Summary{}, Proxy: &results.Usage{}}, "no measurement window"},
		{"proxy.cpu_us_per_handshake < 1ms", Facts{Summary: &results.Summary{Workload: "hold"}, Proxy: &results.Usage{}}, "no connection was attempted"},
		// CPU is divided by what the workload spends it on, nothing else.
		{"proxy.cpu_us_per_handshake < 1ms", Facts{Summary: &results.Summary{Workload: "rtt", Connections: results.Connections{Attempted: 10}}, Proxy: &results.Usage{CPU: 1}}, "a rtt run: its CPU goes to messages"},
		{"proxy.cpu_us_per_msg < 1ms", Facts{Summary: &results.Summary{Workload: "hold", Messages: results.Traffic{Sent: 10}}, Proxy: &results.Usage{CPU: 1}}, "a hold run: its CPU goes to connections"},
		{"handshake.p99 < 1s", Facts{}, "no result"},
		{"hello.X-Real-IP present", Facts{Summary: &results.Summary{Hellos: []json.RawMessage{json.RawMessage(`[1]`)}}}, "hello message is not echo's JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			e, err := ParseExpectation(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			v := e.Check(tt.facts)
			if v.Pass || v.Got != "" || !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("Check = %+v, want a failure because %q", v, tt.reason)
			}
			if _, ok := tt.facts.Value(e.Metric); ok {
				t.Errorf("Value(%s) available on facts that lack it", e.Metric)
			}
		})
	}
}

func TestHandshakeStatus(t *testing.T) {
	tests := []struct {
		failures map[string]int64
		want     float64
	}{
		{nil, 101},
		{map[string]int64{"refused": 9, "timeout": 3}, 101},
		{map[string]int64{"http_505": 10}, 505},
		{map[string]int64{"http_503": 20, "http_502": 21, "reset": 99}, 502},
		{map[string]int64{"http_503": 5, "http_403": 5}, 403}, // a tie: the lower code
		{map[string]int64{"http_abc": 5, "http_": 1, "http_101": 3}, 101},
	}
	for _, tt := range tests {
		got, ok := Facts{Summary: &results.Summary{Failures: tt.failures}}.Value("handshake.status")
		if !ok || got != tt.want {
			t.Errorf("failures %v: handshake.status = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

// TestMaxOverMeanCountsIdleBackends: with Facts.Backends set, a backend
// that got nothing counts in the mean.
func TestMaxOverMeanCountsIdleBackends(t *testing.T) {
	f := Facts{Summary: &results.Summary{Backends: map[string]int64{"backend-1": 100, "backend-2": 100}}}
	if got, _ := f.Value("balance.max_over_mean"); got != 1 {
		t.Errorf("seen backends only: %v, want 1", got)
	}
	f.Backends = 4
	if got, _ := f.Value("balance.max_over_mean"); got != 2 {
		t.Errorf("of 4 backends: %v, want 2", got)
	}
}

func TestVerdictString(t *testing.T) {
	f := facts()
	e, _ := ParseExpectation("hold.median_drop == 5s ± 0.5s")
	if got := e.Check(f).String(); got != "PASS hold.median_drop == 5s ± 0.5s (got 5.01s)" {
		t.Errorf("pass: %q", got)
	}
	e, _ = ParseExpectation("proxy.cpu_us_per_msg < 10µs")
	if got := e.Check(Facts{Summary: f.Summary}).String(); got != "FAIL proxy.cpu_us_per_msg < 10µs (no proxy usage measured (direct target, or the stack took no sample))" {
		t.Errorf("unavailable: %q", got)
	}
}

// TestExpectationString rebuilds the text of hand-made expectations, and it
// parses back to the same rule.
func TestExpectationString(t *testing.T) {
	tests := []struct {
		e    Expectation
		want string
	}{
		{Expectation{Metric: "hold.median_drop", Op: "==", Value: 5, Tol: 0.5}, "hold.median_drop == 5s ± 500ms"},
		{Expectation{Metric: "hold.median_drop", Op: "<", Value: 1.0 / 3}, "hold.median_drop < 0.3333333333333333"},
		{Expectation{Metric: "proxy.mem_per_conn", Op: "<", Value: 17.5 * 1024}, "proxy.mem_per_conn < 17920"},
		{Expectation{Metric: "proxy.cpu_us_per_msg", Op: "<", Value: 46.25}, "proxy.cpu_us_per_msg < 46.25"},
		{Expectation{Metric: "hello.X-Real-IP", Op: OpPresent}, "hello.X-Real-IP present"},
		{Expectation{Metric: "handshake.status", Op: "==", Value: 505}, "handshake.status == 505"},
		{Expectation{Metric: "handshake.success_ratio", Op: ">=", Value: 0.999}, "handshake.success_ratio >= 0.999"},
		{Expectation{Metric: "throughput.msgs_per_s", Op: ">", Value: 12_500}, "throughput.msgs_per_s > 12500"},
		{Expectation{Metric: "throughput.bytes_per_s", Op: ">", Value: 1 << 20}, "throughput.bytes_per_s > 1048576/s"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		back, err := ParseExpectation(tt.e.String())
		if err != nil || back.Metric != tt.e.Metric || back.Op != tt.e.Op || back.Value != tt.e.Value || back.Tol != tt.e.Tol {
			t.Errorf("%q parses back to %+v, %v", tt.e.String(), back, err)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		k    kind
		v    float64
		want string
	}{
		{kindSeconds, 0, "0s"}, {kindSeconds, 5.0123, "5.01s"}, {kindSeconds, 123.4, "123s"}, {kindSeconds, 12.34, "12.3s"},
		{kindSeconds, 0.25, "250ms"}, {kindSeconds, 0.0000462, "46.2µs"}, {kindSeconds, 3600, "3600s"},
		{kindMicros, 46.2, "46.2µs"}, {kindMicros, 2500, "2.50ms"},
		{kindBytes, 512, "512B"}, {kindBytes, 18227, "17.8KiB"}, {kindBytes, 3 << 30, "3.00GiB"},
		{kindCount, 1500, "1500"}, {kindStatus, 505, "505"},
		{kindRatio, 0.99949, "0.9995"}, {kindRate, 999, "999/s"}, {kindRate, 2.5e6, "2.50M/s"},
		{kindByteRate, 1 << 20, "1.00MiB/s"}, {kindPresence, 1, "present"}, {kindPresence, 0, "absent"},
	}
	for _, tt := range tests {
		if got := format(tt.k, tt.v); got != tt.want {
			t.Errorf("format(%s, %v) = %q, want %q", kindUnits[tt.k], tt.v, got, tt.want)
		}
	}
}

// TestMetricsDocumented: every fixed metric is listed with a unit and a
// description, and every listed fixed name parses.
func TestMetricsDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Metrics() {
		if m.Name == "" || m.Unit == "" || m.Description == "" {
			t.Errorf("incomplete %+v", m)
		}
		if seen[m.Name] {
			t.Errorf("%s listed twice", m.Name)
		}
		seen[m.Name] = true
		name := strings.NewReplacer("<stat>", "p99", "<cause>", "http_503", "<Header-Name>", "X-Real-IP", "<process>", "proxy", "<resource>", "rss").Replace(m.Name)
		if _, err := lookupMetric(name); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
	for _, name := range []string{"handshake.success_ratio", "hold.median_drop", "balance.max_over_mean", "proxy.cpu_us_per_msg", "rtt.<stat>", "failures.<cause>"} {
		if !seen[name] {
			t.Errorf("Metrics() lacks %s", name)
		}
	}
}

// In a hold run the proxy's CPU is per handshake.
func TestCPUPerHandshakeOfHold(t *testing.T) {
	f := Facts{Summary: &results.Summary{Workload: "hold", Connections: results.Connections{Attempted: 1000}}, Proxy: &results.Usage{CPU: 2 * time.Second}}
	e, err := ParseExpectation("proxy.cpu_us_per_handshake == 2ms")
	if err != nil {
		t.Fatal(err)
	}
	if v := e.Check(f); !v.Pass || v.Got != "2.00ms" {
		t.Fatalf("Check = %+v, want pass with 2.00ms", v)
	}
}
