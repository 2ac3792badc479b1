//go:build unix

package loadgen

import (
	"syscall"

	"github.com/wsbench/wsbench/internal/selfusage"
)

func readSelf() selfUsage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return selfUsage{userNS: syscall.TimevalToNsec(ru.Utime), sysNS: syscall.TimevalToNsec(ru.Stime), rss: selfusage.ResidentBytes()}
}
