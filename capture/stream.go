package capture

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// invalidSeq is the reassembly package's "no sequence number yet".
const invalidSeq = reassembly.Sequence(-1)

// maxCuts bounds the snap-length holes remembered per direction.
const maxCuts = 16

// factory is the Engine seen as a reassembly.StreamFactory.
type factory Engine

// New is called by the assembler for the first packet of an unknown
// connection (the current packet).
func (f *factory) New(netFlow, _ gopacket.Flow, tcp *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	e := (*Engine)(f)
	if e.synth != nil {
		return nil
	}
	if !tcp.SYN && len(tcp.Payload) == 0 {
		// A pure ACK, FIN or RST of a connection not tracked: nothing to
		// reassemble, and no reason to track it.
		e.st.ignored.Add(1)
		return nil
	}
	src := netip.AddrPortFrom(addrFrom(e.ip.src), uint16(tcp.SrcPort))
	dst := netip.AddrPortFrom(addrFrom(e.ip.dst), uint16(tcp.DstPort))
	if tcp.SYN {
		e.recent.forget(src, dst)
	} else if e.recent.stale(src, dst, tcp, e.curTs, e.cfg.IdleTimeout) {
		e.st.lateSegments.Add(1)
		return nil
	}
	if e.open >= e.cfg.MaxFlows {
		if !e.evicting {
			e.retry = retryEvict
			return nil
		}
		e.st.flowDrops.Add(1)
		e.warn(warnFlowDrop, "flow table full: packet of a new connection dropped", slog.Int("max_flows", e.cfg.MaxFlows))
		return nil
	}
	clientIsSrc := clientIsSource(tcp)
	s := &stream{e: e, netFlow: netFlow, sport: uint16(tcp.SrcPort), dport: uint16(tcp.DstPort), flip: !clientIsSrc, lastSeen: e.curTs}
	if clientIsSrc {
		s.id = ConnID{Client: src, Server: dst, Start: e.curTs}
	} else {
		s.id = ConnID{Client: dst, Server: src, Start: e.curTs}
	}
	e.connNo++
	s.no = e.connNo
	e.open++
	e.st.flows.Add(1)
	e.lruPush(s)
	s.conn = e.h.Open(s.id)
	if s.conn == nil {
		s.conn = discardConn{}
	}
	return s
}

// clientIsSource decides whether the sender of the first packet seen of a
// connection is its client: the SYN sender; else the side of the
// well-known, then the lower, port is the server; on a tie the sender is
// the client.
func clientIsSource(tcp *layers.TCP) bool {
	if tcp.SYN {
		return !tcp.ACK
	}
	sp, dp := uint16(tcp.SrcPort), uint16(tcp.DstPort)
	if ws, wd := wellKnownPort(sp), wellKnownPort(dp); ws != wd {
		return wd
	}
	if (sp < 1024) != (dp < 1024) {
		return dp < 1024
	}
	if sp != dp {
		return sp > dp
	}
	return true
}

// wellKnownPort lists server ports above 1023 that clients' ephemeral ports
// (1024-5000 on older Windows) may undercut.
func wellKnownPort(p uint16) bool {
	switch p {
	case 1080, 1863, 3128, 5050, 5190, 5222, 5223, 5269, 6667, 6697, 8080, 8443:
		return true
	}
	return p >= 6891 && p <= 6900 // MSN file transfers
}

// stream is one TCP connection: a reassembly.Stream delivering to a Conn.
type stream struct {
	e        *Engine
	conn     Conn
	id       ConnID
	no       uint64 // opaque number for logs
	netFlow  gopacket.Flow
	sport    uint16 // ports of the first packet seen
	dport    uint16
	flip     bool // the reassembly package's client-to-server is our ServerToClient
	lastSeen time.Time
	half     [2]half // by Dir
	done     bool    // Close was called
	rst      bool
	rstTs    time.Time
	evicted  bool
	reused   bool

	lruPrev, lruNext *stream // lruPrev is more recent
}

type half struct {
	seen  bool                // a real packet was seen in this direction
	next  reassembly.Sequence // sequence number of the next byte to deliver
	fin   bool
	finTs time.Time
	cuts  []cut // holes cut by the snap length, zero-filled in the stream
}

// cut is a range of sequence numbers [start, start+n) that the snap length
// cut from a segment.
type cut struct {
	start reassembly.Sequence
	n     int
}

func (s *stream) dir(d reassembly.TCPFlowDirection) Dir {
	our := ClientToServer
	if d == reassembly.TCPDirServerToClient {
		our = ServerToClient
	}
	if s.flip {
		our ^= 1
	}
	return our
}

// Accept is called by the assembler for each packet of the connection.
func (s *stream) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, rdir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	e := s.e
	if e.synth != nil {
		if e.synth != s {
			return false
		}
		*start = true
		if nextSeq != invalidSeq {
			tcp.Seq = uint32(nextSeq)
		}
		return true
	}
	if s.done {
		e.st.lateSegments.Add(1)
		return false
	}
	if ci.Timestamp.After(s.lastSeen) {
		s.lastSeen = ci.Timestamp
	}
	e.lruTouch(s)
	d := s.dir(rdir)
	h := &s.half[d]
	if nextSeq == invalidSeq {
		// First packet of this direction: start here, SYN or not, so that
		// connections that began before the capture are followed.
		*start = true
		h.next = reassembly.Sequence(tcp.Seq)
		if tcp.SYN {
			h.next = h.next.Add(1)
		}
	} else {
		if tcp.SYN && reassembly.Sequence(tcp.Seq).Add(1) != nextSeq {
			// A SYN with another initial sequence number: a new connection
			// on the same addresses and ports, of which the end of the old
			// one was not seen. End the old one, then start the new one.
			e.retry, e.reused = retryReuse, s
			return false
		}
		h.next = nextSeq
	}
	if n := len(tcp.Payload); n > 0 && nextSeq != invalidSeq {
		switch diff := nextSeq.Difference(reassembly.Sequence(tcp.Seq)); {
		case diff > 0 && !tcp.RST && !tcp.SYN:
			if ac == reassembly.AssemblerContext(&e.shared) {
				// The assembler will buffer this segment and keep its
				// context: have it assembled again with a context of its own.
				e.retry = retryFresh
				return false
			}
			e.st.outOfOrder.Add(1)
		case diff < 0:
			e.st.overlapBytes.Add(uint64(min(-diff, n)))
		}
	}
	h.seen = true
	if e.cutLen > 0 {
		if len(h.cuts) < maxCuts {
			h.cuts = append(h.cuts, cut{start: reassembly.Sequence(tcp.Seq).Add(e.cutAt), n: e.cutLen})
		} else {
			// Too many holes to remember: hand over only the real bytes;
			// the assembler then reports the hole itself, later.
			tcp.Payload = tcp.Payload[:e.cutAt]
		}
	}
	if tcp.RST {
		e.rst, e.rstDir = s, d
	}
	return true
}

// ReassembledSG receives in-order bytes of one direction.
func (s *stream) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	e := s.e
	rdir, _, end, skip := sg.Info()
	d := s.dir(rdir)
	h := &s.half[d]
	avail, _ := sg.Lengths()
	if s.done {
		return
	}
	ts := e.curTs
	if e.mode != modePacket {
		ts = e.modeTs
		if avail > 0 {
			ts = sg.CaptureInfo(0).Timestamp
			if t := sg.CaptureInfo(avail - 1).Timestamp; t.After(ts) {
				ts = t
			}
		}
	}
	if skip > 0 {
		s.gap(d, skip, ts)
		h.next = h.next.Add(skip)
	}
	if avail > 0 {
		s.deliver(d, sg.Fetch(avail), ts)
	}
	if end && e.synth == nil {
		if e.mode == modePacket && e.rst == s && e.rstDir == d {
			s.rst, s.rstTs = true, ts
		} else {
			h.fin, h.finTs = true, ts
		}
	}
}

// gap reports n bytes the assembler gave up on.
func (s *stream) gap(d Dir, n int, ts time.Time) {
	e := s.e
	e.st.gaps.Add(1)
	e.st.gapBytes.Add(uint64(n))
	switch e.mode {
	case modePacket:
		e.st.pageDrops.Add(1)
		e.warn(warnPageLimit, "out-of-order buffer bound reached: hole given up", slog.Uint64("conn", s.no), slog.String("dir", d.String()), slog.Int("bytes", n))
	case modeFlush:
		e.warn(warnReorder, "hole not filled within the reorder timeout", slog.Uint64("conn", s.no), slog.String("dir", d.String()), slog.Int("bytes", n))
	}
	s.conn.Gap(d, n, ts)
}

// deliver hands data, which starts at the direction's next sequence
// number, to the Conn, turning zero-filled snap-length holes into Gaps.
func (s *stream) deliver(d Dir, data []byte, ts time.Time) {
	h := &s.half[d]
	if len(h.cuts) == 0 {
		s.e.st.bytesOut.Add(uint64(len(data)))
		h.next = h.next.Add(len(data))
		s.conn.Data(d, data, ts)
		return
	}
	for len(data) > 0 {
		// The first hole that ends after the current position.
		best := -1
		for i, c := range h.cuts {
			if h.next.Difference(c.start.Add(c.n)) <= 0 {
				continue
			}
			if best < 0 || h.cuts[best].start.Difference(c.start) < 0 {
				best = i
			}
		}
		if best < 0 {
			s.e.st.bytesOut.Add(uint64(len(data)))
			h.next = h.next.Add(len(data))
			s.conn.Data(d, data, ts)
			break
		}
		c := h.cuts[best]
		if lead := h.next.Difference(c.start); lead > 0 {
			n := min(lead, len(data))
			s.e.st.bytesOut.Add(uint64(n))
			h.next = h.next.Add(n)
			s.conn.Data(d, data[:n], ts)
			data = data[n:]
			continue
		}
		n := min(h.next.Difference(c.start.Add(c.n)), len(data))
		s.e.st.gaps.Add(1)
		s.e.st.gapBytes.Add(uint64(n))
		s.conn.Gap(d, n, ts)
		h.next = h.next.Add(n)
		data = data[n:]
	}
	// Forget the holes passed.
	k := 0
	for _, c := range h.cuts {
		if h.next.Difference(c.start.Add(c.n)) > 0 {
			h.cuts[k] = c
			k++
		}
	}
	h.cuts = h.cuts[:k]
}

// ReassemblyComplete is called when both halves are closed.
func (s *stream) ReassemblyComplete(reassembly.AssemblerContext) bool {
	if !s.done {
		s.e.finish(s)
	}
	return true
}

// finish closes s towards the handler, once.
func (e *Engine) finish(s *stream) {
	reason, ts := s.closeReason()
	s.done = true
	e.lruRemove(s)
	e.open--
	e.st.flowsClosed.Add(1)
	switch reason {
	case CloseEvicted:
		e.st.flowsEvicted.Add(1)
	case CloseFIN, CloseRST:
		for d := range s.half {
			final := invalidSeq
			if h := &s.half[d]; h.seen {
				final = h.next
			}
			src, dst := s.id.Client, s.id.Server
			if Dir(d) == ServerToClient {
				src, dst = dst, src
			}
			e.recent.add(src, dst, final, ts)
		}
	}
	c := s.conn
	s.conn = discardConn{}
	s.half[0].cuts, s.half[1].cuts = nil, nil
	c.Close(reason, ts)
}

// closeReason says why s ends now, and when.
func (s *stream) closeReason() (CloseReason, time.Time) {
	e := s.e
	if s.rst {
		return CloseRST, s.rstTs
	}
	now := e.curTs
	if e.mode != modePacket {
		now = e.modeTs
	}
	if s.evicted {
		return CloseEvicted, now
	}
	if s.reused {
		return CloseReused, now
	}
	seen, fins := 0, 0
	var finTs time.Time
	for _, h := range s.half {
		if h.seen {
			seen++
		}
		if h.fin {
			fins++
			if h.finTs.After(finTs) {
				finTs = h.finTs
			}
		}
	}
	if fins > 0 && fins >= seen {
		return CloseFIN, finTs
	}
	if e.mode == modeClose {
		return CloseEOF, now
	}
	return CloseIdle, now
}

// The LRU list of open streams, most recently active first.

func (e *Engine) lruPush(s *stream) {
	s.lruPrev, s.lruNext = nil, e.lru
	if e.lru != nil {
		e.lru.lruPrev = s
	} else {
		e.lruOld = s
	}
	e.lru = s
}

func (e *Engine) lruRemove(s *stream) {
	if s.lruPrev != nil {
		s.lruPrev.lruNext = s.lruNext
	} else if e.lru == s {
		e.lru = s.lruNext
	}
	if s.lruNext != nil {
		s.lruNext.lruPrev = s.lruPrev
	} else if e.lruOld == s {
		e.lruOld = s.lruPrev
	}
	s.lruPrev, s.lruNext = nil, nil
}

func (e *Engine) lruTouch(s *stream) {
	if e.lru == s {
		return
	}
	e.lruRemove(s)
	e.lruPush(s)
}

// recentSet remembers the final sequence numbers of the directions of
// connections closed by FIN or RST, so that their late segments
// (retransmissions, data in flight when a RST was sent) are not taken for
// new connections. Its size is fixed; the oldest entries are overwritten.
type recentSet struct {
	m    map[recentKey]int
	ring []recentEntry // grows up to max, then is overwritten in turn
	max  int
	next int
}

// recentKey is a direction's addresses and ports in a compact form without
// pointers (cheaper to hash and to scan than two netip.AddrPort). Packet
// addresses have no zone.
type recentKey struct {
	src, dst     [16]byte
	sport, dport uint16
	kind         uint32 // addrKind of src, and of dst shifted by 2
}

func newRecentKey(src, dst netip.AddrPort) recentKey {
	return recentKey{
		src: src.Addr().As16(), dst: dst.Addr().As16(),
		sport: src.Port(), dport: dst.Port(),
		kind: addrKind(src.Addr()) | addrKind(dst.Addr())<<2,
	}
}

// addrKind tells IPv4 (and the invalid Addr) from IPv6 addresses with the
// same As16.
func addrKind(a netip.Addr) uint32 {
	switch {
	case a.Is4():
		return 1
	case !a.IsValid():
		return 2
	}
	return 0
}

type recentEntry struct {
	key   recentKey
	final reassembly.Sequence
	ts    time.Time
	used  bool
}

func newRecentSet(n int) *recentSet {
	return &recentSet{m: make(map[recentKey]int), max: max(n, 16)}
}

func (r *recentSet) add(src, dst netip.AddrPort, final reassembly.Sequence, ts time.Time) {
	k := newRecentKey(src, dst)
	if len(r.ring) < r.max {
		r.ring = append(r.ring, recentEntry{})
		r.next = len(r.ring) - 1
	} else if old := &r.ring[r.next]; old.used {
		if i, ok := r.m[old.key]; ok && i == r.next {
			delete(r.m, old.key)
		}
	}
	r.ring[r.next] = recentEntry{key: k, final: final, ts: ts, used: true}
	r.m[k] = r.next
	r.next = (r.next + 1) % r.max
}

func (r *recentSet) forget(src, dst netip.AddrPort) {
	delete(r.m, newRecentKey(src, dst))
}

// recentWindow is how long after a FIN or RST segments of the 4-tuple are
// taken for late ones (TCP's TIME_WAIT is 2 MSL: 1 to 4 minutes).
const recentWindow = 2 * time.Minute

// recentSpan is how far from the final sequence number a late segment may
// lie; a new connection whose SYN was missed almost never starts that close.
const recentSpan = 1 << 24

// stale reports whether tcp, sent from src to dst, belongs to a connection
// of that 4-tuple closed by FIN or RST within the window: a retransmission,
// or data that was in flight when a RST was sent.
func (r *recentSet) stale(src, dst netip.AddrPort, tcp *layers.TCP, now time.Time, window time.Duration) bool {
	if len(r.m) == 0 {
		return false
	}
	i, ok := r.m[newRecentKey(src, dst)]
	if !ok {
		return false
	}
	en := &r.ring[i]
	if now.Sub(en.ts) > min(window, recentWindow) {
		delete(r.m, en.key)
		return false
	}
	if en.final == invalidSeq {
		return true
	}
	d := en.final.Difference(reassembly.Sequence(tcp.Seq))
	return d > -recentSpan && d < recentSpan
}
