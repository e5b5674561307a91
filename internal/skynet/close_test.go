package skynet_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"skyhub/internal/device"
	"skyhub/internal/hub"
	"skyhub/internal/kv/pebblekv"
	"skyhub/internal/skynet"
)

// TestCloseEndsStreams: API.Close ends every open /subscribe stream at
// once (and a new one is refused), so a drain need not wait for clients.
func TestCloseEndsStreams(t *testing.T) {
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, _ := device.New(context.Background(), device.Config{Store: st, BcryptCost: 4})
	h := hub.New(hub.Config{Registry: reg})
	api := skynet.New(skynet.Config{Hub: h})
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	d, _ := reg.Register(context.Background(), device.Device{}, "")
	req, _ := http.NewRequest("GET", srv.URL+"/subscribe", nil)
	req.SetBasicAuth(d.UUID(), d["token"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// wait until the stream is attached, then send one message and close
	for i := 0; !h.Online(d.UUID()); i++ {
		if i > 500 {
			t.Fatal("stream never attached")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := h.Send(context.Background(), "", device.Device{"devices": d.UUID(), "payload": "last"}, hub.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	api.Close()
	done := make(chan []string, 1)
	go func() {
		var lines []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		done <- lines
	}()
	select {
	case lines := <-done:
		if len(lines) != 1 || !strings.Contains(lines[0], `"payload":"last"`) {
			t.Fatalf("stream wrote %q before ending", lines)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open after Close")
	}
	resp2, err := http.DefaultClient.Do(req.Clone(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 503 {
		t.Fatalf("new stream after Close: %d", resp2.StatusCode)
	}
}
