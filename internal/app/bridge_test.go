package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gammazero/nexus/v3/client"
	"github.com/gammazero/nexus/v3/transport/serialize"
	nwamp "github.com/gammazero/nexus/v3/wamp"

	"skyhub/internal/apptest"
)

// TestWAMPBridgeSeesDevices runs the whole app and checks the SkyNet <->
// WAMP bridge through real wires: a device message posted over SkyNet REST
// arrives as a WAMP event at a nexus client, and a WAMP call to
// skynet.message reaches a device (seen in its event log over REST).
func TestWAMPBridgeSeesDevices(t *testing.T) {
	a := apptest.New(t, nil)
	base := apptest.URL(a, "http")
	register := func(name string) (uuid, token string) {
		resp, err := http.PostForm(base+"/devices", url.Values{"name": {name}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != 200 {
			t.Fatalf("register: %d %v", resp.StatusCode, err)
		}
		return d["uuid"].(string), d["token"].(string)
	}
	fromUUID, fromToken := register("sender")
	toUUID, toToken := register("receiver")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.ConnectNet(ctx, "ws://"+a.Addr("http")+a.Cfg.WAMP.Path,
		client.Config{Realm: a.Cfg.WAMP.Realms[0].Name, Serialization: serialize.JSON, ResponseTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	events := make(chan *nwamp.Event, 4)
	if err := c.SubscribeChan("skynet.device."+toUUID+".message", events, nil); err != nil {
		t.Fatal(err)
	}

	body := `{"devices": "` + toUUID + `", "message": {"color": "red"}, "uuid": "` + fromUUID + `", "token": "` + fromToken + `"}`
	resp, err := http.Post(base+"/messages", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /messages: %d %s", resp.StatusCode, b)
	}
	select {
	case ev := <-events:
		if ev.ArgumentsKw["fromUuid"] != fromUUID {
			t.Fatalf("event fromUuid = %v, want %s (kw %v)", ev.ArgumentsKw["fromUuid"], fromUUID, ev.ArgumentsKw)
		}
		if msg, _ := ev.ArgumentsKw["message"].(map[string]any); msg == nil || msg["color"] != "red" {
			t.Fatalf("event lacks the message body: %v", ev.ArgumentsKw)
		}
	case <-ctx.Done():
		t.Fatal("no WAMP event for a device message")
	}

	res, err := c.Call(ctx, "skynet.message", nil, nil,
		nwamp.Dict{"devices": toUUID, "payload": map[string]any{"from": "wamp"}, "uuid": fromUUID, "token": fromToken}, nil)
	if err != nil {
		t.Fatalf("call skynet.message: %v (router goodbye %v)", err, c.RouterGoodbye())
	}
	if len(res.ArgumentsKw) == 0 && len(res.Arguments) == 0 {
		t.Fatal("skynet.message returned nothing")
	}
	// The device's own event log (over REST) now holds the WAMP-sent message.
	resp, err = http.Get(base + "/events/" + toUUID + "?token=" + toToken)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"wamp"`) {
		t.Fatalf("receiver's events lack the WAMP-sent message: %s", b)
	}

	_, err = c.Call(ctx, "skynet.message", nil, nil, nwamp.Dict{"devices": toUUID, "uuid": fromUUID, "token": "wrong"}, nil)
	if err == nil {
		t.Fatal("a wrong device token must be refused")
	}
}
