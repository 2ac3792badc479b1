package stack

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cgroupRoot is where the cgroup hierarchies are mounted.
var cgroupRoot = "/sys/fs/cgroup"

// cgroupUsage reads a container's accounting straight from its cgroup
// files, when this process sees them (the engine runs on this host). It is
// exact to the instant of the call, whereas the stats API answers on the
// engine's 1 s collection tick. ok is false when no layout matched.
func cgroupUsage(id string) (u Usage, ok bool, err error) {
	now := time.Now()
	// cgroup v1, cgroupfs driver (this machine class) and systemd driver.
	for _, rel := range []string{"docker/" + id, "system.slice/docker-" + id + ".scope"} {
		cpuFile := filepath.Join(cgroupRoot, "cpuacct", rel, "cpuacct.usage")
		b, err := os.ReadFile(cpuFile)
		if err != nil {
			continue
		}
		ns, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return Usage{}, true, fmt.Errorf("%s: %w", cpuFile, err)
		}
		mem, err := memoryV1(filepath.Join(cgroupRoot, "memory", rel))
		return Usage{At: now, CPU: time.Duration(ns), Memory: mem}, true, err
	}
	// cgroup v2: one unified hierarchy.
	for _, rel := range []string{"docker/" + id, "system.slice/docker-" + id + ".scope"} {
		dir := filepath.Join(cgroupRoot, rel)
		f, err := os.Open(filepath.Join(dir, "cpu.stat"))
		if err != nil {
			continue
		}
		stat, err := parseKeyValues(bufio.NewScanner(f))
		f.Close()
		if err != nil {
			return Usage{}, true, fmt.Errorf("%s/cpu.stat: %w", dir, err)
		}
		mem, err := memoryV2(dir)
		return Usage{At: now, CPU: time.Duration(stat["usage_usec"]) * time.Microsecond, Memory: mem}, true, err
	}
	return Usage{}, false, nil
}

// memoryV1 is usage_in_bytes minus the page cache (total_cache).
func memoryV1(dir string) (int64, error) {
	usage, err := readUint(filepath.Join(dir, "memory.usage_in_bytes"))
	if err != nil {
		return 0, err
	}
	stat, err := readKeyValues(filepath.Join(dir, "memory.stat"))
	if err != nil {
		return 0, err
	}
	cache, ok := stat["total_cache"]
	if !ok {
		cache = stat["cache"]
	}
	return subFloor(usage, cache), nil
}

// memoryV2 is memory.current minus the page cache (file).
func memoryV2(dir string) (int64, error) {
	usage, err := readUint(filepath.Join(dir, "memory.current"))
	if err != nil {
		return 0, err
	}
	stat, err := readKeyValues(filepath.Join(dir, "memory.stat"))
	if err != nil {
		return 0, err
	}
	return subFloor(usage, stat["file"]), nil
}

func subFloor(a, b uint64) int64 {
	if b > a {
		return 0
	}
	return int64(a - b)
}

func readUint(p string) (uint64, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	return v, nil
}

func readKeyValues(p string) (map[string]uint64, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := parseKeyValues(bufio.NewScanner(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return m, nil
}

// parseKeyValues reads cgroup "key value" lines (memory.stat, cpu.stat).
func parseKeyValues(sc *bufio.Scanner) (map[string]uint64, error) {
	m := map[string]uint64{}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("line %q: want \"key value\"", clip(line))
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %q: want an unsigned number after the key", clip(line))
		}
		m[k] = n
	}
	return m, sc.Err()
}
