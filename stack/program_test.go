package stack

import (
	"context"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/internal/testenv"
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

// A Program's Modules come into its image with the libraries they, and
// not the binary, link: apache2 has no libssl, mod_ssl does.
func TestProgramRootfsModules(t *testing.T) {
	bin := testenv.Program(t, "apache2", "WSBENCH_REQUIRE_APACHE")
	const mod = "/usr/lib/apache2/modules/mod_ssl.so"
	p := Program{Kind: "apache-modules-test", Binary: "/usr/sbin/apache2", Modules: []string{mod}}
	fs, err := p.rootfs(context.Background(), bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fs[mod]; !ok {
		t.Errorf("rootfs lacks the module %s", mod)
	}
	var ssl []string
	for path := range fs {
		if strings.Contains(path, "/libssl.so") {
			ssl = append(ssl, path)
		}
	}
	if len(ssl) == 0 {
		t.Errorf("rootfs lacks mod_ssl's libssl")
	}
	if _, ok := fs["/usr/sbin/apache2"]; !ok {
		t.Errorf("rootfs lacks the binary")
	}
}
