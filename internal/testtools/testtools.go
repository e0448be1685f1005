// Package testtools finds the independent validators in ../shared/tools and
// the shared captures for tests. A test that needs a validator calls Tool;
// when the validator (or what it installs) is missing, the test is skipped
// with a clear message, unless RCDS_REQUIRE_TOOLS=1 (set by .ci/run), in
// which case it fails.
package testtools

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the module root (the directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testtools: cannot locate source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Shared returns the path of ../shared beside the module root.
func Shared(t testing.TB) string {
	t.Helper()
	p := filepath.Join(Root(t), "..", "shared")
	if _, err := os.Stat(p); err != nil {
		missing(t, "../shared is not beside the repository: "+err.Error())
	}
	return p
}

// Path returns a path below ../shared (e.g. "testdata/pcaps/real/x.pcap").
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Shared(t), rel)
	if _, err := os.Stat(p); err != nil {
		missing(t, err.Error())
	}
	return p
}

// Tool returns the path of ../shared/tools/NAME after checking that the
// programs it depends on are installed (deps: e.g. "tshark", "xmllint", "erl").
func Tool(t testing.TB, name string, deps ...string) string {
	t.Helper()
	p := Path(t, filepath.Join("tools", name))
	for _, d := range deps {
		if _, err := exec.LookPath(d); err != nil {
			missing(t, name+" needs "+d+", which is not installed (.ci/run installs it)")
		}
	}
	return p
}

// Required reports whether missing tools fail tests instead of skipping them.
func Required() bool { return os.Getenv("RCDS_REQUIRE_TOOLS") == "1" }

func missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("required tool missing (RCDS_REQUIRE_TOOLS=1): %s", why)
	}
	t.Skipf("skipping: %s", why)
}
