package transport

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"skyhub/internal/wamp"
)

// idleAcceptor waits for the session to end, like a router's session
// goroutine does.
type idleAcceptor struct{}

func (idleAcceptor) Accept(p wamp.Peer) {
	for m := range p.Recv() {
		if _, ok := m.(*wamp.Hello); ok {
			p.Send(&wamp.Welcome{Session: 1, Details: wamp.Dict{}})
		}
	}
}

// TestIdleMemoryPerSession reports the transport's own heap + stack cost
// of an idle WebSocket session (WAMP_MEM=n to run, n sessions).
func TestIdleMemoryPerSession(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("WAMP_MEM"))
	if n == 0 {
		t.Skip("set WAMP_MEM=<sessions> to measure")
	}
	s := New(Config{}, idleAcceptor{})
	ln := listen(t)
	hs := &http.Server{Handler: s}
	go hs.Serve(ln)
	defer hs.Close()
	measure := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse
	}
	before := measure()
	var conns []net.Conn
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		key := make([]byte, 16)
		rand.Read(key)
		io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "+
			base64.StdEncoding.EncodeToString(key)+"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n")
		br := bufio.NewReaderSize(c, 16)
		if _, err := http.ReadResponse(br, nil); err != nil {
			t.Fatal(err)
		}
		msg := []byte(`[1,"realm1",{}]`)
		f := append([]byte{0x81, 0x80 | byte(len(msg)), 0, 0, 0, 0}, msg...)
		c.Write(f)
		io.ReadFull(br, make([]byte, 2+len(`[2,1,{}]`)))
	}
	time.Sleep(200 * time.Millisecond)
	after := measure()
	t.Logf("%d idle sessions: %.1f KB each (heap+stacks, transport + a one-goroutine acceptor, server side only; client conns share the process)",
		n, float64(after-before)/float64(n)/1024)
	for _, c := range conns {
		c.Close()
	}
}
