package driver

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"

	"github.com/wsbench/wsbench/stack"
)

// KindImage is the user's own proxy as a container image present locally
// (Envoy, Traefik, a build of a pull request): Target.Image with its own
// entrypoint and Target.Args as its command, listening on Target.Port,
// with Target.Mounts put into it.
const KindImage = "image"

type image struct{}

func (image) Kind() string    { return KindImage }
func (image) Takes() []string { return []string{FieldImage, FieldArgs, FieldPort, FieldMounts} }
func (image) Proxies() bool   { return true }
func (image) Image() string   { return "" }
func (image) TLS(Target) bool { return false }

func (image) Check(t Target) []error {
	var errs []error
	if t.Image == "" {
		errs = append(errs, &ParamError{FieldImage, errors.New("missing: kind image runs a local image, e.g. image: envoyproxy/envoy:v1.31-latest")})
	}
	for _, p := range slices.Sorted(maps.Keys(t.Mounts)) {
		if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
			errs = append(errs, &ParamError{FieldMounts, fmt.Errorf("%q: want a clean absolute path in the container, such as /etc/envoy/envoy.yaml", p)})
		}
	}
	return append(errs, ownCheck(t)...)
}

// Service runs the image with the target's args, placeholders filled, and
// its mounts.
func (image) Service(t Target, env Env) (Service, bool, error) {
	if err := checkErr(t, Check(t)); err != nil {
		return Service{}, true, err
	}
	if env.Runtime == stack.RuntimeLocal {
		return Service{}, true, fmt.Errorf("driver: target %s: kind image runs a container, not with --runtime local; locally use kind: command", t.Name)
	}
	return Service{Service: stack.Service{Role: KindImage, ImageRef: t.Image, Args: ownArgs(t.Args, env), Files: t.Mounts}}, true, nil
}
