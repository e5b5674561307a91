package interop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"skyhub/internal/app"
	"skyhub/internal/apptest"
	"skyhub/internal/config"
)

// debianPython is the interpreter python3-autobahn is installed for.
const debianPython = "/usr/bin/python3"

// startWAMP runs Skyhub in-process with realm1 (open) and authrealm
// (ticket-user / ticket-pass stored as a sha256 hash, wamp-cra-user /
// cra-secret, wamp-cra-salt-user / cra-salt-secret salted).
func startWAMP(t *testing.T) *app.App {
	t.Helper()
	sum := sha256.Sum256([]byte("ticket-pass"))
	settings, err := json.Marshal(map[string]any{
		"anonymous": false,
		"principals": map[string]any{
			"ticket-user":        map[string]any{"role": "user", "ticket": "sha256:" + hex.EncodeToString(sum[:])},
			"wamp-cra-user":      map[string]any{"role": "user", "secret": "cra-secret"},
			"wamp-cra-salt-user": map[string]any{"role": "user", "secret": "cra-salt-secret", "salt": "salt123", "iterations": 100, "keylen": 32},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return apptest.New(t, func(c *config.Config) {
		c.WAMP.Realms = []config.RealmConfig{{Name: "realm1"}, {Name: "authrealm", Settings: settings}}
	})
}

var wampSteps = []string{"call add2", "progressive final result", "progressive results", "pattern registration",
	"cancel", "no such procedure", "publication id", "event exact", "event prefix", "event wildcard",
	"ticket auth role", "wampcra auth role", "salted wampcra auth role"}

func checkWAMPOut(t *testing.T, out string, extra ...string) {
	t.Helper()
	if !strings.Contains(out, "ALL OK") {
		t.Fatalf("client did not finish:\n%s", out)
	}
	for _, s := range append(wampSteps, extra...) {
		if !strings.Contains(out, "ok "+s) {
			t.Errorf("step %q missing:\n%s", s, out)
		}
	}
}

func TestWAMPAutobahnJS(t *testing.T) {
	need(t, "node", lookPath("node"))
	needNodeModule(t, "autobahn")
	a := startWAMP(t)
	ws := "ws://" + a.Addr("http") + "/ws"
	host, port, _ := strings.Cut(a.Addr("wamp-rawsocket"), ":")
	cases := []struct {
		name string
		env  []string
	}{
		{"websocket-json", []string{"WAMP_TRANSPORT=websocket", "WAMP_URL=" + ws, "WAMP_SER=json"}},
		{"websocket-msgpack", []string{"WAMP_TRANSPORT=websocket", "WAMP_URL=" + ws, "WAMP_SER=msgpack"}},
		{"websocket-cbor", []string{"WAMP_TRANSPORT=websocket", "WAMP_URL=" + ws, "WAMP_SER=cbor"}},
		// autobahn-js's RawSocket speaks JSON only.
		{"rawsocket-json", []string{"WAMP_TRANSPORT=rawsocket", "WAMP_HOST=" + host, "WAMP_PORT=" + port}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Node 20 needs the flag for the global WebSocket autobahn-js uses.
			out := runCmd(t, 60*time.Second, tc.env, "node", "--experimental-websocket", "wamp/autobahn_js.js")
			t.Log(out)
			checkWAMPOut(t, out, "wrong ticket refused")
		})
	}
}

func TestWAMPAutobahnPython(t *testing.T) {
	_, err := os.Stat(debianPython)
	need(t, "Debian python3", err == nil)
	need(t, "python3-autobahn", runOK(debianPython, "-c", "import autobahn.twisted.component, msgpack"))
	a := startWAMP(t)
	ws := "ws://" + a.Addr("http") + "/ws"
	raw := a.Addr("wamp-rawsocket")
	cases := [][]string{
		{"websocket", ws, "json"},
		{"websocket", ws, "msgpack"},
		{"rawsocket", raw, "json"},
		{"rawsocket", raw, "msgpack"},
	}
	for _, args := range cases {
		t.Run(args[0]+"-"+args[2], func(t *testing.T) {
			out := runCmd(t, 60*time.Second, nil, debianPython, append([]string{"wamp/autobahn_py.py"}, args...)...)
			t.Log(out)
			checkWAMPOut(t, out, "session alive after cancel")
			if args[0] != "websocket" || args[2] != "json" {
				return // the refusal is checked once
			}
			out = runCmd(t, 60*time.Second, nil, debianPython, append([]string{"wamp/autobahn_py.py"}, append(args, "wrong-ticket")...)...)
			if !strings.Contains(out, "ok wrong ticket refused") || !strings.Contains(out, "ALL OK") {
				t.Errorf("wrong ticket not refused:\n%s", out)
			}
		})
	}
}

// runOK reports whether a command exits 0 (bounded to 20 s).
func runOK(name string, args ...string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, name, args...).Run() == nil
}
