package results

import "golang.org/x/sys/unix"

// kernelVersion is uname's system name and release, e.g. "Linux 6.8.0-45-generic".
func kernelVersion() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
}

// openFileLimit is the soft limit on open files (RLIMIT_NOFILE), or -1.
func openFileLimit() int64 {
	var l unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &l); err != nil {
		return -1
	}
	return int64(l.Cur)
}
