package stack

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/testcontainers/testcontainers-go"
)

// Image kinds of a user's own proxy (Image.Kind).
const (
	KindOwnImage  = "image"   // Service.ImageRef
	KindOwnBinary = "command" // Service.Binary
)

// ownImage finds a user's image. It is never pulled: where there is no
// registry a pull hangs or fails obscurely, and an image the user built
// is what they mean to measure.
func (b *dockerBackend) ownImage(ctx context.Context, svc *Service) (Image, error) {
	if svc.Binary != "" {
		return Image{}, fmt.Errorf("stack: service %q: a local binary (%s) runs only in the local runtime (--runtime local); in containers, give an image", svc.Name, svc.Binary)
	}
	ins, err := b.cli.ImageInspect(ctx, svc.ImageRef)
	if err != nil {
		return Image{}, fmt.Errorf("stack: service %q: image %s is not present locally (wsbench does not pull): build it (docker build -t %s .), pull it (docker pull %s) or load it (docker load -i image.tar) first: %w",
			svc.Name, svc.ImageRef, svc.ImageRef, svc.ImageRef, err)
	}
	return Image{Kind: KindOwnImage, Ref: svc.ImageRef, ID: ins.ID}, nil
}

func (b *localBackend) ownImage(_ context.Context, svc *Service) (Image, error) {
	if svc.ImageRef != "" {
		return Image{}, fmt.Errorf("stack: service %q: an image (%s) runs only in the docker runtime; locally, give a binary", svc.Name, svc.ImageRef)
	}
	bin, err := exec.LookPath(svc.Binary)
	if err != nil {
		return Image{}, fmt.Errorf("stack: service %q: %w", svc.Name, err)
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return Image{}, fmt.Errorf("stack: service %q: %w", svc.Name, err)
	}
	sum, err := fileSHA256(bin)
	if err != nil {
		return Image{}, fmt.Errorf("stack: hash %s: %w", bin, err)
	}
	return Image{Kind: KindOwnBinary, Ref: bin, ID: "sha256:" + sum}, nil
}

// checkArgs is the command line of svc's configuration check, with conf
// the configuration's path as the check sees it; prefix is nginx's -p.
func checkArgs(svc *Service, conf func(p string) string, prefix string) ([]string, string) {
	if svc.Image == ImageNginx {
		c := conf(NginxConf)
		args := []string{"-t", "-e", "stderr"}
		if prefix != "" {
			args = append(args, "-p", prefix)
		}
		return append(args, "-c", c), c
	}
	p, _ := program(svc.Image)
	c := conf(p.Conf)
	return p.Check(c), c
}

func (b *dockerBackend) check(ctx context.Context, svc *Service, img Image) ([]byte, int, string, error) {
	args, conf := checkArgs(svc, func(p string) string { return p }, "")
	name := svc.Name + "-check"
	opts := append(b.containerOptions(name, "check"), testcontainers.WithCmd(args...))
	if p, ok := proxyProgram(svc.Image); ok {
		opts = append(opts, testcontainers.WithEntrypoint(filepath.Base(p.Binary)))
	}
	if len(svc.Files) > 0 {
		opts = append(opts, filesOption(svc.Files))
	}
	ctr, err := b.run(ctx, img.Ref, name, opts)
	if ctr != nil {
		defer b.remove(context.WithoutCancel(ctx), ctr.GetContainerID())
	}
	if err != nil {
		return nil, 0, "", b.explain(err)
	}
	code, err := b.waitExit(ctx, ctr.GetContainerID())
	if err != nil {
		return nil, 0, "", err
	}
	out, err := b.logsOf(ctx, ctr.GetContainerID())
	return out, code, conf, err
}

func (b *localBackend) check(ctx context.Context, svc *Service, img Image) ([]byte, int, string, error) {
	root := filepath.Join(b.dir, "check", svc.Name)
	if err := writeFiles(root, svc.Files); err != nil {
		return nil, 0, "", err
	}
	args, conf := checkArgs(svc, func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }, root+"/")
	out, err := exec.CommandContext(ctx, img.Ref, args...).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out, ee.ExitCode(), conf, nil
	}
	return out, 0, conf, err
}
