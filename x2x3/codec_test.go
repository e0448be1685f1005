package x2x3

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestRoundTrip(t *testing.T) {
	for _, s := range samplePDUs() {
		t.Run(s.name, func(t *testing.T) {
			b, err := s.pdu.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if got := s.pdu.EncodedLen(); got != len(b) {
				t.Errorf("EncodedLen %d, encoded %d bytes", got, len(b))
			}
			if hl := binary.BigEndian.Uint32(b[4:]); int(hl)+len(s.pdu.Payload) != len(b) {
				t.Errorf("header length %d + payload %d != %d", hl, len(s.pdu.Payload), len(b))
			}
			p, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			equalPDU(t, s.name, p, s.pdu)
			b2, err := p.AppendBinary([]byte("prefix"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b2[6:], b) || string(b2[:6]) != "prefix" {
				t.Errorf("re-encoding differs")
			}
		})
	}
}

// TestMarshalLayout checks the encoder against PDUs assembled by hand from
// the TS 103 221-2 layout (fixed header offsets, TLV attributes).
func TestMarshalLayout(t *testing.T) {
	be16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	be32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tlv := func(typ uint16, v []byte) []byte { return cat(be16(typ), be16(uint16(len(v))), v) }

	ka := cat(be16(5), be16(3), be32(48), be32(0), be16(0), be16(0), make([]byte, 16), make([]byte, 8),
		tlv(8, be32(7)))

	attrs := cat(
		tlv(8, be32(9)),
		tlv(9, cat(be32(uint32(ts1.Unix())), be32(123456789))),
		tlv(10, []byte{192, 0, 2, 10}),
		tlv(11, []byte{198, 51, 100, 7}),
		tlv(14, be16(49152)),
		tlv(15, be16(1863)),
		tlv(16, []byte{6}),
		tlv(17, []byte("alice@example.com")),
		tlv(18, []byte("bob@example.com")),
		tlv(18, []byte("carol@example.com")),
		tlv(19, []byte("text/plain")),
		tlv(20, []byte("8bit")),
		tlv(6, []byte("poi-1")),
	)
	payload := []byte("body")
	x2 := cat(be16(5), be16(1), be32(uint32(40+len(attrs))), be32(uint32(len(payload))),
		be16(1), be16(3), xidA[:], []byte{1, 2, 3, 4, 5, 6, 7, 8}, attrs, payload)

	v6 := cat(be16(5), be16(2), be32(40+20+20), be32(0), be16(15), be16(2), xidB[:], make([]byte, 8),
		tlv(12, netip.MustParseAddr("2001:db8::1").AsSlice()),
		tlv(13, netip.MustParseAddr("2001:db8::2").AsSlice()))

	tests := []struct {
		name string
		pdu  *PDU
		want []byte
	}{
		{"keepalive", NewKeepalive(7), ka},
		{"x2", &PDU{Version: 2, Type: TypeX2, Format: 1, Direction: 3, XID: xidA, CorrelationID: 0x0102030405060708,
			Attrs: Attributes{SeqNo: u32(9), Timestamp: ts1,
				Src: netip.MustParseAddrPort("192.0.2.10:49152"), Dst: netip.MustParseAddrPort("[::ffff:198.51.100.7]:1863"),
				IPProtocol: 6, MatchedTarget: "alice@example.com", OtherTarget: []string{"bob@example.com", "carol@example.com"},
				MIMEType: "text/plain", MIMEEncoding: "8bit", Unknown: []RawAttr{{Type: 6, Value: []byte("poi-1")}}},
			Payload: payload}, x2},
		{"x3-ipv6", &PDU{Type: TypeX3, Format: FormatMIME, Direction: DirToTarget, XID: xidB,
			Attrs: Attributes{Src: netip.MustParseAddrPort("[2001:db8::1]:0"), Dst: netip.AddrPortFrom(netip.MustParseAddr("2001:db8::2"), 0)}}, v6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.pdu.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("encoding differs\n got %x\nwant %x", got, tt.want)
			}
		})
	}
}

// TestGolden pins the encoding of the representative set; run with -update
// to rewrite testdata/samples.golden after a deliberate change.
func TestGolden(t *testing.T) {
	var sb strings.Builder
	for _, s := range samplePDUs() {
		b, err := s.pdu.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s %s\n", s.name, hex.EncodeToString(b))
	}
	path := filepath.Join("testdata", "samples.golden")
	if *update {
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if sb.String() != string(want) {
		t.Errorf("encoding of the samples differs from %s (go test -update rewrites it)", path)
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		pdu  *PDU
		want error
	}{
		{"type 0", &PDU{}, ErrPDUType},
		{"type 5", &PDU{Type: 5}, ErrPDUType},
		{"keep-alive with payload", &PDU{Type: TypeKeepalive, Payload: []byte{1}}, ErrKeepalivePayload},
		{"ack with payload", &PDU{Type: TypeKeepaliveAck, Payload: []byte{1}}, ErrKeepalivePayload},
		{"payload too large", &PDU{Type: TypeX3, Payload: make([]byte, MaxPayload+1)}, ErrPayloadTooLarge},
		{"matched target too long", &PDU{Type: TypeX2, Attrs: Attributes{MatchedTarget: strings.Repeat("a", 65536)}}, ErrAttrTooLong},
		{"other target too long", &PDU{Type: TypeX2, Attrs: Attributes{OtherTarget: []string{"a", strings.Repeat("a", 65536)}}}, ErrAttrTooLong},
		{"raw attribute too long", &PDU{Type: TypeX2, Attrs: Attributes{Unknown: []RawAttr{{Type: 99, Value: make([]byte, 65536)}}}}, ErrAttrTooLong},
		{"timestamp before 1970", &PDU{Type: TypeX2, Attrs: Attributes{Timestamp: time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)}}, ErrTimestamp},
		{"timestamp after 2106", &PDU{Type: TypeX2, Attrs: Attributes{Timestamp: time.Unix(1<<32, 0)}}, ErrTimestamp},
		{"header too large", &PDU{Type: TypeX2, Attrs: Attributes{OtherTarget: manyStrings(20, 60000)}}, ErrHeaderLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := tt.pdu.AppendBinary(dst)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if string(got) != "keep" {
				t.Errorf("dst changed on error: %q", got)
			}
			if n := tt.pdu.EncodedLen(); n != 0 {
				t.Errorf("EncodedLen %d for an unencodable PDU", n)
			}
		})
	}
	// The limits themselves are fine.
	ok := []*PDU{
		{Type: TypeX3, Payload: make([]byte, MaxPayload)},
		{Type: TypeX2, Attrs: Attributes{MatchedTarget: strings.Repeat("a", 65535), Timestamp: time.Unix(1<<32-1, 999999999)}},
		{Type: TypeX2, Attrs: Attributes{Timestamp: time.Unix(0, 0)}},
	}
	for i, p := range ok {
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("limit case %d: %v", i, err)
		}
		q, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("limit case %d: %v", i, err)
		}
		equalPDU(t, fmt.Sprint("limit case ", i), q, &PDU{Version: Version, Type: p.Type, Attrs: p.Attrs, Payload: p.Payload})
	}
}

func manyStrings(n, size int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = strings.Repeat("x", size)
	}
	return s
}

// header builds a fixed header with the given fields, followed by rest.
func header(typ uint16, hl, pl uint32, rest ...byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, 5)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint32(b, hl)
	b = binary.BigEndian.AppendUint32(b, pl)
	b = append(b, make([]byte, 28)...)
	return append(b, rest...)
}

func TestUnmarshalErrors(t *testing.T) {
	good, _ := samplePDUs()[0].pdu.MarshalBinary()
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrShortHeader},
		{"39 bytes", good[:39], ErrShortHeader},
		{"header length 0", header(1, 0, 0), ErrHeaderLength},
		{"header length 39", header(1, 39, 0), ErrHeaderLength},
		{"header length beyond PDU", header(1, 44, 0), ErrHeaderLength},
		{"header length above limit", header(1, MaxHeaderLen+1, 0), ErrHeaderLength},
		{"header length 2^32-1", header(1, 0xffffffff, 0xffffffff), ErrHeaderLength},
		{"payload above 16 MiB", header(2, 40, MaxPayload+1), ErrPayloadTooLarge},
		{"payload 2^32-1", header(2, 40, 0xffffffff), ErrPayloadTooLarge},
		{"truncated payload", good[:len(good)-1], ErrTruncated},
		{"trailing byte", append(good[:len(good):len(good)], 0), ErrTrailingData},
		{"type 0", header(0, 40, 0), ErrPDUType},
		{"type 5", header(5, 40, 0), ErrPDUType},
		{"keep-alive with payload", header(3, 40, 1, 0), ErrKeepalivePayload},
		{"attribute header truncated", header(1, 43, 0, 0, 8, 0), ErrAttrOverrun},
		{"attribute value overruns", header(1, 48, 0, 0, 17, 0, 5, 'a', 'b', 'c', 'd'), ErrAttrOverrun},
		{"attribute overruns into payload", header(1, 44, 2, 0, 17, 0, 2, 'a', 'b'), ErrAttrOverrun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Unmarshal(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if p != nil {
				t.Errorf("PDU returned with error")
			}
			if !strings.HasPrefix(err.Error(), "x2x3: unmarshal: ") {
				t.Errorf("error %q lacks the operation prefix", err)
			}
		})
	}
}

// TestUnmarshalKeepsOddAttributes: attributes of interpreted types that
// Attributes cannot hold faithfully are kept raw, in order.
func TestUnmarshalKeepsOddAttributes(t *testing.T) {
	tlv := func(typ uint16, v ...byte) []byte {
		return append(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, typ), uint16(len(v))), v...)
	}
	attrs := bytes.Join([][]byte{
		tlv(8, 0, 0, 0, 1), // interpreted
		tlv(8, 0, 0, 0, 2), // repeated: raw
		tlv(9, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0),              // 12 bytes (lippycat): raw
		tlv(9, 0x65, 0x53, 0xf1, 0, 0x3b, 0x9a, 0xca, 0x00),              // 10^9 ns: raw
		tlv(10, 192, 0, 2, 1, 0),                                         // 5-byte IPv4: raw
		tlv(12, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), // interpreted as Src
		tlv(10, 192, 0, 2, 1),                                            // second source address: raw
		tlv(14, 0, 0),                                                    // port 0: raw
		tlv(16, 0),                                                       // protocol 0: raw
		tlv(17),                                                          // empty matched target: raw
		tlv(18),                                                          // empty other target: interpreted
		tlv(99, 'z'),                                                     // unknown type
	}, nil)
	in := header(1, uint32(40+len(attrs)), 0, attrs...)
	p, err := Unmarshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Attrs.SeqNo == nil || *p.Attrs.SeqNo != 1 {
		t.Errorf("SeqNo %v, want 1", p.Attrs.SeqNo)
	}
	if want := netip.MustParseAddrPort("[2001:db8::1]:0"); p.Attrs.Src != want {
		t.Errorf("Src %v, want %v", p.Attrs.Src, want)
	}
	if !p.Attrs.Timestamp.IsZero() || p.Attrs.MatchedTarget != "" || p.Attrs.IPProtocol != 0 {
		t.Errorf("odd attributes interpreted: %+v", p.Attrs)
	}
	if len(p.Attrs.OtherTarget) != 1 || p.Attrs.OtherTarget[0] != "" {
		t.Errorf("OtherTarget %q, want one empty", p.Attrs.OtherTarget)
	}
	var types []uint16
	for _, r := range p.Attrs.Unknown {
		types = append(types, r.Type)
	}
	if want := []uint16{8, 9, 9, 10, 10, 14, 16, 17, 99}; fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("raw attribute types %v, want %v", types, want)
	}
	// Nothing is lost: re-encoding keeps every attribute (the raw ones last).
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != len(in) {
		t.Errorf("re-encoded %d bytes, read %d", len(b), len(in))
	}
	q, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	equalPDU(t, "re-decoded", q, p)
}

func TestUnmarshalDoesNotAlias(t *testing.T) {
	b, _ := samplePDUs()[5].pdu.MarshalBinary() // raw attributes and a payload
	p, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	want := *p
	want.Payload = bytes.Clone(p.Payload)
	want.Attrs.Unknown = nil
	for _, r := range p.Attrs.Unknown {
		want.Attrs.Unknown = append(want.Attrs.Unknown, RawAttr{r.Type, bytes.Clone(r.Value)})
	}
	for i := range b {
		b[i] = 0xee
	}
	equalPDU(t, "after overwriting the input", p, &want)
}

func TestAppendBinaryDoesNotAllocate(t *testing.T) {
	p := samplePDUs()[0].pdu
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = p.AppendBinary(buf[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendBinary into a large enough buffer: %v allocations, want 0", allocs)
	}
}

func TestPDUTypeString(t *testing.T) {
	for typ, want := range map[PDUType]string{1: "X2", 2: "X3", 3: "keep-alive", 4: "keep-alive-ack", 9: "type-9"} {
		if got := typ.String(); got != want {
			t.Errorf("%d: %q, want %q", typ, got, want)
		}
	}
}

func TestKeepaliveAckEchoes(t *testing.T) {
	ka := &PDU{Type: TypeKeepalive, XID: xidA, CorrelationID: 5, Attrs: Attributes{SeqNo: u32(77)}}
	ack := NewKeepaliveAck(ka)
	if ack.Type != TypeKeepaliveAck || ack.XID != xidA || ack.CorrelationID != 5 || *ack.Attrs.SeqNo != 77 {
		t.Errorf("ack %+v does not echo %+v", ack, ka)
	}
	*ka.Attrs.SeqNo = 1
	if *ack.Attrs.SeqNo != 77 {
		t.Errorf("ack shares the keep-alive's sequence number")
	}
	if NewKeepaliveAck(&PDU{Type: TypeKeepalive}).Attrs.SeqNo != nil {
		t.Errorf("ack of a keep-alive without sequence number has one")
	}
}
