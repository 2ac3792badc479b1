package stack

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxExtract bounds what one loadgen worker's result directory may hold,
// so a runaway writer cannot fill the disk through the copy.
const maxExtract = 8 << 30

// extractTar writes the regular files and directories of a tar stream into
// dst, dropping the first path component (the copied directory's own
// name, as Docker's archive API puts it). Names that would land outside
// dst, links and devices are refused: the archive comes from a container.
func extractTar(r io.Reader, dst string) error {
	tr := tar.NewReader(r)
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("stack: results archive: %w", err)
		}
		rel, ok := stripFirst(h.Name)
		if !ok {
			return fmt.Errorf("stack: results archive: entry %q: want a relative path inside the directory", h.Name)
		}
		if rel == "" {
			continue // the directory itself
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("stack: results archive: %w", err)
			}
		case tar.TypeReg:
			total += h.Size
			if total > maxExtract {
				return fmt.Errorf("stack: results archive: more than %d bytes (at %q): want less", int64(maxExtract), h.Name)
			}
			if err := writeFile(target, tr, h.Size); err != nil {
				return fmt.Errorf("stack: results archive: %w", err)
			}
		default:
			return fmt.Errorf("stack: results archive: entry %q of type %q: want files and directories only", h.Name, h.Typeflag)
		}
	}
}

// stripFirst cleans a tar name and removes its first component; ok is
// false when the name is absolute or climbs out with "..".
func stripFirst(name string) (string, bool) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
		return "", false
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	_, rest, _ := strings.Cut(clean, "/")
	if rest == "" {
		return "", true
	}
	rest = path.Clean(rest)
	if rest == "." {
		return "", true
	}
	if rest == ".." || strings.HasPrefix(rest, "../") {
		return "", false
	}
	return rest, true
}

func writeFile(target string, r io.Reader, size int64) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
