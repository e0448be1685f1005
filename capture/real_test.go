package capture

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"rcds/internal/testtools"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sharedCaptures lists the shared captures, relative to ../shared.
func sharedCaptures(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"testdata/pcaps/real", "testdata/pcaps/noise"} {
		root := testtools.Path(t, dir)
		ents, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".pcap") || strings.HasSuffix(e.Name(), ".pcapng") {
				out = append(out, dir+"/"+e.Name())
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no shared captures")
	}
	return out
}

// connSummary pins one connection without addresses or content: sizes,
// SHA-256 digests of each direction, gaps and how it ended.
type connSummary struct {
	C2SBytes   int    `json:"c2s_bytes"`
	S2CBytes   int    `json:"s2c_bytes"`
	C2SSHA256  string `json:"c2s_sha256"`
	S2CSHA256  string `json:"s2c_sha256"`
	Gaps       int    `json:"gaps"`
	Close      string `json:"close"`
	ServerPort uint16 `json:"server_port"`
}

type fileSummary struct {
	File  string        `json:"file"`
	Stats Stats         `json:"stats"`
	Conns []connSummary `json:"conns"`
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func summarize(file string, r *recorder, st Stats) fileSummary {
	fs := fileSummary{File: file, Stats: st}
	for _, c := range r.conns {
		gaps := 0
		for _, ev := range c.events {
			if strings.Contains(ev, " gap ") {
				gaps++
			}
		}
		fs.Conns = append(fs.Conns, connSummary{
			C2SBytes: len(c.data[ClientToServer]), S2CBytes: len(c.data[ServerToClient]),
			C2SSHA256: digest(c.data[ClientToServer]), S2CSHA256: digest(c.data[ServerToClient]),
			Gaps: gaps, Close: c.reason.String(), ServerPort: c.id.Server.Port(),
		})
	}
	return fs
}

// TestSharedCaptures decodes every shared capture and compares counters and
// per-connection digests with testdata/shared_captures.golden.json
// (go test -run TestSharedCaptures -update rewrites it).
func TestSharedCaptures(t *testing.T) {
	var got []fileSummary
	for _, rel := range sharedCaptures(t) {
		src, err := OpenFile(testtools.Path(t, rel))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		r := &recorder{}
		e := NewEngine(Config{}, r)
		if err := e.Run(t.Context(), src); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
		src.Close()
		st := e.Stats()
		if st.Packets == 0 {
			t.Errorf("%s: no packets", rel)
		}
		if st.FlowsOpen != 0 {
			t.Errorf("%s: %d flows open after Run", rel, st.FlowsOpen)
		}
		got = append(got, summarize(rel, r, st))
	}
	goldenJSON(t, "shared_captures.golden.json", got)
}

// goldenJSON compares v with testdata/name, or rewrites it with -update.
func goldenJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, b)
	}
}

// TestSharedCapturesAgainstTshark checks, for every shared capture, that
// each connection's two byte streams are exactly those of tshark's
// "Follow TCP stream" (an independent reassembler), compared by SHA-256.
func TestSharedCapturesAgainstTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if testtools.Required() {
			t.Fatal("tshark is not installed (RCDS_REQUIRE_TOOLS=1)")
		}
		t.Skip("skipping: tshark is not installed (.ci/run installs it)")
	}
	for _, rel := range sharedCaptures(t) {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			path := testtools.Path(t, rel)
			want := tsharkStreams(t, tshark, path)
			src, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			r := &recorder{}
			// tshark has no idle timeout: neither may we here.
			if err := NewEngine(Config{IdleTimeout: 1000 * time.Hour}, r).Run(t.Context(), src); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, c := range r.conns {
				if len(c.data[0])+len(c.data[1]) == 0 {
					continue // tshark prints no data for it either
				}
				k := streamKey(c.id.Client.String(), c.id.Server.String(), c.data[ClientToServer], c.data[ServerToClient], gapList(c, ClientToServer), gapList(c, ServerToClient))
				got[k] = true
				if !want[k] {
					t.Errorf("connection %d (%d/%d bytes): tshark has no stream with these endpoints and contents", len(got), len(c.data[0]), len(c.data[1]))
				}
			}
			for k := range want {
				if !got[k] {
					t.Errorf("a tshark stream is missing or differs (%d streams from tshark, %d here)", len(want), len(got))
				}
			}
		})
	}
}

// streamKey is a key independent of the order of the endpoints: each
// endpoint with the digest of what it sent and the sizes of its gaps.
func streamKey(a, b string, fromA, fromB []byte, gapsA, gapsB []int) string {
	x, y := fmt.Sprint(a, "=", digest(fromA), gapsA), fmt.Sprint(b, "=", digest(fromB), gapsB)
	if x > y {
		x, y = y, x
	}
	return x + "|" + y
}

// tsharkStreams runs tshark's raw TCP follow on every stream of path.
func tsharkStreams(t *testing.T, tshark, path string) map[string]bool {
	t.Helper()
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "tcp.stream").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	ids := map[string]bool{}
	for _, l := range strings.Fields(string(out)) {
		ids[l] = true
	}
	streams := map[string]bool{}
	if len(ids) == 0 {
		return streams
	}
	args := []string{"-r", path, "-q"}
	for id := range ids {
		args = append(args, "-z", "follow,tcp,raw,"+id)
	}
	out, err = exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark follow: %v", err)
	}
	var node [2]string
	var data [2][]byte
	var gaps [2][]int
	flush := func() {
		if node[0] != "" && len(data[0])+len(data[1]) > 0 {
			streams[streamKey(node[0], node[1], data[0], data[1], gaps[0], gaps[1])] = true
		}
		node, data, gaps = [2]string{}, [2][]byte{}, [2][]int{}
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "====="):
			flush()
		case strings.HasPrefix(l, "Node 0: "):
			node[0] = normalizeEndpoint(strings.TrimPrefix(l, "Node 0: "))
		case strings.HasPrefix(l, "Node 1: "):
			node[1] = normalizeEndpoint(strings.TrimPrefix(l, "Node 1: "))
		case strings.HasPrefix(l, "Follow:"), strings.HasPrefix(l, "Filter:"), l == "":
		default:
			n := 0
			if strings.HasPrefix(l, "\t") {
				n = 1
			}
			b, err := hex.DecodeString(strings.TrimSpace(l))
			if err != nil {
				t.Fatalf("tshark follow line %q: %v", l, err)
			}
			// tshark marks a hole as a line "[N bytes missing in capture file]".
			if m := tsharkGap.FindSubmatch(b); m != nil {
				g, _ := strconv.Atoi(string(m[1]))
				gaps[n] = append(gaps[n], g)
				continue
			}
			data[n] = append(data[n], b...)
		}
	}
	flush()
	return streams
}

var tsharkGap = regexp.MustCompile(`^\[(\d+) bytes missing in capture file\]\x00?$`)

// gapList is the sizes of the gaps c reported in d.
func gapList(c *recConn, d Dir) []int {
	var out []int
	prefix := d.String() + " gap "
	for _, ev := range c.events {
		if n, ok := strings.CutPrefix(ev, prefix); ok {
			g, _ := strconv.Atoi(n)
			out = append(out, g)
		}
	}
	return out
}

// normalizeEndpoint turns tshark's "addr:port" ("[v6]:port" or "v6:port")
// into netip.AddrPort's form.
func normalizeEndpoint(s string) string {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s
	}
	host, port := strings.Trim(s[:i], "[]"), s[i+1:]
	if _, err := strconv.Atoi(port); err != nil {
		return s
	}
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%s", host, port)
	}
	return host + ":" + port
}
