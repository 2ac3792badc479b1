package sysio

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestIsFileLimit(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"EMFILE", syscall.EMFILE, true},
		{"ENFILE", syscall.ENFILE, true},
		{"wrapped by net", &os.SyscallError{Syscall: "accept4", Err: syscall.EMFILE}, true},
		{"wrapped by fmt", fmt.Errorf("dial: %w", syscall.ENFILE), true},
		{"another errno", syscall.EAGAIN, false},
		{"not an errno", errors.New("too many open files"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsFileLimit(tt.err); got != tt.want {
				t.Errorf("IsFileLimit(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestLimitErr(t *testing.T) {
	other := errors.New("connection refused")
	tests := []struct {
		name string
		err  error
		want string // prefix of the message
	}{
		{"the limit, explained", syscall.EMFILE, "too many open files"},
		{"other errors pass through", other, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LimitErr(tt.err)
			if !errors.Is(got, tt.err) || !strings.HasPrefix(got.Error(), tt.want) {
				t.Errorf("LimitErr(%v) = %q, want it to start %q and wrap the error", tt.err, got, tt.want)
			}
			if n := FileLimit(); IsFileLimit(tt.err) && n > 0 && !strings.Contains(got.Error(), fmt.Sprintf("(limit %d)", n)) {
				t.Errorf("LimitErr(%v) = %q, want it to name the limit %d", tt.err, got, n)
			}
		})
	}
}
