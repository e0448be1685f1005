package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"rcds/capture"
	"rcds/internal/testtools"
)

// synthConn is one TCP connection of a synthetic capture: segments
// alternate as listed, each "c:" (client) or "s:" (server) prefixed.
type synthConn struct {
	client, server string // ip:port
	segs           []string
}

// writeSynthPcap writes an Ethernet pcap holding conns (handshake, data,
// FIN) and returns its path. The identities are made up.
func writeSynthPcap(t *testing.T, conns []synthConn) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "synth.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, c := range conns {
		ca, _ := net.ResolveTCPAddr("tcp", c.client)
		sa, _ := net.ResolveTCPAddr("tcp", c.server)
		seq := map[bool]uint32{true: 1000, false: 5000}
		keep := 0
		send := func(fromClient bool, syn, ack, fin bool, payload []byte) {
			src, dst := ca, sa
			if !fromClient {
				src, dst = sa, ca
			}
			eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.IP.To4(), DstIP: dst.IP.To4()}
			tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port), DstPort: layers.TCPPort(dst.Port), Seq: seq[fromClient],
				Ack: seq[!fromClient], SYN: syn, ACK: ack, FIN: fin, PSH: len(payload) > 0, Window: 65535}
			if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatal(err)
			}
			buf := gopacket.NewSerializeBuffer()
			opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
			if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
				t.Fatal(err)
			}
			ts = ts.Add(10 * time.Millisecond)
			b := buf.Bytes()
			ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}
			if keep > 0 && len(payload) > keep {
				b = b[:len(b)-len(payload)+keep]
				ci.CaptureLength = len(b)
			}
			if err := w.WritePacket(ci, b); err != nil {
				t.Fatal(err)
			}
			seq[fromClient] += uint32(len(payload))
			if syn || fin {
				seq[fromClient]++
			}
		}
		send(true, true, false, false, nil)
		send(false, true, true, false, nil)
		send(true, false, true, false, nil)
		for _, s := range c.segs {
			// "c~" / "s~": the capture keeps only 60 bytes of the segment's
			// payload; "c^" / "s^": only 10.
			switch s[1] {
			case '~':
				keep = 60
			case '^':
				keep = 10
			default:
				keep = 0
			}
			data := s[2:]
			if !strings.HasPrefix(data, "\x00raw") {
				data = strings.ReplaceAll(data, "\n", "\r\n")
			}
			for b := []byte(data); len(b) > 0; {
				n := min(len(b), 1460)
				send(s[0] == 'c', false, true, false, b[:n])
				b = b[n:]
			}
		}
		keep = 0
		send(true, false, true, true, nil)
		send(false, false, true, true, nil)
		send(true, false, true, false, nil)
	}
	return path
}

func msgCmd(head, body string) string {
	mime := "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n" + body
	n := len(strings.ReplaceAll(mime, "\n", "\r\n"))
	return head + " " + itoaTest(n) + "\n" + mime
}

func itoaTest(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	if s == "" {
		return "0"
	}
	return s
}

// synthCapture: alice@example.com logs in and chats with bob@example.net on
// one switchboard; carol@example.org and dave@example.org chat on another,
// which carol's client closes (FIN) without OUT: her session_leave.
func synthCapture(t *testing.T) string {
	return writeSynthPcap(t, []synthConn{
		{client: "192.0.2.10:40001", server: "198.51.100.1:1863", segs: []string{
			"c:VER 1 MSNP8 CVR0\n", "s:VER 1 MSNP8\n",
			"c:USR 2 TWN I alice@example.com\n", "s:USR 2 TWN S lc=1033\n",
			"c:USR 3 TWN S t=x\n", "s:USR 3 OK alice@example.com Alice 1 0\n",
			"c:CHG 4 NLN 0\n", "s:CHG 4 NLN 0\n", "c:OUT\n",
		}},
		{client: "192.0.2.10:40002", server: "198.51.100.2:1863", segs: []string{
			"c:USR 1 alice@example.com 1.2.3\n", "s:USR 1 OK alice@example.com Alice\n",
			"c:CAL 2 bob@example.net\n", "s:CAL 2 RINGING 9\n", "s:JOI bob@example.net Bob\n",
			"c:" + msgCmd("MSG 3 N", "hello bob"), "s:" + msgCmd("MSG bob@example.net Bob", "hi 中文"),
			"c:OUT\n",
		}},
		{client: "203.0.113.5:40003", server: "198.51.100.2:1863", segs: []string{
			"c:USR 1 carol@example.org 4.5.6\n", "s:USR 1 OK carol@example.org Carol\n",
			"c:CAL 2 dave@example.org\n", "s:CAL 2 RINGING 9\n", "s:JOI dave@example.org Dave\n",
			"c:" + msgCmd("MSG 3 N", "unrelated"),
		}},
		// Not MSNP: must give nothing.
		{client: "192.0.2.77:50000", server: "198.51.100.9:80", segs: []string{
			"c:GET / HTTP/1.1\nHost: example.com\n\n", "s:HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		}},
	})
}

func TestDecodeCommand(t *testing.T) {
	synth := synthCapture(t)
	tests := []struct {
		name       string
		args       []string
		wantErr    string
		kinds      map[string]int // per kind in the output (jsonl)
		lines      int            // -1: do not check
		stderrHas  []string
		checkLines func(t *testing.T, lines []string)
	}{
		{
			name:      "jsonl-all",
			args:      []string{"decode", synth},
			kinds:     map[string]int{"login": 1, "presence": 1, "logout": 1, "session_start": 2, "session_join": 2, "message": 3, "session_leave": 2},
			lines:     12,
			stderrHas: []string{"rcds decode: ", " packets, ", " bytes, 4 flows, 12 events, 0 errors"},
			checkLines: func(t *testing.T, lines []string) {
				var e map[string]any
				if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
					t.Fatal(err)
				}
				if e["kind"] != "login" || e["user"] != "alice@example.com" || e["flow"] != "192.0.2.10:40001-198.51.100.1:1863" {
					t.Fatalf("first event %v", e)
				}
				if ts, _ := e["time"].(string); !strings.HasPrefix(ts, "2024-03-04T05:06:07.") {
					t.Fatalf("time %q", ts)
				}
				if !strings.Contains(strings.Join(lines, "\n"), `"from":"bob@example.net","to":["alice@example.com"],"body":"hi 中文"`) {
					t.Fatal("bob's message missing")
				}
				if !strings.Contains(lines[len(lines)-1], `"kind":"session_leave"`) ||
					!strings.Contains(lines[len(lines)-1], `"user":"carol@example.org","from":"carol@example.org","to":["dave@example.org"],"contact":"carol@example.org","detail":"connection closed without OUT"`) {
					t.Fatalf("last event is not carol's session_leave at the FIN: %s", lines[len(lines)-1])
				}
			},
		},
		{
			name:  "target-passport-case-insensitive",
			args:  []string{"decode", "--target", "Alice@Example.COM", synth},
			kinds: map[string]int{"login": 1, "presence": 1, "logout": 1, "session_start": 1, "session_join": 1, "message": 2, "session_leave": 1},
			lines: 8, stderrHas: []string{"12 events, 0 errors, 8 printed for the targets"},
		},
		{
			name:  "target-recipient",
			args:  []string{"decode", "--target", "dave@example.org", synth},
			kinds: map[string]int{"session_join": 1, "message": 1, "session_leave": 1},
			lines: 3,
		},
		{
			name:  "target-ip-prefix-and-passport",
			args:  []string{"decode", "--target", "203.0.113.0/24", "--target", "bob@example.net", synth},
			kinds: map[string]int{"session_start": 1, "session_join": 2, "message": 3, "session_leave": 2},
			lines: 8,
		},
		{
			name:  "target-nobody",
			args:  []string{"decode", "--target", "nobody@example.com", synth},
			lines: 0, stderrHas: []string{"0 printed for the targets"},
		},
		{
			name:  "text",
			args:  []string{"decode", "--format", "text", synth},
			lines: 12,
			checkLines: func(t *testing.T, lines []string) {
				want := `message sb 192.0.2.10:40002-198.51.100.2:1863 user=alice@example.com from=bob@example.net to=alice@example.com type=text/plain body="hi 中文"`
				for _, l := range lines {
					if strings.HasSuffix(l, want) {
						return
					}
				}
				t.Fatalf("no line ends with %s", want)
			},
		},
		{name: "bad-format", args: []string{"decode", "--format", "xml", synth}, wantErr: `--format "xml"`, lines: -1},
		{name: "bad-target", args: []string{"decode", "--target", "not a target", synth}, wantErr: "--target", lines: -1},
		{name: "no-file", args: []string{"decode"}, wantErr: "requires at least 1 arg", lines: -1},
		{
			name: "missing-file-others-still-decoded", args: []string{"decode", filepath.Join(t.TempDir(), "nope.pcap"), synth},
			wantErr: "1 of 2 files", lines: 12, stderrHas: []string{"nope.pcap", "12 events"},
		},
		{
			name: "garbage-file", args: []string{"decode", writeFile(t, "garbage.pcap", "this is not a capture")},
			wantErr: "1 of 1 files", lines: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			root := newRootCommand(&globalOptions{})
			root.SetOut(&out)
			root.SetErr(&errOut)
			root.SetArgs(tt.args)
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("error %v (stderr %s)", err, errOut.String())
			}
			lines := splitLines(out.String())
			if tt.lines >= 0 && len(lines) != tt.lines {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), tt.lines, out.String())
			}
			if tt.kinds != nil {
				got := map[string]int{}
				for _, l := range lines {
					var e struct{ Kind string }
					if err := json.Unmarshal([]byte(l), &e); err != nil {
						t.Fatalf("bad JSON line %q: %v", l, err)
					}
					got[e.Kind]++
				}
				if !mapsEqual(got, tt.kinds) {
					t.Fatalf("kinds %v, want %v", got, tt.kinds)
				}
			}
			for _, s := range tt.stderrHas {
				if !strings.Contains(errOut.String(), s) {
					t.Fatalf("stderr %q lacks %q", errOut.String(), s)
				}
			}
			if tt.checkLines != nil {
				tt.checkLines(t, lines)
			}
		})
	}
}

var updateDecode = flag.Bool("update-decode", false, "rewrite testdata/decode_real.golden")

// TestDecodeRealCaptures pins `rcds decode` on the shared real captures by
// event counts and the SHA-256 of the whole output (never by content), in
// testdata/decode_real.golden.
func TestDecodeRealCaptures(t *testing.T) {
	tests := []struct {
		file   string
		format string
		kinds  map[string]int
	}{
		{"msnms_ppa_2006.pcap", "jsonl", map[string]int{"session_start": 1, "session_join": 1, "message": 7, "typing": 13}},
		{"msnms_ndpi_2005.pcap", "jsonl", map[string]int{"message": 34, "typing": 210, "presence": 10, "personal_message": 1, "session_start": 5, "session_join": 5, "session_leave": 7}},
		{"mixed_lan_2003_zeek_mapi.pcap", "jsonl", map[string]int{"session_start": 1, "typing": 1}},
		{"msnms_ppa_2006.pcap", "text", nil},
	}
	var golden strings.Builder
	for _, tt := range tests {
		path := testtools.Path(t, "testdata/pcaps/real/"+tt.file)
		var out, errOut bytes.Buffer
		root := newRootCommand(&globalOptions{})
		root.SetOut(&out)
		root.SetErr(&errOut)
		root.SetArgs([]string{"decode", "--format", tt.format, path})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		lines := splitLines(out.String())
		if tt.kinds != nil {
			got := map[string]int{}
			for _, l := range lines {
				var e struct{ Kind string }
				if err := json.Unmarshal([]byte(l), &e); err != nil {
					t.Fatalf("%s: bad JSON line: %v", tt.file, err)
				}
				got[e.Kind]++
			}
			if !mapsEqual(got, tt.kinds) {
				t.Errorf("%s: kinds %v, want %v", tt.file, got, tt.kinds)
			}
		}
		if !strings.Contains(errOut.String(), " 0 errors") {
			t.Errorf("%s: summary %q", tt.file, errOut.String())
		}
		sum := sha256.Sum256(out.Bytes())
		fmt.Fprintf(&golden, "%s %s lines=%d sha256=%s\n", tt.file, tt.format, len(lines), hex.EncodeToString(sum[:]))
	}
	const gf = "testdata/decode_real.golden"
	if *updateDecode {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(gf, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(gf)
	if err != nil {
		t.Fatalf("%v (run with -update-decode)", err)
	}
	if golden.String() != string(want) {
		t.Fatalf("output digests differ:\n got %s\nwant %s", golden.String(), want)
	}
}

// TestDecodeHostileCaptures: bad input in a capture gives error events or
// counted drops; the messages before it in the same flow, and the other
// flows, are still decoded.
func TestDecodeHostileCaptures(t *testing.T) {
	sb := func(client string, middle ...string) synthConn {
		segs := []string{
			"c:USR 1 alice@example.com 1.2.3\n", "s:USR 1 OK alice@example.com Alice\n",
			"c:CAL 2 bob@example.net\n", "s:CAL 2 RINGING 9\n", "s:JOI bob@example.net Bob\n",
			"s:" + msgCmd("MSG bob@example.net Bob", "before"),
		}
		segs = append(segs, middle...)
		segs = append(segs, "s:"+msgCmd("MSG bob@example.net Bob", "after"))
		return synthConn{client: client, server: "198.51.100.2:1863", segs: segs}
	}
	other := synthConn{client: "192.0.2.99:40999", server: "198.51.100.3:1863", segs: []string{
		"c:USR 1 carol@example.org 4.5.6\n", "s:USR 1 OK carol@example.org Carol\n",
		"c:" + msgCmd("MSG 2 N", "other flow"),
	}}
	tests := []struct {
		name      string
		conns     []synthConn
		truncate  int // bytes cut from the end of the file
		bodies    []string
		errors    int
		errDetail string
		wantErr   string
	}{
		{
			name:   "snaplen-cut-message",
			conns:  []synthConn{sb("192.0.2.10:40002", "s~"+msgCmd("MSG bob@example.net Bob", "this message is cut by the snap length")), other},
			bodies: []string{"before", "after", "other flow"}, errors: 1, errDetail: "msnp: bytes missing inside a payload",
		},
		{
			name:   "snaplen-cut-header",
			conns:  []synthConn{sb("192.0.2.10:40002", "s^"+msgCmd("MSG bob@example.net Bob", "this message is cut by the snap length")), other},
			bodies: []string{"before", "after", "other flow"}, errors: 1, errDetail: "msnp: bytes missing from the stream",
		},
		{
			name:   "2GB-length",
			conns:  []synthConn{sb("192.0.2.10:40002", "s:MSG bob@example.net Bob 2147483648\n"), other},
			bodies: []string{"before", "after", "other flow"}, errors: 1, errDetail: "msnp: payload length exceeds the bound",
		},
		{
			name:   "negative-length",
			conns:  []synthConn{sb("192.0.2.10:40002", "s:MSG bob@example.net Bob -7\nsecret\n"), other},
			bodies: []string{"before", "after", "other flow"}, errors: 1, errDetail: "msnp: payload length is negative",
		},
		{
			name:   "1MB-line-without-crlf",
			conns:  []synthConn{sb("192.0.2.10:40002", "s:MSG "+strings.Repeat("x", 1<<20)+"\n"), other},
			bodies: []string{"before", "after", "other flow"}, errors: 1, errDetail: "msnp: command line exceeds the bound",
		},
		{
			name: "garbage-on-1863",
			conns: []synthConn{{client: "192.0.2.50:40050", server: "198.51.100.2:1863", segs: []string{
				"c:\x00raw\x01\x02\xff garbage \x00", "s:\x00raw\xfe\xfd",
			}}, other},
			bodies: []string{"other flow"},
		},
		{
			name:     "truncated-file",
			conns:    []synthConn{other, sb("192.0.2.10:40002")},
			truncate: 30,
			bodies:   []string{"other flow", "before", "after"}, wantErr: "1 of 1 files could not be read to the end",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeSynthPcap(t, tt.conns)
			if tt.truncate > 0 {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(path, fi.Size()-int64(tt.truncate)); err != nil {
					t.Fatal(err)
				}
			}
			var out, errOut bytes.Buffer
			root := newRootCommand(&globalOptions{})
			root.SetOut(&out)
			root.SetErr(&errOut)
			root.SetArgs([]string{"decode", path})
			err := root.Execute()
			if tt.wantErr == "" && err != nil {
				t.Fatalf("error %v (stderr %s)", err, errOut.String())
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			var bodies []string
			var errs []string
			for _, l := range splitLines(out.String()) {
				var e struct{ Kind, Body, Detail string }
				if err := json.Unmarshal([]byte(l), &e); err != nil {
					t.Fatalf("bad JSON line: %v", err)
				}
				switch e.Kind {
				case "message":
					bodies = append(bodies, e.Body)
				case "error":
					errs = append(errs, e.Detail)
				}
				if strings.Contains(l, "secret") || strings.Contains(l, "xxxxxxxx") || strings.Contains(l, "snap length") {
					t.Fatalf("output leaks the bad record: %.200s", l)
				}
			}
			if strings.Join(bodies, "|") != strings.Join(tt.bodies, "|") {
				t.Fatalf("messages %q, want %q", bodies, tt.bodies)
			}
			if len(errs) != tt.errors || (tt.errors > 0 && errs[0] != tt.errDetail) {
				t.Fatalf("error events %q, want %d x %q", errs, tt.errors, tt.errDetail)
			}
			if !strings.Contains(errOut.String(), fmt.Sprintf(" %d errors", tt.errors)) {
				t.Fatalf("summary %q", errOut.String())
			}
		})
	}
}

func TestDecodeProgress(t *testing.T) {
	synth := synthCapture(t)
	// Not a terminal: no progress output, only the summary line.
	for _, mode := range []string{"auto", "never"} {
		var out, errOut bytes.Buffer
		root := newRootCommand(&globalOptions{})
		root.SetOut(&out)
		root.SetErr(&errOut)
		root.SetArgs([]string{"decode", "--progress", mode, synth})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if lines := splitLines(errOut.String()); len(lines) != 1 || !strings.HasPrefix(lines[0], "rcds decode: ") {
			t.Fatalf("%s: stderr %q", mode, errOut.String())
		}
	}
	// "always" clears its line when done.
	var out, errOut bytes.Buffer
	root := newRootCommand(&globalOptions{})
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"decode", "--progress", "always", synth})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(errOut.String(), "\r\033[K") && !strings.Contains(errOut.String(), "synth.pcap [") {
		t.Fatalf("stderr %q", errOut.String())
	}
	src, err := capture.OpenFile(synth)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := progressLine("x.pcap", src); !regexp.MustCompile(`^\rx\.pcap \[[= ]{30}\] +\d+\.\d% \d+/\d+ MiB$`).MatchString(got) {
		t.Fatalf("progress line %q", got)
	}
	root = newRootCommand(&globalOptions{})
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"decode", "--progress", "sometimes", synth})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "--progress") {
		t.Fatalf("error %v", err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
