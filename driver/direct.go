package driver

// KindDirect is no proxy: the load generator dials backend-1 itself (or
// every backend through its URL list), the baseline a proxy's cost is
// measured against.
const KindDirect = "direct"

type direct struct{}

func (direct) Kind() string                               { return KindDirect }
func (direct) Takes() []string                            { return nil }
func (direct) Proxies() bool                              { return false }
func (direct) Image() string                              { return "" }
func (direct) Check(Target) []error                       { return nil }
func (direct) TLS(Target) bool                            { return false }
func (direct) Service(Target, Env) (Service, bool, error) { return Service{}, false, nil }
