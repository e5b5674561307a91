package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Port != 3000 || c.RateLimit != 10 || c.AWS.Port != 4566 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestFileThenEnv(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "skyhub.json")
	os.WriteFile(p, []byte(`{"port": 4000, "rateLimit": 5, "log": {"level":"debug","format":"json"},
		"dataDir": "/tmp/x", "skynet": {"offlineMaxAge": "1h"}}`), 0o644)
	c, err := Load(p, []string{"PORT=5000", "SKYHUB_DATA=/var/skyhub"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 5000 || c.RateLimit != 5 || c.DataDir != "/var/skyhub" || c.Log.Level != "debug" {
		t.Fatalf("got %+v", c)
	}
	if c.SkyNet.OfflineMaxAge.D() != time.Hour {
		t.Fatalf("offlineMaxAge = %v", c.SkyNet.OfflineMaxAge.D())
	}
	c, err = Load("", []string{"PORT=5000", "SKYHUB_PORT=6000"})
	if err != nil || c.Port != 6000 {
		t.Fatalf("SKYHUB_PORT must win over PORT: %v %v", c.Port, err)
	}
}

func TestInvalid(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.json")
	os.WriteFile(p, []byte(`{"prot": 1}`), 0o644)
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "prot") {
		t.Fatalf("unknown key must be reported, got %v", err)
	}
	if _, err := Load("", []string{"PORT=abc"}); err == nil {
		t.Fatal("bad PORT must fail")
	}
	c := Default()
	c.Port = 70000
	c.Log.Level = "loud"
	c.AWS.Port = 70000
	err := c.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"port: 70000", "log.level", "aws.port"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	c = Default()
	c.AWS.Port = 3000
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "both use port 3000") {
		t.Fatalf("port clash not reported: %v", err)
	}
}

func TestRuntimeSettings(t *testing.T) {
	c, err := Load("", []string{"SKYHUB_GC_PERCENT=200", "SKYHUB_MEMORY_LIMIT_MIB=128"})
	if err != nil || c.Runtime.GCPercent != 200 || c.Runtime.MemoryLimitMiB != 128 {
		t.Fatalf("env overrides: %+v %v", c.Runtime, err)
	}
	for _, tc := range []struct {
		rc   RuntimeConfig
		want string
	}{
		{RuntimeConfig{GCPercent: -2}, "runtime.gcPercent"},
		{RuntimeConfig{GCPercent: -1}, "needs a runtime.memoryLimitMiB"},
		{RuntimeConfig{MemoryLimitMiB: -1}, "runtime.memoryLimitMiB"},
		{RuntimeConfig{IdleTrim: -1}, "runtime.idleTrim"},
	} {
		c := Default()
		c.Runtime = tc.rc
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: want %q, got %v", tc.rc, tc.want, err)
		}
	}
}
