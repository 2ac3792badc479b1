package stack

import (
	"context"
	"errors"
	"fmt"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Cleanup removes the containers and networks of run runID, or of every
// wsbench run when runID is "" — the safety net after a run that crashed
// before its Down. It reports how many of each it removed. Images are
// kept: they are the build cache.
func Cleanup(ctx context.Context, runID string) (containers, networks int, err error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer cli.Close()
	return removeLabelled(ctx, cli, runID)
}

// removeLabelled force-removes containers, then networks, labelled with
// run id runID ("" = any run id).
func removeLabelled(ctx context.Context, cli client.APIClient, runID string) (int, int, error) {
	label := LabelRun
	if runID != "" {
		label += "=" + runID
	}
	f := client.Filters{}.Add("label", label)
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, 0, fmt.Errorf("stack: cleanup: list containers: %w", err)
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
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return len(list.Items), 0, errors.Join(append(errs, fmt.Errorf("stack: cleanup: list networks: %w", err))...)
	}
	for _, n := range nets.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("stack: cleanup: remove network %s: %w", n.Name, err))
		}
	}
	return len(list.Items), len(nets.Items), errors.Join(errs...)
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
