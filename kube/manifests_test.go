package kube

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"net/netip"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/wsbench/wsbench/internal/golden"
	"github.com/wsbench/wsbench/loadgen"
)

// run is a rendered stream decoded into k8s.io/api's types.
type run struct {
	configMap *corev1.ConfigMap
	service   *corev1.Service
	pod       *corev1.Pod
	job       *batchv1.Job
	kinds     []string
}

// decode splits the stream into documents and decodes each strictly
// (unknown or duplicate fields are errors) into the type of its kind.
func decode(t *testing.T, stream []byte) run {
	t.Helper()
	var r run
	rd := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatal(err)
		}
		r.kinds = append(r.kinds, head.APIVersion+" "+head.Kind)
		var obj any
		switch head.APIVersion + " " + head.Kind {
		case "v1 ConfigMap":
			r.configMap = &corev1.ConfigMap{}
			obj = r.configMap
		case "v1 Service":
			r.service = &corev1.Service{}
			obj = r.service
		case "v1 Pod":
			r.pod = &corev1.Pod{}
			obj = r.pod
		case "batch/v1 Job":
			r.job = &batchv1.Job{}
			obj = r.job
		default:
			t.Fatalf("a document of kind %s %s: want ConfigMap, Service, Pod or Job\n%s", head.APIVersion, head.Kind, doc)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s %s does not decode strictly into k8s.io/api's type: %v\n%s", head.APIVersion, head.Kind, err, doc)
		}
	}
	return r
}

func loadOptions() Options {
	return Options{
		Name:    "proxy-rtt",
		Image:   "registry.example.com/team/wsbench:v1",
		Workers: 4,
		Load: loadgen.Options{
			URL: "ws://my-proxy.default.svc:8080/echo", Workload: loadgen.WorkloadRTT,
			Conns: 2000, Rate: 20000, Duration: time.Minute, Warmup: 5 * time.Second,
			Headers: []string{"Origin: https://example.com"},
		},
		Requests:       Resources{"cpu": "2", "memory": "1Gi"},
		Limits:         Resources{"memory": "1Gi"},
		LocalPortRange: DefaultLocalPortRange,
	}
}

func scenarioOptions() Options {
	return Options{
		Name:            "nightly",
		Namespace:       "bench",
		Image:           "registry.example.com/team/wsbench@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Workers:         16,
		Port:            7171,
		Scenario:        &Scenario{Name: "my-proxy.yaml", Data: []byte("name: my-proxy\n# a comment, kept\nworkloads:\n  - name: rtt\n    load: {workload: rtt, conns: 16k, rate: 50k, duration: 2m}\n")},
		Requests:        Resources{"cpu": "1500m", "memory": "768Mi", "ephemeral-storage": "1Gi"},
		Limits:          Resources{"cpu": "2", "memory": "1Gi"},
		Spread:          SpreadRequired,
		NodeSelector:    map[string]string{"pool": "loadgen"},
		ImagePullSecret: "registry-creds",
		ResultsClaim:    "wsbench-results",
		ResultsImage:    "mirror.example.com/busybox:1.37",
	}
}

// The manifests decode strictly into the API's types, say what a run
// needs, and match the golden files (go test ./kube -update rewrites them).
func TestRender(t *testing.T) {
	for _, tt := range []struct {
		golden string
		opts   Options
	}{
		{"load.yaml", loadOptions()},
		{"scenario.yaml", scenarioOptions()},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, tt.opts); err != nil {
				t.Fatal(err)
			}
			checkRun(t, tt.opts, decode(t, buf.Bytes()))
			golden.Check(t, tt.golden, buf.Bytes())
		})
	}
}

// checkRun checks what makes the objects a run, as Kubernetes will read
// them: names, the selectors that tie them together, the commands, the
// volumes and the worker pods' scheduling.
func checkRun(t *testing.T, o Options, r run) {
	t.Helper()
	wantKinds := []string{"v1 Service", "v1 Pod", "batch/v1 Job"}
	if o.Scenario != nil {
		wantKinds = append([]string{"v1 ConfigMap"}, wantKinds...)
	}
	if !slices.Equal(r.kinds, wantKinds) {
		t.Fatalf("documents %v, want %v", r.kinds, wantKinds)
	}
	svc, pod, job := r.service, r.pod, r.job
	metas := []struct {
		kind string
		name string
		ns   string
	}{{"Service", svc.Name, svc.Namespace}, {"Pod", pod.Name, pod.Namespace}, {"Job", job.Name, job.Namespace}}
	if cm := r.configMap; cm != nil {
		metas = append(metas, struct{ kind, name, ns string }{"ConfigMap", cm.Name, cm.Namespace})
	}
	for _, m := range metas {
		if errs := validation.IsDNS1123Label(m.name); len(errs) > 0 {
			t.Errorf("%s name %q: %v", m.kind, m.name, errs)
		}
		if m.ns != o.Namespace {
			t.Errorf("%s namespace %q, want %q", m.kind, m.ns, o.Namespace)
		}
	}
	port := o.Port
	if port == 0 {
		port = DefaultPort
	}

	// The Service: the fixed name workers dial, selecting the coordinator
	// and nothing else, on the port the coordinator listens on.
	if svc.Name != ServiceName || svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("service %s of type %s, want %s, ClusterIP", svc.Name, svc.Spec.Type, ServiceName)
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	if !sel.Matches(labels.Set(pod.Labels)) || sel.Matches(labels.Set(job.Spec.Template.Labels)) {
		t.Errorf("service selector %v: want it to match the coordinator %v and not the workers %v", svc.Spec.Selector, pod.Labels, job.Spec.Template.Labels)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != int32(port) {
		t.Fatalf("service ports %+v, want one, %d", svc.Spec.Ports, port)
	}

	// The coordinator pod: runs once, listens where the Service sends, and
	// writes into the volume the results container can copy from.
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever || len(pod.Spec.Containers) != 2 {
		t.Fatalf("coordinator pod: restart policy %s, %d containers; want Never, 2", pod.Spec.RestartPolicy, len(pod.Spec.Containers))
	}
	coord, results := pod.Spec.Containers[0], pod.Spec.Containers[1]
	if coord.Image != o.Image || len(coord.Command) != 0 {
		t.Errorf("coordinator image %s command %v; want %s and the image's entrypoint", coord.Image, coord.Command, o.Image)
	}
	target := svc.Spec.Ports[0].TargetPort
	if len(coord.Ports) != 1 || coord.Ports[0].Name != target.StrVal || coord.Ports[0].ContainerPort != int32(port) {
		t.Errorf("coordinator ports %+v, want the service's target port %q, %d", coord.Ports, target.String(), port)
	}
	fixed := []string{"coordinate", "--listen", ":" + strconv.Itoa(port), "--workers", strconv.Itoa(o.Workers), "--out", path.Join(ResultsDir, o.Name)}
	if len(coord.Args) < len(fixed) || !slices.Equal(coord.Args[:len(fixed)], fixed) {
		t.Fatalf("coordinator args %q, want them to start %q", coord.Args, fixed)
	}
	load := coord.Args[len(fixed):]
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	for _, c := range pod.Spec.Containers {
		for _, m := range c.VolumeMounts {
			if _, ok := vols[m.Name]; !ok {
				t.Errorf("container %s mounts volume %q, which the pod does not have", c.Name, m.Name)
			}
		}
	}
	if mountOf(coord, "results") != ResultsDir || mountOf(results, "results") != ResultsDir {
		t.Errorf("results mounted at %q (coordinator) and %q (results container), want both at %s",
			mountOf(coord, "results"), mountOf(results, "results"), ResultsDir)
	}
	if rv := vols["results"]; o.ResultsClaim != "" {
		if rv.PersistentVolumeClaim == nil || rv.PersistentVolumeClaim.ClaimName != o.ResultsClaim {
			t.Errorf("results volume %+v, want the claim %s", rv.VolumeSource, o.ResultsClaim)
		}
	} else if rv.EmptyDir == nil {
		t.Errorf("results volume %+v, want an emptyDir", rv.VolumeSource)
	}
	if !slices.Contains(results.Command, "sh") || o.ResultsImage != "" && results.Image != o.ResultsImage {
		t.Errorf("results container %s %q: want a shell in %q", results.Image, results.Command, o.ResultsImage)
	}

	if o.Scenario != nil {
		cm := r.configMap
		dir := mountOf(coord, "scenario")
		v := vols["scenario"]
		if v.ConfigMap == nil || v.ConfigMap.Name != cm.Name {
			t.Fatalf("scenario volume %+v, want the ConfigMap %s", v.VolumeSource, cm.Name)
		}
		if got := cm.Data[o.Scenario.Name]; got != string(o.Scenario.Data) {
			t.Errorf("ConfigMap data[%s] = %q, want the file as it is: %q", o.Scenario.Name, got, o.Scenario.Data)
		}
		if want := []string{path.Join(dir, o.Scenario.Name)}; !slices.Equal(load, want) {
			t.Errorf("coordinator's load args %q, want the mounted scenario %q", load, want)
		}
	} else {
		// The load args parse back into the options given.
		var got loadgen.Options
		fs := pflag.NewFlagSet("coordinate", pflag.ContinueOnError)
		got.RegisterFlags(fs)
		if err := fs.Parse(load); err != nil || fs.NArg() > 0 {
			t.Fatalf("coordinator's load args %q: %v, extra %q", load, err, fs.Args())
		}
		if !reflect.DeepEqual(got, o.Load) {
			t.Errorf("coordinator's load args %q parse to %+v, want %+v", load, got, o.Load)
		}
	}

	// The workers: an Indexed Job of N pods run once each, dialing the
	// Service, spread over nodes.
	js := job.Spec
	if js.CompletionMode == nil || *js.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completion mode %v, want Indexed (the worker index is JOB_COMPLETION_INDEX)", js.CompletionMode)
	}
	if js.Completions == nil || js.Parallelism == nil || int(*js.Completions) != o.Workers || int(*js.Parallelism) != o.Workers {
		t.Errorf("completions %v parallelism %v, want both %d", js.Completions, js.Parallelism, o.Workers)
	}
	if js.BackoffLimitPerIndex == nil || *js.BackoffLimitPerIndex != 0 || js.BackoffLimit != nil {
		t.Errorf("backoffLimitPerIndex %v backoffLimit %v: want 0 and unset (no retries, one failure ending nothing else)", js.BackoffLimitPerIndex, js.BackoffLimit)
	}
	ps := js.Template.Spec
	if ps.RestartPolicy != corev1.RestartPolicyNever || len(ps.Containers) != 1 {
		t.Fatalf("worker pods: restart policy %s, %d containers; want Never, 1", ps.RestartPolicy, len(ps.Containers))
	}
	w := ps.Containers[0]
	wantArgs := []string{"loadgen", "--report-to", svc.Name + ":" + strconv.Itoa(port)}
	if w.Image != o.Image || !slices.Equal(w.Args, wantArgs) {
		t.Errorf("worker %s %q, want %s %q (the index from JOB_COMPLETION_INDEX)", w.Image, w.Args, o.Image, wantArgs)
	}
	for _, res := range []struct {
		name      string
		got, want map[string]string
		list      corev1.ResourceList
	}{{"requests", nil, o.Requests, w.Resources.Requests}, {"limits", nil, o.Limits, w.Resources.Limits}} {
		if len(res.list) != len(res.want) {
			t.Errorf("worker %s %v, want %v", res.name, res.list, res.want)
		}
		for name, q := range res.want {
			if got, ok := res.list[corev1.ResourceName(name)]; !ok || got.Cmp(resource.MustParse(q)) != 0 {
				t.Errorf("worker %s %s = %v, want %s", res.name, name, got.String(), q)
			}
		}
	}
	if len(ps.TopologySpreadConstraints) != 1 {
		t.Fatalf("topology spread %+v, want one constraint", ps.TopologySpreadConstraints)
	}
	tsc := ps.TopologySpreadConstraints[0]
	want := corev1.ScheduleAnyway
	if o.Spread == SpreadRequired {
		want = corev1.DoNotSchedule
	}
	spreadSel := labels.SelectorFromSet(tsc.LabelSelector.MatchLabels)
	if tsc.TopologyKey != corev1.LabelHostname || tsc.MaxSkew != 1 || tsc.WhenUnsatisfiable != want ||
		!spreadSel.Matches(labels.Set(js.Template.Labels)) || spreadSel.Matches(labels.Set(pod.Labels)) {
		t.Errorf("topology spread %+v, want hostname, maxSkew 1, %s, over the workers alone", tsc, want)
	}
	for _, p := range []corev1.PodSpec{pod.Spec, ps} {
		if !reflect.DeepEqual(p.NodeSelector, o.NodeSelector) {
			t.Errorf("node selector %v, want %v", p.NodeSelector, o.NodeSelector)
		}
		if o.ImagePullSecret != "" && (len(p.ImagePullSecrets) != 1 || p.ImagePullSecrets[0].Name != o.ImagePullSecret) {
			t.Errorf("image pull secrets %v, want %s", p.ImagePullSecrets, o.ImagePullSecret)
		}
	}
	var sysctls []corev1.Sysctl
	if ps.SecurityContext != nil {
		sysctls = ps.SecurityContext.Sysctls
	}
	if o.LocalPortRange == (PortRange{}) {
		if len(sysctls) != 0 {
			t.Errorf("sysctls %v, want none", sysctls)
		}
	} else {
		wantSysctl := corev1.Sysctl{Name: "net.ipv4.ip_local_port_range", Value: strconv.Itoa(o.LocalPortRange.Low) + " " + strconv.Itoa(o.LocalPortRange.High)}
		if !slices.Equal(sysctls, []corev1.Sysctl{wantSysctl}) {
			t.Errorf("sysctls %v, want %v", sysctls, wantSysctl)
		}
	}
	for _, s := range sysctls {
		// Kubernetes' safe sysctls (allowed on every node and by the
		// baseline Pod Security Standard) that wsbench may set.
		if !slices.Contains([]string{"net.ipv4.ip_local_port_range"}, s.Name) {
			t.Errorf("sysctl %s is not a safe sysctl", s.Name)
		}
	}
}

func mountOf(c corev1.Container, volume string) string {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	return ""
}

// Without the optional settings the manifests still make a run: no
// resources, no sysctl, an emptyDir, the default port and results image.
func TestRenderMinimal(t *testing.T) {
	o := Options{Name: "a", Image: "wsbench:dev", Workers: 1, Load: loadgen.Options{URL: "ws://p/echo"}}
	var buf bytes.Buffer
	if err := Render(&buf, o); err != nil {
		t.Fatal(err)
	}
	r := decode(t, buf.Bytes())
	checkRun(t, o, r)
	if img := r.pod.Spec.Containers[1].Image; img != DefaultResultsImage {
		t.Errorf("results image %s, want %s", img, DefaultResultsImage)
	}
	if c := r.job.Spec.Template.Spec.Containers[0]; len(c.Resources.Requests)+len(c.Resources.Limits) > 0 {
		t.Errorf("worker resources %+v, want none", c.Resources)
	}
}

func TestValidate(t *testing.T) {
	base := loadOptions
	for _, tt := range []struct {
		name   string
		change func(*Options)
		option string
		want   string
	}{
		{"no name", func(o *Options) { o.Name = "" }, "name", "want lower-case letters"},
		{"upper case name", func(o *Options) { o.Name = "Nightly" }, "name", "want lower-case"},
		{"name too long for its roles", func(o *Options) { o.Name = strings.Repeat("a", 52) }, "name", "at most 51"},
		{"namespace", func(o *Options) { o.Namespace = "my_ns" }, "namespace", "want lower-case"},
		{"no image", func(o *Options) { o.Image = "" }, "image", "the cluster can pull"},
		{"no workers", func(o *Options) { o.Workers = 0 }, "workers", "want 1 to 100000"},
		{"too many workers", func(o *Options) { o.Workers = MaxWorkers + 1 }, "workers", "want 1 to 100000"},
		{"port", func(o *Options) { o.Port = 70000 }, "port", "want 1 to 65535"},
		{"no load", func(o *Options) { o.Load = loadgen.Options{} }, "url", "or a scenario file"},
		{"load and scenario", func(o *Options) { o.Scenario = &Scenario{Name: "s.yaml"} }, "url", "not both"},
		{"source ips", func(o *Options) { o.Load.SourceIPs = []netip.Addr{netip.MustParseAddr("10.0.0.2")} }, "source-ips", "one address"},
		{"bad load", func(o *Options) { o.Load.Window = -1 }, "window", ""},
		{"scenario key", func(o *Options) { o.Load = loadgen.Options{}; o.Scenario = &Scenario{Name: "my scenario.yaml"} }, "scenario", "ConfigMap key"},
		{"scenario too large", func(o *Options) {
			o.Load = loadgen.Options{}
			o.Scenario = &Scenario{Name: "s.yaml", Data: make([]byte, MaxScenarioSize+1)}
		}, "scenario", "a ConfigMap's limit"},
		{"scenario not text", func(o *Options) {
			o.Load = loadgen.Options{}
			o.Scenario = &Scenario{Name: "s.yaml", Data: []byte{0xff}}
		}, "scenario", "UTF-8"},
		{"resource name", func(o *Options) { o.Requests = Resources{"cpus": "2"} }, "requests", "want a resource among cpu"},
		{"quantity", func(o *Options) { o.Limits = Resources{"memory": "1GB"} }, "limits", "want a quantity"},
		{"request above limit", func(o *Options) { o.Requests = Resources{"memory": "2Gi"} }, "requests", "at most the limit memory=1Gi"},
		{"request above limit, other units", func(o *Options) { o.Requests, o.Limits = Resources{"cpu": "2500m"}, Resources{"cpu": "2"} }, "requests", "at most the limit cpu=2"},
		{"port range", func(o *Options) { o.LocalPortRange = PortRange{60000, 1024} }, "local-port-range", "LOW < HIGH"},
		{"spread", func(o *Options) { o.Spread = "always" }, "spread", "preferred or required"},
		{"node selector", func(o *Options) { o.NodeSelector = map[string]string{"": "x"} }, "node-selector", "with a key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			tt.change(&o)
			err := o.Validate()
			var ke *OptionError
			var le *loadgen.OptionError
			switch {
			case errors.As(err, &ke):
				if ke.Option != tt.option || !strings.Contains(ke.Want, tt.want) {
					t.Fatalf("error %v: want option %s, %q", err, tt.option, tt.want)
				}
			case errors.As(err, &le):
				if le.Option != tt.option {
					t.Fatalf("error %v: want option %s", err, tt.option)
				}
			default:
				t.Fatalf("error %v: want one naming %s", err, tt.option)
			}
			if err := Render(io.Discard, o); err == nil {
				t.Fatal("Render rendered options Validate refuses")
			}
		})
	}
}

func TestParsePortRange(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want PortRange
		ok   bool
	}{
		{"", PortRange{}, true},
		{"1024-65535", PortRange{1024, 65535}, true},
		{"32768-60999", PortRange{32768, 60999}, true},
		{"1024", PortRange{}, false},
		{"0-100", PortRange{}, false},
		{"100-100", PortRange{}, false},
		{"100-65536", PortRange{}, false},
		{"a-b", PortRange{}, false},
		{"1024 65535", PortRange{}, false},
	} {
		got, err := ParsePortRange(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParsePortRange(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParsePortRange(%q).String() = %q", tt.in, got.String())
		}
	}
}

// The quantity check accepts what the API server's parser accepts (bar
// signs and spellings without a number), and quantityValue reads the value
// it reads.
func TestQuantityAgreesWithTheAPI(t *testing.T) {
	for _, q := range []string{"1", "2", "500m", "1.5", "0.5", ".5", "1.", "1Gi", "768Mi", "1Ki", "1Ei", "1E", "2k", "1M",
		"1e3", "1E3", "1e-3", "1.5e2", "100n", "5u", "1K", "1GB", "1g", "Gi", "", "1 Gi", "1.2.3", "0x10", "E0", "e3", "1e", "1i", "-1", "+1"} {
		checkQuantity(t, q)
	}
}

var hugeExponent = regexp.MustCompile(`[eE][-+]?[0-9]{4,}$`)

func FuzzQuantity(f *testing.F) {
	for _, q := range []string{"1", "500m", "1.5Gi", "1e3", "1E", "1Ei", ".5", "7."} {
		f.Add(q)
	}
	f.Fuzz(checkQuantity)
}

func checkQuantity(t *testing.T, q string) {
	// Stricter than the API where it reads nonsense: a sign, or no number
	// at all ("Gi" is 0 to the API).
	number := q[:len(q)-len(strings.TrimLeft(q, "0123456789."))]
	if strings.HasPrefix(q, "-") || strings.HasPrefix(q, "+") || !strings.ContainsAny(number, "0123456789") {
		if quantity.MatchString(q) {
			t.Errorf("%q: a signed or numberless quantity passed", q)
		}
		return
	}
	// The API's parser takes minutes over an exponent of many digits
	// (0e5555555555555): no oracle there.
	if hugeExponent.MatchString(q) {
		return
	}
	api, err := resource.ParseQuantity(q)
	if ours := quantity.MatchString(q); ours != (err == nil) {
		t.Fatalf("%q: our check says %v, the API's parser %v", q, ours, err)
	}
	if err != nil {
		return
	}
	// The API keeps nano units, rounding up what is finer. Past 2^62 its
	// own readings disagree (9Ei is capped at 2^63-1, 10E is not): no
	// request is that large.
	got, want := quantityValue(q), api.AsApproximateFloat64()
	if got < 1<<62 && math.Abs(got-want) > 1e-9+1e-9*math.Abs(want) {
		t.Errorf("quantityValue(%q) = %g, the API reads %g", q, got, want)
	}
}
