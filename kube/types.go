package kube

// The few fields of the Kubernetes API objects a run uses, spelt as the
// API spells them. They are plain structs rather than k8s.io/api's types
// because those add about 8 MB to the wsbench binary for four objects;
// the tests decode every document strictly into k8s.io/api's types, so a
// field misspelt or mistyped here fails there.

type object struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   meta              `yaml:"metadata"`
	Spec       any               `yaml:"spec,omitempty"`
	Data       map[string]string `yaml:"data,omitempty"` // ConfigMap
}

type meta struct {
	Name      string            `yaml:"name,omitempty"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`
}

type serviceSpec struct {
	Type     string            `yaml:"type"`
	Selector map[string]string `yaml:"selector"`
	Ports    []servicePort     `yaml:"ports"`
}

type servicePort struct {
	Name       string `yaml:"name"`
	Protocol   string `yaml:"protocol"`
	Port       int    `yaml:"port"`
	TargetPort string `yaml:"targetPort"` // the container port's name
}

type jobSpec struct {
	CompletionMode string `yaml:"completionMode"`
	Completions    int    `yaml:"completions"`
	Parallelism    int    `yaml:"parallelism"`
	// Zero is meant: no retry (see workerJob), so no omitempty.
	BackoffLimitPerIndex int         `yaml:"backoffLimitPerIndex"`
	Template             podTemplate `yaml:"template"`
}

type podTemplate struct {
	Metadata meta    `yaml:"metadata"`
	Spec     podSpec `yaml:"spec"`
}

type podSpec struct {
	RestartPolicy             string                     `yaml:"restartPolicy"`
	NodeSelector              map[string]string          `yaml:"nodeSelector,omitempty"`
	TopologySpreadConstraints []topologySpreadConstraint `yaml:"topologySpreadConstraints,omitempty"`
	SecurityContext           *podSecurityContext        `yaml:"securityContext,omitempty"`
	ImagePullSecrets          []localObjectReference     `yaml:"imagePullSecrets,omitempty"`
	Containers                []container                `yaml:"containers"`
	Volumes                   []volume                   `yaml:"volumes,omitempty"`
}

type topologySpreadConstraint struct {
	MaxSkew           int           `yaml:"maxSkew"`
	TopologyKey       string        `yaml:"topologyKey"`
	WhenUnsatisfiable string        `yaml:"whenUnsatisfiable"`
	NodeTaintsPolicy  string        `yaml:"nodeTaintsPolicy"`
	LabelSelector     labelSelector `yaml:"labelSelector"`
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type podSecurityContext struct {
	Sysctls []sysctl `yaml:"sysctls,omitempty"`
}

type sysctl struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

type localObjectReference struct {
	Name string `yaml:"name"`
}

type container struct {
	Name         string        `yaml:"name"`
	Image        string        `yaml:"image"`
	Command      []string      `yaml:"command,omitempty"`
	Args         []string      `yaml:"args,omitempty"`
	Ports        []port        `yaml:"ports,omitempty"`
	Resources    *resources    `yaml:"resources,omitempty"`
	VolumeMounts []volumeMount `yaml:"volumeMounts,omitempty"`
}

type port struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
	Protocol      string `yaml:"protocol"`
}

type resources struct {
	Requests Resources `yaml:"requests,omitempty"`
	Limits   Resources `yaml:"limits,omitempty"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	ReadOnly  bool   `yaml:"readOnly,omitempty"`
}

type volume struct {
	Name                  string                 `yaml:"name"`
	EmptyDir              *struct{}              `yaml:"emptyDir,omitempty"`
	PersistentVolumeClaim *claimVolumeSource     `yaml:"persistentVolumeClaim,omitempty"`
	ConfigMap             *configMapVolumeSource `yaml:"configMap,omitempty"`
}

type claimVolumeSource struct {
	ClaimName string `yaml:"claimName"`
}

type configMapVolumeSource struct {
	Name string `yaml:"name"`
}
