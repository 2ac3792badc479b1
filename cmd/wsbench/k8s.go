package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/kube"
	"github.com/wsbench/wsbench/loadgen"
)

func init() {
	register(&command{
		name:    "k8s",
		summary: "Write the Kubernetes manifests of a fleet run: a coordinator and N load-generator pods",
		order:   36,
		usage:   "--image IMAGE --workers N (LOAD FLAGS | SCENARIO_FILE) [flags] > run.yaml",
		example: `  # 8 workers share 40k msgs/s over 8,000 connections to a proxy in the cluster;
  # apply it, follow the coordinator, copy the results out:
  wsbench k8s --image registry.example.com/you/wsbench:v1 --workers 8 --name rtt-1 \
      --requests cpu=2,memory=1Gi --limits memory=1Gi \
      --url ws://my-proxy.default.svc:8080/echo --workload rtt --conns 8k --rate 40k --duration 2m > run.yaml
  kubectl apply -f run.yaml
  kubectl wait --for=condition=Ready pod/rtt-1-coordinator --timeout=5m
  kubectl logs -f rtt-1-coordinator -c coordinator
  kubectl cp rtt-1-coordinator:/results/rtt-1 runs/rtt-1 -c results
  wsbench report runs/rtt-1
  kubectl delete -f run.yaml

  # A scenario file, carried in a ConfigMap; workers only on nodes labelled
  # pool=loadgen, one per node or pending; results on an existing claim:
  wsbench k8s --image registry.example.com/you/wsbench:v1 --workers 16 -n bench \
      --node-selector pool=loadgen --spread required --results-claim wsbench-results \
      my-proxy.yaml | kubectl apply -f -

The load flags are those of 'wsbench loadgen' (--url, --workload, --conns,
--rate, --duration, --size, --warmup, ...; not --source-ips): the coordinator
splits the load across the workers. Workers dial the Service
wsbench-coordinator (one run per namespace at a time) and take their index
from JOB_COMPLETION_INDEX. The manifests are checked against the Kubernetes
API types in wsbench's tests, but were not applied to a cluster there.`,
		flags: k8sFlags,
	})
}

type k8sFlagValues struct {
	name, namespace, image, pullSecret string
	workers, port                      int
	requests, limits, nodeSelector     map[string]string
	portRange, spread                  string
	resultsClaim, resultsImage         string
}

func k8sFlags(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
	v := &k8sFlagValues{}
	fs.StringVar(&v.image, "image", "", "wsbench `IMAGE` the cluster can pull, entrypoint /wsbench (required)")
	fs.IntVar(&v.workers, "workers", 0, "load-generator pods, `N` (required)")
	fs.StringVar(&v.name, "name", "", "run `NAME`: objects are NAME-coordinator, NAME-workers, NAME-scenario; results in /results/NAME (default wsbench-<time>)")
	fs.StringVarP(&v.namespace, "namespace", "n", "", "`NAMESPACE` of every object (default: kubectl's)")
	fs.IntVar(&v.port, "port", kube.DefaultPort, "coordinator port")
	fs.Var((*keyValues)(&v.requests), "requests", "each worker's resource requests, e.g. cpu=2,memory=1Gi")
	fs.Var((*keyValues)(&v.limits), "limits", "each worker's resource limits, e.g. memory=1Gi (a CPU limit throttles the load generator: latency)")
	fs.StringVar(&v.portRange, "local-port-range", kube.DefaultLocalPortRange.String(),
		"workers' net.ipv4.ip_local_port_range `LOW-HIGH` (a safe sysctl); '' leaves the node's")
	fs.StringVar(&v.spread, "spread", string(kube.SpreadPreferred), "workers on different nodes: `HOW` is preferred | required (pending rather than doubled up)")
	fs.Var((*keyValues)(&v.nodeSelector), "node-selector", "only nodes with these labels, e.g. pool=loadgen")
	fs.StringVar(&v.pullSecret, "image-pull-secret", "", "`SECRET` for pulling the image from a private registry")
	fs.StringVar(&v.resultsClaim, "results-claim", "", "existing PersistentVolumeClaim `CLAIM` for the results (default: an emptyDir, gone with the pod)")
	fs.StringVar(&v.resultsImage, "results-image", kube.DefaultResultsImage, "`IMAGE` of the container kubectl cp copies from (needs sh, sleep, tar)")
	// The load flags are loadgen's, hidden from --help (the text names
	// them): zero options, so the coordinator gets only the ones given.
	var load loadgen.Options
	loadFlags := pflag.NewFlagSet("load", pflag.ContinueOnError)
	load.RegisterFlags(loadFlags)
	loadFlags.VisitAll(func(f *pflag.Flag) {
		fs.AddFlag(f)
		f.Hidden = true
	})
	return func(ctx context.Context, args []string, e *env) error {
		o, err := v.options(load, fs, args)
		if err != nil {
			return err
		}
		var buf strings.Builder
		if err := kube.Render(&buf, o); err != nil {
			return k8sError(err)
		}
		_, err = fmt.Fprint(e.stdout, buf.String())
		return err
	}
}

func (v *k8sFlagValues) options(load loadgen.Options, fs *pflag.FlagSet, args []string) (kube.Options, error) {
	if len(args) > 1 {
		return kube.Options{}, usagef("want at most one scenario file, got %q", args)
	}
	loadGiven := false
	fs.Visit(func(f *pflag.Flag) {
		if f.Hidden {
			loadGiven = true
		}
	})
	if loadGiven {
		if err := load.ValidateGiven(fs.Changed); err != nil {
			return kube.Options{}, optionError(err)
		}
	}
	if v.port == 0 {
		// 0 would mean the default to the library; here it is a typo.
		return kube.Options{}, usagef("--port 0: want 1 to 65535")
	}
	portRange, err := kube.ParsePortRange(v.portRange)
	if err != nil {
		return kube.Options{}, k8sError(err)
	}
	name := v.name
	if name == "" {
		name = "wsbench-" + runID()
	}
	o := kube.Options{
		Name: name, Namespace: v.namespace, Image: v.image, Workers: v.workers, Port: v.port,
		Load: load, Requests: v.requests, Limits: v.limits, LocalPortRange: portRange,
		Spread: kube.Spread(v.spread), NodeSelector: v.nodeSelector, ImagePullSecret: v.pullSecret,
		ResultsClaim: v.resultsClaim, ResultsImage: v.resultsImage,
	}
	if len(args) == 1 {
		data, err := os.ReadFile(args[0])
		if err != nil {
			return kube.Options{}, usagef("scenario file: %w", err)
		}
		o.Scenario = &kube.Scenario{Name: filepath.Base(args[0]), Data: data}
	}
	return o, nil
}

// k8sError turns an option the manifests cannot hold into a usage error
// naming its flag (or the scenario file, an argument).
func k8sError(err error) error {
	var ke *kube.OptionError
	if errors.As(err, &ke) {
		if ke.Option == "scenario" {
			return usagef("scenario file %s: %s", ke.Value, ke.Want)
		}
		if ke.Option == "url" && ke.Value == `""` {
			return usagef("no load: %s", ke.Want)
		}
		return usagef("--%s %s: %s", ke.Option, ke.Value, ke.Want)
	}
	return optionError(err)
}

// keyValues is a flag of KEY=VALUE pairs, comma-separated or repeated.
type keyValues map[string]string

func (kv *keyValues) Set(s string) error {
	if *kv == nil {
		*kv = keyValues{}
	}
	for _, pair := range strings.Split(s, ",") {
		k, val, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q: want KEY=VALUE[,KEY=VALUE...]", pair)
		}
		(*kv)[k] = val
	}
	return nil
}

func (kv *keyValues) String() string {
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(*kv)) {
		pairs = append(pairs, k+"="+(*kv)[k])
	}
	return strings.Join(pairs, ",")
}

func (*keyValues) Type() string { return "KEY=VALUE,..." }
