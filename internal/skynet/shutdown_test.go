package skynet_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"skyhub/internal/apptest"
	"skyhub/internal/skynet/socketio"
)

// TestSIGTERMEndsStreamsAndPolls: the real binary, with an open /subscribe
// stream and a waiting Engine.IO long poll, exits 0 on SIGTERM and ends
// both properly (the stream's chunked body is terminated, the poll gets a
// complete answer) instead of holding the HTTP drain until
// shutdownTimeout, after which the process would exit with both cut off.
func TestSIGTERMEndsStreamsAndPolls(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := apptest.StartProc(t, t.TempDir(), apptest.Ports{})
	c := &client{t: t, base: p.HTTP()}
	uuid, token := c.register("name=listener")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// the stream, attached: a message sent to the device arrives on it
	req, _ := http.NewRequestWithContext(ctx, "GET", p.HTTP()+"/subscribe", nil)
	req.SetBasicAuth(uuid, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 16)
	streamEnd := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) != "" {
				lines <- sc.Text()
			}
		}
		streamEnd <- sc.Err()
	}()
	// the response headers can arrive before the hub attached the stream,
	// and a message to a device not yet online is not for the stream:
	// send until one arrives (bounded)
	hdr := map[string]string{"skynet_auth_uuid": uuid, "skynet_auth_token": token}
	send := time.NewTicker(200 * time.Millisecond)
	defer send.Stop()
	for got := false; !got; {
		if st, d := c.do("POST", "/messages", "application/json", fmt.Sprintf(`{"devices":"%s","payload":"hi"}`, uuid), hdr); st != 200 {
			t.Fatalf("message: %d %v", st, d)
		}
		select {
		case l := <-lines:
			if !strings.Contains(l, `"payload":"hi"`) {
				t.Fatalf("stream line %q", l)
			}
			got = true
		case <-send.C:
		case <-ctx.Done():
			t.Fatal("stream never delivered")
		}
	}

	// an Engine.IO session whose next poll waits (nothing queued)
	noKeepAlive := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	poll := func(u string) (int, []byte, error) {
		r, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
		resp, err := noKeepAlive.Do(r)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	base := p.HTTP() + "/socket.io/?EIO=3&transport=polling"
	_, hs, err := poll(base)
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := socketio.DecodePayload(hs)
	if err != nil || len(pkts) == 0 || !strings.Contains(string(pkts[0].Data), `"sid":"`) {
		t.Fatalf("handshake %q: %v", hs, err)
	}
	sid := string(pkts[0].Data)
	sid = sid[strings.Index(sid, `"sid":"`)+7:]
	sid = sid[:strings.IndexByte(sid, '"')]
	u := base + "&sid=" + sid
	// drain what Connect emitted (identify), then leave one poll waiting
	for i := 0; ; i++ {
		if i > 5 {
			t.Fatal("polls never empty")
		}
		if !strings.Contains(string(hs), "identify") {
			_, hs, err = poll(u)
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		break
	}
	type answer struct {
		code int
		body []byte
		err  error
	}
	polled := make(chan answer, 1)
	go func() {
		code, b, err := poll(u)
		polled <- answer{code, b, err}
	}()
	// the server holds the poll (its gauge says so), then SIGTERM
	for i := 0; ; i++ {
		if i > 500 {
			t.Fatal("the poll never waited")
		}
		if st, m := c.raw("GET", "/metrics"); st == 200 && strings.Contains(m, `skyhub_skynet_realtime_polls_waiting{transport="socket.io"} 1`) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	if code := p.Stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.Log())
	}
	select {
	case err := <-streamEnd:
		if err != nil {
			t.Fatalf("stream cut off instead of ended: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("stream still open after exit")
	}
	a := <-polled
	if a.err != nil {
		t.Fatalf("long poll cut off instead of answered: %v", a.err)
	}
	// answered by the session's close: DISCONNECT, then the close packet
	got, err := socketio.DecodePayload(a.body)
	if a.code != 200 || err != nil || len(got) == 0 || got[len(got)-1].Type != '1' {
		t.Fatalf("long poll answer %d %q: %v", a.code, a.body, err)
	}
}

// raw GETs path and returns the status and body as text.
func (c *client) raw(method, path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, nil)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
