package results

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestCPUModel(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13 64-Core Processor\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13 64-Core Processor\n", "AMD EPYC 7B13 64-Core Processor"},
		{"arm", "processor\t: 0\nBogoMIPS\t: 108.00\nHardware\t: BCM2835\n", "BCM2835"},
		{"mips", "system type\t: MT7621\ncpu model\t: MIPS 1004Kc V2.15\n", "MIPS 1004Kc V2.15"},
		{"model name wins over Hardware", "Hardware : X\nmodel name : Y\n", "Y"},
		{"nothing", "flags : fpu vme\n", ""},
		{"empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := cpuModel(strings.NewReader(c.in)); got != c.want {
				t.Errorf("cpuModel = %q, want %q", got, c.want)
			}
		})
	}
}

func TestHostFacts(t *testing.T) {
	h := HostFacts()
	if h.OS != runtime.GOOS || h.Arch != runtime.GOARCH || h.Cores != runtime.NumCPU() || h.GoVersion != runtime.Version() {
		t.Errorf("HostFacts = %+v, want this process's OS, arch, cores and Go version", h)
	}
	if name, _ := os.Hostname(); h.Hostname != name {
		t.Errorf("hostname %q, want %q", h.Hostname, name)
	}
	if runtime.GOOS != "linux" {
		return
	}
	if !strings.HasPrefix(h.Kernel, "Linux ") || len(h.Kernel) < len("Linux 1") {
		t.Errorf("kernel %q, want uname's \"Linux <release>\"", h.Kernel)
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil && strings.Contains(string(b), "model name") && h.CPUModel == "" {
		t.Errorf("/proc/cpuinfo names a model but HostFacts found none")
	}
}
