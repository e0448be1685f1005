package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func genRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCommand(&globalOptions{logLevel: "info", logFormat: "text"})
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestGenCommand(t *testing.T) {
	dir := t.TempDir()
	summary := regexp.MustCompile(`^gen: wrote \S+: (\d+) packets, (\d+) bytes, (\d+) sessions, (\d+) switchboards, (\d+) expected events \(\d+\.\d MB/s\)\n$`)
	cases := []struct {
		name     string
		args     []string
		wantErr  string
		sessions string // expected sessions in the summary
		magic    []byte
	}{
		{"pcap sessions", []string{"--sessions", "4", "--seed", "3"}, "", "4", []byte{0xd4, 0xc3, 0xb2, 0xa1}},
		{"pcapng all options", []string{"--sessions", "3", "--format", "pcapng", "--seg", "split,coalesce,reorder,retransmit,overlap,nohandshake",
			"--mss", "200", "--seg-chance", "0.9", "--noise", "0.3", "--link", "vlan", "--ipv6", "0.5", "--versions", "8,15",
			"--users", "9", "--concurrency", "2", "--messages", "3", "--targets", "user001@example.net", "--start", "2005-01-02T03:04:05Z",
			"--spacing", "1ms"}, "", "3", []byte{0x0a, 0x0d, 0x0d, 0x0a}},
		{"size", []string{"--size", "200KiB", "--concurrency", "20"}, "", "", []byte{0xd4, 0xc3, 0xb2, 0xa1}},
		{"no out", []string{"--sessions", "1", "--out", ""}, "--out is required", "", nil},
		{"bad seg", []string{"--seg", "shuffle"}, "--seg", "", nil},
		{"bad size", []string{"--size", "lots"}, "--size", "", nil},
		{"bad version", []string{"--versions", "21"}, "--versions", "", nil},
		{"bad format", []string{"--format", "csv"}, "format", "", nil},
		{"bad link", []string{"--link", "fddi"}, "--link", "", nil},
		{"bad noise", []string{"--noise", "2"}, "noise", "", nil},
		{"bad start", []string{"--start", "yesterday"}, "--start", "", nil},
		{"bad target", []string{"--targets", "nobody"}, "target", "", nil},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := strings.ReplaceAll(c.name, " ", "_")
			out := filepath.Join(dir, name+".cap")
			exp := filepath.Join(dir, name+".jsonl")
			args := append([]string{"gen", "--out", out, "--expect", exp}, c.args...)
			stdout, err := genRun(t, args...)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("case %d: error %v, want one mentioning %q", i, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := summary.FindStringSubmatch(stdout)
			if m == nil {
				t.Fatalf("summary %q", stdout)
			}
			if c.sessions != "" && m[3] != c.sessions {
				t.Errorf("summary says %s sessions, want %s", m[3], c.sessions)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, c.magic) {
				t.Errorf("file starts % x, want % x", data[:4], c.magic)
			}
			if m[2] != strconv.Itoa(len(data)) {
				t.Errorf("summary says %s bytes, file has %d", m[2], len(data))
			}
			f, err := os.Open(exp)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			n := 0
			kinds := map[string]int{}
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var ev struct {
					Kind string `json:"kind"`
				}
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					t.Fatalf("expect line %d: %v", n+1, err)
				}
				kinds[ev.Kind]++
				n++
			}
			if m[5] != strconv.Itoa(n) {
				t.Errorf("summary says %s events, file has %d", m[5], n)
			}
			if kinds["login"] == 0 || kinds["message"] == 0 {
				t.Errorf("expected events by kind: %v", kinds)
			}
		})
	}
}

// TestGenDeterministic: the same flags give the same bytes; another seed
// other bytes.
func TestGenDeterministic(t *testing.T) {
	dir := t.TempDir()
	read := func(name string, seed string) []byte {
		p := filepath.Join(dir, name)
		if _, err := genRun(t, "gen", "--out", p, "--sessions", "3", "--seed", seed, "--noise", "0.2"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := read("a", "5"), read("b", "5"), read("c", "6")
	if !bytes.Equal(a, b) {
		t.Error("same seed, different captures")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds, same capture")
	}
}
