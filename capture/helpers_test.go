package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// t0 is the time of the first packet of the built captures.
var t0 = time.Date(2006, 12, 29, 10, 0, 0, 0, time.UTC)

// --- packet building -------------------------------------------------------

// ipTCP builds an IPv4 or IPv6 packet holding a TCP segment.
// flags: S SYN, A ACK, F FIN, R RST, P PSH.
func ipTCP(t testing.TB, src, dst netip.AddrPort, seq, ack uint32, flags string, payload []byte) []byte {
	t.Helper()
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: seq, Ack: ack, Window: 65535,
		SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"),
		FIN: strings.Contains(flags, "F"), RST: strings.Contains(flags, "R"),
		PSH: strings.Contains(flags, "P"),
	}
	var netl gopacket.SerializableLayer
	if src.Addr().Is4() {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice()), Id: 0x1234}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		netl = ip
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		netl = ip
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, netl, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// linkKind is a link-layer framing used by the tests.
type linkKind string

const (
	lkEthernet linkKind = "ethernet"
	lkVLAN     linkKind = "vlan"
	lkQinQ     linkKind = "qinq"
	lkQinQ9100 linkKind = "qinq9100"
	lkSLL      linkKind = "sll"
	lkSLL2     linkKind = "sll2"
	lkRaw      linkKind = "raw101"
	lkRaw12    linkKind = "raw12"
	lkRaw14    linkKind = "raw14"
	lkIPv4     linkKind = "ipv4-228"
	lkIPv6     linkKind = "ipv6-229"
	lkNullLE   linkKind = "null-le"
	lkNullBE   linkKind = "null-be"
	lkLoop     linkKind = "loop"
)

func (k linkKind) linkType() layers.LinkType {
	switch k {
	case lkSLL:
		return layers.LinkTypeLinuxSLL
	case lkSLL2:
		return layers.LinkTypeLinuxSLL2
	case lkRaw:
		return layers.LinkTypeRaw
	case lkRaw12:
		return 12
	case lkRaw14:
		return 14
	case lkIPv4:
		return layers.LinkTypeIPv4
	case lkIPv6:
		return layers.LinkTypeIPv6
	case lkNullLE, lkNullBE:
		return layers.LinkTypeNull
	case lkLoop:
		return layers.LinkTypeLoop
	}
	return layers.LinkTypeEthernet
}

// frame wraps an IP packet in the link layer of k.
func frame(t testing.TB, k linkKind, ip []byte) []byte {
	t.Helper()
	v6 := ip[0]>>4 == 6
	etype := layers.EthernetTypeIPv4
	if v6 {
		etype = layers.EthernetTypeIPv6
	}
	mac1 := net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	mac2 := net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	ser := func(ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		ls = append(ls, gopacket.Payload(ip))
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, ls...); err != nil {
			t.Fatal(err)
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	switch k {
	case lkEthernet:
		return ser(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: etype})
	case lkVLAN:
		return ser(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 100, Type: etype})
	case lkQinQ:
		return ser(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeQinQ},
			&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 100, Type: etype})
	case lkQinQ9100:
		b := ser(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 100, Type: etype})
		binary.BigEndian.PutUint16(b[12:14], 0x9100)
		return b
	case lkSLL:
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[0:2], 0) // to us
		binary.BigEndian.PutUint16(h[2:4], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:6], 6)
		copy(h[6:12], mac1)
		binary.BigEndian.PutUint16(h[14:16], uint16(etype))
		return append(h, ip...)
	case lkSLL2:
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:2], uint16(etype))
		binary.BigEndian.PutUint32(h[4:8], 2)
		binary.BigEndian.PutUint16(h[8:10], 1)
		h[10], h[11] = 0, 6
		copy(h[12:18], mac1)
		return append(h, ip...)
	case lkRaw, lkRaw12, lkRaw14, lkIPv4, lkIPv6:
		return append([]byte(nil), ip...)
	case lkNullLE, lkNullBE, lkLoop:
		fam := uint32(2)
		if v6 {
			fam = 30 // Darwin
		}
		h := make([]byte, 4)
		if k == lkNullLE {
			binary.LittleEndian.PutUint32(h, fam)
		} else {
			binary.BigEndian.PutUint32(h, fam)
		}
		return append(h, ip...)
	}
	t.Fatalf("unknown link %q", k)
	return nil
}

// --- conversations ---------------------------------------------------------

// conv builds the segments of one TCP connection. Offsets are stream
// offsets: 0 is the first byte after the SYN.
type conv struct {
	t        testing.TB
	cli, srv netip.AddrPort
	isn      [2]uint32 // by Dir
}

func newConv(t testing.TB, cli, srv string) *conv {
	return &conv{t: t, cli: netip.MustParseAddrPort(cli), srv: netip.MustParseAddrPort(srv),
		isn: [2]uint32{1000, 0xfffff000}} // the server's sequence numbers wrap
}

// seg returns the IP packet of a segment in direction d at stream offset
// off. A SYN is at offset -1.
func (c *conv) seg(d Dir, flags string, off int, payload string) []byte {
	src, dst := c.cli, c.srv
	if d == ServerToClient {
		src, dst = dst, src
	}
	seq := c.isn[d] + 1 + uint32(off)
	ack := c.isn[1-d] + 1
	return ipTCP(c.t, src, dst, seq, ack, flags, []byte(payload))
}

// --- capture files ---------------------------------------------------------

// rec is one packet of a capture: IP bytes (framed later) or a whole frame.
type rec struct {
	at     time.Duration
	ip     []byte // framed with the capture's link kind
	raw    []byte // used as is when ip is nil
	caplen int    // >0: cut the frame to this length (snap length)
}

// pcapBytes writes recs as a pcap file with the link kind k.
func pcapBytes(t testing.TB, k linkKind, recs []rec) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(262144, k.linkType()); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		data := r.raw
		if r.ip != nil {
			data = frame(t, k, r.ip)
		}
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(r.at), CaptureLength: len(data), Length: len(data)}
		if r.caplen > 0 && r.caplen < len(data) {
			data = data[:r.caplen]
			ci.CaptureLength = r.caplen
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// --- recording handler -----------------------------------------------------

type recorder struct {
	conns []*recConn
	// onOpen, if set, is called for every Open.
	onOpen func(*recConn)
}

type recConn struct {
	id      ConnID
	data    [2][]byte
	events  []string
	dataTs  [2][]time.Time
	closed  bool
	reason  CloseReason
	closeTs time.Time
	calls   int
}

func (r *recorder) Open(id ConnID) Conn {
	c := &recConn{id: id}
	r.conns = append(r.conns, c)
	if r.onOpen != nil {
		r.onOpen(c)
	}
	return c
}

func (c *recConn) Data(d Dir, b []byte, ts time.Time) {
	if c.closed {
		panic("Data after Close")
	}
	c.calls++
	c.data[d] = append(c.data[d], b...)
	c.dataTs[d] = append(c.dataTs[d], ts)
	c.events = append(c.events, fmt.Sprintf("%s %q", d, b))
}

func (c *recConn) Gap(d Dir, n int, ts time.Time) {
	if c.closed {
		panic("Gap after Close")
	}
	c.calls++
	c.events = append(c.events, fmt.Sprintf("%s gap %d", d, n))
}

func (c *recConn) Close(r CloseReason, ts time.Time) {
	if c.closed {
		panic("Close twice")
	}
	c.closed, c.reason, c.closeTs = true, r, ts
	c.events = append(c.events, "close "+r.String())
}

// run decodes a capture held in memory with cfg and returns the recorder.
func run(t testing.TB, cfg Config, file []byte) (*recorder, *Engine, error) {
	t.Helper()
	src, err := NewFileSource(bytes.NewReader(file))
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	r := &recorder{}
	e := NewEngine(cfg, r)
	err = e.Run(context.Background(), src)
	return r, e, err
}

// mustRun is run for captures that must decode without a read error; it
// also checks that every connection was closed.
func mustRun(t testing.TB, cfg Config, file []byte) (*recorder, Stats) {
	t.Helper()
	r, e, err := run(t, cfg, file)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, c := range r.conns {
		if !c.closed {
			t.Errorf("connection %s not closed", c.id.Flow())
		}
	}
	st := e.Stats()
	if st.FlowsOpen != 0 {
		t.Errorf("FlowsOpen = %d after Run", st.FlowsOpen)
	}
	return r, st
}

// frag4 splits an IPv4 packet (20-byte header) into fragments holding the
// given [offset, offset+len) ranges of its payload.
func frag4(t testing.TB, ip []byte, ranges ...[2]int) [][]byte {
	t.Helper()
	hdr, pl := ip[:20], ip[20:len(ip):len(ip)]
	var out [][]byte
	for _, r := range ranges {
		off, n := r[0], r[1]
		f := append(append([]byte(nil), hdr...), pl[off:off+n]...)
		binary.BigEndian.PutUint16(f[2:4], uint16(20+n))
		fo := uint16(off / 8)
		if off+n < len(pl) {
			fo |= 0x2000
		}
		binary.BigEndian.PutUint16(f[6:8], fo)
		binary.BigEndian.PutUint16(f[10:12], 0)
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(f[i:]))
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		binary.BigEndian.PutUint16(f[10:12], ^uint16(sum))
		out = append(out, f)
	}
	return out
}

// frag6 splits an IPv6 packet (40-byte header, no extension headers) into
// fragments holding the given ranges of its payload.
func frag6(t testing.TB, ip []byte, id uint32, ranges ...[2]int) [][]byte {
	t.Helper()
	hdr, pl := ip[:40], ip[40:len(ip):len(ip)]
	var out [][]byte
	for _, r := range ranges {
		off, n := r[0], r[1]
		f := append([]byte(nil), hdr...)
		f[6] = 44
		binary.BigEndian.PutUint16(f[4:6], uint16(8+n))
		fh := make([]byte, 8)
		fh[0] = hdr[6]
		m := uint16(0)
		if off+n < len(pl) {
			m = 1
		}
		binary.BigEndian.PutUint16(fh[2:4], uint16(off)|m)
		binary.BigEndian.PutUint32(fh[4:8], id)
		f = append(append(f, fh...), pl[off:off+n]...)
		out = append(out, f)
	}
	return out
}

// withExt6 inserts IPv6 extension headers (each: type, then a body whose
// length is a multiple of 8 minus 2) between the header and the payload.
func withExt6(t testing.TB, ip []byte, exts ...byte) []byte {
	t.Helper()
	hdr, pl := append([]byte(nil), ip[:40]...), ip[40:]
	next := hdr[6]
	var ext []byte
	for i := len(exts) - 1; i >= 0; i-- {
		h := make([]byte, 8) // next header, length 0 (8 bytes), 6 bytes of PadN
		h[0] = next
		h[2], h[3] = 1, 4 // PadN option of 4 bytes
		ext = append(h, ext...)
		next = exts[i]
	}
	hdr[6] = next
	binary.BigEndian.PutUint16(hdr[4:6], uint16(len(ext)+len(pl)))
	return append(append(hdr, ext...), pl...)
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// ciAt is the CaptureInfo of an uncut n-byte packet at t0+d.
func ciAt(d time.Duration, n int) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: t0.Add(d), CaptureLength: n, Length: n}
}
