package driver_test

import (
	"fmt"
	"strings"

	"github.com/wsbench/wsbench/driver"
)

// The seed's S3 configuration with a compressed read timeout, as the stack
// renders it for a container.
func ExampleRenderNginx() {
	target := driver.Target{Name: "nginx", Kind: driver.KindNginx, Config: driver.ConfigMap,
		Params: map[string]string{"read_timeout": "5s"}}
	conf, err := driver.RenderNginx(target, driver.Env{Upstreams: []string{"backend-1:9000"}})
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(conf), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "proxy_") && !strings.HasPrefix(line, "proxy_temp") || strings.HasPrefix(line, "server ") && strings.HasSuffix(line, ";") || strings.HasPrefix(line, "listen") {
			fmt.Println(line)
		}
	}
	// Output:
	// server backend-1:9000;
	// listen 0.0.0.0:8080;
	// proxy_pass http://backend;
	// proxy_http_version 1.1;
	// proxy_set_header Upgrade $http_upgrade;
	// proxy_set_header Connection $connection_upgrade;
	// proxy_read_timeout 5s;
}
