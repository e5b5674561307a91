package interop

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"skyhub/internal/apptest"
	"skyhub/internal/config"
)

// runSkyNetRT runs one client script of test/interop/skynet_rt against a
// fresh in-process Skyhub and checks every step passed.
func runSkyNetRT(t *testing.T, module, script string, rate float64, env ...string) string {
	t.Helper()
	need(t, "node", lookPath("node"))
	needNodeModule(t, module)
	a := apptest.New(t, func(c *config.Config) {
		if rate > 0 {
			c.RateLimit = rate
		}
	})
	host, port, err := net.SplitHostPort(a.Addr("http"))
	if err != nil {
		t.Fatal(err)
	}
	env = append(env, "SKYHUB_HOST="+host, "SKYHUB_PORT="+port)
	out := runCmd(t, 60*time.Second, env, "node", "skynet_rt/"+script)
	if !strings.Contains(out, "PASS") {
		t.Fatalf("%s did not pass:\n%s", script, out)
	}
	return out
}

func wantSteps(t *testing.T, out string, steps ...string) {
	t.Helper()
	for _, s := range steps {
		if !strings.Contains(out, "ok "+s) {
			t.Errorf("step %q missing:\n%s", s, out)
		}
	}
}

var allSteps = []string{"auto-register", "auth", "whoami", "direct-message", "broadcast", "rpc-ack", "update-config", "unregister", "wrong-token"}

// meshblu@3.0.5 over Engine.IO long-polling only.
func TestSkyNetRTMeshbluPolling(t *testing.T) {
	out := runSkyNetRT(t, "meshblu", "meshblu.js", 0, "TRANSPORTS=polling")
	wantSteps(t, out, allSteps...)
	wantSteps(t, out, `transport "polling"`)
}

// meshblu@3.0.5 the default way: polling, then the WebSocket upgrade.
func TestSkyNetRTMeshbluUpgrade(t *testing.T) {
	out := runSkyNetRT(t, "meshblu", "meshblu.js", 0)
	wantSteps(t, out, allSteps...)
	wantSteps(t, out, `transport "websocket"`) // the upgrade happened
}

// meshblu@3.0.5 straight onto WebSocket.
func TestSkyNetRTMeshbluWebSocket(t *testing.T) {
	out := runSkyNetRT(t, "meshblu", "meshblu.js", 0, "TRANSPORTS=websocket")
	wantSteps(t, out, allSteps...)
	wantSteps(t, out, `transport "websocket"`)
}

// skynet@0.0.36: Socket.IO 0.9 over WebSocket, the lecture's client.
func TestSkyNetRTSkynet09(t *testing.T) {
	out := runSkyNetRT(t, "skynet", "skynet.js", 0)
	wantSteps(t, out, allSteps...)
}

// meshblu-websocket@2.3.8 on /ws/v2, through the client's own methods:
// whoami, update(query, {$set}) and unregister wait for the answer frame
// named after the request. No acks on this transport, so no RPC.
func TestSkyNetRTWSv2(t *testing.T) {
	out := runSkyNetRT(t, "meshblu-websocket", "wsv2.js", 0)
	wantSteps(t, out, "auto-register", "auth", "whoami", "direct-message", "broadcast", "update-config", "unregister", "wrong-token")
}

func TestSkyNetRTRateLimit(t *testing.T) {
	for _, c := range []struct{ name, module, script string }{
		{"meshblu", "meshblu", "meshblu.js"},
		{"skynet09", "skynet", "skynet.js"},
		{"wsv2", "meshblu-websocket", "wsv2.js"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := runSkyNetRT(t, c.module, c.script, 2, "SCENARIO=ratelimit")
			wantSteps(t, out, "rate-limit")
		})
	}
}

// Garbage on every real-time endpoint of the whole app gets the protocol's
// error, and the same server then serves a real client.
func TestSkyNetRTGarbage(t *testing.T) {
	need(t, "node", lookPath("node"))
	needNodeModule(t, "meshblu")
	a := apptest.New(t, nil)
	base := "http://" + a.Addr("http")
	ws := "ws://" + a.Addr("http")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	httpDo := func(method, url, body string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	read := func(c *websocket.Conn) string {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return string(b)
	}
	// Engine.IO: a bad payload is 400 {"code":3}; a bad protocol version {"code":5}
	if code, body := httpDo("GET", base+"/socket.io/?EIO=9&transport=polling", ""); code != 400 || !strings.Contains(body, `"code":5`) {
		t.Errorf("EIO=9: %d %s", code, body)
	}
	_, hs := httpDo("GET", base+"/socket.io/?EIO=3&transport=polling", "")
	sid := hs[strings.Index(hs, `"sid":"`)+7:]
	sid = sid[:strings.IndexByte(sid, '"')]
	if code, body := httpDo("POST", base+"/socket.io/?EIO=3&transport=polling&sid="+sid, "\x00garbage"); code != 400 || !strings.Contains(body, `"code":3`) {
		t.Errorf("garbage payload: %d %s", code, body)
	}
	// Socket.IO over WebSocket: an ERROR packet, the connection stays
	c, _, err := websocket.Dial(ctx, ws+"/socket.io/?EIO=3&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read(c) // open
	read(c) // 40
	read(c) // identify
	c.Write(ctx, websocket.MessageText, []byte(`42{"not":"an array"}`))
	if p := read(c); p != `44"parser error"` {
		t.Errorf("socket.io garbage: %q", p)
	}
	c.Write(ctx, websocket.MessageText, []byte(`2`))
	if p := read(c); p != `3` {
		t.Errorf("ping after garbage: %q", p)
	}
	// Socket.IO 0.9: an error frame
	_, h09 := httpDo("GET", base+"/socket.io/1/", "")
	c09, _, err := websocket.Dial(ctx, ws+"/socket.io/1/websocket/"+strings.Split(h09, ":")[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c09.CloseNow()
	read(c09) // 1::
	read(c09) // identify
	c09.Write(ctx, websocket.MessageText, []byte(`5:::{"args":"no name"}`))
	if p := read(c09); p != "7:::" {
		t.Errorf("0.9 garbage: %q", p)
	}
	// /ws/v2: ["error", {...}]
	cv2, _, err := websocket.Dial(ctx, ws+"/ws/v2", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cv2.CloseNow()
	read(cv2) // identify
	cv2.Write(ctx, websocket.MessageText, []byte(`{"identity":1}`))
	if p := read(cv2); !strings.HasPrefix(p, `["error",{`) || !strings.Contains(p, `"status":400`) {
		t.Errorf("ws/v2 garbage: %q", p)
	}
	// the live sessions are visible in /metrics
	_, metrics := httpDo("GET", base+"/metrics", "")
	for _, tr := range []string{"socket.io", "socket.io-0.9", "ws"} {
		if line := `skyhub_skynet_realtime_connections{transport="` + tr + `"} 1`; !strings.Contains(metrics, line) {
			t.Errorf("metrics lack %q", line)
		}
	}
	// and the server still serves a real client
	host, port, _ := net.SplitHostPort(a.Addr("http"))
	out := runCmd(t, 60*time.Second, []string{"SKYHUB_HOST=" + host, "SKYHUB_PORT=" + port}, "node", "skynet_rt/meshblu.js")
	wantSteps(t, out, allSteps...)
}
