package scenarios

import (
	"time"

	"github.com/wsbench/wsbench/loadgen"
)

// workloads are the load generator's workloads a scenario may ask for (a
// ramp is a wsbench loadgen run of its own, not a scenario workload).
var workloads = []loadgen.Workload{loadgen.WorkloadRTT, loadgen.WorkloadThroughput, loadgen.WorkloadPush, loadgen.WorkloadHold}

// Kind is the load's workload; "" is rtt. ok is false for a name the load
// generator does not know.
func (l Load) Kind() (w loadgen.Workload, ok bool) {
	if l.Workload == "" {
		return loadgen.WorkloadRTT, true
	}
	w, err := loadgen.ParseWorkload(l.Workload)
	return w, err == nil
}

// Options are the load generator's options for l against url (which
// carries the load's path): one process's, before the load is split over
// workers. A key not set stays zero, the load generator's default. The
// source addresses are left out when they do not parse, and a bad
// compression_context_takeover is on (validation says so).
func (l Load) Options(url string) loadgen.Options {
	kind, _ := l.Kind()
	o := loadgen.Options{URL: url, Workload: kind, Conns: int(l.Conns),
		ConnectRate: float64(l.ConnectRate), Rate: float64(l.Rate), Size: l.Size, Opcode: l.Opcode, Window: l.Window,
		PushRate: float64(l.PushRate), Duration: time.Duration(l.Duration), Warmup: time.Duration(l.Warmup),
		PingInterval: time.Duration(l.PingInterval), HoldSend: l.HoldSend, HandshakeTimeout: time.Duration(l.Timeout),
		Headers: l.Headers, NoRead: l.NoRead, Reconnect: l.Reconnect, Churn: float64(l.Churn),
		Subprotocols: l.Subprotocol, Compression: l.Compression}
	o.NoContextTakeover, _ = loadgen.ParseContextTakeover(l.Takeover) // "" is on; a bad value is validation's
	if l.SourceIPs != "" {
		o.SourceIPs, _ = loadgen.ParseSourceIPs(l.SourceIPs)
	}
	return o
}

func workloadNames(ws []loadgen.Workload) []string {
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.String()
	}
	return names
}
