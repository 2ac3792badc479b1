package yamlnode

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestKindName(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want string
	}{
		{"a: 1", "a mapping"}, {"[1, 2]", "a list"}, {"x", "a scalar"}, {"a: &x 1\nb: *x", "an alias"},
	} {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(tt.src), &doc); err != nil {
			t.Fatal(err)
		}
		n := doc.Content[0]
		if tt.want == "an alias" {
			n = n.Content[3]
		}
		if got := KindName(n.Kind); got != tt.want {
			t.Errorf("%q: %s, want %s", tt.src, got, tt.want)
		}
	}
	if got := KindName(0); got != "nothing" {
		t.Errorf("zero kind: %s, want nothing", got)
	}
}
