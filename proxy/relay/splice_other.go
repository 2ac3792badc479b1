//go:build unix && !linux

package relay

import "errors"

const spliceSupported = false

const pipeSize = 64 << 10

type pipe struct{}

var errNoSplice = errors.New("relay: splice(2) needs Linux")

func newPipe() (*pipe, error)                   { return nil, errNoSplice }
func (p *pipe) close()                          {}
func spliceIn(fd int, p *pipe) (int, error)     { return 0, errNoSplice }
func spliceOut(p *pipe, fd, n int) (int, error) { return 0, errNoSplice }
