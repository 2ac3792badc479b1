package stack

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"time"
)

// StartError is a service that did not become ready: it exited, or the
// wait timed out. Tail holds the last lines of its output.
type StartError struct {
	Service string
	Reason  string // "exited", "timed out after 30s", …
	Tail    string
}

func (e *StartError) Error() string {
	if e.Tail == "" {
		return fmt.Sprintf("stack: service %q %s before it was ready (no output)", e.Service, e.Reason)
	}
	return fmt.Sprintf("stack: service %q %s before it was ready; its output ends: %s", e.Service, e.Reason, e.Tail)
}

// waitReady polls a started service until it is ready — a line of its
// output matches WaitLog, or its address accepts a TCP connection — and
// fails fast when it exits first.
func waitReady(ctx context.Context, svc *Service, h *Handle, be backend) error {
	var re *regexp.Regexp
	if svc.WaitLog != "" {
		re = regexp.MustCompile(svc.WaitLog) // validated
	}
	deadline := time.Now().Add(svc.startTimeout())
	fail := func(reason string) error {
		out, _ := be.logs(context.WithoutCancel(ctx), h)
		return &StartError{Service: svc.Name, Reason: reason, Tail: tail(out, 5)}
	}
	for delay := 10 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		if re != nil {
			if out, err := be.logs(ctx, h); err == nil && re.Match(out) {
				return nil
			}
		} else if h.probe != "" && dialOK(ctx, h.probe) {
			return nil
		}
		dead, err := be.exited(ctx, h)
		if err == nil && dead {
			return fail("exited")
		}
		if time.Now().After(deadline) {
			return fail("timed out after " + svc.startTimeout().String())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stack: waiting for %q: %w", svc.Name, ctx.Err())
		case <-time.After(delay):
		}
	}
}

func dialOK(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: 500 * time.Millisecond}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
