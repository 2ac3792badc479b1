package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/wsbench/wsbench/internal/selfusage"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/scenarios"
)

// adminPort is where every reference proxy serves its counters and
// process usage (`wsbench proxy --admin`), for the proxy series.
const adminPort = 9901

// sampleEvery is the proxy series' interval, the time series' too.
const sampleEvery = time.Second

// timedSample is one proxy reading and when it was taken.
type timedSample struct {
	at time.Time
	results.Resources
}

// sampleProxy reads the target proxy's resources once a second until the
// returned func is called, which returns the readings. The reference
// proxy answers with its resident memory, descriptors and goroutines on
// its admin endpoint, which this process reaches at the proxy's address
// (its loopback address, or its address on the run's bridge network,
// which the host routes to on Linux). Any other proxy (nginx) gives its
// memory from the stack's accounting (the container's cgroup, or the
// local process tree), and nothing else. Only soak workloads are sampled
// (Workload.WatchesResources).
func (t *topology) sampleProxy(ctx context.Context, p plan) func() []timedSample {
	if p.proxy == "" || !p.w.WatchesResources() {
		return func() []timedSample { return nil }
	}
	read := t.memoryReader(p.proxy)
	if t.admin[p.tg.Name] {
		read = t.adminReader(p.tg, read)
	}
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg  sync.WaitGroup
		out []timedSample
	)
	wg.Go(func() {
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		for {
			if r, ok := read(ctx); ok {
				out = append(out, timedSample{at: time.Now(), Resources: r})
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return func() []timedSample {
		cancel()
		wg.Wait()
		return out
	}
}

type resourceReader func(ctx context.Context) (results.Resources, bool)

// memoryReader reads a service's memory from the stack's accounting.
func (t *topology) memoryReader(name string) resourceReader {
	return func(ctx context.Context) (results.Resources, bool) {
		u, err := t.st.Usage(ctx, name)
		if err != nil || u.Memory <= 0 {
			return results.Resources{}, false
		}
		return results.Resources{RSS: u.Memory}, true
	}
}

// adminReader reads a reference proxy's admin endpoint; while that does
// not answer (a scenario's own --admin elsewhere), it falls back.
func (t *topology) adminReader(tg scenarios.Target, fallback resourceReader) resourceReader {
	h, ok := t.st.Handle(tg.Name)
	if !ok {
		return fallback
	}
	host, _, err := net.SplitHostPort(h.HostAddr())
	if err != nil {
		return fallback
	}
	url := "http://" + net.JoinHostPort(host, fmt.Sprint(adminPort)) + "/"
	client := &http.Client{Timeout: sampleEvery}
	return func(ctx context.Context) (results.Resources, bool) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fallback(ctx)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fallback(ctx)
		}
		defer resp.Body.Close()
		var c struct {
			Process *selfusage.Usage `json:"process"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || c.Process == nil {
			return fallback(ctx)
		}
		return results.Resources{RSS: c.Process.RSSBytes, FDs: c.Process.FDs, Goroutines: c.Process.Goroutines}, true
	}
}

// proxySeries puts the readings taken during the run on its time axis
// (seconds after its start), leaving out those before it started or after
// it ended.
func proxySeries(samples []timedSample, run *results.Run) []results.ResourceSample {
	var out []results.ResourceSample
	for _, s := range samples {
		if s.at.Before(run.Summary.Start) || s.at.After(run.Summary.End) {
			continue
		}
		out = append(out, results.ResourceSample{T: s.at.Sub(run.Summary.Start).Seconds(), Resources: s.Resources})
	}
	return out
}
