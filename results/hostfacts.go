package results

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"strings"
)

// HostFacts describes the machine this process runs on: host name, OS,
// architecture, CPU model (from /proc/cpuinfo on Linux), logical cores,
// kernel and Go version. Facts it cannot learn are left empty rather than
// failing: a result is still worth writing without them.
func HostFacts() Host {
	h := Host{
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		Cores:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		Kernel:    kernelVersion(),
	}
	h.Hostname, _ = os.Hostname()
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		h.CPUModel = cpuModel(f)
		f.Close()
	}
	return h
}

// cpuModel returns the CPU model named in a /proc/cpuinfo listing: the first
// "model name" (x86), else "Hardware" or "cpu model" (arm, mips), else "".
func cpuModel(r io.Reader) string {
	fallback := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "model name":
			if value != "" {
				return value
			}
		case "Hardware", "cpu model":
			if fallback == "" {
				fallback = value
			}
		}
	}
	return fallback
}
