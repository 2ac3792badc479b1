package echo

import (
	"math/bits"
	"sync"
)

// Buffers are borrowed while bytes move and returned as soon as a connection
// has nothing buffered, so an idle connection holds none. Sizes come in
// power-of-two classes from minBuffer up to maxPooledBuffer; a large message
// borrows the class that fits it only while it is being read.
const (
	minBuffer       = 32 << 10
	maxPooledBuffer = 32 << 20
	numClasses      = 11 // 32 KiB << 0 … 32 KiB << 10 = 32 MiB
)

// buffer wraps the slice so the pools store a pointer and Put does not
// allocate.
type buffer struct{ b []byte }

var pools [numClasses]sync.Pool

// class returns the pool index whose buffers hold n bytes, or -1 when n is
// above the largest class.
func class(n int) int {
	if n <= minBuffer {
		return 0
	}
	c := bits.Len(uint((n - 1) / minBuffer))
	if c >= numClasses {
		return -1
	}
	return c
}

// getBuffer returns a buffer of at least n bytes; len(b.b) is its capacity.
func getBuffer(n int) *buffer {
	c := class(n)
	if c < 0 {
		return &buffer{b: make([]byte, n)}
	}
	if v := pools[c].Get(); v != nil {
		return v.(*buffer)
	}
	return &buffer{b: make([]byte, minBuffer<<c)}
}

// putBuffer returns b to its pool; buffers of no class are left to the GC.
func putBuffer(b *buffer) {
	if b == nil {
		return
	}
	c := class(len(b.b))
	if c < 0 || len(b.b) != minBuffer<<c {
		return
	}
	pools[c].Put(b)
}
