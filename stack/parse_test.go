package stack

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"net/netip"

	"github.com/moby/moby/api/types/container"
)

func TestSpecNormalize(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantErr string // "" = valid
	}{
		{"zero value", Spec{}, ""},
		{"local host network", Spec{Runtime: RuntimeLocal, Network: "bridge"}, ""},
		{"bad runtime", Spec{Runtime: "podman"}, `runtime "podman": want "docker" or "local"`},
		{"bad network", Spec{Network: "overlay"}, `network "overlay"`},
		{"bad run id", Spec{RunID: "a/b"}, `run id "a/b"`},
		{"bad cpuset", Spec{CPUSet: map[string]string{"nginx": "1-0"}}, `cpuset of role "nginx"`},
		{"negative file limit", Spec{FileLimit: -1}, "file limit -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.normalize()
			if tt.wantErr == "" {
				if err != nil || tt.spec.RunID == "" || tt.spec.FileLimit != DefaultFileLimit || tt.spec.Log == nil {
					t.Fatalf("normalize() = %v, spec %+v; want defaults filled", err, tt.spec)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "stack: ") {
				t.Fatalf("normalize() = %v; want a stack: error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestServiceValidate(t *testing.T) {
	tests := []struct {
		name    string
		svc     Service
		wantErr string
	}{
		{"echo", Service{Name: "echo-1", Port: 9000, Args: []string{"echo"}}, ""},
		{"nginx", Service{Name: "nginx", Image: ImageNginx, Port: 80, Files: map[string][]byte{NginxConf: nil}}, ""},
		{"log wait", Service{Name: "x", WaitLog: "ready", Args: []string{"echo"}}, ""},
		{"upper-case name", Service{Name: "Echo", Port: 1, Args: []string{"echo"}}, `service name "Echo"`},
		{"no args", Service{Name: "e", Port: 1}, "no arguments"},
		{"nginx without conf", Service{Name: "n", Image: ImageNginx, Port: 1}, "nginx needs its configuration"},
		{"unknown image", Service{Name: "n", Image: "haproxy", Port: 1}, `image "haproxy"`},
		{"port too big", Service{Name: "e", Port: 70000, Args: []string{"echo"}}, "port 70000"},
		{"nothing to wait on", Service{Name: "e", Args: []string{"echo"}}, "neither Port nor WaitLog"},
		{"bad regexp", Service{Name: "e", WaitLog: "(", Args: []string{"echo"}}, "wait log pattern"},
		{"relative file", Service{Name: "e", Port: 1, Args: []string{"echo"}, Files: map[string][]byte{"etc/x": nil}}, `file path "etc/x"`},
		{"unclean file", Service{Name: "e", Port: 1, Args: []string{"echo"}, Files: map[string][]byte{"/etc/../x": nil}}, `file path "/etc/../x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.svc.validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validate() = %v; want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("validate() = %v; want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadgenArgs(t *testing.T) {
	lg := Loadgen{Workers: 3, StartAt: true, OutDir: "/x",
		Args: func(i int) []string { return []string{"loadgen", "--conns", string(rune('a' + i))} }}
	if err := lg.normalize(); err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1_700_000_000_123)
	got := lg.workerArgs(2, "/out", at)
	want := []string{"loadgen", "--conns", "c", "--out", "/out", "--start-at", "1700000000123"}
	if !reflect.DeepEqual(got, want) || lg.workerName(2) != "loadgen-2" {
		t.Errorf("worker 2: args %q name %q; want %q loadgen-2", got, lg.workerName(2), want)
	}
	for _, bad := range []Loadgen{{Workers: -1, OutDir: "/x", Args: lg.Args}, {OutDir: "/x"}, {Args: lg.Args}} {
		if err := bad.normalize(); err == nil {
			t.Errorf("normalize(%+v) accepted", bad)
		}
	}
	if d := startAt(at, 4).Sub(at); d < time.Second || d > 10*time.Second {
		t.Errorf("start-at lead for 4 workers = %v; want a few seconds", d)
	}
}

func TestParseCPUSet(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		bad  bool
	}{
		{"0", []int{0}, false},
		{"0-1", []int{0, 1}, false},
		{"0,2-3, 5", []int{0, 2, 3, 5}, false},
		{"1,1", []int{1}, false},
		{"", nil, true},
		{"a", nil, true},
		{"2-1", nil, true},
		{"-1", nil, true},
		{"0-5000", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCPUSet(tt.in)
			if tt.bad {
				if err == nil || !strings.Contains(err.Error(), "want a list like") {
					t.Fatalf("ParseCPUSet(%q) = %v, %v; want an error that shows the syntax", tt.in, got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseCPUSet(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

const lddDebian = `	linux-vdso.so.1 (0x00007ffd3b5e2000)
	libcrypt.so.1 => /lib/x86_64-linux-gnu/libcrypt.so.1 (0x00007f921f1ac000)
	libpcre2-8.so.0 => /lib/x86_64-linux-gnu/libpcre2-8.so.0 (0x00007f921f112000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f921e81e000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f921f34f000)
`

func TestParseLdd(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{"debian nginx", lddDebian, []string{
			"/lib/x86_64-linux-gnu/libcrypt.so.1", "/lib/x86_64-linux-gnu/libpcre2-8.so.0",
			"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}, ""},
		{"static", "\tnot a dynamic executable\n", nil, ""},
		{"missing library", "\tlibfoo.so.1 => not found\n", nil, "library libfoo.so.1 not found"},
		{"garbage", "hello world\n", nil, "unexpected line"},
		{"empty", "", nil, "no libraries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLdd(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseLdd = %v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseLdd = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseLdd(f *testing.F) {
	f.Add(lddDebian)
	f.Add("\tlibfoo.so => not found\n")
	f.Fuzz(func(t *testing.T, in string) {
		libs, err := parseLdd(in)
		if err != nil {
			return
		}
		for _, l := range libs {
			if !filepath.IsAbs(l) || filepath.Clean(l) != l {
				t.Fatalf("parseLdd(%q) returned %q: want clean absolute paths", in, l)
			}
		}
	})
}

const statLine = `4242 (nginx: worker) S 4241 4241 4241 0 -1 4194624 120 0 0 0 37 12 0 0 20 0 1 0 5000 10000000 812 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0`

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    procStat
		wantErr string
	}{
		{"nginx worker", statLine, procStat{pid: 4242, ppid: 4241, utime: 37, stime: 12, rssPages: 812}, ""},
		{"name with parens and spaces", strings.Replace(statLine, "(nginx: worker)", "(a) b (c)", 1),
			procStat{pid: 4242, ppid: 4241, utime: 37, stime: 12, rssPages: 812}, ""},
		{"truncated", "1 (x) S 0 1", procStat{}, "fields after the name"},
		{"no name", "1 x S", procStat{}, "want \"pid (comm)"},
		{"bad pid", "x (y) S" + strings.Repeat(" 1", 30), procStat{}, "pid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStat(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseProcStat = %+v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseProcStat = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add(statLine)
	f.Add("1 ((() S")
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = parseProcStat(in) // must not panic
	})
}

func TestSumTree(t *testing.T) {
	stats := map[int]procStat{
		10: {pid: 10, ppid: 1, utime: 100, stime: 50, rssPages: 10},
		11: {pid: 11, ppid: 10, utime: 200, stime: 0, rssPages: 20},
		12: {pid: 12, ppid: 11, utime: 1, stime: 1, rssPages: 1},
		13: {pid: 13, ppid: 1, utime: 999, stime: 999, rssPages: 999}, // not a descendant
	}
	children := map[int][]int{1: {10, 13}, 10: {11}, 11: {12}}
	u := sumTree(10, stats, children, 4096, time.Time{})
	if u.CPU != 3520*time.Millisecond || u.Memory != 31*4096 {
		t.Errorf("sumTree = cpu %v memory %d; want 3.52s and %d", u.CPU, u.Memory, 31*4096)
	}
}

func TestResidentMemory(t *testing.T) {
	tests := []struct {
		name string
		m    container.MemoryStats
		want int64
	}{
		{"cgroup v1", container.MemoryStats{Usage: 10 << 20, Stats: map[string]uint64{"total_cache": 4 << 20, "cache": 1}}, 6 << 20},
		{"cgroup v1 no total", container.MemoryStats{Usage: 10 << 20, Stats: map[string]uint64{"cache": 3 << 20}}, 7 << 20},
		{"cgroup v2", container.MemoryStats{Usage: 10 << 20, Stats: map[string]uint64{"file": 2 << 20, "anon": 8 << 20}}, 8 << 20},
		{"no stats", container.MemoryStats{Usage: 5}, 5},
		{"cache above usage", container.MemoryStats{Usage: 5, Stats: map[string]uint64{"cache": 9}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := residentMemory(tt.m); got != tt.want {
				t.Errorf("residentMemory = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestAccounts(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/sh\n"
	p, g := accounts(passwd, "root:x:0:\n")
	if strings.Contains(string(p), "alice") || !strings.Contains(string(p), "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n") ||
		!strings.Contains(string(p), "nobody:x:65534") {
		t.Errorf("passwd = %q; want root, the host's www-data, a default nobody, no other users", p)
	}
	if !strings.Contains(string(g), "www-data:x:33:") || !strings.Contains(string(g), "nogroup:x:65534:") {
		t.Errorf("group = %q; want www-data and nogroup", g)
	}
}

func TestBuildContextDeterministic(t *testing.T) {
	mk := func() rootfs {
		r := wsbenchRootfs([]byte("binary"))
		r.file("/etc/a/b.conf", 0o644, []byte("x"))
		return r
	}
	a, sumA, err := mk().buildContext("ENTRYPOINT [\"/wsbench\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	_, sumB, _ := mk().buildContext("ENTRYPOINT [\"/wsbench\"]\n")
	other := wsbenchRootfs([]byte("binarY"))
	_, sumC, _ := other.buildContext("ENTRYPOINT [\"/wsbench\"]\n")
	if sumA != sumB || sumA == sumC {
		t.Errorf("hashes: same content %s vs %s, other binary %s; want equal, then different", sumA, sumB, sumC)
	}
	names := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(a))
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names[h.Name] = true
		if h.Name == "rootfs/tmp/" && h.Mode != 0o1777 {
			t.Errorf("/tmp mode %o, want 1777", h.Mode)
		}
	}
	for _, n := range []string{"Dockerfile", "rootfs/wsbench", "rootfs/etc/", "rootfs/etc/a/", "rootfs/etc/a/b.conf", "rootfs/out/"} {
		if !names[n] {
			t.Errorf("build context lacks %s (has %v)", n, names)
		}
	}
}

// tarOf builds a tar archive from name → content ("" content with a
// trailing / in the name is a directory).
func tarOf(t testing.TB, entries ...[2]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg}
		if strings.HasSuffix(e[0], "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e[1]))
	}
	tw.Close()
	return buf.Bytes()
}

func TestExtractTar(t *testing.T) {
	tests := []struct {
		name    string
		entries [][2]string
		want    map[string]string
		wantErr string
	}{
		{"result dir", [][2]string{{"out/", ""}, {"out/summary.json", "{}"}, {"out/rtt/x.hgrm", "h"}},
			map[string]string{"summary.json": "{}", "rtt/x.hgrm": "h"}, ""},
		{"climbs out", [][2]string{{"out/../../evil", "x"}}, nil, "want a relative path"},
		{"absolute", [][2]string{{"/etc/passwd", "x"}}, nil, "want a relative path"},
		{"climbs after strip", [][2]string{{"out/../evil", "x"}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst")
			err := extractTar(bytes.NewReader(tarOf(t, tt.entries...)), dst)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("extractTar = %v; want error %q", err, tt.wantErr)
				}
				return
			}
			for p, content := range tt.want {
				if b, err := os.ReadFile(filepath.Join(dst, p)); err != nil || string(b) != content {
					t.Errorf("%s = %q, %v; want %q", p, b, err, content)
				}
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dst), "evil")); err == nil {
				t.Errorf("a file was written outside dst")
			}
		})
	}
	// A symlink must be refused, not followed.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "out/link", Typeflag: tar.TypeSymlink, Linkname: "/etc"})
	tw.Close()
	if err := extractTar(&buf, t.TempDir()); err == nil || !strings.Contains(err.Error(), "files and directories only") {
		t.Errorf("extractTar(symlink) = %v; want it refused", err)
	}
}

func FuzzExtractTar(f *testing.F) {
	f.Add(tarOf(f, [2]string{"out/a", "x"}))
	f.Add(tarOf(f, [2]string{"out/../../b", "x"}))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dst := filepath.Join(root, "dst")
		_ = extractTar(bytes.NewReader(data), dst)
		// Nothing may appear in root except under dst.
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			if e.Name() != "dst" {
				t.Fatalf("extractTar wrote %s outside its destination", e.Name())
			}
		}
	})
}

func TestStripFirst(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"out", "", true}, {"out/", "", true}, {"out/a/b", "a/b", true}, {"./a", "", true},
		{"out/./a", "a", true}, {"../a", "", false}, {"/a", "", false}, {"out/../../a", "", false},
		{"a\\b", "", false}, {"", "", false},
	}
	for _, tt := range tests {
		got, ok := stripFirst(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("stripFirst(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFindModuleRoot(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("// x\nmodule github.com/wsbench/wsbench\n\ngo 1.26\n"), 0o644)
	deep := filepath.Join(root, "a", "b")
	os.MkdirAll(deep, 0o755)
	os.WriteFile(filepath.Join(root, "a", "go.mod"), []byte("module example.com/other\n"), 0o644)
	if got, err := findModuleRoot(deep); err != nil || got != root {
		t.Errorf("findModuleRoot = %q, %v; want %q (skipping the other module's go.mod)", got, err, root)
	}
	if _, err := findModuleRoot(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no go.mod of module") {
		t.Errorf("findModuleRoot outside = %v; want a clear error", err)
	}
}

func TestTail(t *testing.T) {
	if got := tail([]byte("a\nb\n\nc\nd\n"), 2); got != "c | d" {
		t.Errorf("tail = %q, want \"c | d\"", got)
	}
}

func TestAddresses(t *testing.T) {
	newStack := func(runtime, network string) *Stack {
		return &Stack{spec: Spec{RunID: "r", Runtime: runtime, Network: network}, ips: map[string]netip.Addr{},
			ipPrefix: [3]byte{127, 201, 7}}
	}
	bridge := newStack(RuntimeDocker, NetworkBridge)
	if a, b := bridge.Addr("echo-1", 9000), bridge.Bind("echo-1", 9000); a != "echo-1:9000" || b != "0.0.0.0:9000" {
		t.Errorf("bridge: Addr %q Bind %q; want echo-1:9000 and 0.0.0.0:9000", a, b)
	}
	for _, s := range []*Stack{newStack(RuntimeDocker, NetworkHost), newStack(RuntimeLocal, "")} {
		a1, a2 := s.Addr("echo-1", 9000), s.Addr("echo-2", 9000)
		if a1 != "127.201.7.1:9000" || a2 != "127.201.7.2:9000" || s.Bind("echo-1", 9000) != a1 || s.Addr("echo-1", 80) != "127.201.7.1:80" {
			t.Errorf("%s/%s: echo-1 %q echo-2 %q; want one stable loopback address per name", s.spec.Runtime, s.spec.Network, a1, a2)
		}
	}
}

func TestLinuxELF(t *testing.T) {
	if static, err := linuxELF(fakeBinary(t)); !static || err != nil {
		t.Errorf("CGO_ENABLED=0 build: static %v, %v; want static", static, err)
	}
	if _, err := os.Stat("/bin/ls"); err == nil {
		if static, err := linuxELF("/bin/ls"); static || err != nil {
			t.Errorf("/bin/ls: static %v, %v; want dynamic", static, err)
		}
	}
	if _, err := linuxELF("/etc/passwd"); err == nil || !strings.Contains(err.Error(), "not a Linux executable") {
		t.Errorf("a text file: %v; want not a Linux executable", err)
	}
}

func TestParseKeyValues(t *testing.T) {
	m, err := parseKeyValues(bufio.NewScanner(strings.NewReader("cache 4493312\nrss 958464\n\ntotal_cache 4493312\n")))
	if err != nil || m["cache"] != 4493312 || m["rss"] != 958464 || len(m) != 3 {
		t.Errorf("parseKeyValues = %v, %v", m, err)
	}
	for _, bad := range []string{"novalue\n", "k -1\n", "k x\n"} {
		if _, err := parseKeyValues(bufio.NewScanner(strings.NewReader(bad))); err == nil {
			t.Errorf("parseKeyValues(%q) accepted", bad)
		}
	}
}

func FuzzParseKeyValues(f *testing.F) {
	f.Add("cache 1\nrss 2\n")
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = parseKeyValues(bufio.NewScanner(strings.NewReader(in))) // must not panic
	})
}

// TestCgroupUsage reads a fake v1 and v2 hierarchy.
func TestCgroupUsage(t *testing.T) {
	old := cgroupRoot
	t.Cleanup(func() { cgroupRoot = old })
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(s), 0o644)
	}
	cgroupRoot = t.TempDir()
	write(filepath.Join(cgroupRoot, "cpuacct/docker/abc/cpuacct.usage"), "39088839\n")
	write(filepath.Join(cgroupRoot, "memory/docker/abc/memory.usage_in_bytes"), "6406144\n")
	write(filepath.Join(cgroupRoot, "memory/docker/abc/memory.stat"), "cache 1\ntotal_cache 4493312\n")
	u, ok, err := cgroupUsage("abc")
	if !ok || err != nil || u.CPU != 39088839 || u.Memory != 6406144-4493312 {
		t.Errorf("v1: %+v %v %v", u, ok, err)
	}
	cgroupRoot = t.TempDir()
	write(filepath.Join(cgroupRoot, "system.slice/docker-abc.scope/cpu.stat"), "usage_usec 1500\nuser_usec 1000\n")
	write(filepath.Join(cgroupRoot, "system.slice/docker-abc.scope/memory.current"), "1000\n")
	write(filepath.Join(cgroupRoot, "system.slice/docker-abc.scope/memory.stat"), "anon 600\nfile 400\n")
	u, ok, err = cgroupUsage("abc")
	if !ok || err != nil || u.CPU != 1500*time.Microsecond || u.Memory != 600 {
		t.Errorf("v2: %+v %v %v", u, ok, err)
	}
	if _, ok, _ := cgroupUsage("other"); ok {
		t.Errorf("an unknown container matched a layout")
	}
}

// BenchmarkTreeUsage is the cost of one local-runtime Usage reading: a scan
// of /proc (every process's stat file) and a tree walk.
func BenchmarkTreeUsage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := treeUsage(os.Getpid()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtractTar: copying a worker's result directory back (here 20
// files of 64 KiB).
func BenchmarkExtractTar(b *testing.B) {
	var entries [][2]string
	for i := range 20 {
		entries = append(entries, [2]string{fmt.Sprintf("out/f%d.hlog", i), strings.Repeat("x", 64<<10)})
	}
	data := tarOf(b, entries...)
	dst := b.TempDir()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := extractTar(bytes.NewReader(data), dst); err != nil {
			b.Fatal(err)
		}
	}
}
