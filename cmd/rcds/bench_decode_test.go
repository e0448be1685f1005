package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rcds/internal/msngen"
)

// TestDecodeFormatNone checks the benchmark format of bench/decode.sh:
// `rcds decode --format none` decodes every event (the summary counts
// them all) and prints none, where jsonl and text print one line each.
func TestDecodeFormatNone(t *testing.T) {
	var capBuf bytes.Buffer
	res, err := msngen.Generate(&capBuf, msngen.Options{Seed: 9, Sessions: 12, Concurrency: 4, Noise: 0.2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gen.pcap")
	if err := os.WriteFile(path, capBuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		format string
		lines  int
	}{
		{"none", 0},
		{"jsonl", res.Events},
		{"text", res.Events},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var out, errOut bytes.Buffer
			root := newRootCommand(&globalOptions{})
			root.SetOut(&out)
			root.SetErr(&errOut)
			root.SetArgs([]string{"decode", "--progress", "never", "--format", tt.format, path})
			if err := root.Execute(); err != nil {
				t.Fatalf("decode: %v (stderr %s)", err, errOut.String())
			}
			if got := strings.Count(out.String(), "\n"); got != tt.lines {
				t.Errorf("%d lines printed, want %d", got, tt.lines)
			}
			want := fmt.Sprintf("%d packets, ", res.Packets)
			if !strings.Contains(errOut.String(), want) || !strings.Contains(errOut.String(), fmt.Sprintf(", %d events, 0 errors", res.Events)) {
				t.Errorf("summary %q, want %s... %d events, 0 errors", errOut.String(), want, res.Events)
			}
		})
	}
}
