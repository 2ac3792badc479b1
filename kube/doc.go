// Package kube writes the Kubernetes manifests of a fleet run: one
// coordinator (wsbench coordinate) that splits a load across N workers
// (wsbench loadgen --report-to) and merges what they measure.
//
// Render writes, as one YAML stream for kubectl apply:
//
//   - a ConfigMap NAME-scenario holding the scenario file, when the run has
//     one, mounted into the coordinator at ScenarioDir;
//   - the Service ServiceName (wsbench-coordinator), the name the workers
//     dial, as they do under Docker Swarm;
//   - the Pod NAME-coordinator: the coordinator, run once, writing into
//     ResultsDir/NAME, and a small container that keeps the pod up for
//     kubectl cp once the run is over;
//   - the Indexed Job NAME-workers: N pods, none retried, each with its
//     index in JOB_COMPLETION_INDEX, spread over nodes.
//
// The objects are plain structs carrying just the fields a run sets,
// because k8s.io/api's types would add about 8 MB to the wsbench binary.
// The tests hold them to the API instead: every document must decode
// strictly (no unknown field) into k8s.io/api's type of its kind, and the
// objects must fit together (selectors, ports, volumes, arguments).
// Nothing here talks to a cluster.
package kube
