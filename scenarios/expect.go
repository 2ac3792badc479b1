package scenarios

// Expectation is one pass/fail rule, written in a scenario as
// "metric op value [± tol]", e.g. "hold.median_drop == 5s ± 0.5s".
type Expectation struct {
	Metric string  // e.g. "hold.median_drop"
	Op     string  // < <= == != >= >, or present / absent
	Value  float64 // in the metric's base unit: seconds, bytes, count, ratio, msgs/s
	Tol    float64 // for ==: "± 0.5s"
	Text   string  // as written
	Line   int     // in the scenario file
}
