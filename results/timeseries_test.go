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
		{T: 2, Open: 49, MsgsSent: 10_001, MsgsRecv: 10_003, BytesSent: 640_064, BytesRecv: 640_192, Errors: 1, P50: 305, P99: 980},
		{T: 2.437, Open: 0, MsgsSent: 4_000, MsgsRecv: 4_000, BytesSent: 256_000, BytesRecv: 256_000, P50: 299, P99: 201_000},
	}
}

func TestTimeseriesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTimeseries(&buf, sampleSeries()); err != nil {
		t.Fatal(err)
	}
	want := "t_sec,open,msgs_sent,msgs_recv,bytes_sent,bytes_recv,errors,p50_us,p99_us\n" +
		"1,50,10000,9998,640000,639872,0,310,1200\n"
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
	cases := []struct{ name, in, want string }{
		{"empty", "", "timeseries: line 1: empty file, want the header"},
		{"wrong header", "t,open\n", "timeseries: line 1: wrong number of fields"},
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
