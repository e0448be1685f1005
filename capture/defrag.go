package capture

import (
	"time"
)

// IP fragment reassembly, bounded in bytes, pieces and time. Overlapping
// fragments keep the bytes received first.

const (
	maxDatagram         = 65535 // largest reassembled IP payload
	maxPiecesPerDgram   = 128   // fragments kept per datagram
	fragPieceOverhead   = 48    // bytes charged per piece beyond its data
	fragDatagramOverhed = 160   // bytes charged per datagram
)

type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8 // IPv4 protocol; 0 for IPv6
	v6       bool
}

type fragPiece struct {
	off  int
	data []byte
}

type datagram struct {
	key        fragKey
	first      time.Time // arrival of the first fragment
	total      int       // payload length, -1 until the last fragment arrived
	have       int       // bytes held
	cost       int       // bytes charged against the bound
	proto      uint8     // upper layer (IPv6: the fragment header's next header)
	pieces     []fragPiece
	prev, next *datagram // age list, oldest first
}

// fragOutcome is what adding a fragment did.
type fragOutcome uint8

const (
	fragPending  fragOutcome = iota // held, datagram incomplete
	fragComplete                    // datagram complete: see the returned payload
	fragRejected                    // malformed or inconsistent fragment: dropped with its datagram
	fragDropped                     // the byte bound left no room: dropped with its datagram
)

// defragmenter holds incomplete datagrams.
type defragmenter struct {
	max      int // MaxFragmentBytes
	timeout  time.Duration
	used     int
	dgrams   map[fragKey]*datagram
	old, new *datagram // age list ends
	buf      []byte    // the last reassembled payload
	drops    uint64    // datagrams dropped since the caller last looked
	overlaps uint64
}

func newDefragmenter(max int, timeout time.Duration) *defragmenter {
	return &defragmenter{max: max, timeout: timeout, dgrams: make(map[fragKey]*datagram)}
}

// add stores one fragment. On fragComplete the returned payload (valid
// until the next add) is the whole datagram payload and proto its upper
// layer.
func (d *defragmenter) add(p *ipPacket, ts time.Time) (payload []byte, proto uint8, out fragOutcome) {
	k := fragKey{id: p.fragID, v6: p.v6}
	copy(k.src[:], p.src)
	copy(k.dst[:], p.dst)
	if !p.v6 {
		k.proto = p.proto
	}
	end := p.fragOff + len(p.payload)
	if end > maxDatagram || (p.fragMore && len(p.payload)%8 != 0) || (p.fragMore && len(p.payload) == 0) {
		if g := d.dgrams[k]; g != nil {
			d.drop(g)
		}
		return nil, 0, fragRejected
	}
	g := d.dgrams[k]
	if g == nil {
		g = &datagram{key: k, first: ts, total: -1, cost: fragDatagramOverhed}
		d.dgrams[k] = g
		d.used += g.cost
		d.link(g)
	}
	if p.fragOff == 0 || g.proto == 0 {
		g.proto = p.proto
	}
	if !p.fragMore {
		if g.total >= 0 && g.total != end {
			d.drop(g)
			return nil, 0, fragRejected
		}
		g.total = end
		if n := len(g.pieces); n > 0 && g.pieces[n-1].off+len(g.pieces[n-1].data) > end {
			d.drop(g)
			return nil, 0, fragRejected
		}
	} else if g.total >= 0 && end > g.total {
		d.drop(g)
		return nil, 0, fragRejected
	}
	if !d.insert(g, p.fragOff, p.payload) {
		d.drop(g)
		return nil, 0, fragRejected
	}
	// Respect the byte bound: drop the oldest other datagrams, then this one.
	for d.used > d.max && d.old != nil && d.old != g {
		d.drop(d.old)
	}
	if d.used > d.max {
		d.drop(g)
		return nil, 0, fragDropped
	}
	if g.total < 0 || g.have != g.total {
		return nil, 0, fragPending
	}
	if cap(d.buf) < g.total {
		d.buf = make([]byte, maxDatagram)
	}
	buf := d.buf[:g.total]
	for _, pc := range g.pieces {
		copy(buf[pc.off:], pc.data)
	}
	proto = g.proto
	d.remove(g)
	return buf, proto, fragComplete
}

// insert adds the parts of [off, off+len(data)) not held yet (first
// received wins). It reports false when the datagram has too many pieces.
func (d *defragmenter) insert(g *datagram, off int, data []byte) bool {
	end := off + len(data)
	overlapped := false
	var add []fragPiece
	cur := off
	for _, pc := range g.pieces {
		pend := pc.off + len(pc.data)
		if pend <= cur {
			continue
		}
		if pc.off >= end {
			break
		}
		overlapped = true
		if pc.off > cur {
			add = append(add, fragPiece{off: cur, data: data[cur-off : pc.off-off]})
		}
		cur = max(cur, pend)
		if cur >= end {
			break
		}
	}
	if cur < end {
		add = append(add, fragPiece{off: cur, data: data[cur-off:]})
	}
	if overlapped {
		d.overlaps++
	}
	if len(g.pieces)+len(add) > maxPiecesPerDgram {
		return false
	}
	for _, a := range add {
		if len(a.data) == 0 {
			continue
		}
		cp := fragPiece{off: a.off, data: append([]byte(nil), a.data...)}
		i := 0
		for i < len(g.pieces) && g.pieces[i].off < cp.off {
			i++
		}
		g.pieces = append(g.pieces, fragPiece{})
		copy(g.pieces[i+1:], g.pieces[i:])
		g.pieces[i] = cp
		g.have += len(cp.data)
		c := len(cp.data) + fragPieceOverhead
		g.cost += c
		d.used += c
	}
	return true
}

// expire drops datagrams whose first fragment is older than now-timeout.
func (d *defragmenter) expire(now time.Time) {
	limit := now.Add(-d.timeout)
	for d.old != nil && d.old.first.Before(limit) {
		d.drop(d.old)
	}
}

// clear drops every datagram.
func (d *defragmenter) clear() {
	for d.old != nil {
		d.drop(d.old)
	}
}

func (d *defragmenter) drop(g *datagram) {
	d.drops++
	d.remove(g)
}

func (d *defragmenter) remove(g *datagram) {
	delete(d.dgrams, g.key)
	d.used -= g.cost
	if g.prev != nil {
		g.prev.next = g.next
	} else {
		d.old = g.next
	}
	if g.next != nil {
		g.next.prev = g.prev
	} else {
		d.new = g.prev
	}
	g.prev, g.next, g.pieces = nil, nil, nil
}

func (d *defragmenter) link(g *datagram) {
	g.prev = d.new
	if d.new != nil {
		d.new.next = g
	} else {
		d.old = g
	}
	d.new = g
}
