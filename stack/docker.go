package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/network"
)

// Images the stack builds are tagged <imageRepo>/<kind>:<content hash>, so
// a second run finds them and does not rebuild.
const imageRepo = "wsbench-local"

// ryukImage is testcontainers-go v0.45's reaper image. With no registry it
// cannot be pulled, so the reaper is disabled when it is missing and the
// stack removes what it started itself (by label).
const ryukImage = "testcontainers/ryuk:0.14.0"

var prepareOnce sync.Once

// prepareTestcontainers sets the environment testcontainers-go reads once,
// at its first call, for this machine class:
//   - TESTCONTAINERS_RYUK_DISABLED=true (the exact string; "1" does not
//     disable it) when the reaper image is not present;
//   - TESTCONTAINERS_HOST_OVERRIDE=localhost inside a container
//     (/.dockerenv), where testcontainers would otherwise dial the bridge
//     gateway for port checks and time out after 60 s.
//
// Values the user set are kept. testcontainers' process-wide default logger
// (used where no logger can be passed, e.g. network creation) is silenced:
// each stack passes its own Spec.Log wherever testcontainers accepts one.
func prepareTestcontainers(ctx context.Context, cli client.APIClient) {
	prepareOnce.Do(func() {
		tclog.SetDefault(tclog.NewNoopLogger())
		if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
			if _, err := cli.ImageInspect(ctx, ryukImage); err != nil {
				os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
			}
		}
		if _, err := os.Stat("/.dockerenv"); err == nil && os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" {
			os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "localhost")
		}
	})
}

// DockerAvailable reports whether the Docker engine answers: nil, or an
// error wrapping ErrNoDocker that says why not.
func DockerAvailable(ctx context.Context) error {
	cli, err := dockerClient(ctx)
	if err != nil {
		return err
	}
	return cli.Close()
}

// DockerVersion says which engine answers and where, e.g. "Docker
// 20.10.24 (API 1.41) at unix:///var/run/docker.sock", or returns an error
// wrapping ErrNoDocker.
func DockerVersion(ctx context.Context) (string, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	return fmt.Sprintf("Docker %s (API %s) at %s", v.Version, v.APIVersion, cli.DaemonHost()), nil
}

// dockerClient connects to the engine the way the docker CLI does
// (DOCKER_HOST, else the local socket) and checks that it answers. The
// client negotiates the API version: Docker 20.10 speaks API 1.41, which
// the v0.45 client (minimum 1.40) accepts.
func dockerClient(ctx context.Context) (*client.Client, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	return cli, nil
}

type dockerBackend struct {
	spec *Spec
	cli  *client.Client
	prov *testcontainers.DockerProvider
	log  tclog.Logger
	nw   *testcontainers.DockerNetwork // nil in host mode
	tmp  string                        // the built binary

	imgMu sync.Mutex
	imgs  map[string]Image

	lateMu  sync.Mutex
	late    []string // containers whose create was cancelled in flight
	lateNet bool     // the network's create was cancelled in flight
}

// dockerService is a container's runtime state.
type dockerService struct {
	ctr *testcontainers.DockerContainer
}

func newDocker(ctx context.Context, spec *Spec) (*dockerBackend, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	prepareTestcontainers(ctx, cli)
	b := &dockerBackend{spec: spec, cli: cli, imgs: map[string]Image{}, log: printfLogger{spec.Log}}
	b.prov, err = testcontainers.NewDockerProvider(testcontainers.WithLogger(b.log))
	if err != nil {
		return b, fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	if spec.Network == NetworkBridge {
		b.nw, err = network.New(ctx, network.WithDriver("bridge"),
			network.WithLabels(map[string]string{LabelRun: spec.RunID, LabelStack: spec.StackID}))
		if err != nil {
			b.lateNet = ctx.Err() != nil // the engine may still create it
			return b, fmt.Errorf("stack: create network: %w", err)
		}
	}
	return b, nil
}

// printfLogger sends testcontainers' lines to the stack's log writer.
type printfLogger struct{ w io.Writer }

func (l printfLogger) Printf(format string, v ...any) {
	fmt.Fprintf(l.w, "testcontainers: "+strings.TrimRight(format, "\n")+"\n", v...)
}

func (b *dockerBackend) image(ctx context.Context, kind string) (Image, error) {
	b.imgMu.Lock()
	defer b.imgMu.Unlock()
	if img, ok := b.imgs[kind]; ok {
		return img, nil
	}
	var img Image
	var err error
	if p, ok := proxyProgram(kind); ok {
		img, err = b.proxyImage(ctx, p)
	} else {
		img, err = b.wsbenchImage(ctx)
	}
	if err != nil {
		return Image{}, err
	}
	b.imgs[kind] = img
	return img, nil
}

func (b *dockerBackend) wsbenchImage(ctx context.Context) (Image, error) {
	if b.tmp == "" {
		dir, err := os.MkdirTemp("", "wsbench-stack-")
		if err != nil {
			return Image{}, fmt.Errorf("stack: %w", err)
		}
		b.tmp = dir
	}
	bin, err := wsbenchBinary(ctx, b.spec, b.tmp)
	if err != nil {
		return Image{}, err
	}
	fs, env, err := wsbenchImageRootfs(ctx, bin)
	if err != nil {
		return Image{}, err
	}
	tarball, sum, err := fs.buildContext(env + `ENTRYPOINT ["/wsbench"]` + "\n")
	if err != nil {
		return Image{}, err
	}
	return b.ensureImage(ctx, ImageWsbench, sum, tarball, "")
}

// ensureImage returns the image of a kind and content hash, building it
// from tarball (a build context) only when the tag does not exist yet.
func (b *dockerBackend) ensureImage(ctx context.Context, kind, sum string, tarball []byte, version string) (Image, error) {
	ref := imageRepo + "/" + kind + ":" + sum[:16]
	if ins, err := b.cli.ImageInspect(ctx, ref); err == nil {
		return Image{Kind: kind, Ref: ref, ID: ins.ID, Version: ins.Config.Labels["wsbench.version"]}, nil
	}
	fmt.Fprintf(b.spec.Log, "stack: building image %s\n", ref)
	var logBuf bytes.Buffer
	_, err := b.prov.BuildImage(ctx, &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		ContextArchive: bytes.NewReader(tarball),
		Repo:           imageRepo + "/" + kind,
		Tag:            sum[:16],
		BuildLogWriter: &logBuf,
		BuildOptionsModifier: func(o *client.ImageBuildOptions) {
			o.Labels = map[string]string{"wsbench.image": kind, "wsbench.hash": sum, "wsbench.version": version}
			o.Remove, o.ForceRemove = true, true
		},
	}})
	if err != nil {
		return Image{}, fmt.Errorf("stack: build image %s: %w: %s", ref, err, tail(logBuf.Bytes(), 5))
	}
	ins, err := b.cli.ImageInspect(ctx, ref)
	if err != nil {
		return Image{}, fmt.Errorf("stack: inspect built image %s: %w", ref, err)
	}
	return Image{Kind: kind, Ref: ref, ID: ins.ID, Built: true, Version: version}, nil
}

// proxyImage is p's image: the one Spec.Images names (by default its
// pinned official image) when present or pullable, else one built FROM
// scratch from the host's binary, which is installed first when it is
// missing and Spec.Install allows.
func (b *dockerBackend) proxyImage(ctx context.Context, p Program) (Image, error) {
	if ref := b.spec.imageRef(p); ref != "" {
		img, err := b.officialImage(ctx, p, ref)
		if err == nil {
			announce(b.spec.Log, p.Kind, img.Source, img.Version)
			return img, nil
		}
		if _, dup := announced.LoadOrStore("unusable\x00"+ref, true); !dup {
			fmt.Fprintf(b.spec.Log, "stack: %s: image %s unusable (%v); using the host's %s\n", p.Kind, ref, err, filepath.Base(p.Binary))
		}
	}
	bin, source, err := hostProxy(ctx, b.spec, p, hostInstaller)
	if err != nil {
		return Image{}, err
	}
	version, err := p.version(ctx, bin)
	if err != nil {
		return Image{}, err
	}
	fs, err := proxyRootfs(ctx, p, bin)
	if err != nil {
		return Image{}, err
	}
	tarball, sum, err := fs.buildContext(libraryPathEnv(fs) + "ENTRYPOINT [\"" + p.Binary + "\"]\n")
	if err != nil {
		return Image{}, err
	}
	img, err := b.ensureImage(ctx, p.Kind, sum, tarball, version)
	if err != nil {
		return Image{}, err
	}
	img.Source = source
	announce(b.spec.Log, p.Kind, source, version)
	return img, nil
}

// libraryPathEnv points the loader at every directory holding a copied
// library, in case the host's loader relied on an ld.so.cache.
func libraryPathEnv(fs rootfs) string {
	dirs := map[string]bool{}
	for p, e := range fs {
		if !e.dir && strings.Contains(path.Base(p), ".so") {
			dirs[path.Dir(p)] = true
		}
	}
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	sort.Strings(list)
	if len(list) == 0 {
		return ""
	}
	return "ENV LD_LIBRARY_PATH=" + strings.Join(list, ":") + "\n"
}

// pullFailed holds, by image, why a pull failed: a run brings up a stack
// per scenario, and tries each pull once.
var pullFailed sync.Map

// pullStall bounds the wait for a pull's next progress message: where no
// registry answers a pull fails at once or stalls, while one that makes
// progress may take minutes.
const pullStall = 20 * time.Second

// officialImage is image ref of p, pulled when not present, with the
// version its binary reports.
func (b *dockerBackend) officialImage(ctx context.Context, p Program, ref string) (Image, error) {
	source := SourceImage + " " + ref
	ins, err := b.cli.ImageInspect(ctx, ref)
	if err != nil {
		if perr, failed := pullFailed.Load(ref); failed {
			return Image{}, perr.(error)
		}
		fmt.Fprintf(b.spec.Log, "stack: %s: pulling %s\n", p.Kind, ref)
		if err := b.pull(ctx, ref); err != nil {
			err = fmt.Errorf("not present, and pulling it failed: %w", err)
			if ctx.Err() == nil {
				pullFailed.Store(ref, err)
			}
			return Image{}, err
		}
		if ins, err = b.cli.ImageInspect(ctx, ref); err != nil {
			return Image{}, err
		}
		source += " (pulled)"
	}
	// The version in a throwaway container names what will run.
	out, code, err := b.oneShot(ctx, ref, "probe-"+p.Kind, []string{filepath.Base(p.Binary)}, p.Version)
	if err != nil || code != 0 {
		return Image{}, fmt.Errorf("%s %s in %s: exit %d, %v: %s", filepath.Base(p.Binary), strings.Join(p.Version, " "), ref, code, err, tail(out, 2))
	}
	return Image{Kind: p.Kind, Ref: ref, ID: ins.ID, Version: p.versionIn(string(out)), Source: source}, nil
}

// pull pulls ref, giving up when no progress message came for pullStall.
func (b *dockerBackend) pull(ctx context.Context, ref string) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stalled atomic.Bool
	watchdog := time.AfterFunc(pullStall, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()
	failed := func(err error) error {
		if stalled.Load() {
			return fmt.Errorf("no progress for %v", pullStall)
		}
		return err
	}
	resp, err := b.cli.ImagePull(pctx, ref, client.ImagePullOptions{})
	if err != nil {
		return failed(err)
	}
	defer resp.Close()
	for msg, err := range resp.JSONMessages(pctx) {
		if err != nil {
			return failed(err)
		}
		if msg.Error != nil {
			return msg.Error
		}
		watchdog.Reset(pullStall)
	}
	return nil
}

// oneShot runs a short-lived container to completion and returns its output.
func (b *dockerBackend) oneShot(ctx context.Context, ref, name string, entrypoint, cmd []string) ([]byte, int, error) {
	ctr, err := b.run(ctx, ref, name, []testcontainers.ContainerCustomizer{testcontainers.WithLogger(b.log),
		testcontainers.WithName(b.containerName(name)),
		testcontainers.WithEntrypoint(entrypoint...), testcontainers.WithCmd(cmd...),
		testcontainers.WithLabels(map[string]string{LabelRun: b.spec.RunID, LabelStack: b.spec.StackID, LabelService: name, LabelRole: "probe"})})
	if ctr != nil {
		defer b.remove(context.WithoutCancel(ctx), ctr.GetContainerID())
	}
	if err != nil {
		return nil, 0, err
	}
	code, err := b.waitExit(ctx, ctr.GetContainerID())
	if err != nil {
		return nil, 0, err
	}
	out, err := b.logsOf(ctx, ctr.GetContainerID())
	return out, code, err
}

// run starts a container through testcontainers. When ctx is cancelled
// before a container handle comes back, the engine may still create it:
// its name is kept for Down to wait for.
func (b *dockerBackend) run(ctx context.Context, ref, name string, opts []testcontainers.ContainerCustomizer) (*testcontainers.DockerContainer, error) {
	ctr, err := testcontainers.Run(ctx, ref, opts...)
	if ctr == nil && err != nil && ctx.Err() != nil {
		b.lateMu.Lock()
		b.late = append(b.late, b.containerName(name))
		b.lateMu.Unlock()
	}
	return ctr, err
}

func (b *dockerBackend) containerName(name string) string {
	return "wsbench-" + b.spec.StackID + "-" + name
}

// explain turns the engine's obscure refusal of a file limit into advice.
func (b *dockerBackend) explain(err error) error {
	if strings.Contains(err.Error(), "rlimit type 7") { // RLIMIT_NOFILE
		return fmt.Errorf("the engine refused a file limit (nofile) of %d: its own hard limit is lower (20,000 on this machine class); lower Spec.FileLimit or split load over more workers: %w", b.spec.FileLimit, err)
	}
	return err
}

// containerOptions are the options every container of the stack gets:
// labels, name, network (alias = name) or host mode, cpuset, file limit.
func (b *dockerBackend) containerOptions(name, role string) []testcontainers.ContainerCustomizer {
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(b.log),
		testcontainers.WithName(b.containerName(name)),
		testcontainers.WithLabels(map[string]string{LabelRun: b.spec.RunID, LabelStack: b.spec.StackID, LabelService: name, LabelRole: role}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.CpusetCpus = b.spec.CPUSet[role]
			n := int64(b.spec.FileLimit)
			hc.Ulimits = append(hc.Ulimits, &container.Ulimit{Name: "nofile", Soft: n, Hard: n})
			if b.spec.Network == NetworkHost {
				hc.NetworkMode = "host"
			}
		}),
	}
	if b.nw != nil {
		opts = append(opts, network.WithNetwork([]string{name}, b.nw))
	}
	return opts
}

func filesOption(files map[string][]byte) testcontainers.ContainerCustomizer {
	var cf []testcontainers.ContainerFile
	for p, data := range files {
		cf = append(cf, testcontainers.ContainerFile{Reader: bytes.NewReader(data), ContainerFilePath: p, FileMode: 0o644})
	}
	return testcontainers.WithFiles(cf...)
}

func (b *dockerBackend) start(ctx context.Context, svc *Service, h *Handle) error {
	opts := b.containerOptions(svc.Name, h.Role)
	if p, ok := program(svc.Image); ok {
		// By name, in the image's PATH: an official image keeps its
		// binary elsewhere than a scratch one (/usr/local/sbin/haproxy).
		opts = append(opts, testcontainers.WithEntrypoint(filepath.Base(p.Binary)),
			testcontainers.WithCmd(append(p.Args(p.Conf), svc.Args...)...))
	} else if svc.Image == ImageNginx {
		opts = append(opts, testcontainers.WithEntrypoint("nginx"),
			testcontainers.WithCmd(append([]string{"-e", "stderr", "-g", "daemon off;", "-c", NginxConf}, svc.Args...)...))
	} else {
		opts = append(opts, testcontainers.WithCmd(svc.Args...))
	}
	if len(svc.Files) > 0 {
		opts = append(opts, filesOption(svc.Files))
	}
	if len(svc.Env) > 0 {
		opts = append(opts, testcontainers.WithEnv(svc.Env))
	}
	if svc.Publish && svc.Port > 0 && b.nw != nil {
		opts = append(opts, testcontainers.WithExposedPorts(fmt.Sprintf("%d/tcp", svc.Port)))
	}
	ctr, err := b.run(ctx, h.Image.Ref, svc.Name, opts)
	if ctr != nil {
		h.setRuntime(ctr.GetContainerID(), &dockerService{ctr: ctr})
	}
	if err != nil {
		return fmt.Errorf("stack: start %q: %w", svc.Name, b.explain(err))
	}
	if b.nw != nil && svc.Port > 0 {
		if err := b.fillHostAddr(ctx, svc, h); err != nil {
			return err
		}
	}
	return waitReady(ctx, svc, h, b)
}

// fillHostAddr finds where this process reaches a bridge-mode service:
// its published port, else its address on the run's network (reachable
// when the engine runs on this host, as on Linux). Readiness always probes
// the network address: docker-proxy accepts on a published port before
// the service listens.
func (b *dockerBackend) fillHostAddr(ctx context.Context, svc *Service, h *Handle) error {
	ins, err := b.cli.ContainerInspect(ctx, h.ID, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("stack: inspect %q: %w", svc.Name, err)
	}
	if ins.Container.NetworkSettings != nil {
		if es, ok := ins.Container.NetworkSettings.Networks[b.nw.Name]; ok && es.IPAddress.IsValid() {
			h.probe = net.JoinHostPort(es.IPAddress.String(), fmt.Sprint(svc.Port))
		}
	}
	h.hostAddr = h.probe
	if svc.Publish {
		ctr := h.runtime().(*dockerService).ctr
		host, err := ctr.Host(ctx)
		if err != nil {
			return fmt.Errorf("stack: %q: host: %w", svc.Name, err)
		}
		p, err := ctr.MappedPort(ctx, fmt.Sprintf("%d/tcp", svc.Port))
		if err != nil {
			return fmt.Errorf("stack: %q: published port: %w", svc.Name, err)
		}
		h.hostAddr = net.JoinHostPort(host, p.Port())
	}
	return nil
}

func (b *dockerBackend) exited(ctx context.Context, h *Handle) (bool, error) {
	ins, err := b.cli.ContainerInspect(ctx, h.ID, client.ContainerInspectOptions{})
	if err != nil {
		return false, err
	}
	return ins.Container.State == nil || !ins.Container.State.Running, nil
}

func (b *dockerBackend) kill(ctx context.Context, h *Handle) error {
	_, err := b.cli.ContainerKill(ctx, h.ID, client.ContainerKillOptions{Signal: "SIGKILL"})
	return err
}

func (b *dockerBackend) logs(ctx context.Context, h *Handle) ([]byte, error) {
	return b.logsOf(ctx, h.ID)
}

// logsOf returns a container's stdout and stderr, demultiplexed into one
// stream in the order Docker recorded them.
func (b *dockerBackend) logsOf(ctx context.Context, id string) ([]byte, error) {
	rc, err := b.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		return out.Bytes(), err
	}
	return out.Bytes(), nil
}

func (b *dockerBackend) usage(ctx context.Context, h *Handle) (Usage, error) {
	if u, ok, err := cgroupUsage(h.ID); ok {
		return u, err
	}
	return b.apiUsage(ctx, h.ID)
}

// apiUsage reads the stats API: the same cgroup counters, through the
// engine, which answers on its 1 s collection tick.
func (b *dockerBackend) apiUsage(ctx context.Context, id string) (Usage, error) {
	res, err := b.cli.ContainerStats(ctx, id, client.ContainerStatsOptions{})
	if err != nil {
		return Usage{}, err
	}
	defer res.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		return Usage{}, fmt.Errorf("decode stats: %w", err)
	}
	at := st.Read
	if at.IsZero() {
		at = time.Now()
	}
	return Usage{At: at, CPU: time.Duration(st.CPUStats.CPUUsage.TotalUsage), Memory: residentMemory(st.MemoryStats)}, nil
}

// residentMemory is a cgroup's memory usage minus its page cache: what the
// processes themselves hold. cgroup v1 reports the cache as "total_cache"
// or "cache", cgroup v2 as "file".
func residentMemory(m container.MemoryStats) int64 {
	cache := uint64(0)
	for _, k := range []string{"total_cache", "cache", "file"} {
		if v, ok := m.Stats[k]; ok {
			cache = v
			break
		}
	}
	if cache > m.Usage {
		return 0
	}
	return int64(m.Usage - cache)
}

// waitExit waits until a container stops and returns its exit code.
func (b *dockerBackend) waitExit(ctx context.Context, id string) (int, error) {
	res := b.cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-res.Result:
		if r.Error != nil && r.Error.Message != "" {
			return int(r.StatusCode), errors.New(r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-res.Error:
		return 0, err
	}
}

func (b *dockerBackend) runWorker(ctx context.Context, lg *Loadgen, name string, args func(string) []string, dst string) (int, error) {
	opts := b.containerOptions(name, lg.Role)
	opts = append(opts, testcontainers.WithCmd(args(containerOut)...))
	if len(lg.Files) > 0 {
		opts = append(opts, filesOption(lg.Files))
	}
	img, err := b.image(ctx, ImageWsbench)
	if err != nil {
		return 0, err
	}
	ctr, err := b.run(ctx, img.Ref, name, opts)
	if ctr != nil {
		defer b.remove(context.WithoutCancel(ctx), ctr.GetContainerID())
	}
	if err != nil {
		return 0, b.explain(err)
	}
	id := ctr.GetContainerID()
	code, err := b.waitExit(ctx, id)
	if err != nil && ctx.Err() != nil {
		// Interrupted: SIGTERM lets the loadgen write partial results.
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		defer cancel()
		timeout := 10
		_, _ = b.cli.ContainerStop(bg, id, client.ContainerStopOptions{Timeout: &timeout})
		code, err = b.waitExit(bg, id)
		ctx = bg
	}
	if err != nil {
		return code, err
	}
	out, lerr := b.logsOf(ctx, id)
	if werr := os.WriteFile(dst+".log", out, 0o644); werr != nil {
		return code, werr
	}
	if lerr != nil {
		return code, fmt.Errorf("logs: %w", lerr)
	}
	if err := b.copyOut(ctx, id, dst); err != nil && code == 0 {
		return code, err
	}
	return code, nil
}

// copyOut copies a (stopped) container's result directory to dst.
func (b *dockerBackend) copyOut(ctx context.Context, id, dst string) error {
	res, err := b.cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: containerOut})
	if err != nil {
		return fmt.Errorf("copy %s: %w", containerOut, err)
	}
	defer res.Content.Close()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	return extractTar(res.Content, filepath.Clean(dst))
}

func (b *dockerBackend) remove(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, _ = b.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
}

// stackFilter selects what this stack created, not the other stacks of
// its run.
func (b *dockerBackend) stackFilter() client.Filters {
	return labelFilter(LabelStack, b.spec.StackID)
}

func (b *dockerBackend) down(ctx context.Context) error {
	var errs []error
	if b.cli != nil {
		_, err := removeContainers(ctx, b.cli, b.stackFilter())
		errs = append(errs, err)
		b.lateMu.Lock()
		late := b.late
		b.lateMu.Unlock()
		if len(late) > 0 {
			errs = append(errs, removeLate(ctx, b.cli, late, 3*time.Second))
			_, err = removeContainers(ctx, b.cli, b.stackFilter())
			errs = append(errs, err)
		}
		_, err = removeNetworks(ctx, b.cli, b.stackFilter())
		for deadline := time.Now().Add(3 * time.Second); b.lateNet && err == nil && time.Now().Before(deadline); {
			var n int
			if n, err = removeNetworks(ctx, b.cli, b.stackFilter()); n > 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		errs = append(errs, err)
		b.cli.Close()
	}
	if b.prov != nil {
		errs = append(errs, b.prov.Close())
	}
	if b.tmp != "" {
		errs = append(errs, os.RemoveAll(b.tmp))
	}
	return errors.Join(errs...)
}
