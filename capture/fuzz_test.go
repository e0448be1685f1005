package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// checkingHandler checks the Handler contract on whatever it is given and
// keeps no payload.
type checkingHandler struct {
	t      testing.TB
	opened int
	closed int
}

type checkingConn struct {
	h      *checkingHandler
	closed bool
}

func (h *checkingHandler) Open(ConnID) Conn { h.opened++; return &checkingConn{h: h} }

func (c *checkingConn) Data(d Dir, b []byte, _ time.Time) {
	if c.closed || len(b) == 0 || d > ServerToClient {
		c.h.t.Fatalf("Data(%v, %d bytes) closed=%v", d, len(b), c.closed)
	}
}

func (c *checkingConn) Gap(d Dir, n int, _ time.Time) {
	if c.closed || n == 0 || d > ServerToClient {
		c.h.t.Fatalf("Gap(%v, %d) closed=%v", d, n, c.closed)
	}
}

func (c *checkingConn) Close(CloseReason, time.Time) {
	if c.closed {
		c.h.t.Fatal("Close twice")
	}
	c.closed = true
	c.h.closed++
}

// fuzzConfig keeps the bounds small so that fuzzing reaches them.
var fuzzConfig = Config{MaxFlows: 4, MaxBufferedPagesPerConn: 4, MaxBufferedPagesTotal: 8, MaxFragmentBytes: 4096}

func checkEnd(t testing.TB, e *Engine, h *checkingHandler) {
	if h.opened != h.closed {
		t.Fatalf("%d connections opened, %d closed", h.opened, h.closed)
	}
	if st := e.Stats(); st.FlowsOpen != 0 || st.Flows != uint64(h.opened) {
		t.Fatalf("stats %+v, opened %d", st, h.opened)
	}
}

// FuzzFileSource: any bytes as a capture file. No panic, every connection
// opened is closed, memory bounded by the input and fuzzConfig.
func FuzzFileSource(f *testing.F) {
	recs := sampleRecs(f)
	for _, k := range []linkKind{lkEthernet, lkQinQ, lkSLL, lkSLL2, lkRaw, lkNullBE} {
		f.Add(pcapBytes(f, k, recs))
	}
	c := newConv(f, cli, srv)
	frags := fragRecs(frag4(f, c.seg(ClientToServer, "PA", 0, payload40), [2]int{24, 24}, [2]int{0, 24}, [2]int{48, 12}))
	f.Add(pcapBytes(f, lkEthernet, frags))
	f.Add(pcapBytes(f, lkEthernet, []rec{{ip: c.seg(ClientToServer, "PA", 0, "0123456789abcdef"), caplen: 60}}))
	var ng bytes.Buffer
	w, _ := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	for _, r := range recs {
		d := frame(f, lkEthernet, r.ip)
		w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(r.at), CaptureLength: len(d), Length: len(d)}, d)
	}
	w.Flush()
	f.Add(ng.Bytes())
	f.Add(gzipOf(pcapBytes(f, lkEthernet, recs)))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := NewFileSource(bytes.NewReader(data))
		if err != nil {
			return
		}
		h := &checkingHandler{t: t}
		e := NewEngine(fuzzConfig, h)
		_ = e.Run(context.Background(), src)
		checkEnd(t, e, h)
	})
}

// fuzzLinks are the link types FuzzPackets chooses from.
var fuzzLinks = []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
	layers.LinkTypeRaw, layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeIPv4, layers.LinkTypeIPv6}

// encodePackets is the input format of FuzzPackets: per packet a byte
// choosing the link type, a 2-byte length, a 2-byte time step in
// milliseconds, then the bytes.
func encodePackets(link byte, pkts ...[]byte) []byte {
	var b []byte
	for _, p := range pkts {
		b = append(b, link)
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = binary.BigEndian.AppendUint16(b, 1)
		b = append(b, p...)
	}
	return b
}

// FuzzPackets feeds sequences of packets to Engine.Packet directly, so that
// mutations reach the headers and the reassembly state machine.
func FuzzPackets(f *testing.F) {
	c := newConv(f, cli, srv)
	c6 := newConv(f, "[2001:db8::1]:4000", "[2001:db8::2]:1863")
	C, S := ClientToServer, ServerToClient
	var seq [][]byte
	for _, r := range append(handshake(c),
		rec{ip: c.seg(C, "PA", 5, "world")}, rec{ip: c.seg(C, "PA", 0, "hello")},
		rec{ip: c.seg(S, "PA", 0, "x")}, rec{ip: c.seg(C, "RA", 10, "")}) {
		seq = append(seq, frame(f, lkEthernet, r.ip))
	}
	f.Add(encodePackets(0, seq...))
	f.Add(encodePackets(3, frag4(f, c.seg(C, "PA", 0, payload40), [2]int{24, 24}, [2]int{0, 24}, [2]int{48, 12})...))
	f.Add(encodePackets(3, frag6(f, withExt6(f, c6.seg(C, "PA", 0, payload40), 0, 60), 9, [2]int{40, 36}, [2]int{0, 40})...))
	f.Add(encodePackets(1, frame(f, lkSLL, c.seg(S, "FPA", 0, "bye"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := &checkingHandler{t: t}
		e := NewEngine(fuzzConfig, h)
		ts := t0
		for len(data) >= 5 {
			link := fuzzLinks[int(data[0])%len(fuzzLinks)]
			n := int(binary.BigEndian.Uint16(data[1:3]))
			ts = ts.Add(time.Duration(binary.BigEndian.Uint16(data[3:5])) * time.Millisecond)
			data = data[5:]
			n = min(n, len(data))
			pkt := data[:n]
			data = data[n:]
			wire := n
			if len(data) > 0 && data[0]&1 == 1 {
				wire += int(data[0]) // pretend the snap length cut it
			}
			e.Packet(pkt, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: n, Length: wire}, link)
			if ts.Sub(t0) > 10*time.Second {
				e.FlushIdle(ts)
			}
		}
		e.CloseAll(ts)
		checkEnd(t, e, h)
	})
}
