package x2x3

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"rcds/internal/testtools"
)

// dissectLine is one PDU as Wireshark's 5gli dissector (through
// ../shared/tools/x2x3-dissect) saw it.
type dissectLine struct {
	frame                     int
	malformed                 bool
	typ, version, format, dir int
	hdrlen, paylen            int
	xid, cid                  string
	attrs                     []uint16
}

var (
	dissectRE = regexp.MustCompile(`^pdu=(\d+) frame=(\d+) (MALFORMED .*\| )?type="[^"]*\((\d+)\)" version=(\d+) hdrlen=(\d+) paylen=(\d+) ` +
		`format="[^"]*\((\d+)\)" direction="[^"]*\((\d+)\)" xid=(\S+) cid=(\S+) attrs="([^"]*)"$`)
	summaryRE = regexp.MustCompile(`^(\d+) PDUs dissected, (\d+) malformed$`)
	attrNumRE = regexp.MustCompile(`\((\d+)\)$`)
)

// wrapPcap writes raw (a PDU stream) to a file and wraps it into a pcap of
// one TCP connection to port 9992 cut into 1400-byte segments.
func wrapPcap(t *testing.T, raw []byte, name string) string {
	t.Helper()
	wrap := testtools.Tool(t, "raw2pcap", "python3")
	dir := t.TempDir()
	in, out := filepath.Join(dir, name+".x2x3"), filepath.Join(dir, name+".pcap")
	if err := os.WriteFile(in, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(wrap, in, out).CombinedOutput(); err != nil {
		t.Fatalf("raw2pcap: %v\n%s", err, b)
	}
	return out
}

// dissect runs x2x3-dissect on pcap and returns its PDU lines and summary.
func dissect(t *testing.T, pcap string) (lines []dissectLine, n, bad int) {
	t.Helper()
	tool := testtools.Tool(t, "x2x3-dissect", "tshark")
	out, err := exec.Command(tool, pcap).Output() // exit 1 on malformed PDUs: judged from the output
	if len(out) == 0 {
		t.Fatalf("x2x3-dissect: no output (%v)", err)
	}
	var summary bool
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if m := summaryRE.FindStringSubmatch(l); m != nil {
			n, _ = strconv.Atoi(m[1])
			bad, _ = strconv.Atoi(m[2])
			summary = true
			continue
		}
		m := dissectRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("x2x3-dissect: unexpected line %q", l)
		}
		num := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		d := dissectLine{frame: num(2), malformed: m[3] != "", typ: num(4), version: num(5), hdrlen: num(6), paylen: num(7),
			format: num(8), dir: num(9), xid: m[10], cid: m[11]}
		for _, a := range strings.Split(m[12], "; ") {
			if am := attrNumRE.FindStringSubmatch(a); am != nil {
				v, _ := strconv.Atoi(am[1])
				d.attrs = append(d.attrs, uint16(v))
			}
		}
		lines = append(lines, d)
	}
	if !summary {
		t.Fatalf("x2x3-dissect: no summary line in\n%s", out)
	}
	return lines, n, bad
}

// attrTypes lists the attribute types in the header of an encoded PDU.
func attrTypes(b []byte) []uint16 {
	hl := int(binary.BigEndian.Uint32(b[4:]))
	var ts []uint16
	for off := HeaderLen; off+4 <= hl; off += 4 + int(binary.BigEndian.Uint16(b[off+2:])) {
		ts = append(ts, binary.BigEndian.Uint16(b[off:]))
	}
	return ts
}

func uuidString(x [16]byte) string {
	h := hex.EncodeToString(x[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// dissectStream is the representative set four times over, with differing
// sequence numbers and correlation IDs: PDUs smaller than a segment are
// coalesced, larger ones (and those at segment boundaries) split.
func dissectStream(t *testing.T) ([]byte, []*PDU) {
	var stream []byte
	var pdus []*PDU
	for round := range 4 {
		for _, s := range samplePDUs() {
			p := *s.pdu
			p.CorrelationID += uint64(round)
			if p.Attrs.SeqNo != nil {
				p.Attrs.SeqNo = u32(*p.Attrs.SeqNo + uint32(round))
			}
			var err error
			if stream, err = p.AppendBinary(stream); err != nil {
				t.Fatal(err)
			}
			pdus = append(pdus, &p)
		}
	}
	return stream, pdus
}

// TestWiresharkDissectsOurPDUs: Wireshark's own 5gli dissector reads every
// PDU we write, coalesced and split over TCP segments, with zero malformed,
// and sees the header fields and attribute list we wrote.
func TestWiresharkDissectsOurPDUs(t *testing.T) {
	stream, pdus := dissectStream(t)
	lines, n, bad := dissect(t, wrapPcap(t, stream, "samples"))
	if n != len(pdus) || bad != 0 || len(lines) != len(pdus) {
		t.Fatalf("x2x3-dissect: %d PDUs dissected (%d lines), %d malformed; want %d, 0", n, len(lines), bad, len(pdus))
	}
	perFrame := map[int]int{}
	split := 0
	for i, p := range pdus {
		b, _ := p.MarshalBinary()
		d := lines[i]
		perFrame[d.frame]++
		if len(b) > 1400 {
			split++
		}
		want := dissectLine{frame: d.frame, typ: int(p.Type), version: int(Version), format: int(p.Format), dir: int(p.Direction),
			hdrlen: len(b) - len(p.Payload), paylen: len(p.Payload), xid: uuidString(p.XID), cid: fmt.Sprintf("%016x", p.CorrelationID)}
		// Wireshark 4.0 knows attribute types 1 to 18 and skips the others
		// silently; newer versions name more.
		for _, a := range attrTypes(b) {
			if a <= AttrOtherTarget || slices.Contains(d.attrs, a) {
				want.attrs = append(want.attrs, a)
			}
		}
		if fmt.Sprint(d) != fmt.Sprint(want) {
			t.Errorf("PDU %d:\n dissected %+v\n      ours %+v", i+1, d, want)
		}
	}
	coalesced := 0
	for _, c := range perFrame {
		if c > 1 {
			coalesced++
		}
	}
	if coalesced == 0 || split == 0 {
		t.Errorf("the stream has %d segments with several PDUs and %d PDUs larger than a segment; want both", coalesced, split)
	}
}

// TestWiresharkReadsOurAttributes compares the attribute values Wireshark
// decodes (sequence number, timestamp, addresses, ports, protocol, target
// identifiers) with ours, one sample PDU per capture.
func TestWiresharkReadsOurAttributes(t *testing.T) {
	testtools.Tool(t, "x2x3-dissect", "tshark")
	shim := testtools.Path(t, "tools/x2x3-dissect.lua")
	fields := []string{"li5g.sq", "li5g.ts", "li5g.srcip", "li5g.dstip", "li5g.srcipv6", "li5g.dstipv6",
		"li5g.srcport", "li5g.dstport", "li5g.ipproto", "li5g.mti", "li5g.oti"}
	for _, s := range samplePDUs() {
		t.Run(s.name, func(t *testing.T) {
			b, _ := s.pdu.MarshalBinary()
			args := []string{"-q", "-n", "-r", wrapPcap(t, b, s.name), "-o", "tcp.desegment_tcp_streams:TRUE",
				"-X", "lua_script:" + shim, "-X", "lua_script1:9992", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=;"}
			for _, f := range fields {
				args = append(args, "-e", f)
			}
			out, err := exec.Command("tshark", args...).Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			var got map[string][]string
			for _, l := range strings.Split(string(out), "\n") {
				vals := strings.Split(l, "|")
				if len(vals) != len(fields) || strings.Trim(l, "|") == "" {
					continue // the shim's own lines, frames without a PDU
				}
				if got != nil {
					t.Fatalf("two frames with PDU fields")
				}
				got = map[string][]string{}
				for i, v := range vals {
					if v == "" {
						continue
					}
					all := strings.Split(v, ";")
					// 5gli adds each attribute value twice (item and subtree).
					for j := 0; j < len(all); j += 2 {
						got[fields[i]] = append(got[fields[i]], all[j])
					}
				}
			}
			a := s.pdu.Attrs
			want := map[string][]string{}
			if a.SeqNo != nil {
				want["li5g.sq"] = []string{strconv.FormatUint(uint64(*a.SeqNo), 10)}
			}
			put := func(f string, ap netip.AddrPort, v4, v6 string) {
				if ip := ap.Addr(); ip.IsValid() {
					k := v6
					if ip.Unmap().Is4() {
						k = v4
					}
					want[k] = []string{ip.Unmap().String()}
				}
				if ap.Port() != 0 {
					want[f] = []string{strconv.Itoa(int(ap.Port()))}
				}
			}
			put("li5g.srcport", a.Src, "li5g.srcip", "li5g.srcipv6")
			put("li5g.dstport", a.Dst, "li5g.dstip", "li5g.dstipv6")
			if a.IPProtocol != 0 {
				want["li5g.ipproto"] = []string{strconv.Itoa(int(a.IPProtocol))}
			}
			if a.MatchedTarget != "" {
				want["li5g.mti"] = []string{a.MatchedTarget}
			}
			for _, o := range a.OtherTarget {
				want["li5g.oti"] = append(want["li5g.oti"], o)
			}
			// Timestamps and strings are compared by meaning, not by text.
			if ts := got["li5g.ts"]; len(ts) > 0 || !a.Timestamp.IsZero() {
				if len(ts) != 1 || !parseWiresharkTime(t, ts[0]).Equal(a.Timestamp) {
					t.Errorf("timestamp: Wireshark %q, ours %s", ts, a.Timestamp.Format(time.RFC3339Nano))
				}
				delete(got, "li5g.ts")
			}
			for _, f := range []string{"li5g.mti", "li5g.oti"} {
				for i, v := range got[f] {
					if h, err := hex.DecodeString(v); err == nil && len(v) > 0 { // Wireshark 4.0 shows them as bytes
						got[f][i] = string(h)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("attributes:\nWireshark %v\n     ours %v", got, want)
			}
		})
	}
}

func parseWiresharkTime(t *testing.T, s string) time.Time {
	t.Helper()
	for _, layout := range []string{"Jan _2, 2006 15:04:05.999999999 MST", time.RFC3339Nano, "2006-01-02 15:04:05.999999999 MST"} {
		if v, err := time.Parse(layout, s); err == nil {
			return v
		}
	}
	t.Fatalf("cannot parse Wireshark time %q", s)
	return time.Time{}
}

// TestWiresharkFlagsMalformed: the same check run on garbage says
// MALFORMED, so the zero above means something.
func TestWiresharkFlagsMalformed(t *testing.T) {
	good, _ := samplePDUs()[0].pdu.MarshalBinary()
	bad := bytes.Clone(good)
	binary.BigEndian.PutUint16(bad[HeaderLen+2:], 300) // first attribute overruns the header
	lines, n, nbad := dissect(t, wrapPcap(t, append(bytes.Clone(good), bad...), "bad"))
	if n != 2 || nbad != 1 || len(lines) != 2 || lines[0].malformed || !lines[1].malformed {
		t.Errorf("x2x3-dissect on one good and one bad PDU: %d dissected, %d malformed, %+v", n, nbad, lines)
	}
	if _, err := Unmarshal(bad); err == nil {
		t.Errorf("our decoder accepts what Wireshark flags")
	}
}
