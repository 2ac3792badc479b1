package results

import "testing"

func TestPrimaryMetric(t *testing.T) {
	for workload, want := range map[string]string{
		"rtt": MetricRTT, "throughput": MetricService, "push": MetricOneWay, "hold": MetricDrop, "": MetricRTT,
	} {
		if got := PrimaryMetric(workload); got != want {
			t.Errorf("PrimaryMetric(%q) = %q, want %q", workload, got, want)
		}
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if s := Summarize(nil); s != (Stats{}) {
		t.Errorf("Summarize(nil) = %+v", s)
	}
	if s := Summarize(NewHistogram()); s != (Stats{}) {
		t.Errorf("Summarize(empty) = %+v", s)
	}
}

func TestCheckMetricName(t *testing.T) {
	for name, ok := range map[string]bool{
		"rtt": true, "handshake_fail": true, "p-99": true, "": false, "a/b": false, "..": false, "a b": false, "a,b": false,
		"ü": false, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12345": false,
	} {
		if err := checkMetricName(name); (err == nil) != ok {
			t.Errorf("checkMetricName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}
