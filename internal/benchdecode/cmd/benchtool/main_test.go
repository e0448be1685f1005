package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rcds/decoder"
	"rcds/internal/msngen"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	capPath := filepath.Join(dir, "gen.pcap")
	var buf bytes.Buffer
	res, err := msngen.Generate(&buf, msngen.Options{Seed: 2, Sessions: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(capPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	event := string(decoder.AppendJSON(nil, &decoder.Event{Kind: decoder.KindMessage, From: "bob@example.net", Body: "hi", Charset: "UTF-8"})) + "\n"
	events := write("events.jsonl", event)
	found := write("found.out", "Nov 28 18:28:27 MSN bob@example.net > unknown: hi\n")
	notFound := write("notfound.out", "Nov 28 18:28:27 MSN bob@example.net > unknown: bye\n")

	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		stdout   []string
		stderrIn string
	}{
		{name: "no-args", code: 2, stderrIn: "usage"},
		{name: "unknown", args: []string{"frob"}, code: 2, stderrIn: `unknown command "frob"`},
		{name: "bare", args: []string{"bare", capPath}, code: 0, stdout: []string{fmt.Sprintf("bare loop: %d packets, %d bytes of file", res.Packets, buf.Len())}},
		{name: "bare-missing-file", args: []string{"bare", filepath.Join(dir, "nope.pcap")}, code: 2, stderrIn: "nope.pcap"},
		{name: "bare-no-file", args: []string{"bare"}, code: 2, stderrIn: "want one FILE"},
		{name: "check-found-stdin", args: []string{"check", "--msgsnarf", found}, stdin: event, code: 0,
			stdout: []string{"msgsnarf_msn_lines 1\n", "matched 1\n", "missing 0\n", "our_kind_message 1\n"}},
		{name: "check-found-file", args: []string{"check", "--msgsnarf", found, "--events", events}, code: 0, stdout: []string{"matched 1\n"}},
		{name: "check-missing", args: []string{"check", "--msgsnarf", notFound, "--events", events}, code: 1,
			stdout: []string{"missing 1\n", "our_extra_messages 1\n", "missing_line sender_sha256="}},
		{name: "check-no-msgsnarf", args: []string{"check"}, code: 2, stderrIn: "want --msgsnarf"},
		{name: "check-bad-events", args: []string{"check", "--msgsnarf", found}, stdin: "{", code: 2, stderrIn: "event line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (stdout %q, stderr %q)", code, tt.code, stdout.String(), stderr.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout %q lacks %q", stdout.String(), s)
				}
			}
			if !strings.Contains(stderr.String(), tt.stderrIn) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.stderrIn)
			}
			if strings.Contains(stdout.String(), "bye") {
				t.Error("the text of a missing line was printed")
			}
		})
	}
}
