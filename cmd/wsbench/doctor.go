package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/driver"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/stack"
)

func init() {
	register(&command{
		name:    "doctor",
		summary: "Check what a run needs here: Docker, images, proxies and their versions, file limits, source addresses",
		order:   45,
		usage:   "[SCENARIO|FILE.yaml]... [--runtime docker|local] [--install]",
		example: `  # What 'wsbench run' (every default scenario, in containers) needs:
  wsbench doctor

  # What the proxies scenario needs as local processes, installing what is missing
  # (as root: apt-get for nginx, haproxy, apache2; go install for caddy):
  wsbench doctor proxies --runtime local --install

One line per check: ok, missing (needed and not there: the line ends with the
fix), or absent (not there, and not needed by the scenarios named). A proxy
comes from, in this order: its image (docker runtime, present or pullable),
the host's binary, or an installation, which 'wsbench run' makes itself as
root unless --install never.

Exit status: 0 when everything needed is there, 1 when something is missing,
2 on usage errors.`,
		flags: doctorFlags,
	})
}

func doctorFlags(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
	var runtime, install string
	var images []string
	fs.StringVar(&runtime, "runtime", stack.RuntimeDocker, "check for docker (containers) | local (processes on 127.0.0.x)")
	fs.StringArrayVar(&images, "image", nil, "as for wsbench run: `KIND=IMAGE` tried first for a proxy; KIND= or none: the host's binary (repeatable)")
	fs.StringVar(&install, "install", stack.InstallNever, "auto: install the missing proxies the scenarios need (as root, each command printed first) | never")
	fs.Lookup("install").NoOptDefVal = stack.InstallAuto
	return func(ctx context.Context, args []string, e *env) error {
		if runtime != stack.RuntimeDocker && runtime != stack.RuntimeLocal {
			return usagef("--runtime %q: want docker or local", runtime)
		}
		if install != stack.InstallAuto && install != stack.InstallNever {
			return usagef("--install %q: want auto or never", install)
		}
		imgs, err := parseImages(images, "")
		if err != nil {
			return err
		}
		scs, err := resolveScenarios(args)
		if err != nil {
			return err
		}
		spec := stack.Spec{Runtime: runtime, Images: imgs, Install: stack.InstallNever, Log: e.stdout}
		checks := doctor(ctx, spec, neededKinds(scs), install == stack.InstallAuto)
		missing := 0
		for _, c := range checks {
			c.write(e.stdout)
			if c.missing() {
				missing++
			}
		}
		if missing > 0 {
			return exitError{code: exitFailure, err: fmt.Errorf("%d missing; the fix ends each such line", missing)}
		}
		return nil
	}
}

// check is one line of wsbench doctor.
type check struct {
	name   string
	needed bool // by the scenarios named, on this runtime
	ok     bool
	detail string
	fix    string // when not ok
}

func (c check) missing() bool { return c.needed && !c.ok }

func (c check) write(w io.Writer) {
	status := "ok"
	switch {
	case c.missing():
		status = "missing"
	case !c.ok:
		status = "absent"
	}
	line := fmt.Sprintf("%-8s %-13s %s", status, c.name, c.detail)
	if !c.ok && c.fix != "" {
		line += "; fix: " + c.fix
	}
	fmt.Fprintln(w, line)
}

// neededKinds are the images (proxy kinds) the scenarios' targets run, as
// harness.noteImages asks for them.
func neededKinds(scs []*scenarios.Scenario) []string {
	var kinds []string
	for _, sc := range scs {
		for _, t := range sc.Targets {
			if d, ok := driver.Lookup(t.Kind); ok && d.Image() != "" && !slices.Contains(kinds, d.Image()) {
				kinds = append(kinds, d.Image())
			}
		}
	}
	return kinds
}

// doctor runs every check: the engine, the wsbench binary or image, each
// proxy the stack knows (installing the needed ones that are missing when
// install is set), file limits, source addresses.
func doctor(ctx context.Context, spec stack.Spec, needed []string, install bool) []check {
	docker := spec.Runtime == stack.RuntimeDocker
	var checks []check
	if v, err := stack.DockerVersion(ctx); err == nil {
		checks = append(checks, check{name: "docker", needed: docker, ok: true, detail: v})
	} else {
		checks = append(checks, check{name: "docker", needed: docker, detail: err.Error(),
			fix: "start Docker (sudo systemctl start docker, or sudo dockerd &), or use --runtime local"})
	}
	kinds := append([]string{stack.ImageWsbench}, stack.ProxyKinds()...)
	for i, f := range stack.Find(ctx, spec, kinds...) {
		need := i == 0 || slices.Contains(needed, f.Kind)
		if install && need && f.Err != nil && f.Installable {
			if _, err := stack.Install(ctx, spec, f.Kind); err != nil {
				f.Notes = append(f.Notes, err.Error())
			} else {
				f = stack.Find(ctx, spec, f.Kind)[0]
			}
		}
		checks = append(checks, findingCheck(f, need))
	}
	checks = append(checks, fileLimitCheck(spec.Runtime), sourceAddrCheck(spec.Runtime))
	return checks
}

func findingCheck(f stack.Finding, need bool) check {
	c := check{name: f.Kind, needed: need, ok: f.Err == nil, fix: f.Fix}
	var parts []string
	if f.Err != nil {
		parts = append(parts, f.Err.Error())
	} else {
		parts = append(parts, strings.Join(nonEmpty(f.Source, f.Version), ": "))
	}
	parts = append(parts, f.Notes...)
	if !need {
		parts = append(parts, "not needed by these scenarios")
	}
	if f.Installable {
		c.fix += " (or: wsbench doctor --install)"
	}
	c.detail = strings.Join(parts, "; ")
	return c
}

// fileLimitCheck: every service gets stack.DefaultFileLimit open files. A
// local process gets it from this process (raising the hard limit needs
// root); a container from the engine, whose own hard limit bounds it.
func fileLimitCheck(runtime string) check {
	want := uint64(stack.DefaultFileLimit)
	c := check{name: "file limit", needed: true}
	if runtime == stack.RuntimeDocker {
		max, where := engineFileLimit()
		if max == 0 {
			c.ok, c.detail = true, fmt.Sprintf("each container gets %d open files; the engine's own limit is unknown here (%s)", want, where)
			return c
		}
		c.ok = max >= want
		c.detail = fmt.Sprintf("each container gets %d open files; the engine (%s) allows %d", want, where, max)
		c.fix = fmt.Sprintf("raise dockerd's limit to %d or more (LimitNOFILE= in its systemd unit, or ulimit -n before dockerd)", want)
		return c
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		c.detail = "getrlimit: " + err.Error()
		return c
	}
	root := os.Geteuid() == 0
	c.ok = lim.Max >= want || root
	c.detail = fmt.Sprintf("each process gets %d open files; this one has soft %d, hard %d", want, lim.Cur, lim.Max)
	if lim.Max < want && root {
		c.detail += " (root raises it)"
	}
	c.fix = fmt.Sprintf("raise the hard limit to %d (ulimit -Hn %d as root, or nofile in /etc/security/limits.conf), or run as root", want, want)
	return c
}

// engineFileLimit reads the local dockerd's hard open-files limit.
func engineFileLimit() (uint64, string) {
	const pidFile = "/var/run/docker.pid"
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, "no " + pidFile
	}
	pid := strings.TrimSpace(string(b))
	f, err := os.Open("/proc/" + pid + "/limits")
	if err != nil {
		return 0, err.Error()
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Max open files"); ok {
			if fields := strings.Fields(rest); len(fields) >= 2 {
				if n, err := strconv.ParseUint(fields[1], 10, 64); err == nil {
					return n, "dockerd pid " + pid
				}
			}
		}
	}
	return 0, "no open files line in /proc/" + pid + "/limits"
}

// sourceAddrCheck: local services live on 127.200-249.x.y, and load
// generators bind 127.0.x.y source addresses (balance's ip_hash from 16
// /24s); each source address has the ephemeral port range to itself.
func sourceAddrCheck(runtime string) check {
	c := check{name: "source addrs", needed: runtime == stack.RuntimeLocal, ok: true}
	var bad []string
	addrs := []string{"127.0.0.2", "127.0.16.1", "127.249.255.254"}
	for _, a := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(a, "0"))
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		l.Close()
	}
	ports := "ephemeral ports unknown"
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			lo, _ := strconv.Atoi(f[0])
			hi, _ := strconv.Atoi(f[1])
			ports = fmt.Sprintf("ephemeral ports %d-%d (%d per source address)", lo, hi, hi-lo+1)
		}
	}
	if len(bad) > 0 {
		c.ok = false
		c.detail = strings.Join(bad, "; ")
		c.fix = "give loopback the whole 127.0.0.0/8 (Linux does by default; macOS: sudo ifconfig lo0 alias 127.0.0.2 …)"
		return c
	}
	c.detail = strings.Join(addrs, ", ") + " bind; " + ports
	return c
}

func nonEmpty(ss ...string) []string {
	return slices.DeleteFunc(ss, func(s string) bool { return s == "" })
}
