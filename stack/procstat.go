package stack

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the times in /proc/<pid>/stat: fixed at 100 by the
// Linux ABI whatever the kernel's tick rate.
const userHZ = 100

// procStat is what the stack needs from /proc/<pid>/stat.
type procStat struct {
	pid, ppid    int
	utime, stime uint64 // clock ticks (1/userHZ s)
	rssPages     int64
}

// parseProcStat parses one /proc/<pid>/stat line. The command name is in
// parentheses and may itself hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseProcStat(line string) (procStat, error) {
	open := strings.IndexByte(line, '(')
	end := strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("stack: /proc stat %q: want \"pid (comm) state …\"", clip(line))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return procStat{}, fmt.Errorf("stack: /proc stat %q: pid: %w", clip(line), err)
	}
	f := strings.Fields(line[end+1:])
	// f[0] is field 3 (state); field n is f[n-3].
	const need = 24 - 3 + 1
	if len(f) < need {
		return procStat{}, fmt.Errorf("stack: /proc stat %q: %d fields after the name, want at least %d", clip(line), len(f), need)
	}
	st := procStat{pid: pid}
	var errs [4]error
	st.ppid, errs[0] = strconv.Atoi(f[4-3])
	st.utime, errs[1] = strconv.ParseUint(f[14-3], 10, 64)
	st.stime, errs[2] = strconv.ParseUint(f[15-3], 10, 64)
	st.rssPages, errs[3] = strconv.ParseInt(f[24-3], 10, 64)
	for _, e := range errs {
		if e != nil {
			return procStat{}, fmt.Errorf("stack: /proc stat %q: %w", clip(line), e)
		}
	}
	return st, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// treeUsage sums the CPU time and resident memory of pid and all its
// descendants (nginx's workers are children of its master).
func treeUsage(pid int) (Usage, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return Usage{}, fmt.Errorf("stack: %w", err)
	}
	now := time.Now()
	stats := map[int]procStat{}
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		st, err := parseProcStat(string(b))
		if err != nil {
			continue
		}
		stats[p] = st
		children[st.ppid] = append(children[st.ppid], p)
	}
	if _, ok := stats[pid]; !ok {
		return Usage{}, fmt.Errorf("stack: process %d is gone", pid)
	}
	return sumTree(pid, stats, children, int64(os.Getpagesize()), now), nil
}

// sumTree adds up the usage of root and its descendants.
func sumTree(root int, stats map[int]procStat, children map[int][]int, pageSize int64, at time.Time) Usage {
	u := Usage{At: at}
	stack := []int{root}
	seen := map[int]bool{}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[p] {
			continue
		}
		seen[p] = true
		st := stats[p]
		u.CPU += time.Duration(st.utime+st.stime) * time.Second / userHZ
		u.Memory += st.rssPages * pageSize
		stack = append(stack, children[p]...)
	}
	return u
}
