package stack

import (
	"strings"
	"testing"
)

// A registered Program is a Service.Image: its configuration must be in
// Files, and a kind registered twice is refused.
func TestProgramRegistration(t *testing.T) {
	p := Program{Kind: "testproxy", Binary: "/usr/sbin/testproxy", Conf: "/etc/testproxy.conf",
		Args: func(conf string) []string { return []string{"-f", conf} }}
	RegisterProgram(p)
	ok := Service{Name: "p", Image: "testproxy", Port: 8080, Files: map[string][]byte{"/etc/testproxy.conf": nil}}
	if err := ok.validate(); err != nil {
		t.Errorf("registered program: %v", err)
	}
	noConf := Service{Name: "p", Image: "testproxy", Port: 8080}
	if err := noConf.validate(); err == nil || !strings.Contains(err.Error(), `testproxy needs its configuration in Files["/etc/testproxy.conf"]`) {
		t.Errorf("no configuration: %v", err)
	}
	unknown := Service{Name: "p", Image: "squid", Port: 8080}
	if err := unknown.validate(); err == nil || !strings.Contains(err.Error(), "want one of wsbench, nginx, ") || !strings.Contains(err.Error(), "testproxy") {
		t.Errorf("unknown image: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a kind registered twice did not panic")
		}
	}()
	RegisterProgram(p)
}
