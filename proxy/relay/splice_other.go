//go:build unix && !linux

package relay

import (
	"errors"

	"golang.org/x/sys/unix"
)

func sysRead(fd int, p []byte) (int, error) {
	return retry(func() (int, error) { return unix.Read(fd, p) })
}
func sysWrite(fd int, p []byte) (int, error) {
	return retry(func() (int, error) { return unix.Write(fd, p) })
}

const spliceSupported = false

const pipeSize = 64 << 10

type pipe struct{}

var errNoSplice = errors.New("relay: splice(2) needs Linux")

func newPipe() (*pipe, error)                   { return nil, errNoSplice }
func (p *pipe) close()                          {}
func spliceIn(fd int, p *pipe) (int, error)     { return 0, errNoSplice }
func spliceOut(p *pipe, fd, n int) (int, error) { return 0, errNoSplice }
