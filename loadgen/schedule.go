package loadgen

import "time"

// The schedules are pure functions of their parameters, so they are tested
// without a clock. Times are nanoseconds from a phase's start.

// connectAt is when the k-th connection (from 0) is due when rate
// connections are opened per second; rate 0 opens them all at once.
func connectAt(k int, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(k) / rate * float64(time.Second))
}

// rttSchedule spreads a constant rate evenly over n connections: message k
// of connection i is intended at (i + k·n) / rate, so consecutive sends of
// the whole run are 1/rate apart whatever the connection count.
type rttSchedule struct {
	n    int
	rate float64
}

// at is the intended send time of connection i's k-th message.
func (s rttSchedule) at(i int, k int64) int64 {
	return int64((float64(i) + float64(k)*float64(s.n)) / s.rate * 1e9)
}
