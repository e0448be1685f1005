package msngen

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"rcds/decoder"
)

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
)

// wire builds packets (link, IP, TCP/UDP headers with valid checksums)
// into one reusable buffer, stamps them with the capture clock and hands
// them to the pcap writer. It also simulates the receiver's reassembly to
// time the expected events.
type wire struct {
	out     *pcapWriter
	link    LinkType
	r       *rng
	seg     Segmentation
	now     int64 // capture clock, Unix microseconds
	spacing int64 // mean gap, microseconds
	buf     []byte
	data    []byte // burst scratch
	cuts    []int
	segs    []span
	expect  func(*decoder.Event)
	packets int64
	events  int
	// seen counts the pathologies applied (for tests and reports).
	seen [6]int64
}

type span struct{ s, e int64 }

// tcpConn is the writer state of one TCP connection.
type tcpConn struct {
	client, server netip.AddrPort
	isn            [2]uint32 // per side: 0 client, 1 server
	sent           [2]int64  // stream bytes sent
	ipid           [2]uint16
	opened         bool
	comm           uint64
	front          [2]int64 // contiguous bytes delivered to the receiver
	ooo            [2][]span
	pend           [2][]pending
	started        [2]bool // side has sent data
	noHS           bool
	closed         bool
}

type pending struct {
	end int64
	evs []decoder.Event
}

func side(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

func newWire(out *pcapWriter, link LinkType, r *rng, seg Segmentation, start time.Time, spacing time.Duration, expect func(*decoder.Event)) *wire {
	sp := spacing.Microseconds()
	if sp < 1 {
		sp = 1
	}
	return &wire{
		out: out, link: link, r: r, seg: seg, now: start.UnixMicro(), spacing: sp,
		buf: make([]byte, 0, 128+65536), expect: expect,
	}
}

// tick advances the clock by a random gap (mean: spacing, at least 1µs).
func (w *wire) tick() int64 {
	w.now += 1 + int64(w.r.intn(int(2*w.spacing-1)+1))
	return w.now
}

func (w *wire) on(f SegFlags) bool {
	return w.seg.Flags&f != 0 && w.r.chance(w.seg.Chance)
}

func (w *wire) count(f SegFlags) {
	for i := 0; i < len(w.seen); i++ {
		if f == 1<<i {
			w.seen[i]++
		}
	}
}

// open starts a connection: the 3-way handshake unless NoHandshake.
func (w *wire) open(c *Conn) {
	t := &tcpConn{client: c.Client, server: c.Server, isn: [2]uint32{w.r.u32(), w.r.u32()}}
	t.noHS = w.seg.Flags&NoHandshake != 0
	c.tcp = t
	if t.noHS {
		// Sequence numbers as if the SYNs had been sent.
		t.isn[0]++
		t.isn[1]++
		w.count(NoHandshake)
		return
	}
	opts := []byte{2, 4, byte(w.seg.MSS >> 8), byte(w.seg.MSS), 1, 3, 3, 7, 1, 1, 4, 2}
	w.tcp(t, 0, t.isn[0], 0, tcpSYN, opts, nil)
	t.isn[0]++
	w.tcp(t, 1, t.isn[1], t.isn[0], tcpSYN|tcpACK, opts, nil)
	t.isn[1]++
	w.tcp(t, 0, t.isn[0], t.isn[1], tcpACK, nil, nil)
}

func (t *tcpConn) seq(s int) uint32 { return t.isn[s] + uint32(t.sent[s]) }

// ack is what side s acknowledges: everything the other side sent.
func (t *tcpConn) ack(s int) uint32 { return t.seq(1 - s) }

// close sends FIN, FIN, ACK, first from the side that closes first.
func (w *wire) close(c *Conn, clientFirst bool) {
	t := c.tcp
	if t == nil || t.closed {
		return
	}
	t.closed = true
	a := side(clientFirst)
	b := 1 - a
	w.tcp(t, a, t.seq(a), t.ack(a), tcpFIN|tcpACK, nil, nil)
	t.sent[a]++
	w.tcp(t, b, t.seq(b), t.ack(b), tcpFIN|tcpACK, nil, nil)
	t.sent[b]++
	w.tcp(t, a, t.seq(a), t.ack(a), tcpACK, nil, nil)
	c.tcp = nil
}

// burst sends the commands of one side, segmented per the options, and
// reports each command's events when the receiver has all its bytes.
func (w *wire) burst(c *Conn, fromClient bool, cmds []Command, reply bool) {
	t := c.tcp
	s := side(fromClient)
	base := t.sent[s]
	data := w.data[:0]
	cuts := w.cuts[:0]
	for _, cmd := range cmds {
		data = append(data, cmd.Data...)
		if len(cmd.Events) > 0 {
			t.pend[s] = append(t.pend[s], pending{end: base + int64(len(data)), evs: cmd.Events})
		}
		cuts = append(cuts, len(data))
	}
	w.data = data
	n := len(data)
	if n == 0 {
		return
	}
	first := !t.started[s]
	t.started[s] = true
	protectFirst := first && t.noHS // the receiver starts its stream at the first segment seen

	if w.on(Coalesce) && len(cmds) > 1 {
		cuts = cuts[:0]
		w.count(Coalesce)
	} else if len(cuts) > 0 {
		cuts = cuts[:len(cuts)-1] // the end is not a cut
	}
	if w.on(Split) {
		start := 0
		split := false
		for _, cmd := range cmds {
			l := len(cmd.Data)
			if l >= 2 {
				for k := w.r.between(1, 3); k > 0; k-- {
					cuts = append(cuts, start+1+w.r.intn(l-1))
				}
				split = true
			}
			start += l
		}
		if split {
			w.count(Split)
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	// Segments, no longer than the MSS.
	segs := w.segs[:0]
	prev := 0
	mss := w.seg.MSS
	addSeg := func(a, b int) {
		for b-a > mss {
			segs = append(segs, span{int64(a), int64(a + mss)})
			a += mss
		}
		segs = append(segs, span{int64(a), int64(b)})
	}
	for _, k := range cuts {
		if k <= prev || k >= n {
			continue
		}
		addSeg(prev, k)
		prev = k
	}
	addSeg(prev, n)
	w.cuts = cuts

	// Reorder: swap two adjacent segments.
	if w.seg.Flags&Reorder != 0 && w.r.chance(w.seg.Chance) {
		if len(segs) == 1 && n >= 2 && !protectFirst {
			m := int64(1 + w.r.intn(n-1))
			segs = append(segs[:0], span{0, m}, span{m, int64(n)})
		}
		lo := 0
		if protectFirst {
			lo = 1
		}
		if len(segs)-1 > lo {
			i := lo + w.r.intn(len(segs)-1-lo)
			segs[i], segs[i+1] = segs[i+1], segs[i]
			w.count(Reorder)
		}
	}
	// Overlap: one segment also carries the end of the bytes before it.
	if w.on(Overlap) {
		var cand []int
		for i, sg := range segs {
			if sg.s > 0 && (!protectFirst || i > 0) {
				cand = append(cand, i)
			}
		}
		if len(cand) > 0 {
			i := cand[w.r.intn(len(cand))]
			back := int64(1 + w.r.intn(int(min(segs[i].s, 64))))
			if segs[i].e-(segs[i].s-back) <= int64(mss) {
				segs[i].s -= back
				w.count(Overlap)
			}
		}
	}
	// Retransmit: one segment is sent twice.
	if w.on(Retransmit) {
		i := w.r.intn(len(segs))
		j := i + 1 + w.r.intn(len(segs)-i)
		segs = slices.Insert(segs, j, segs[i])
		w.count(Retransmit)
	}
	w.segs = segs

	for i, sg := range segs {
		flags := byte(tcpACK)
		if sg.e == int64(n) || i == len(segs)-1 {
			flags |= tcpPSH
		}
		w.tcp(t, s, t.isn[s]+uint32(base+sg.s), t.ack(s), flags, nil, data[sg.s:sg.e])
		w.deliver(t, s, base+sg.s, base+sg.e)
	}
	t.sent[s] += int64(n)
	if !reply {
		w.tcp(t, 1-s, t.seq(1-s), t.ack(1-s), tcpACK, nil, nil)
	}
}

// deliver simulates the receiver after a segment [a, b) of side s: when
// the contiguous bytes grow past a command's end, its events happen now.
func (w *wire) deliver(t *tcpConn, s int, a, b int64) {
	if a > t.front[s] {
		t.ooo[s] = append(t.ooo[s], span{a, b})
		return
	}
	if b <= t.front[s] {
		return
	}
	t.front[s] = b
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(t.ooo[s]); i++ {
			sp := t.ooo[s][i]
			if sp.s <= t.front[s] {
				if sp.e > t.front[s] {
					t.front[s] = sp.e
				}
				t.ooo[s] = slices.Delete(t.ooo[s], i, i+1)
				i--
				changed = true
			}
		}
	}
	p := t.pend[s]
	k := 0
	for k < len(p) && p[k].end <= t.front[s] {
		for i := range p[k].evs {
			w.emit(t, &p[k].evs[i])
		}
		k++
	}
	if k > 0 {
		n := copy(p, p[k:])
		clear(p[n:])
		t.pend[s] = p[:n]
	}
}

func (w *wire) emit(t *tcpConn, e *decoder.Event) {
	w.events++
	if w.expect == nil {
		return
	}
	e.Time = time.UnixMicro(w.now).UTC()
	e.Comm = t.comm
	w.expect(e)
}

// tcp writes one TCP segment from side s.
func (w *wire) tcp(t *tcpConn, s int, seq, ack uint32, flags byte, opts, payload []byte) {
	src, dst := t.client, t.server
	if s == 1 {
		src, dst = dst, src
	}
	ts := w.tick()
	if !t.opened {
		t.opened = true
		t.comm = decoder.CommID(t.client, t.server, time.UnixMicro(ts))
	}
	t.ipid[s]++
	hl := 20 + len(opts)
	b := w.ipHeader(src.Addr(), dst.Addr(), 6, hl+len(payload), t.ipid[s], s == 0)
	o := len(b)
	b = append(b, make([]byte, hl)...)
	h := b[o:]
	be := binary.BigEndian
	be.PutUint16(h[0:], src.Port())
	be.PutUint16(h[2:], dst.Port())
	be.PutUint32(h[4:], seq)
	if flags&tcpACK != 0 {
		be.PutUint32(h[8:], ack)
	}
	h[12] = byte(hl/4) << 4
	h[13] = flags
	be.PutUint16(h[14:], 64240)
	copy(h[20:], opts)
	b = append(b, payload...)
	cs := pseudoSum(src.Addr(), dst.Addr(), 6, hl+len(payload))
	cs = sum(b[o:], cs)
	be.PutUint16(b[o+16:], ^fold(cs))
	w.buf = b
	w.out.packet(ts, b)
	w.packets++
}

// udp writes one UDP datagram.
func (w *wire) udp(src, dst netip.AddrPort, id uint16, payload []byte, fromClient bool) {
	ts := w.tick()
	b := w.ipHeader(src.Addr(), dst.Addr(), 17, 8+len(payload), id, fromClient)
	o := len(b)
	b = append(b, make([]byte, 8)...)
	be := binary.BigEndian
	be.PutUint16(b[o:], src.Port())
	be.PutUint16(b[o+2:], dst.Port())
	be.PutUint16(b[o+4:], uint16(8+len(payload)))
	b = append(b, payload...)
	cs := ^fold(sum(b[o:], pseudoSum(src.Addr(), dst.Addr(), 17, 8+len(payload))))
	if cs == 0 {
		cs = 0xffff
	}
	be.PutUint16(b[o+6:], cs)
	w.buf = b
	w.out.packet(ts, b)
	w.packets++
}

// ipHeader starts w.buf with the link header and the IP header.
func (w *wire) ipHeader(src, dst netip.Addr, proto byte, l4len int, id uint16, outgoing bool) []byte {
	b := w.buf[:0]
	v6 := src.Is6() && !src.Is4In6()
	etype := uint16(0x0800)
	if v6 {
		etype = 0x86DD
	}
	srcMAC := macOf(src)
	dstMAC := macOf(dst)
	switch w.link {
	case Ethernet, EthernetVLAN:
		b = append(b, dstMAC[:]...)
		b = append(b, srcMAC[:]...)
		if w.link == EthernetVLAN {
			b = append(b, 0x81, 0x00, 0x00, 100)
		}
		b = append(b, byte(etype>>8), byte(etype))
	case SLL:
		pt := byte(0)
		if outgoing {
			pt = 4
		}
		b = append(b, 0, pt, 0, 1, 0, 6)
		b = append(b, srcMAC[:]...)
		b = append(b, 0, 0, byte(etype>>8), byte(etype))
	}
	be := binary.BigEndian
	if v6 {
		o := len(b)
		b = append(b, make([]byte, 40)...)
		h := b[o:]
		h[0] = 0x60
		be.PutUint16(h[4:], uint16(l4len))
		h[6] = proto
		h[7] = 64
		s16, d16 := src.As16(), dst.As16()
		copy(h[8:], s16[:])
		copy(h[24:], d16[:])
		return b
	}
	o := len(b)
	b = append(b, make([]byte, 20)...)
	h := b[o:]
	h[0] = 0x45
	be.PutUint16(h[2:], uint16(20+l4len))
	be.PutUint16(h[4:], id)
	h[6] = 0x40 // DF
	h[8] = 128
	if !outgoing {
		h[8] = 116
	}
	h[9] = proto
	s4, d4 := src.As4(), dst.As4()
	copy(h[12:], s4[:])
	copy(h[16:], d4[:])
	be.PutUint16(h[10:], ^fold(sum(h[:20], 0)))
	return b
}

func macOf(a netip.Addr) [6]byte {
	b := a.As16()
	return [6]byte{0x02, 0x00, b[12], b[13], b[14], b[15]}
}

func pseudoSum(src, dst netip.Addr, proto byte, l int) uint64 {
	var acc uint64
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		acc = uint64(binary.BigEndian.Uint32(s[:])) + uint64(binary.BigEndian.Uint32(d[:]))
	} else {
		s, d := src.As16(), dst.As16()
		acc = sum(s[:], 0)
		acc = sum(d[:], acc)
	}
	return acc + uint64(proto) + uint64(l)
}

// sum adds b as big-endian 16-bit words (in 32-bit steps) to acc.
func sum(b []byte, acc uint64) uint64 {
	for len(b) >= 8 {
		acc += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	if len(b) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return acc
}

func fold(acc uint64) uint16 {
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}
