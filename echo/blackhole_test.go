//go:build linux

package echo

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// A dial to a blackhole times out: no SYN-ACK ever comes.
func TestBlackholeDropsConnects(t *testing.T) {
	b, err := ListenBlackhole("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	start := time.Now()
	c, err := net.DialTimeout("tcp", b.Addr(), 300*time.Millisecond)
	if err == nil {
		c.Close()
		t.Fatalf("dial to the blackhole %s succeeded", b.Addr())
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("dial error %v, want a timeout", err)
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Fatalf("dial failed after %v: refused, not dropped? (%v)", took, err)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) && !ne.Timeout() {
		t.Fatalf("unexpected error %v", err)
	}
}

// An IPv6 blackhole drops connects as the IPv4 one does.
func TestBlackholeIPv6(t *testing.T) {
	b, err := ListenBlackhole("[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !strings.HasPrefix(b.Addr(), "[::1]:") {
		t.Fatalf("blackhole address %s, want [::1]:port", b.Addr())
	}
	c, err := net.DialTimeout("tcp", b.Addr(), 300*time.Millisecond)
	if err == nil {
		c.Close()
		t.Fatalf("dial to the blackhole %s succeeded", b.Addr())
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("dial error %v, want a timeout", err)
	}
}
