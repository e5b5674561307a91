package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"skyhub/internal/apptest"
)

func TestHealthAndMetrics(t *testing.T) {
	a := apptest.New(t, nil)
	base := apptest.URL(a, "http")
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"ok"`) {
		t.Fatalf("healthz: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "go_goroutines") {
		t.Fatal("metrics lack the Go collector")
	}
}

// TestGracefulShutdown runs the real binary and checks that SIGTERM exits 0
// and that the data directory can be opened again afterwards.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	p := apptest.StartProc(t, dir, apptest.Ports{})
	if code := p.Stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.Log())
	}
	p = apptest.StartProc(t, dir, apptest.Ports{})
	if code := p.Stop(t); code != 0 {
		t.Fatalf("restart: exit code %d:\n%s", code, p.Log())
	}
}
