package kube

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/wsbench/wsbench/loadgen"
)

// Defaults and fixed names, shared by the library and the CLI.
const (
	// ServiceName is the name workers dial, the same in Kubernetes and
	// Docker Swarm (the fleet contract), so the worker command is the same.
	ServiceName = "wsbench-coordinator"
	// DefaultPort is the coordinator's port.
	DefaultPort = 7070
	// DefaultResultsImage runs the container that keeps the coordinator's
	// pod up after the run, so that kubectl cp can copy the results: kubectl
	// cp runs tar in the container, and the wsbench image (FROM scratch)
	// has none.
	DefaultResultsImage = "busybox:1.37"
	// MaxWorkers is the Indexed Job's limit on completions and parallelism.
	MaxWorkers = 100000
	// MaxScenarioSize is a ConfigMap's limit on its data.
	MaxScenarioSize = 1 << 20

	// ResultsDir is where the results volume is mounted in the coordinator
	// pod; a run's results are in ResultsDir/<run name>.
	ResultsDir = "/results"
	// ScenarioDir is where the scenario ConfigMap is mounted.
	ScenarioDir = "/scenario"
)

// DefaultLocalPortRange is the ephemeral port range the CLI gives worker
// pods: about 64k connections per worker to one proxy address instead of
// the kernel's 28k (32768-60999). The two ends differ in parity, as Linux
// wants (it warns otherwise).
var DefaultLocalPortRange = PortRange{Low: 1024, High: 65535}

// Spread says how hard the scheduler is asked to put workers on different
// nodes: a topology spread constraint over kubernetes.io/hostname with
// maxSkew 1, so N workers on M nodes are spread as evenly as can be.
type Spread string

const (
	// SpreadPreferred (the default) schedules a worker even where the
	// spread cannot be kept (whenUnsatisfiable: ScheduleAnyway).
	SpreadPreferred Spread = "preferred"
	// SpreadRequired leaves a worker pending rather than break the spread
	// (whenUnsatisfiable: DoNotSchedule).
	SpreadRequired Spread = "required"
)

// Options describe one run. The zero value of each optional field is a
// working default; Name, Image, Workers and one of Load or Scenario are
// required.
type Options struct {
	// Name names the run: every object is called <Name>-<role>, and the
	// results are in ResultsDir/<Name>.
	Name string
	// Namespace is set on every object; "" leaves it to kubectl (-n or the
	// context's namespace).
	Namespace string
	// Image is a wsbench image the cluster can pull, its entrypoint
	// the wsbench binary.
	Image string
	// Workers is the number of load-generator pods.
	Workers int
	// Port is the coordinator's port; 0 means DefaultPort.
	Port int

	// Load is the load the coordinator splits across the workers (Load.URL
	// set), or Scenario the file it runs: exactly one of them.
	Load     loadgen.Options
	Scenario *Scenario

	// Requests and Limits are each worker's resources (cpu, memory,
	// ephemeral-storage). A CPU limit throttles the load generator in
	// 100 ms CFS periods, which shows as latency: prefer requests only.
	Requests, Limits Resources
	// LocalPortRange is the workers' net.ipv4.ip_local_port_range, one of
	// Kubernetes' safe sysctls (set per pod, allowed by default and by the
	// baseline Pod Security Standard). Zero leaves the node's.
	LocalPortRange PortRange
	// Spread is how workers are put on different nodes ("": preferred).
	Spread Spread
	// NodeSelector, if set, limits every pod to the nodes with these labels
	// (a pool kept for load generation).
	NodeSelector map[string]string
	// ImagePullSecret names a Secret for pulling Image from a private
	// registry.
	ImagePullSecret string
	// ResultsClaim names an existing PersistentVolumeClaim for the results;
	// "" keeps them in an emptyDir, which lives as long as the pod.
	ResultsClaim string
	// ResultsImage is the image of the container kept for kubectl cp; ""
	// means DefaultResultsImage. It needs sh, sleep and tar.
	ResultsImage string
}

// Scenario is a scenario file carried into the coordinator's pod in a
// ConfigMap.
type Scenario struct {
	Name string // the file's base name: the ConfigMap key and the file name in the pod
	Data []byte
}

// Resources are quantities by resource name, e.g. cpu: "2", memory: "1Gi".
type Resources map[string]string

// PortRange is an inclusive range of local ports.
type PortRange struct{ Low, High int }

func (r PortRange) String() string {
	if r == (PortRange{}) {
		return ""
	}
	return strconv.Itoa(r.Low) + "-" + strconv.Itoa(r.High)
}

// ParsePortRange reads LOW-HIGH; "" is the zero range (the node's).
func ParsePortRange(s string) (PortRange, error) {
	if s == "" {
		return PortRange{}, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	l, err1 := strconv.Atoi(lo)
	h, err2 := strconv.Atoi(hi)
	r := PortRange{l, h}
	if !ok || err1 != nil || err2 != nil || !r.valid() {
		return PortRange{}, &OptionError{Option: "local-port-range", Value: s, Want: "want LOW-HIGH with 1 <= LOW < HIGH <= 65535, e.g. 1024-65535"}
	}
	return r, nil
}

func (r PortRange) valid() bool { return 1 <= r.Low && r.Low < r.High && r.High <= 65535 }

// OptionError is an option that cannot be rendered, named as its wsbench
// k8s flag is.
type OptionError struct {
	Option string // e.g. "workers"
	Value  string // e.g. "0"
	Want   string // e.g. "want 1 to 100000 workers"
}

func (e *OptionError) Error() string { return "kube: " + e.Option + " " + e.Value + ": " + e.Want }

var (
	// An RFC 1123 label, what Kubernetes wants of most object names.
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// What a ConfigMap key may be.
	configMapKey = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	// A resource quantity as the API reads it (resource.ParseQuantity),
	// without a sign: a request is never negative.
	quantity = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][-+]?[0-9]+)?$`)
)

// resourceNames are the resources a worker may ask for.
var resourceNames = []string{"cpu", "memory", "ephemeral-storage"}

// roleSuffix is the longest "-<role>" appended to Name.
const roleSuffix = "-coordinator"

// Validate reports the first option that cannot be rendered, naming it.
func (o Options) Validate() error {
	bad := func(option, value, want string) error {
		return &OptionError{Option: option, Value: value, Want: want}
	}
	if !dnsLabel.MatchString(o.Name) || len(o.Name)+len(roleSuffix) > 63 {
		return bad("name", strconv.Quote(o.Name), fmt.Sprintf("want lower-case letters, digits and '-', starting and ending with a letter or digit, at most %d characters (objects are named <name>%s)", 63-len(roleSuffix), roleSuffix))
	}
	if o.Namespace != "" && (!dnsLabel.MatchString(o.Namespace) || len(o.Namespace) > 63) {
		return bad("namespace", strconv.Quote(o.Namespace), "want lower-case letters, digits and '-', at most 63 characters")
	}
	if o.Image == "" || strings.ContainsAny(o.Image, " \t\n") {
		return bad("image", strconv.Quote(o.Image), "want the reference of a wsbench image the cluster can pull, e.g. registry.example.com/you/wsbench:v1")
	}
	if o.Workers < 1 || o.Workers > MaxWorkers {
		return bad("workers", strconv.Itoa(o.Workers), fmt.Sprintf("want 1 to %d workers", MaxWorkers))
	}
	if o.Port < 0 || o.Port > 65535 {
		return bad("port", strconv.Itoa(o.Port), "want 1 to 65535")
	}
	switch {
	case o.Load.URL == "" && o.Scenario == nil:
		return bad("url", `""`, "want the load (--url and the other load flags) or a scenario file")
	case o.Load.URL != "" && o.Scenario != nil:
		return bad("url", o.Load.URL, "want the load flags or a scenario file, not both")
	case len(o.Load.SourceIPs) > 0:
		return bad("source-ips", fmt.Sprint(o.Load.SourceIPs), "want none: a pod has one address of its own")
	case o.Load.URL != "":
		if err := o.Load.Validate(); err != nil {
			return err
		}
	}
	if s := o.Scenario; s != nil {
		if !configMapKey.MatchString(s.Name) || s.Name == "." || s.Name == ".." || len(s.Name) > 253 {
			return bad("scenario", strconv.Quote(s.Name), "want a file name of letters, digits, '-', '_' and '.' (it is the ConfigMap key)")
		}
		if len(s.Data) > MaxScenarioSize {
			return bad("scenario", s.Name, fmt.Sprintf("%d bytes: want at most %d, a ConfigMap's limit", len(s.Data), MaxScenarioSize))
		}
		if !utf8.Valid(s.Data) {
			return bad("scenario", s.Name, "want UTF-8 text")
		}
	}
	for _, r := range []struct {
		flag string
		res  Resources
	}{{"requests", o.Requests}, {"limits", o.Limits}} {
		for _, name := range slices.Sorted(maps.Keys(r.res)) {
			q := r.res[name]
			if !slices.Contains(resourceNames, name) {
				return bad(r.flag, name+"="+q, "want a resource among "+strings.Join(resourceNames, ", "))
			}
			if !quantity.MatchString(q) {
				return bad(r.flag, name+"="+q, "want a quantity such as 500m, 2, 512Mi or 1Gi")
			}
		}
	}
	for name, req := range o.Requests {
		if lim, ok := o.Limits[name]; ok && quantityValue(req) > quantityValue(lim) {
			return bad("requests", name+"="+req, "want at most the limit "+name+"="+lim)
		}
	}
	if o.LocalPortRange != (PortRange{}) && !o.LocalPortRange.valid() {
		return bad("local-port-range", o.LocalPortRange.String(), "want LOW-HIGH with 1 <= LOW < HIGH <= 65535")
	}
	if o.Spread != "" && o.Spread != SpreadPreferred && o.Spread != SpreadRequired {
		return bad("spread", string(o.Spread), "want preferred or required")
	}
	for k := range o.NodeSelector {
		if k == "" {
			return bad("node-selector", "="+o.NodeSelector[k], "want KEY=VALUE with a key")
		}
	}
	return nil
}

// quantityValue is the value of a quantity that matches the quantity
// pattern, close enough to compare a request with a limit.
func quantityValue(q string) float64 {
	i := strings.IndexFunc(q, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(q)
	}
	v, _ := strconv.ParseFloat(q[:i], 64)
	suffix := q[i:]
	if len(suffix) > 1 && (suffix[0] == 'e' || suffix[0] == 'E') && suffix[1] != 'i' {
		f, _ := strconv.ParseFloat(q, 64) // "1e3", "5E-2": Go reads these as they are (±Inf past float64)
		return f
	}
	decimal := map[string]int{"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
	if e, ok := decimal[suffix]; ok {
		return v * math.Pow10(e)
	}
	binary := map[string]int{"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
	return math.Ldexp(v, binary[suffix])
}

// Object names for a run.
func (o Options) coordinatorName() string { return o.Name + "-coordinator" }
func (o Options) workersName() string     { return o.Name + "-workers" }
func (o Options) scenarioName() string    { return o.Name + "-scenario" }

// ResultsPath is where the coordinator writes the run's results, in the
// pod (the argument to kubectl cp).
func (o Options) ResultsPath() string { return path.Join(ResultsDir, o.Name) }

func (o Options) port() int {
	if o.Port == 0 {
		return DefaultPort
	}
	return o.Port
}

func (o Options) labels(component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      "wsbench",
		"app.kubernetes.io/instance":  o.Name,
		"app.kubernetes.io/component": component,
	}
}

func (o Options) meta(name, component string) meta {
	return meta{Name: name, Namespace: o.Namespace, Labels: o.labels(component)}
}

// Render writes the run's manifests as one YAML stream for kubectl apply:
// the scenario's ConfigMap (with Scenario), the coordinator's Service and
// Pod, and the workers' Indexed Job, after a comment that says how to run
// it.
func Render(w io.Writer, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(o.howTo())
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	var objs []object
	if o.Scenario != nil {
		objs = append(objs, o.scenarioConfigMap())
	}
	objs = append(objs, o.service(), o.coordinatorPod(), o.workerJob())
	for _, obj := range objs {
		if err := enc.Encode(obj); err != nil {
			return fmt.Errorf("kube: encoding %s %s: %w", obj.Kind, obj.Metadata.Name, err)
		}
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("kube: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// howTo is the comment at the top of the stream: the commands that run it
// and bring the results back.
func (o Options) howTo() string {
	ns := ""
	if o.Namespace != "" {
		ns = " -n " + o.Namespace
	}
	pod := o.coordinatorName()
	return fmt.Sprintf(`# wsbench run %[1]q: a coordinator and %[2]d worker(s).
#   kubectl apply%[3]s -f THIS_FILE
#   kubectl wait%[3]s --for=condition=Ready pod/%[4]s --timeout=5m
#   kubectl logs%[3]s -f %[4]s -c coordinator    # progress; returns when the run ends
#   kubectl cp%[3]s %[4]s:%[5]s ./%[1]s -c results
#   wsbench report ./%[1]s
#   kubectl delete%[3]s -f THIS_FILE
# One run at a time per namespace: the Service is always named %[6]s.
`, o.Name, o.Workers, ns, pod, o.ResultsPath(), ServiceName)
}

func (o Options) scenarioConfigMap() object {
	return object{
		APIVersion: "v1", Kind: "ConfigMap",
		Metadata: o.meta(o.scenarioName(), "coordinator"),
		Data:     map[string]string{o.Scenario.Name: string(o.Scenario.Data)},
	}
}

// service gives the coordinator the name workers dial. A ClusterIP Service
// rather than a headless one: its name resolves from the moment it exists,
// so a worker that starts before the coordinator gets a refused connection
// and retries, instead of a lookup that fails until the pod is ready. The
// few messages a second through kube-proxy cost nothing that is measured.
func (o Options) service() object {
	return object{
		APIVersion: "v1", Kind: "Service",
		Metadata: o.meta(ServiceName, "coordinator"),
		Spec: serviceSpec{
			Type:     "ClusterIP",
			Selector: o.labels("coordinator"),
			Ports:    []servicePort{{Name: "control", Protocol: "TCP", Port: o.port(), TargetPort: "control"}},
		},
	}
}

// coordinatorPod is a bare Pod, not a Deployment: a Deployment's pods
// restart whatever happens (restartPolicy Always), which would start a
// second run that waits for workers that never come. With restartPolicy
// Never the coordinator runs once; the results container keeps the pod
// running afterwards, so kubectl cp can fetch the results from it (it
// needs tar, which the scratch wsbench image lacks).
//
// No readiness probe: a TCP probe would be taken for a worker connecting.
func (o Options) coordinatorPod() object {
	args := []string{"coordinate",
		"--listen", ":" + strconv.Itoa(o.port()),
		"--workers", strconv.Itoa(o.Workers),
		"--out", o.ResultsPath(),
	}
	mounts := []volumeMount{{Name: "results", MountPath: ResultsDir}}
	vols := []volume{o.resultsVolume()}
	if o.Scenario != nil {
		args = append(args, path.Join(ScenarioDir, o.Scenario.Name))
		mounts = append(mounts, volumeMount{Name: "scenario", MountPath: ScenarioDir, ReadOnly: true})
		vols = append(vols, volume{Name: "scenario", ConfigMap: &configMapVolumeSource{Name: o.scenarioName()}})
	} else {
		args = append(args, o.Load.Flags()...)
	}
	resultsImage := o.ResultsImage
	if resultsImage == "" {
		resultsImage = DefaultResultsImage
	}
	return object{
		APIVersion: "v1", Kind: "Pod",
		Metadata: o.meta(o.coordinatorName(), "coordinator"),
		Spec: podSpec{
			RestartPolicy:    "Never",
			NodeSelector:     o.NodeSelector,
			ImagePullSecrets: o.pullSecrets(),
			Containers: []container{
				{
					Name: "coordinator", Image: o.Image, Args: args,
					Ports:        []port{{Name: "control", ContainerPort: o.port(), Protocol: "TCP"}},
					VolumeMounts: mounts,
				},
				{
					// sleep in the background and wait, so that the TERM of
					// kubectl delete ends it at once (a shell as PID 1
					// ignores signals it has no trap for).
					Name: "results", Image: resultsImage,
					Command:      []string{"sh", "-c", "trap 'exit 0' TERM; sleep 2147483647 & wait"},
					VolumeMounts: []volumeMount{{Name: "results", MountPath: ResultsDir}},
				},
			},
			Volumes: vols,
		},
	}
}

func (o Options) resultsVolume() volume {
	if o.ResultsClaim != "" {
		return volume{Name: "results", PersistentVolumeClaim: &claimVolumeSource{ClaimName: o.ResultsClaim}}
	}
	return volume{Name: "results", EmptyDir: &struct{}{}}
}

func (o Options) pullSecrets() []localObjectReference {
	if o.ImagePullSecret == "" {
		return nil
	}
	return []localObjectReference{{Name: o.ImagePullSecret}}
}

// workerJob runs the load generators as an Indexed Job: each pod gets
// JOB_COMPLETION_INDEX (0 to N-1) from the Job controller, which the worker
// takes as its index, so the coordinator knows who is who whatever the
// order they connect in.
//
// No pod is retried (backoffLimitPerIndex 0; restartPolicy Never): a
// restarted worker cannot rejoin a run that has started, and the
// coordinator counts a worker that vanished as a failure with what it had
// measured. Per index, so one worker's failure does not end the others,
// as a plain backoffLimit 0 would (the Job's failure kills its pods).
func (o Options) workerJob() object {
	workers := o.labels("worker")
	whenUnsatisfiable := "ScheduleAnyway"
	if o.Spread == SpreadRequired {
		whenUnsatisfiable = "DoNotSchedule"
	}
	spec := podSpec{
		RestartPolicy: "Never",
		NodeSelector:  o.NodeSelector,
		// Honor: a tainted node no worker can run on (a control plane) is
		// not a domain of the spread, else "required" could never be met.
		TopologySpreadConstraints: []topologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "kubernetes.io/hostname",
			WhenUnsatisfiable: whenUnsatisfiable, NodeTaintsPolicy: "Honor",
			LabelSelector: labelSelector{MatchLabels: workers},
		}},
		ImagePullSecrets: o.pullSecrets(),
		Containers: []container{{
			Name: "worker", Image: o.Image,
			Args: []string{"loadgen", "--report-to", ServiceName + ":" + strconv.Itoa(o.port())},
		}},
	}
	if o.LocalPortRange != (PortRange{}) {
		spec.SecurityContext = &podSecurityContext{Sysctls: []sysctl{{
			Name:  "net.ipv4.ip_local_port_range",
			Value: strconv.Itoa(o.LocalPortRange.Low) + " " + strconv.Itoa(o.LocalPortRange.High),
		}}}
	}
	if len(o.Requests) > 0 || len(o.Limits) > 0 {
		spec.Containers[0].Resources = &resources{Requests: o.Requests, Limits: o.Limits}
	}
	return object{
		APIVersion: "batch/v1", Kind: "Job",
		Metadata: o.meta(o.workersName(), "worker"),
		Spec: jobSpec{
			CompletionMode: "Indexed",
			Completions:    o.Workers, Parallelism: o.Workers,
			BackoffLimitPerIndex: 0,
			Template:             podTemplate{Metadata: meta{Labels: workers}, Spec: spec},
		},
	}
}
