package results

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func sampleSeries() []Interval {
	return []Interval{
		{T: 1, Open: 50, MsgsSent: 10_000, MsgsRecv: 9_998, BytesSent: 640_000, BytesRecv: 639_872, Errors: 0, P50: 310, P99: 1_200},
		{T: 2, Open: 49, MsgsSent: 10_001, MsgsRecv: 10_003, BytesSent: 640_064, BytesRecv: 640_192, Errors: 1, P50: 305, P99: 980,
			Resources: Resources{RSS: 31 << 20, FDs: 57, Goroutines: 12}},
		{T: 2.437, Open: 0, MsgsSent: 4_000, MsgsRecv: 4_000, BytesSent: 256_000, BytesRecv: 256_000, P50: 299, P99: 201_000},
	}
}

func TestTimeseriesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTimeseries(&buf, sampleSeries()); err != nil {
		t.Fatal(err)
	}
	want := "t_sec,open,msgs_sent,msgs_recv,bytes_sent,bytes_recv,errors,p50_us,p99_us,rss_bytes,fds,goroutines\n" +
		"1,50,10000,9998,640000,639872,0,310,1200,,,\n" +
		"2,49,10001,10003,640064,640192,1,305,980,32505856,57,12\n"
	if !strings.HasPrefix(buf.String(), want) {
		t.Errorf("CSV starts\n%s\nwant\n%s", buf.String(), want)
	}
	got, err := ReadTimeseries(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sampleSeries()) {
		t.Errorf("read back %+v\nwant %+v", got, sampleSeries())
	}
}

func TestReadTimeseriesErrors(t *testing.T) {
	const header = "t_sec,open,msgs_sent,msgs_recv,bytes_sent,bytes_recv,errors,p50_us,p99_us\n"
	const header2 = "t_sec,open,msgs_sent,msgs_recv,bytes_sent,bytes_recv,errors,p50_us,p99_us,rss_bytes,fds,goroutines\n"
	cases := []struct{ name, in, want string }{
		{"empty", "", "timeseries: line 1: empty file, want the header"},
		{"wrong header", "t,open\n", `timeseries: line 1: header "t,open", want "t_sec,open,`},
		{"resource columns in another order", strings.Replace(header2, "fds,goroutines", "goroutines,fds", 1), `timeseries: line 1: header "t_sec,`},
		{"row without the resource columns", header2 + "1,50,3,0,0,0,0,0,0\n", "timeseries: line 2: wrong number of fields"},
		{"negative rss", header2 + "1,50,3,0,0,0,0,0,0,-5,,\n", `timeseries: line 2: rss_bytes "-5": want a whole number ≥ 0, or nothing when not measured`},
		{"fractional fds", header2 + "1,50,3,0,0,0,0,0,0,,1.5,\n", `timeseries: line 2: fds "1.5"`},
		{"renamed column", strings.Replace(header, "open", "opened", 1), `timeseries: line 1: header "t_sec,opened,`},
		{"truncated row", header + "1,50,10000\n", "timeseries: line 2: wrong number of fields"},
		{"negative", header + "1,50,-3,0,0,0,0,0,0\n", `timeseries: line 2: msgs_sent "-3": want a whole number ≥ 0`},
		{"not a number", header + "1,50,3,0,0,0,0,0,x\n", `timeseries: line 2: p99_us "x"`},
		{"infinite time", header + "Inf,50,3,0,0,0,0,0,0\n", `timeseries: line 2: t_sec "Inf"`},
		{"bad quote", header + "1,\"5\"0,3,0,0,0,0,0,0\n", `timeseries: line 2: extraneous or missing " in quoted-field`},
		{"later line", header + "1,0,0,0,0,0,0,0,0\n2,0,0,0,0,0,0,0,z\n", `timeseries: line 3: p99_us "z"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadTimeseries(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ReadTimeseries error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestReadTimeseriesHeaderOnly(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTimeseries(&buf, nil); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTimeseries(&buf)
	if err != nil || len(got) != 0 {
		t.Errorf("header-only CSV read as %v, %v", got, err)
	}
}

// Files written before the resource columns existed still read, with no
// resources measured.
func TestReadTimeseriesWithoutResources(t *testing.T) {
	old := "t_sec,open,msgs_sent,msgs_recv,bytes_sent,bytes_recv,errors,p50_us,p99_us\n" +
		"1,50,10000,9998,640000,639872,0,310,1200\n"
	got, err := ReadTimeseries(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	want := []Interval{sampleSeries()[0]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %+v, want %+v", got, want)
	}
}

func TestProxySeriesRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		samples []ResourceSample
		csv     string
	}{
		{"refproxy", []ResourceSample{{T: 0.5, Resources: Resources{RSS: 9 << 20, FDs: 18_004, Goroutines: 11}}, {T: 1.5, Resources: Resources{RSS: 9 << 20, FDs: 18_006, Goroutines: 12}}},
			"t_sec,rss_bytes,fds,goroutines\n0.5,9437184,18004,11\n1.5,9437184,18006,12\n"},
		{"nginx: memory only", []ResourceSample{{T: 2, Resources: Resources{RSS: 170 << 20}}},
			"t_sec,rss_bytes,fds,goroutines\n2,178257920,,\n"},
		{"none", nil, "t_sec,rss_bytes,fds,goroutines\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteProxySeries(&buf, c.samples); err != nil {
				t.Fatal(err)
			}
			if buf.String() != c.csv {
				t.Errorf("CSV\n%s\nwant\n%s", buf.String(), c.csv)
			}
			got, err := ReadProxySeries(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.samples) {
				t.Errorf("read back %+v, want %+v", got, c.samples)
			}
		})
	}
}

func TestReadProxySeriesErrors(t *testing.T) {
	const header = "t_sec,rss_bytes,fds,goroutines\n"
	cases := []struct{ name, in, want string }{
		{"empty", "", "proxy timeseries: line 1: empty file, want the header"},
		{"timeseries.csv instead", "t_sec,open,msgs_sent,msgs_recv\n", `proxy timeseries: line 1: header "t_sec,open,msgs_sent,msgs_recv"`},
		{"short row", header + "1,2\n", "proxy timeseries: line 2: wrong number of fields"},
		{"negative time", header + "-1,2,3,4\n", `proxy timeseries: line 2: t_sec "-1"`},
		{"not a number", header + "1,2,x,4\n", `proxy timeseries: line 2: fds "x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadProxySeries(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ReadProxySeries error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}
