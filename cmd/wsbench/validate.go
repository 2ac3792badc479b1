package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/wsbench/wsbench/loadgen"
)

// This file holds the checks several commands share: values found wrong
// here exit 2 before anything runs.

// optionError turns a load-generator option error into a usage error that
// names the flag, e.g. "--window 0: want 1 to 65536 messages in flight".
func optionError(err error) error {
	var oe *loadgen.OptionError
	if errors.As(err, &oe) {
		return usagef("--%s %s: %s", oe.Option, oe.Value, oe.Want)
	}
	return usageError{err}
}

// checkListenAddr refuses an address that cannot be one to listen on, so a
// typo exits 2 instead of failing like a busy port: host:port with a port
// from 0 (any free one) to 65535, and a host that is empty (every
// interface), an IP address or a host name.
func checkListenAddr(flag, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("%s %q: want host:port or :port, e.g. 127.0.0.1:9000 or :9000", flag, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usagef("%s %q: port %q: want 0 (any free port) to 65535", flag, addr, port)
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	// All digits and dots is meant as an IPv4 address, not a name.
	if strings.Trim(host, "0123456789.") == "" || !hostName(host) {
		return usagef("%s %q: host %q is not an IP address or a host name", flag, addr, host)
	}
	return nil
}

// hostName reports whether s is spelt as a DNS name.
func hostName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// listenError explains why a well-formed address could not be bound, and
// what to do. It stays an ordinary failure (exit 1): the address is right,
// the machine's state is not.
func listenError(flag, addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%s %s: address in use: another process listens there (find it with ss -ltnp), or pick another port: %w", flag, addr, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("%s %s: not an address of this host (see ip addr), listen on one that is or on :PORT: %w", flag, addr, err)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%s %s: permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE; pick a port above 1023: %w", flag, addr, err)
	}
	return fmt.Errorf("%s %s: %w", flag, addr, err)
}

// checkOutDir makes sure results can be written into dir before any load
// runs, instead of finding out after it: it creates dir and writes and
// removes a probe file there.
func checkOutDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usagef("--out %s: cannot create the results directory: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".wsbench-probe-*")
	if err != nil {
		return usagef("--out %s: cannot write results there: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return usagef("--out %s: cannot remove files there: %w", dir, err)
	}
	return nil
}
