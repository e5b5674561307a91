package transport_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/gammazero/nexus/v3/client"
	"github.com/gammazero/nexus/v3/transport/serialize"
	nwamp "github.com/gammazero/nexus/v3/wamp"

	"skyhub/internal/app"
	"skyhub/internal/apptest"
	"skyhub/internal/config"
)

// startApp runs the whole Skyhub with the universal port on as well.
func startApp(t *testing.T) *app.App {
	t.Helper()
	return apptest.New(t, func(c *config.Config) {
		c.WAMP.UniversalPort = apptest.FreePort(t)
	})
}

// endpoints returns every transport URL of a: WebSocket on the main
// listener, RawSocket, and both on the universal port.
func endpoints(a *app.App) map[string]string {
	return map[string]string{
		"websocket":           "ws://" + a.Addr("http") + a.Cfg.WAMP.Path,
		"rawsocket":           "tcp://" + a.Addr("wamp-rawsocket"),
		"universal-websocket": "ws://" + a.Addr("wamp-universal") + "/ws",
		"universal-rawsocket": "tcp://" + a.Addr("wamp-universal"),
	}
}

var serializers = []struct {
	name string
	s    serialize.Serialization
}{{"json", serialize.JSON}, {"msgpack", serialize.MSGPACK}, {"cbor", serialize.CBOR}}

func connect(t *testing.T, url string, s serialize.Serialization) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.ConnectNet(ctx, url, client.Config{Realm: "realm1", Serialization: s, ResponseTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestNexusClientEveryTransportAndSerializer runs the nexus Go client
// against the whole app over every transport × serializer: a session,
// register/call (with a binary argument and a 2^53 integer), and
// subscribe/publish (acknowledged). The caller/publisher uses the next
// serializer in the list, so every message also crosses serializers.
func TestNexusClientEveryTransportAndSerializer(t *testing.T) {
	a := startApp(t)
	for tname, url := range endpoints(a) {
		for i, ser := range serializers {
			other := serializers[(i+1)%len(serializers)]
			t.Run(tname+"/"+ser.name, func(t *testing.T) {
				callee := connect(t, url, ser.s)
				caller := connect(t, url, other.s)
				if callee.ID() == 0 || callee.ID() == caller.ID() {
					t.Fatalf("session ids %d %d", callee.ID(), caller.ID())
				}
				proc := fmt.Sprintf("com.example.add.%s.%s", tname, ser.name)
				err := callee.Register(proc, func(ctx context.Context, inv *nwamp.Invocation) client.InvokeResult {
					x, _ := nwamp.AsInt64(inv.Arguments[0])
					y, _ := nwamp.AsInt64(inv.Arguments[1])
					return client.InvokeResult{Args: nwamp.List{x + y, inv.Arguments[2]}}
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				// The nexus JSON client applies WAMP's binary convention only to
				// its BinaryData type (a plain []byte goes out as bare base64),
				// and hands received binary strings over undecoded.
				bin := []byte{0, 1, 2, 0xFE}
				var binArg any = bin
				var wantBin any = bin
				if other.s == serialize.JSON {
					binArg = serialize.BinaryData(bin)
					wantBin = "\x00" + base64.StdEncoding.EncodeToString(bin)
				}
				res, err := caller.Call(ctx, proc, nil, nwamp.List{1 << 52, 1 << 52, binArg}, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if sum, _ := nwamp.AsInt64(res.Arguments[0]); sum != 1<<53 {
					t.Fatalf("sum %v", res.Arguments[0])
				}
				if !reflect.DeepEqual(res.Arguments[1], wantBin) {
					t.Fatalf("binary argument came back as %T %q, want %q", res.Arguments[1], res.Arguments[1], wantBin)
				}

				topic := fmt.Sprintf("com.example.topic.%s.%s", tname, ser.name)
				events := make(chan *nwamp.Event, 1)
				if err := callee.SubscribeChan(topic, events, nil); err != nil {
					t.Fatal(err)
				}
				if err := caller.Publish(topic, nwamp.Dict{"acknowledge": true}, nwamp.List{"hi", int64(42)}, nwamp.Dict{"k": "v"}); err != nil {
					t.Fatal(err)
				}
				select {
				case ev := <-events:
					if ev.Arguments[0] != "hi" || ev.ArgumentsKw["k"] != "v" {
						t.Fatalf("event %v %v", ev.Arguments, ev.ArgumentsKw)
					}
					if n, _ := nwamp.AsInt64(ev.Arguments[1]); n != 42 {
						t.Fatalf("event arg %v", ev.Arguments[1])
					}
				case <-time.After(5 * time.Second):
					t.Fatal("no event")
				}
				if err := caller.Close(); err != nil {
					t.Fatalf("leave: %v", err)
				}
				if g := caller.RouterGoodbye(); g == nil || g.Reason != nwamp.CloseGoodbyeAndOut {
					t.Fatalf("router goodbye %v", g)
				}
			})
		}
	}
}

// TestWebSocketAtRootPath: wamp.path "/" (what the autobahn-js suite's
// test_binary needs: ws://127.0.0.1:8090 with no path) serves WAMP at any
// unclaimed path without hiding the other services' routes.
func TestWebSocketAtRootPath(t *testing.T) {
	a := apptest.New(t, func(c *config.Config) { c.WAMP.Path = "/" })
	c := connect(t, "ws://"+a.Addr("http"), serialize.JSON)
	if c.ID() == 0 {
		t.Fatal("no session")
	}
	r, err := http.Get(apptest.URL(a, "http") + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", r.StatusCode)
	}
}
