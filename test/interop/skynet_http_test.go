package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"skyhub/internal/apptest"
	"skyhub/internal/config"
)

// curlJSON runs curl with args and decodes its JSON output.
func curlJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out := runCmd(t, 10*time.Second, nil, "curl", append([]string{"-s"}, args...)...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("curl %v: not JSON: %q", args, out)
	}
	return m
}

func hasKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: field %q missing in %v", what, k, m)
		}
	}
}

// TestSkyNetLectureCurl runs the lecture's Box 8.41 with curl, unchanged
// but for the host (and "myuuid", which the lecture meant as the uuid the
// server gave).
func TestSkyNetLectureCurl(t *testing.T) {
	need(t, "curl", lookPath("curl"))
	a := apptest.New(t, nil)
	base := apptest.URL(a, "http")

	reg := curlJSON(t, "-X", "POST", "-d", "name=mydevicename&token=mytoken&color=green", base+"/devices")
	hasKeys(t, "register", reg, "name", "token", "ipAddress", "uuid", "timestamp", "channel", "online", "_id", "eventCode")
	if reg["eventCode"] != float64(400) || reg["token"] != "mytoken" || reg["channel"] != "main" || reg["online"] != false {
		t.Fatalf("register: %v", reg)
	}
	myuuid := reg["uuid"].(string)

	dev := curlJSON(t, base+"/devices/"+myuuid)
	hasKeys(t, "get", dev, "name", "ipAddress", "uuid", "timestamp", "channel", "online", "_id", "eventCode")
	if dev["eventCode"] != float64(500) || dev["token"] != nil {
		t.Fatalf("get: %v", dev)
	}

	upd := curlJSON(t, "-X", "PUT", "-d", "token=mytoken&color=red", base+"/devices/"+myuuid)
	if upd["color"] != "red" || upd["uuid"] != myuuid {
		t.Fatalf("update: %v", upd)
	}

	// the subscriber stays connected while the message is sent
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub := exec.CommandContext(ctx, "curl", "-s", "-N", "--max-time", "2", "-X", "GET", base+"/subscribe/"+myuuid+"?token=mytoken")
	var subOut bytes.Buffer
	sub.Stdout = &subOut
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	// wait until the stream is attached: the device goes online
	deadline := time.Now().Add(5 * time.Second)
	for {
		if d := curlJSON(t, base+"/devices/"+myuuid); d["online"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscribe stream never attached")
		}
		time.Sleep(20 * time.Millisecond)
	}

	msg := curlJSON(t, "-X", "POST", "-d", `{"devices": "`+myuuid+`", "message": {"color": "red"}}`, base+"/messages")
	if msg["devices"] != myuuid {
		t.Fatalf("message: %v", msg)
	}

	evs := curlJSON(t, "-X", "GET", base+"/events/"+myuuid+"?token=mytoken")
	list, _ := evs["events"].([]any)
	if len(list) == 0 {
		t.Fatalf("events: %v", evs)
	}
	newest := list[0].(map[string]any)
	hasKeys(t, "event", newest, "timestamp", "eventCode", "id")
	if newest["eventCode"] != float64(300) || newest["message"].(map[string]any)["color"] != "red" {
		t.Fatalf("newest event: %v", newest)
	}
	var sawWhoami bool
	for _, e := range list {
		if e.(map[string]any)["eventCode"] == float64(500) {
			sawWhoami = true
		}
	}
	if !sawWhoami {
		t.Errorf("events lack the eventCode 500 entry: %v", list)
	}

	sub.Wait()
	got := subOut.String()
	if !strings.HasPrefix(got, "[\n") || !strings.Contains(got, `"message":{"color":"red"}`) || !strings.Contains(got, "},\n") {
		t.Fatalf("subscribe stream output %q", got)
	}
}

// TestMeshbluHTTP drives the real meshblu-http@10.2.0 client.
func TestMeshbluHTTP(t *testing.T) {
	need(t, "node", lookPath("node"))
	needNodeModule(t, "meshblu-http")
	needNodeModule(t, "meshblu")
	a := apptest.New(t, func(c *config.Config) { c.RateLimit = 5 })
	port := a.Addr("http")[strings.LastIndex(a.Addr("http"), ":")+1:]
	if _, err := strconv.Atoi(port); err != nil {
		t.Fatal(port)
	}
	out := runCmd(t, 30*time.Second, []string{"SKYHUB_PORT=" + port}, "node", "skynet_http/meshblu_http.js")
	var r struct {
		Registered struct {
			UUID, Token, Color string
			Online             bool
		}
		Whoami struct {
			SameUUID bool `json:"sameUuid"`
			HasToken bool
			Color    string
		}
		StreamContentType string
		Streamed          struct {
			FromOk  bool
			Payload map[string]any
			Devices []string
		}
		Updated struct {
			Color    string
			HasToken bool
		}
		Subscription struct {
			Listed  int
			Payload string
			FromOk  bool
		}
		ConfigPush struct {
			UUID     bool
			Color    string
			HasToken bool
		}
		WrongToken      any
		RateLimited     any
		AfterUnregister any
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("script output %q: %v", out, err)
	}
	if r.Registered.UUID != "string" || r.Registered.Token != "string" || r.Registered.Color != "green" {
		t.Errorf("register: %+v", r.Registered)
	}
	if !r.Whoami.SameUUID || r.Whoami.HasToken || r.Whoami.Color != "green" {
		t.Errorf("whoami: %+v", r.Whoami)
	}
	if r.StreamContentType != "application/x-ndjson" || !r.Streamed.FromOk || r.Streamed.Payload["hello"] != "world" {
		t.Errorf("stream (%s): %+v", r.StreamContentType, r.Streamed)
	}
	if r.Updated.Color != "red" || r.Updated.HasToken {
		t.Errorf("update: %+v", r.Updated)
	}
	if r.Subscription.Listed != 1 || r.Subscription.Payload != "to everyone" || !r.Subscription.FromOk {
		t.Errorf("server-side subscription: %+v", r.Subscription)
	}
	if !r.ConfigPush.UUID || r.ConfigPush.Color != "red" || r.ConfigPush.HasToken {
		t.Errorf("config push to the socket: %+v", r.ConfigPush)
	}
	if r.WrongToken != float64(401) {
		t.Errorf("wrong token: %v", r.WrongToken)
	}
	if r.RateLimited != float64(429) {
		t.Errorf("rate limit: %v", r.RateLimited)
	}
	if r.AfterUnregister != float64(401) {
		t.Errorf("after unregister: %v", r.AfterUnregister)
	}
}
