package echo

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Blackhole is a TCP port that never completes a connection: it listens
// with an accept queue of one, fills that queue itself and never accepts,
// so the kernel drops every further SYN. A proxy dialing it waits out its
// connect timeout (nginx's proxy_connect_timeout), as with a host that is
// down — without sending a packet anywhere else.
type Blackhole struct {
	fd     int
	filler net.Conn
	addr   netip.AddrPort
}

// ListenBlackhole opens a blackhole on addr ("host:port", IPv4 or IPv6; an
// empty host is every IPv4 address, as for the echo server's listener).
func ListenBlackhole(addr string) (*Blackhole, error) {
	ap, err := resolveAddr(addr)
	if err != nil {
		return nil, err
	}
	family := unix.AF_INET
	if ap.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("echo: blackhole socket: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, sockaddr(ap)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("echo: blackhole bind %s: %w", addr, err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("echo: blackhole listen %s: %w", addr, err)
	}
	b := &Blackhole{fd: fd, addr: ap}
	if sa, err := unix.Getsockname(fd); err == nil {
		switch p := sa.(type) {
		case *unix.SockaddrInet4:
			b.addr = netip.AddrPortFrom(netip.AddrFrom4(p.Addr), uint16(p.Port))
		case *unix.SockaddrInet6:
			b.addr = netip.AddrPortFrom(netip.AddrFrom16(p.Addr), uint16(p.Port))
		}
	}
	// A backlog of 0 leaves room for one connection: take it ourselves.
	loop := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	if b.addr.Addr().Is6() {
		loop = netip.IPv6Loopback()
	}
	target := netip.AddrPortFrom(loop, b.addr.Port())
	if !b.addr.Addr().IsUnspecified() {
		target = b.addr
	}
	b.filler, err = net.DialTimeout("tcp", target.String(), 2*time.Second)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("echo: blackhole fill %s: %w", target, err)
	}
	return b, nil
}

// Addr is the address the blackhole listens on.
func (b *Blackhole) Addr() string { return b.addr.String() }

// Close releases the port.
func (b *Blackhole) Close() error {
	b.filler.Close()
	return unix.Close(b.fd)
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is6() {
		return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
}

// resolveAddr resolves addr to one address, IPv4 unless the host is an IPv6
// literal or only has IPv6 addresses.
func resolveAddr(addr string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("echo: blackhole address %q: %w", addr, err)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	network := "tcp4"
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() && !ip.Is4In6() {
		network = "tcp6"
	}
	ta, err := net.ResolveTCPAddr(network, net.JoinHostPort(host, port))
	if err != nil && network == "tcp4" {
		ta, err = net.ResolveTCPAddr("tcp6", net.JoinHostPort(host, port))
	}
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("echo: blackhole address %q: %w", addr, err)
	}
	return ta.AddrPort(), nil
}
