//go:build !linux

package loadgen

const epollSupported = false

func newEngine(_ bool, d *driver, clk clock, drain, slack int64, _ bool) (engine, error) {
	return newGoroutineEngine(d, clk, drain, slack), nil
}
