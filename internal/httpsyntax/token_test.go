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

func TestIsToken(t *testing.T) {
	for s, want := range map[string]bool{"wsbench.echo": true, "chat-v2": true, "": false, "a b": false, "a,b": false, "é": false} {
		if got := IsToken(s); got != want {
			t.Errorf("IsToken(%q) = %v, want %v", s, got, want)
		}
	}
}
