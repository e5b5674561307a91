package interop

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"skyhub/internal/apptest"
)

// need skips the test when a client is missing, unless SKYHUB_INTEROP=1
// (make test), where a missing client fails the test.
func need(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("SKYHUB_INTEROP") == "1" {
		t.Fatalf("%s is missing: run test/interop/setup.sh", what)
	}
	t.Skipf("%s is missing (run test/interop/setup.sh, or make test)", what)
}

// interopDir is this directory (node_modules lives here).
func interopDir(t *testing.T) string {
	return filepath.Join(apptest.RepoRoot(t), "test", "interop")
}

// needNodeModule checks that an npm package is installed here.
func needNodeModule(t *testing.T, pkg string) {
	t.Helper()
	_, err := os.Stat(filepath.Join(interopDir(t), "node_modules", pkg, "package.json"))
	need(t, "npm package "+pkg, err == nil)
}

// runCmd runs name with args in this directory with extra env, bounded by
// timeout; it returns stdout and fails the test (with stderr) on error.
func runCmd(t *testing.T, timeout time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = interopDir(t)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstdout:\n%s\nstderr:\n%s", name, args, err, out.String(), errb.String())
	}
	return out.String()
}

// lookPath reports whether a program is on PATH (or an absolute path exists).
func lookPath(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}
