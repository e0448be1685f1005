package decoder

import (
	"log/slog"
	"sync/atomic"
	"time"

	"rcds/capture"
)

// DetectWindow is how many bytes per direction the Mux buffers while it
// asks the protocols what a connection is. A direction that fills it
// without a Yes counts as No for every protocol still undecided.
const DetectWindow = 4096

// maxChunks bounds the arrival records kept for one undetected connection;
// beyond it, data is merged into the last record of the same direction.
const maxChunks = 256

// Mux implements capture.Handler. It buffers the first bytes of each
// connection (at most DetectWindow per direction), asks each Protocol's
// Detect, and feeds the chosen protocol's ConnDecoder with everything from
// the first byte on, in arrival order. A connection no protocol claims is
// dropped: its later data costs one branch. Events go to the Emitter given
// to NewMux and are counted.
//
// Like every capture.Handler, a Mux is driven from one goroutine; Stats may
// be called from any.
type Mux struct {
	log    *slog.Logger
	emit   Emitter
	protos []Protocol

	opened     atomic.Uint64
	detected   []atomic.Uint64 // per protocol
	undetected atomic.Uint64
	pending    atomic.Int64
	kinds      [len(kindOrder)]atomic.Uint64
	otherKinds atomic.Uint64
}

// kindOrder lists the kinds counted by Stats.
var kindOrder = [...]Kind{
	KindLogin, KindLogout, KindPresence, KindContactAdd, KindNickname,
	KindPersonalMessage, KindSessionStart, KindSessionJoin, KindSessionLeave,
	KindMessage, KindTyping, KindFileInvite, KindP2P, KindInfo, KindError,
}

// MuxStats is a snapshot of a Mux's counters.
type MuxStats struct {
	Conns      uint64            // connections opened
	Detected   map[string]uint64 // connections claimed, per protocol name
	Undetected uint64            // connections with data that no protocol claimed
	Pending    int64             // connections still being looked at
	Events     map[Kind]uint64   // events emitted, per kind (kinds with none omitted)
	Errors     uint64            // events of kind error
}

// TotalEvents sums Events.
func (s MuxStats) TotalEvents() uint64 {
	var n uint64
	for _, v := range s.Events {
		n += v
	}
	return n
}

// NewMux returns a Mux that offers each connection to protos, in order.
func NewMux(logger *slog.Logger, emit Emitter, protos ...Protocol) *Mux {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if emit == nil {
		emit = EmitterFunc(func(*Event) {})
	}
	if len(protos) > 64 {
		logger.Warn("decoder: more than 64 protocols; only the first 64 are offered connections", slog.Int("protocols", len(protos)))
		protos = protos[:64]
	}
	return &Mux{
		log:      logger,
		emit:     emit,
		protos:   protos,
		detected: make([]atomic.Uint64, len(protos)),
	}
}

// countAndEmit counts e and passes it on; it is the Emitter the Mux hands
// to the protocols.
func (m *Mux) countAndEmit(e *Event) {
	if i := kindIndex(e.Kind); i >= 0 {
		m.kinds[i].Add(1)
	} else {
		m.otherKinds.Add(1)
	}
	m.emit.Emit(e)
}

func kindIndex(k Kind) int {
	for i, x := range kindOrder {
		if x == k {
			return i
		}
	}
	return -1
}

// Stats returns a snapshot of the counters; safe from any goroutine.
func (m *Mux) Stats() MuxStats {
	s := MuxStats{
		Conns:      m.opened.Load(),
		Detected:   make(map[string]uint64, len(m.protos)),
		Undetected: m.undetected.Load(),
		Pending:    m.pending.Load(),
		Events:     make(map[Kind]uint64),
	}
	for i, p := range m.protos {
		s.Detected[p.Name()] += m.detected[i].Load()
	}
	for i, k := range kindOrder {
		if n := m.kinds[i].Load(); n > 0 {
			s.Events[k] = n
		}
	}
	if n := m.otherKinds.Load(); n > 0 {
		s.Events["other"] = n
	}
	s.Errors = s.Events[KindError]
	return s
}

// Open implements capture.Handler.
func (m *Mux) Open(id capture.ConnID) capture.Conn {
	m.opened.Add(1)
	m.pending.Add(1)
	mc := &muxConn{m: m, id: id, alive: (1 << len(m.protos)) - 1}
	if len(m.protos) == 64 {
		mc.alive = ^uint64(0)
	}
	return mc
}

type muxState uint8

const (
	statePending muxState = iota
	stateDetected
	stateDropped
)

// chunk records one Data or Gap call of an undetected connection.
type chunk struct {
	dir capture.Dir
	gap bool
	n   int // bytes (Data) or gap size (Gap)
	ts  time.Time
}

type muxConn struct {
	m     *Mux
	id    capture.ConnID
	state muxState
	dec   ConnDecoder

	buf    [2][]byte
	full   [2]bool
	chunks []chunk
	alive  uint64    // protocols not yet ruled out (bit i)
	no     [2]uint64 // protocols that said No for a direction
	seen   bool      // some data arrived
}

// Data implements capture.Conn.
func (c *muxConn) Data(dir capture.Dir, data []byte, ts time.Time) {
	switch c.state {
	case stateDetected:
		c.dec.Data(dir, data, ts)
		return
	case stateDropped:
		return
	}
	if dir > capture.ServerToClient || len(data) == 0 {
		return
	}
	c.seen = true
	if len(c.chunks) == 0 {
		// Nothing buffered yet (the usual case: the first line decides):
		// ask the protocols about data in place, and copy it only if they
		// need more. The calls and their outcome are those of the buffered
		// path below.
		take := min(len(data), DetectWindow)
		if take >= DetectWindow {
			c.full[dir] = true
		}
		if i := c.detectIn(dir, data[:take]); i >= 0 {
			c.choose(i)
			c.dec.Data(dir, data[:take], ts)
			if take < len(data) {
				c.dec.Data(dir, data[take:], ts)
			}
			return
		}
		if c.alive == 0 {
			c.drop()
			return
		}
		c.buf[dir] = append(c.buf[dir], data[:take]...)
		c.record(chunk{dir: dir, n: take, ts: ts})
		return
	}
	take := min(len(data), DetectWindow-len(c.buf[dir]))
	if take > 0 {
		c.buf[dir] = append(c.buf[dir], data[:take]...)
		c.record(chunk{dir: dir, n: take, ts: ts})
	}
	if len(c.buf[dir]) >= DetectWindow {
		c.full[dir] = true
	}
	if i := c.detect(dir); i >= 0 {
		c.choose(i)
		if take < len(data) {
			c.dec.Data(dir, data[take:], ts)
		}
		return
	}
	if c.alive == 0 {
		c.drop()
	}
}

// record appends an arrival record, merging when there are too many.
func (c *muxConn) record(ch chunk) {
	if len(c.chunks) >= maxChunks && !ch.gap {
		if last := &c.chunks[len(c.chunks)-1]; last.dir == ch.dir && !last.gap {
			last.n += ch.n
			last.ts = ch.ts
			return
		}
	}
	if len(c.chunks) >= 4*maxChunks {
		// Pathological alternation: stop recording; the connection is
		// then judged on what it has.
		c.full = [2]bool{true, true}
		return
	}
	c.chunks = append(c.chunks, ch)
}

// detect asks the protocols still alive about dir; it returns the index of
// the first that says Yes, or -1, and rules out those that said No.
func (c *muxConn) detect(dir capture.Dir) int {
	return c.detectIn(dir, c.buf[dir])
}

// detectIn is detect on the bytes first of dir.
func (c *muxConn) detectIn(dir capture.Dir, first []byte) int {
	for i, p := range c.m.protos {
		bit := uint64(1) << i
		if c.alive&bit == 0 || c.no[dir]&bit != 0 {
			continue
		}
		switch p.Detect(dir, first) {
		case Yes:
			return i
		case No:
			c.no[dir] |= bit
			c.alive &^= bit
		case NeedMore:
			if c.full[dir] {
				c.no[dir] |= bit
				c.alive &^= bit
			}
		}
	}
	return -1
}

// choose hands the connection to protocol i and replays what was buffered.
func (c *muxConn) choose(i int) {
	p := c.m.protos[i]
	c.m.detected[i].Add(1)
	c.m.pending.Add(-1)
	c.state = stateDetected
	c.dec = p.NewConn(c.id, EmitterFunc(c.m.countAndEmit))
	var off [2]int
	for _, ch := range c.chunks {
		if ch.gap {
			c.dec.Gap(ch.dir, ch.n, ch.ts)
			continue
		}
		b := c.buf[ch.dir][off[ch.dir] : off[ch.dir]+ch.n]
		off[ch.dir] += ch.n
		c.dec.Data(ch.dir, b, ch.ts)
	}
	c.buf = [2][]byte{}
	c.chunks = nil
}

func (c *muxConn) drop() {
	c.state = stateDropped
	c.m.pending.Add(-1)
	c.m.undetected.Add(1)
	c.buf = [2][]byte{}
	c.chunks = nil
}

// Gap implements capture.Conn.
func (c *muxConn) Gap(dir capture.Dir, n int, ts time.Time) {
	switch c.state {
	case stateDetected:
		c.dec.Gap(dir, n, ts)
		return
	case stateDropped:
		return
	}
	if dir > capture.ServerToClient {
		return
	}
	c.record(chunk{dir: dir, gap: true, n: n, ts: ts})
}

// Close implements capture.Conn.
func (c *muxConn) Close(reason capture.CloseReason, ts time.Time) {
	switch c.state {
	case stateDetected:
		c.dec.Close(reason, ts)
		c.dec = nil
	case statePending:
		c.m.pending.Add(-1)
		if c.seen {
			c.m.undetected.Add(1)
		}
		c.buf = [2][]byte{}
		c.chunks = nil
	}
	c.state = stateDropped
}
