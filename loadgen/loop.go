package loadgen

// Messages from the runner to an engine goroutine.
type loopMsgKind uint8

const (
	msgAdd   loopMsgKind = iota + 1 // a dialed connection (or a failed attempt)
	msgStart                        // the load phase starts
	msgStop                         // end the load phase now (Ctrl-C)
	msgRate                         // ramp: a new step, at t0 with rate
)

type loopMsg struct {
	kind     loopMsgKind
	dial     dialed
	fd       int             // msgAdd, epoll engine: the connection's own descriptor
	t0, end  int64           // msgStart: load phase, monotonic ns
	from     int64           // msgStart: end of the warm-up, start of the measurement (t0 without one)
	grid     grid            // msgStart: the interval boundaries from now on
	slotBase int             // msgStart: first schedule slot of this loop's connections
	ack      chan<- struct{} // msgStart: told once the engine has started
	rate     float64         // msgStart, msgRate: messages per second over all connections
}

// Phases of an engine goroutine after the connect phase.
type phase uint8

const (
	phaseConnect phase = iota
	phaseLoad
	phaseDrain // no new sends; waiting for replies in flight
	phaseClose // close frames sent; waiting for the peers' replies
	phaseDone
)

// closeWait bounds how long the end of a run waits for close replies.
const closeWait = int64(1e9)
