package wrap

import (
	"reflect"
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	for _, tt := range []struct {
		in    string
		width int
		want  []string
	}{
		{"", 10, nil},
		{"one two three", 7, []string{"one two", "three"}},
		{"one two three", 13, []string{"one two three"}},
		{"a verylongword b", 4, []string{"a", "verylongword", "b"}},
	} {
		if got := Words(strings.Fields(tt.in), tt.width); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Words(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{{"abc", 3, "abc"}, {"abcd", 3, "abc…"}, {"µµµµ", 2, "µµ…"}} {
		if got := Clip(tt.in, tt.n); got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
