package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// Engine turns packets into reassembled TCP connections for a Handler. It
// decodes the link, IP and TCP headers with preallocated structures,
// reassembles IP fragments, and reassembles each connection's two byte
// streams with gopacket's reassembly package. Every bound of Config is
// enforced by dropping data of one flow, counted in Stats; never the
// process.
//
// Packet, Run, FlushIdle and CloseAll must not be called concurrently; all
// Handler calls happen on the goroutine making them. Stats may be called
// from anywhere.
type Engine struct {
	cfg    Config
	h      Handler
	log    *slog.Logger
	filter *compiledFilter
	st     counters

	pool *reassembly.StreamPool
	asm  *reassembly.Assembler
	frag *defragmenter

	// Per-packet scratch, reused.
	ip     ipPacket
	tcp    layers.TCP
	shared pktCtx // context of packets the assembler does not store
	fill   []byte // zero-filled copy of a segment cut by the snap length
	curTs  time.Time
	cutLen int // payload bytes the snap length cut from the current segment
	cutAt  int // payload bytes the current segment really has

	retry    retryKind
	evicting bool    // re-assembling a packet after an eviction
	reused   *stream // stream whose 4-tuple the current SYN reuses
	rst      *stream // stream whose RST the current packet carried
	rstDir   Dir
	synth    *stream // target of a synthetic RST being assembled
	synthHdr [20]byte
	synthTCP layers.TCP

	mode   mode
	modeTs time.Time

	open        int     // streams open
	lru, lruOld *stream // most and least recently active open streams
	recent      *recentSet
	connNo      uint64

	maxTs, lastFlush time.Time
	// flushAt is flushBase + FlushInterval, exact when flushAtOK: see
	// flushDue.
	flushBase, flushAt time.Time
	flushAtOK          bool
	warned             [numWarn]uint64
}

// pktCtx carries a packet's timestamp through the assembler.
type pktCtx struct{ ts time.Time }

func (c *pktCtx) GetCaptureInfo() gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: c.ts}
}

type retryKind uint8

const (
	retryNone  retryKind = iota
	retryFresh           // the packet will be buffered: give it its own context
	retryEvict           // the flow table is full: evict, then create the flow
	retryReuse           // a SYN reuses the 4-tuple of e.reused: end it, then start anew
)

type mode uint8

const (
	modePacket mode = iota // handling a packet
	modeFlush              // FlushIdle
	modeClose              // CloseAll
)

// NewEngine returns an Engine delivering to h (nil: discard everything).
func NewEngine(cfg Config, h Handler) *Engine {
	cfg = cfg.withDefaults()
	if h == nil {
		h = discardHandler{}
	}
	e := &Engine{
		cfg:    cfg,
		h:      h,
		log:    cfg.Logger,
		filter: compileFilter(cfg.Filter),
		frag:   newDefragmenter(cfg.MaxFragmentBytes, cfg.FragmentTimeout),
		recent: newRecentSet(min(cfg.MaxFlows, 16384) * 2),
	}
	e.pool = reassembly.NewStreamPool((*factory)(e))
	e.asm = reassembly.NewAssembler(e.pool)
	e.asm.MaxBufferedPagesPerConnection = cfg.MaxBufferedPagesPerConn
	e.asm.MaxBufferedPagesTotal = cfg.MaxBufferedPagesTotal
	return e
}

// Stats returns a snapshot of the counters; safe from any goroutine.
func (e *Engine) Stats() Stats { return e.st.snapshot() }

// Packet handles one packet of the given link type.
func (e *Engine) Packet(data []byte, ci gopacket.CaptureInfo, link layers.LinkType) {
	e.st.packets.Add(1)
	e.st.bytes.Add(uint64(len(data)))
	ts := ci.Timestamp
	if ts.After(e.maxTs) {
		e.maxTs = ts
	}
	cut := ci.Length > ci.CaptureLength
	l3, version, v := decodeLink(link, data)
	if v != vOK {
		e.countDrop(v, cut)
		return
	}
	p := &e.ip
	if version == 4 {
		v = decodeIPv4(l3, p)
	} else {
		v = decodeIPv6(l3, p)
	}
	if v != vOK {
		e.countDrop(v, cut || p.missing > 0)
		return
	}
	if !e.filter.any && !e.filter.matchHosts(p.src, p.dst) {
		e.st.filtered.Add(1)
		return
	}
	payload, proto, missing := p.payload, p.proto, p.missing
	if p.frag {
		e.st.fragments.Add(1)
		if missing > 0 {
			// A cut fragment can never complete its datagram.
			e.st.truncated.Add(1)
			e.warn(warnTruncated, "packet headers or fragment cut by the snap length")
			return
		}
		if proto != 6 && !(p.v6 && isIPv6ExtHeader(proto)) {
			e.st.nonTCP.Add(1)
			return
		}
		var out fragOutcome
		payload, proto, out = e.frag.add(p, ts)
		e.fragAccounting()
		switch out {
		case fragPending:
			return
		case fragRejected:
			e.st.decodeErr.Add(1)
			e.warn(warnDecode, "malformed or inconsistent IP fragment dropped")
			return
		case fragDropped:
			return
		}
		e.st.fragReassembled.Add(1)
		if p.v6 && proto != 6 {
			var inner ipPacket
			rest, next, v := skipExtHeaders(proto, payload, &inner)
			if v != vOK || inner.frag {
				e.st.decodeErr.Add(1)
				return
			}
			payload, proto = rest, next
		}
	}
	if proto != 6 {
		e.st.nonTCP.Add(1)
		return
	}
	e.segment(payload, missing, ts)
}

// segment handles a TCP segment (header and payload) of the current packet.
func (e *Engine) segment(b []byte, missing int, ts time.Time) {
	if len(b) < 20 || len(b) < int(b[12]>>4)*4 {
		e.countDrop(vTruncated, missing > 0)
		return
	}
	if int(b[12]>>4) < 5 {
		e.st.decodeErr.Add(1)
		return
	}
	if !e.filter.any && !e.filter.matchPorts(uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3])) {
		e.st.filtered.Add(1)
		return
	}
	if b[13]&(tcpSYN|tcpFIN|tcpRST) == 0 && len(b)+missing == int(b[12]>>4)*4 {
		// A pure ACK: nothing to reassemble. Skipping it halves the work on
		// bulk traffic; it does not keep a connection from idling.
		e.st.ignored.Add(1)
		return
	}
	e.cutLen = 0
	if missing > 0 {
		// Zero-fill what the snap length cut, so the stream stays in
		// sequence; the stream reports those bytes as a Gap, not as data.
		n := len(b) + missing
		if cap(e.fill) < n {
			e.fill = make([]byte, max(n, 1<<16+64))
		}
		buf := e.fill[:n]
		copy(buf, b)
		clear(buf[len(b):])
		e.cutAt = len(b) - int(b[12]>>4)*4
		e.cutLen = missing
		b = buf
		e.st.truncated.Add(1)
	}
	if err := e.tcp.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		e.st.decodeErr.Add(1)
		e.cutLen = 0
		return
	}
	var netFlow gopacket.Flow
	if e.ip.v6 {
		netFlow = gopacket.NewFlow(layers.EndpointIPv6, e.ip.src, e.ip.dst)
	} else {
		netFlow = gopacket.NewFlow(layers.EndpointIPv4, e.ip.src, e.ip.dst)
	}
	e.curTs = ts
	e.shared.ts = ts
	e.retry = retryNone
	e.asm.AssembleWithContext(netFlow, &e.tcp, &e.shared)
	switch e.retry {
	case retryFresh:
		e.retry = retryNone
		e.asm.AssembleWithContext(netFlow, &e.tcp, &pktCtx{ts: ts})
	case retryEvict:
		e.retry = retryNone
		if e.evictOne() {
			e.evicting = true
			e.asm.AssembleWithContext(netFlow, &e.tcp, &e.shared)
			e.evicting = false
		} else {
			e.st.flowDrops.Add(1)
		}
	case retryReuse:
		e.retry = retryNone
		s := e.reused
		e.reused = nil
		s.reused = true
		e.closeStream(s)
		e.asm.AssembleWithContext(netFlow, &e.tcp, &e.shared)
	}
	e.cutLen = 0
	if s := e.rst; s != nil {
		e.rst = nil
		if s.rst && !s.done {
			// The RST ended one half; end the other one too.
			e.closeStream(s)
		}
	}
}

// TCP flags in byte 13 of the header.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
)

// countDrop counts a packet whose headers could not be used.
func (e *Engine) countDrop(v verdict, cut bool) {
	switch v {
	case vUnknownLink:
		e.st.unknownLink.Add(1)
		e.warn(warnLink, "link type not supported")
	case vNonIP, vNonTCP:
		e.st.nonTCP.Add(1)
	case vTruncated:
		if cut {
			e.st.truncated.Add(1)
			e.warn(warnTruncated, "packet headers cut by the snap length")
			return
		}
		e.st.decodeErr.Add(1)
		e.warn(warnDecode, "packet shorter than its headers")
	default:
		e.st.decodeErr.Add(1)
		e.warn(warnDecode, "malformed packet headers")
	}
}

// fragAccounting moves the defragmenter's counts into Stats.
func (e *Engine) fragAccounting() {
	if e.frag.drops > 0 {
		e.st.fragDrops.Add(e.frag.drops)
		e.warn(warnFragment, "incomplete IP datagrams dropped", slog.Uint64("datagrams", e.frag.drops))
		e.frag.drops = 0
	}
	if e.frag.overlaps > 0 {
		e.st.fragOverlaps.Add(e.frag.overlaps)
		e.frag.overlaps = 0
	}
}

// Run reads src until io.EOF, then closes every open connection
// (CloseEOF, or CloseFIN for those that had ended) and returns nil. A read
// error also closes every connection and is returned; the packets before it
// were delivered. When ctx is done Run returns ctx.Err() and leaves the
// connections open (call CloseAll to end them). The timeouts of Config are
// applied by packet time, and for a live source also by wall-clock time
// while no packet arrives.
func (e *Engine) Run(ctx context.Context, src Source) error {
	link := src.LinkType()
	done := ctx.Done()
	for i := uint(0); ; i++ {
		if i%64 == 0 && done != nil {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		data, ci, err := src.ReadPacket()
		if err != nil {
			if errors.Is(err, ErrTimeout) {
				// A live source with no traffic: apply the timeouts by the
				// wall clock, at most once per FlushInterval.
				if now := time.Now(); now.Sub(e.lastFlush) >= e.cfg.FlushInterval {
					e.lastFlush = now
					e.FlushIdle(now)
				}
				i = 63 // check ctx before the next read
				continue
			}
			e.CloseAll(e.maxTs)
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("capture: read packet: %w", err)
		}
		lt := link
		if len(ci.AncillaryData) > 0 {
			lt = packetLinkType(&ci, link)
		}
		e.Packet(data, ci, lt)
		if e.lastFlush.IsZero() {
			e.lastFlush = e.maxTs
		} else if e.flushDue() {
			e.lastFlush = e.maxTs
			e.FlushIdle(e.maxTs)
		}
	}
}

// flushDue reports whether e.maxTs.Sub(e.lastFlush) >= FlushInterval, by
// comparing e.maxTs with a deadline computed once per lastFlush rather than
// subtracting times at every packet. The deadline is used only when
// lastFlush+FlushInterval did not overflow; then maxTs is before it exactly
// when the true difference is below FlushInterval, which is when Sub (exact,
// or saturated for differences beyond a Duration) is below it too.
func (e *Engine) flushDue() bool {
	if e.flushBase != e.lastFlush {
		e.flushBase = e.lastFlush
		e.flushAt = e.lastFlush.Add(e.cfg.FlushInterval)
		e.flushAtOK = e.flushAt.After(e.lastFlush) && e.flushAt.Sub(e.lastFlush) == e.cfg.FlushInterval
	}
	if !e.flushAtOK {
		return e.maxTs.Sub(e.lastFlush) >= e.cfg.FlushInterval
	}
	return !e.maxTs.Before(e.flushAt)
}

// FlushIdle applies the timeouts as of now: it closes connections idle
// since before now-IdleTimeout (CloseIdle, or CloseFIN when every side seen
// had sent a FIN), gives up holes older than now-ReorderTimeout (a Gap, then
// the bytes after it) and drops IP fragments older than now-FragmentTimeout.
// Closes from it carry the timestamp now.
func (e *Engine) FlushIdle(now time.Time) {
	e.mode, e.modeTs = modeFlush, now
	e.asm.FlushWithOptions(reassembly.FlushOptions{
		T:  now.Add(-e.cfg.ReorderTimeout),
		TC: now.Add(-e.cfg.IdleTimeout),
	})
	e.mode = modePacket
	e.frag.expire(now)
	e.fragAccounting()
}

// CloseAll delivers what every connection has buffered (behind Gaps) and
// closes it with CloseEOF (CloseFIN for those that had ended), timestamp
// ts. Pending IP fragments are dropped.
func (e *Engine) CloseAll(ts time.Time) {
	e.mode, e.modeTs = modeClose, ts
	e.asm.FlushAll()
	e.mode = modePacket
	// Streams the assembler had already let go of cannot linger.
	for e.lruOld != nil {
		e.finish(e.lruOld)
	}
	e.frag.clear()
	e.fragAccounting()
}

// closeStream ends both halves of s in the assembler with synthetic RSTs
// (at each half's next sequence number), so that it lets go of the
// connection and its buffers.
func (e *Engine) closeStream(s *stream) {
	e.synth = s
	for _, reverse := range [2]bool{false, true} {
		if s.done {
			break
		}
		sport, dport, flow := s.sport, s.dport, s.netFlow
		if reverse {
			sport, dport, flow = dport, sport, flow.Reverse()
		}
		h := &e.synthHdr
		*h = [20]byte{}
		h[0], h[1], h[2], h[3] = byte(sport>>8), byte(sport), byte(dport>>8), byte(dport)
		h[12] = 5 << 4
		h[13] = 0x04 // RST
		if err := e.synthTCP.DecodeFromBytes(h[:], gopacket.NilDecodeFeedback); err != nil {
			break
		}
		e.asm.AssembleWithContext(flow, &e.synthTCP, &e.shared)
	}
	e.synth = nil
	if !s.done {
		e.finish(s)
	}
}

// evictOne closes the least recently active stream to make room.
func (e *Engine) evictOne() bool {
	s := e.lruOld
	if s == nil {
		return false
	}
	s.evicted = true
	e.closeStream(s)
	e.warn(warnEvict, "flow table full: least recently active connection evicted", slog.Int("max_flows", e.cfg.MaxFlows))
	return true
}

// Warnings are logged at the first occurrence and then at every power of
// two, so a flood costs a logarithmic number of lines.
type warnKind uint8

const (
	warnLink warnKind = iota
	warnTruncated
	warnDecode
	warnFragment
	warnEvict
	warnFlowDrop
	warnPageLimit
	warnReorder
	numWarn
)

func (e *Engine) warn(k warnKind, msg string, attrs ...slog.Attr) {
	e.warned[k]++
	n := e.warned[k]
	if bits.OnesCount64(n) != 1 {
		return
	}
	attrs = append(attrs, slog.Uint64("occurrences", n))
	e.log.LogAttrs(context.Background(), slog.LevelWarn, "capture: "+msg, attrs...)
}

// discardHandler is the Handler of NewEngine(cfg, nil).
type discardHandler struct{}

func (discardHandler) Open(ConnID) Conn { return discardConn{} }

type discardConn struct{}

func (discardConn) Data(Dir, []byte, time.Time)  {}
func (discardConn) Gap(Dir, int, time.Time)      {}
func (discardConn) Close(CloseReason, time.Time) {}
