package skynet_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"skyhub/internal/apptest"
)

// TestDurableAcrossKill9: devices, events and queued offline messages that
// the server acknowledged are all there after kill -9 and a restart.
func TestDurableAcrossKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	p := apptest.StartProc(t, dir, apptest.Ports{})
	c := &client{t: t, base: p.HTTP()}

	type dev struct{ uuid, token string }
	var devs []dev
	for i := 0; i < 4; i++ {
		u, tok := c.register(fmt.Sprintf("name=dev%d&n=%d", i, i))
		devs = append(devs, dev{u, tok})
	}
	recvUUID, recvTok := c.register("name=receiver&offlineQueue=true")
	sender := devs[0]
	hdr := map[string]string{"skynet_auth_uuid": sender.uuid, "skynet_auth_token": sender.token}
	const n = 5
	for i := 0; i < n; i++ {
		st, d := c.do("POST", "/messages", "application/json", fmt.Sprintf(`{"devices":"%s","payload":{"seq":%d}}`, recvUUID, i), hdr)
		if st != 200 {
			t.Fatalf("message %d: %d %v", i, st, d)
		}
	}
	p.Kill()

	p2 := apptest.StartProc(t, dir, p.Ports)
	c2 := &client{t: t, base: p2.HTTP()}
	for _, d := range devs {
		if st, g := c2.do("GET", "/devices/"+d.uuid, "", "", nil); st != 200 || g["uuid"] != d.uuid {
			t.Fatalf("device %s after restart: %d %v", d.uuid, st, g)
		}
		if st, a := c2.do("GET", "/authenticate/"+d.uuid+"?token="+d.token, "", "", nil); st != 200 || a["authentication"] != true {
			t.Fatalf("token of %s after restart: %d %v", d.uuid, st, a)
		}
	}
	st, ev := c2.do("GET", "/events/"+recvUUID+"?token="+recvTok, "", "", nil)
	evs, _ := ev["events"].([]any)
	msgs := 0
	for _, e := range evs {
		if e.(map[string]any)["eventCode"] == float64(300) {
			msgs++
		}
	}
	if st != 200 || msgs != n {
		t.Fatalf("events after restart: %d, %d message events, %v", st, msgs, ev)
	}

	// the receiver connects (NDJSON stream as itself) and gets its queue in order
	req, _ := http.NewRequest("GET", p2.HTTP()+"/subscribe", nil)
	req.SetBasicAuth(recvUUID, recvTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, n)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) != "" {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	for i := 0; i < n; i++ {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended after %d queued messages", i)
			}
			var m struct {
				FromUUID string `json:"fromUuid"`
				Payload  struct{ Seq int }
			}
			if err := json.Unmarshal([]byte(l), &m); err != nil || m.Payload.Seq != i || m.FromUUID != sender.uuid {
				t.Fatalf("queued message %d = %q (%v)", i, l, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("queued message %d not delivered", i)
		}
	}
}
