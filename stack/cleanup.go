package stack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Cleanup removes the containers and networks of run runID — every stack
// the run brought up, as each is labelled with the plain run id — or of
// every wsbench run when runID is "": the safety net after a run that
// crashed before its Down. It reports how many of each it removed. Images
// are kept: they are the build cache.
func Cleanup(ctx context.Context, runID string) (containers, networks int, err error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer cli.Close()
	f := labelFilter(LabelRun, runID)
	nc, errC := removeContainers(ctx, cli, f)
	nn, errN := removeNetworks(ctx, cli, f)
	return nc, nn, errors.Join(errC, errN)
}

// labelFilter selects what carries label key with value v ("" = any value).
func labelFilter(key, v string) client.Filters {
	if v != "" {
		key += "=" + v
	}
	return client.Filters{}.Add("label", key)
}

func removeContainers(ctx context.Context, cli client.APIClient, f client.Filters) (int, error) {
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, fmt.Errorf("stack: cleanup: list containers: %w", err)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, c := range list.Items {
		wg.Go(func() {
			_, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			if err != nil && !isNotFound(err) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("stack: cleanup: remove container %.12s: %w", c.ID, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(list.Items), errors.Join(errs...)
}

func removeNetworks(ctx context.Context, cli client.APIClient, f client.Filters) (int, error) {
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return 0, fmt.Errorf("stack: cleanup: list networks: %w", err)
	}
	var errs []error
	for _, n := range nets.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("stack: cleanup: remove network %s: %w", n.Name, err))
		}
	}
	return len(nets.Items), errors.Join(errs...)
}

// removeLate waits for containers whose create request was cancelled in
// flight: the engine finishes such a create after the client gave up, so
// a label listing right away misses them. Each name is polled until it
// appears (and is removed) or the grace period ends.
func removeLate(ctx context.Context, cli client.APIClient, names []string, grace time.Duration) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, name := range names {
		wg.Go(func() {
			deadline := time.Now().Add(grace)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{}); err == nil {
					_, err := cli.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
					if err != nil && !isNotFound(err) {
						mu.Lock()
						errs = append(errs, fmt.Errorf("stack: cleanup: remove container %s: %w", name, err))
						mu.Unlock()
					}
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// RemoveImages removes the images the stack built (wsbench-local/*) that no
// container uses, and reports how many it removed: each source change makes
// a new wsbench image, and they add up. Images in use are left alone.
func RemoveImages(ctx context.Context) (int, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: client.Filters{}.Add("label", "wsbench.image")})
	if err != nil {
		return 0, fmt.Errorf("stack: list images: %w", err)
	}
	n := 0
	for _, img := range list.Items {
		if _, err := cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{PruneChildren: true}); err == nil {
			n++
		}
	}
	return n, nil
}
