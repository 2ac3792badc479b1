package relay

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// limitErr explains EMFILE and ENFILE with the limit that was hit, so a
// tunnel count that reaches it says so plainly; other errors pass through.
func limitErr(err error) error {
	if !isEMFILE(err) {
		return err
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil {
		return fmt.Errorf("too many open files: %w", err)
	}
	return fmt.Errorf("too many open files (limit %d): %w", rl.Cur, err)
}
