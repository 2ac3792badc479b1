package relay

import (
	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/internal/sysio"
)

const spliceSupported = true

// pipeSize is the capacity asked of every pipe: one splice moves up to this
// much. The kernel's default of 64 KiB would take sixteen round trips for a
// 1 MiB message; the pages belong to the kernel and are only filled while a
// chunk is in flight.
const pipeSize = 256 << 10

type pipe struct{ r, w int }

func newPipe() (*pipe, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, err
	}
	// A smaller pipe still works (the user's pipe quota may be spent), so
	// an error here is not one.
	unix.FcntlInt(uintptr(fds[0]), unix.F_SETPIPE_SZ, pipeSize)
	return &pipe{r: fds[0], w: fds[1]}, nil
}

func (p *pipe) close() {
	unix.Close(p.r)
	unix.Close(p.w)
}

// spliceIn moves what the socket has into the pipe, without copying it
// through user space.
func spliceIn(fd int, p *pipe) (int, error) { return sysio.Splice(fd, p.w, pipeSize) }

// spliceOut moves up to n bytes from the pipe to the socket.
func spliceOut(p *pipe, fd int, n int) (int, error) { return sysio.Splice(p.r, fd, n) }
