package report_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/tcptest"
	"github.com/wsbench/wsbench/loadgen"
	"github.com/wsbench/wsbench/report"
	"github.com/wsbench/wsbench/results"
)

// closeAfterUpgrade answers every WebSocket handshake with a valid 101
// and closes the connection at once.
func closeAfterUpgrade(c net.Conn) {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]))
}

// Hold against a server that closes right after the 101: every connection
// dropped at once. The survival curve starts at t=0 with all of them, and
// the report's "half dropped" is of the connections opened, not of the
// curve's first drop.
func TestHoldSurvivalEverythingDropped(t *testing.T) {
	addr := tcptest.Serve(t, closeAfterUpgrade)
	const conns = 5
	run, err := loadgen.Run(context.Background(), loadgen.Options{
		URL: "ws://" + addr + "/", Workload: loadgen.WorkloadHold, Conns: conns, Duration: time.Second,
	}, loadgen.Progress{})
	if err != nil {
		t.Fatal(err)
	}
	s := &run.Summary
	if s.Connections.Opened != conns || s.Hold == nil || len(s.Hold.Survival) == 0 {
		t.Fatalf("connections %+v, hold %+v; want %d opened and a survival curve", s.Connections, s.Hold, conns)
	}
	if first := s.Hold.Survival[0]; first != (results.SurvivalPoint{T: 0, Open: conns}) {
		t.Errorf("survival starts at %+v, want {0 %d}: every opened connection at t=0", first, conns)
	}
	if last := s.Hold.Survival[len(s.Hold.Survival)-1]; last.Open != 0 {
		t.Errorf("survival ends at %+v, want 0 open", last)
	}
	var buf bytes.Buffer
	if err := report.Report(&buf, s); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("half of the %d connections had dropped by", conns); !strings.Contains(buf.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, buf.String())
	}
}
