package httpsyntax

import "testing"

func TestIsTokenChar(t *testing.T) {
	for _, tt := range []struct {
		c    byte
		want bool
	}{
		{'a', true}, {'Z', true}, {'0', true}, {'-', true}, {'~', true}, {'!', true},
		{' ', false}, {':', false}, {'"', false}, {'(', false}, {0, false}, {'\r', false}, {0x80, false}, {0xff, false},
	} {
		if got := IsTokenChar(tt.c); got != tt.want {
			t.Errorf("IsTokenChar(%q) = %v, want %v", tt.c, got, tt.want)
		}
	}
}
