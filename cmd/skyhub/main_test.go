package main

import (
	"testing"
)

func TestInvalidConfigStopsStart(t *testing.T) {
	if code := run([]string{"serve", "-port", "70000"}, nil); code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	if code := run([]string{"bogus"}, nil); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
	if code := run([]string{"version"}, nil); code != 0 {
		t.Fatal("version failed")
	}
	if code := run([]string{"config", "-data", "/tmp/x"}, nil); code != 0 {
		t.Fatal("config failed")
	}
}
