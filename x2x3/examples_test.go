package x2x3

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"rcds/internal/testtools"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readAll(t *testing.T, b []byte) []*PDU {
	t.Helper()
	rd := NewReader(bytes.NewReader(b), 0)
	var out []*PDU
	for {
		p, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("after %d PDUs: %v", len(out), err)
		}
		out = append(out, p)
	}
}

func rawTypes(p *PDU) []uint16 {
	var ts []uint16
	for _, r := range p.Attrs.Unknown {
		ts = append(ts, r.Type)
	}
	return ts
}

// TestSipgateDemo reads sipgate's x2-demo-01.bin: on-spec, version 5.
func TestSipgateDemo(t *testing.T) {
	b, err := os.ReadFile(testtools.Path(t, "etsi/examples/x2-demo-01.bin"))
	if err != nil {
		t.Fatal(err)
	}
	ps := readAll(t, b)
	if len(ps) != 1 {
		t.Fatalf("%d PDUs, want 1", len(ps))
	}
	p := ps[0]
	wantXID := mustHex(t, "8c292fa1583146ec86bebd85f2083299")
	if p.Version != 5 || p.Type != TypeX2 || p.Format != 9 || p.Direction != DirFromTarget ||
		!bytes.Equal(p.XID[:], wantXID) || p.CorrelationID != 1 || len(p.Payload) != 539 {
		t.Errorf("header %+v", p)
	}
	if p.Attrs.MatchedTarget != "<E164Number>494012345678</E164Number>" || len(p.Attrs.Unknown) != 0 {
		t.Errorf("attributes %+v", p.Attrs)
	}
	if !bytes.HasPrefix(p.Payload, []byte("REGISTER sip:")) {
		t.Errorf("payload starts %q", p.Payload[:16])
	}
	// Our encoding of what we read is byte-identical.
	if again, err := p.MarshalBinary(); err != nil || !bytes.Equal(again, b) {
		t.Errorf("re-encoding differs (%v)", err)
	}
}

// TestLippycatVectors reads lippycat's hex vectors, which are off-spec in
// two ways: version bytes 05 00 (kept as 0x0500) and a 12-byte timestamp
// (kept raw); their attributes 6 and 7 (NFID, IPID) are kept raw too.
func TestLippycatVectors(t *testing.T) {
	dir := testtools.Path(t, "etsi/examples/x2x3-hex-lippycat")
	tests := []struct {
		file      string
		typ       PDUType
		format    PayloadFormat
		dir       Direction
		seq       uint32
		paylen    int
		prefix    string
		withAttrs bool
		wantRaw   []uint16
	}{
		{"keepalive.hex", TypeKeepalive, 0, 0, 0, 0, "", false, nil},
		{"x2_sip_invite.hex", TypeX2, 9, DirFromTarget, 1, 155, "INVITE sip:", true, []uint16{9, 6, 7}},
		{"x2_sip_bye.hex", TypeX2, 9, DirToTarget, 2, 157, "BYE sip:", true, []uint16{9, 6, 7}},
		{"x2_sip_message.hex", TypeX2, 9, DirFromTarget, 3, 197, "MESSAGE sip:", true, []uint16{9, 6, 7}},
		{"x3_rtp.hex", TypeX3, 8, DirFromTarget, 4, 16, "\x80\x00\x00\x01", true, []uint16{9, 6, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var hx strings.Builder
			for _, line := range strings.Split(string(raw), "\n") {
				if !strings.HasPrefix(line, "#") {
					hx.WriteString(strings.TrimSpace(line))
				}
			}
			ps := readAll(t, mustHex(t, hx.String()))
			if len(ps) != 1 {
				t.Fatalf("%d PDUs, want 1", len(ps))
			}
			p := ps[0]
			if p.Version != 0x0500 || p.Type != tt.typ || p.Format != tt.format || p.Direction != tt.dir || len(p.Payload) != tt.paylen {
				t.Errorf("header: version %#04x type %d format %d direction %d paylen %d", p.Version, p.Type, p.Format, p.Direction, len(p.Payload))
			}
			if !bytes.HasPrefix(p.Payload, []byte(tt.prefix)) {
				t.Errorf("payload starts %q", p.Payload[:min(len(p.Payload), 16)])
			}
			if got := rawTypes(p); !equalU16(got, tt.wantRaw) {
				t.Errorf("raw attributes %v, want %v", got, tt.wantRaw)
			}
			if !tt.withAttrs {
				if p.Attrs.SeqNo != nil {
					t.Errorf("keep-alive has a sequence number")
				}
				return
			}
			a := p.Attrs
			if a.SeqNo == nil || *a.SeqNo != tt.seq || a.MatchedTarget != "sip:alice@example.com" ||
				a.Src != netip.MustParseAddrPort("192.168.1.10:5060") || a.Dst != netip.MustParseAddrPort("10.0.0.5:5060") {
				t.Errorf("attributes %+v", a)
			}
			if ts := a.Unknown[0].Value; len(ts) != 12 {
				t.Errorf("raw timestamp of %d bytes, want the 12 written", len(ts))
			}
		})
	}
}

func equalU16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMagmaRecord reads Magma's golden X2 record: version 2 (off-spec, kept),
// payload format 14 (EpsIRIContent), NFID kept raw.
func TestMagmaRecord(t *testing.T) {
	raw, err := os.ReadFile(testtools.Path(t, "etsi/examples/magma-nprobe/record_encoded.golden"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	ps := readAll(t, b)
	if len(ps) != 1 {
		t.Fatalf("%d PDUs, want 1", len(ps))
	}
	p := ps[0]
	if p.Version != 2 || p.Type != TypeX2 || p.Format != 14 || p.Direction != DirUnknown ||
		p.CorrelationID != 0x0866cb3979084570 || len(p.Payload) != 196 || p.Payload[0] != 0xa1 {
		t.Errorf("header %+v", p)
	}
	if !bytes.Equal(p.XID[:], mustHex(t, "29f28e1cf230486aa860f5a784ab9178")) {
		t.Errorf("XID %x", p.XID)
	}
	a := p.Attrs
	want := time.Date(2021, 6, 14, 11, 11, 42, 457152489, time.UTC) // the payload's own timestamp says 20210614111142.457
	if a.SeqNo == nil || *a.SeqNo != 0 || a.MatchedTarget != "IMSI001010000000001" || !a.Timestamp.Equal(want) {
		t.Errorf("attributes %+v", a)
	}
	if len(a.Unknown) != 1 || a.Unknown[0].Type != AttrNFID || string(a.Unknown[0].Value) != "sessiond" {
		t.Errorf("raw attributes %+v", a.Unknown)
	}
}

// TestLibtraceIsNotX2X3: libtrace's files are HI2/HI3 BER streams, not
// X2/X3; fed to our reader by mistake they are refused as malformed.
func TestLibtraceIsNotX2X3(t *testing.T) {
	for _, f := range []string{"etsi_10_pings_HI2.raw_tcp", "etsi_10_pings_HI3.raw_tcp", "etsi_file.test", "etsi_file_iri.test"} {
		b, err := os.ReadFile(testtools.Path(t, "etsi/examples/libtrace/"+f))
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewReader(bytes.NewReader(b), 0).Next()
		if err == nil || !malformed(err) {
			t.Errorf("%s: error %v, want a malformed-input error", f, err)
		}
	}
}

// tcpStream returns the TCP payload bytes sent to (toPort true) or from
// port in a capture, concatenated in capture order, using tshark.
func tcpStream(t *testing.T, pcap string, port int, toPort bool) []byte {
	t.Helper()
	testtools.Tool(t, "x2x3-dissect", "tshark")
	dir := "tcp.dstport"
	if !toPort {
		dir = "tcp.srcport"
	}
	out, err := exec.Command("tshark", "-n", "-r", pcap, "-o", "tcp.desegment_tcp_streams:FALSE",
		"-Y", dir+"=="+strconv.Itoa(port)+" && tcp.len>0", "-T", "fields", "-e", "tcp.payload").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", pcap, err)
	}
	var b []byte
	for _, line := range strings.Fields(string(out)) {
		b = append(b, mustHex(t, strings.ReplaceAll(line, ":", ""))...)
	}
	return b
}

// TestSipgateDemoPcap: the demo pcap carries the same bytes as the .bin.
func TestSipgateDemoPcap(t *testing.T) {
	got := tcpStream(t, testtools.Path(t, "etsi/examples/x2-demo-01.pcap"), 9999, true)
	want, err := os.ReadFile(testtools.Path(t, "etsi/examples/x2-demo-01.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("pcap stream (%d bytes) differs from x2-demo-01.bin (%d bytes)", len(got), len(want))
	}
}

// TestToolSamples reads the streams of the shared tools' own X2/X3 samples
// (an independent Python encoder): the good stream, captured live over
// loopback and synthesised with split and coalesced segments, and the bad
// ones, each of which we must refuse with the matching error after the
// same good PDUs that x2x3-dissect accepts.
func TestToolSamples(t *testing.T) {
	gen := testtools.Tool(t, "tests/mk-x2x3-samples.py", "python3")
	dir := t.TempDir()
	if out, err := exec.Command("python3", gen, dir).CombinedOutput(); err != nil {
		t.Fatalf("mk-x2x3-samples: %v\n%s", err, out)
	}
	goodTypes := []PDUType{TypeX2, TypeKeepalive, TypeX3, TypeX2, TypeX2}
	check := func(t *testing.T, stream []byte) {
		ps := readAll(t, stream)
		if len(ps) != len(goodTypes) {
			t.Fatalf("%d PDUs, want %d", len(ps), len(goodTypes))
		}
		for i, p := range ps {
			if p.Type != goodTypes[i] {
				t.Errorf("PDU %d: %s, want %s", i, p.Type, goodTypes[i])
			}
		}
		if ps[0].Attrs.SeqNo == nil || *ps[0].Attrs.SeqNo != 7 || ps[0].Attrs.Timestamp.Unix() != 1704164645 ||
			ps[0].Attrs.Timestamp.Nanosecond() != 123456789 || ps[0].Attrs.MatchedTarget != "<E164Number>494012345678</E164Number>" {
			t.Errorf("first PDU's attributes %+v", ps[0].Attrs)
		}
		if ps[1].Attrs.SeqNo == nil || *ps[1].Attrs.SeqNo != 8 {
			t.Errorf("keep-alive sequence number %v, want 8", ps[1].Attrs.SeqNo)
		}
		if len(ps[4].Payload) != 3800 {
			t.Errorf("big PDU payload %d bytes, want 3800", len(ps[4].Payload))
		}
	}
	t.Run("good-coalesced-split", func(t *testing.T) {
		pcap := filepath.Join(dir, "good-coalesced-split.pcap")
		check(t, tcpStream(t, pcap, 9992, true))
		back := readAll(t, tcpStream(t, pcap, 9992, false))
		if len(back) != 1 || back[0].Type != TypeKeepaliveAck || *back[0].Attrs.SeqNo != 8 {
			t.Errorf("server side: %+v, want one keep-alive ack with sequence number 8", back)
		}
	})
	t.Run("loopback-live", func(t *testing.T) {
		check(t, tcpStream(t, testtools.Path(t, "tools/tests/x2x3-loopback-live.pcap"), 9992, true))
	})
	bad := []struct {
		file string
		good int
		want error
	}{
		{"bad-attr-overrun.pcap", 1, ErrAttrOverrun},
		{"bad-pdu-type.pcap", 1, ErrPDUType},
		{"bad-header-length.pcap", 1, ErrHeaderLength},
		{"bad-truncated-at-end.pcap", 1, ErrTruncated},
	}
	for _, tt := range bad {
		t.Run(tt.file, func(t *testing.T) {
			rd := NewReader(bytes.NewReader(tcpStream(t, filepath.Join(dir, tt.file), 9992, true)), 0)
			for i := 0; i < tt.good; i++ {
				if _, err := rd.Next(); err != nil {
					t.Fatalf("PDU %d: %v", i, err)
				}
			}
			if _, err := rd.Next(); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}
