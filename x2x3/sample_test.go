package x2x3

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func u32(v uint32) *uint32 { return &v }

var (
	xidA = [16]byte{0x8c, 0x29, 0x2f, 0xa1, 0x58, 0x31, 0x46, 0xec, 0x86, 0xbe, 0xbd, 0x85, 0xf2, 0x08, 0x32, 0x99}
	xidB = [16]byte{0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x49, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0}
	ts1  = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
)

// namedPDU is one sample of the representative set.
type namedPDU struct {
	name string
	pdu  *PDU
}

// samplePDUs is a representative set: X2, X3, keep-alive and its ack, every
// interpreted attribute type with IPv4 and IPv6 addresses, several other
// targets, unknown attributes, and a payload larger than a TCP segment. The
// documentation address ranges and example.com identities are used.
func samplePDUs() []namedPDU {
	big := bytes.Repeat([]byte("MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody\r\n"), 100)
	return []namedPDU{
		{"x2-ipv4-all", &PDU{
			Version: Version, Type: TypeX2, Format: FormatETSI102232, Direction: DirFromTarget,
			XID: xidA, CorrelationID: 0x0102030405060708,
			Attrs: Attributes{
				SeqNo:         u32(0),
				Timestamp:     ts1,
				Src:           netip.MustParseAddrPort("192.0.2.10:49152"),
				Dst:           netip.MustParseAddrPort("198.51.100.7:1863"),
				IPProtocol:    6,
				MatchedTarget: "alice@example.com",
				OtherTarget:   []string{"bob@example.com", "carol@example.com", "dave@example.com"},
			},
			Payload: []byte{0x30, 0x0a, 0x80, 0x01, 0x01, 0xa1, 0x05, 0x80, 0x03, 0x01, 0x02, 0x03},
		}},
		{"x3-ipv6-mime", &PDU{
			Version: Version, Type: TypeX3, Format: FormatETSI102232, Direction: DirToTarget,
			XID: xidA, CorrelationID: 0x0102030405060708,
			Attrs: Attributes{
				SeqNo:         u32(1),
				Timestamp:     ts1.Add(time.Millisecond),
				Src:           netip.MustParseAddrPort("[2001:db8::1]:1863"),
				Dst:           netip.MustParseAddrPort("[2001:db8:0:1::2]:50000"),
				IPProtocol:    6,
				MatchedTarget: "alice@example.com",
				OtherTarget:   []string{"bob@example.com"},
				MIMEType:      "text/plain; charset=UTF-8",
				MIMEEncoding:  "8bit",
			},
			Payload: []byte("hello, world\r\n"),
		}},
		{"keepalive", NewKeepalive(7)},
		{"keepalive-ack", NewKeepaliveAck(NewKeepalive(7))},
		{"x3-mime-large", &PDU{
			Version: Version, Type: TypeX3, Format: FormatMIME, Direction: DirFromTarget,
			XID: xidB, CorrelationID: 42,
			Attrs: Attributes{
				SeqNo:         u32(0),
				Timestamp:     time.Unix(1700000000, 0).UTC(),
				MatchedTarget: "erin@example.com",
				MIMEType:      "text/plain",
			},
			Payload: big,
		}},
		{"x2-unknown-attrs", &PDU{
			Version: Version, Type: TypeX2, Format: FormatETSI102232, Direction: DirMultiple,
			XID: xidB, CorrelationID: 43,
			Attrs: Attributes{
				SeqNo:       u32(1),
				OtherTarget: []string{"f@example.com", "g@example.com", "h@example.com", "i@example.com"},
				Unknown: []RawAttr{
					{Type: AttrNFID, Value: []byte("poi-1")},
					{Type: AttrIPID, Value: []byte("tap-eth1")},
					{Type: AttrAdditionalXID, Value: []byte{1, 2, 3}},
				},
			},
			Payload: []byte{0x30, 0x00},
		}},
		{"x2-bare", &PDU{
			Version: Version, Type: TypeX2, Format: FormatETSI102232, Direction: DirUnknown,
			XID: xidA, CorrelationID: 0xffffffffffffffff,
			Payload: []byte{0x30, 0x03, 0x02, 0x01, 0x05},
		}},
		{"x2-ports-only", &PDU{
			Version: Version, Type: TypeX2, Format: FormatETSI102232, Direction: DirNotApplicable,
			XID: xidB, CorrelationID: 44,
			Attrs: Attributes{
				SeqNo: u32(0xfffffffe),
				Src:   netip.AddrPortFrom(netip.Addr{}, 1863),
				Dst:   netip.AddrPortFrom(netip.Addr{}, 6891),
			},
			Payload: []byte{0x30, 0x00},
		}},
	}
}

// equalPDU compares two PDUs field by field (times with Equal).
func equalPDU(t *testing.T, what string, got, want *PDU) {
	t.Helper()
	g, w := *got, *want
	if !g.Attrs.Timestamp.Equal(w.Attrs.Timestamp) {
		t.Errorf("%s: timestamp %v, want %v", what, g.Attrs.Timestamp, w.Attrs.Timestamp)
	}
	g.Attrs.Timestamp, w.Attrs.Timestamp = time.Time{}, time.Time{}
	if len(g.Payload) == 0 && len(w.Payload) == 0 {
		g.Payload, w.Payload = nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}
