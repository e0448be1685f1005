package x2x3

import (
	"bytes"
	"net/netip"
	"slices"
	"time"

	"rcds/decoder"
)

// The duplicate rule (README.md, "Duplicate messages"). A MSG relayed by a
// switchboard is seen once per captured connection of its participants.
// For one task, one copy is delivered:
//
//  1. A recent-message cache keyed by (XID, hash of sender, content type,
//     MIME body and the switchboard's members) remembers the connection
//     (Comm), its owner, its server and the packet time of the last copy
//     delivered. A later copy within DedupWindow of it is a duplicate when
//     it can be a copy of the same message (otherCopy): on another user's
//     connection, not the sender's own copy (which always comes first), and
//     to the same switchboard address when both used the same IP version.
//     So a copy on the same connection, or on another connection of the
//     same user (a second switchboard with the same people), is a new
//     message: people do send "ok" twice.
//  2. A copy on a connection a target of the task owns (its own copy) is
//     preferred: it keeps the message in the target's own communication
//     (correlation ID). A copy on someone else's connection is held, not
//     sent, while the target has an open switchboard connection of its own
//     whose members include the other party (or that has no member yet):
//     the own copy is then on its way. The own copy supersedes the held one;
//     if none comes within OwnCopyWait (the two talk in another
//     switchboard whose target side is not captured), the held copy is
//     delivered. Further copies from other users' connections while one is
//     held are duplicates.
//
// Nothing is lost: a copy is only dropped in favour of another copy of
// the same message that is (or will be) delivered.

// dedupKey identifies a message for one task without keeping identities.
type dedupKey struct {
	xid [16]byte
	h   uint64
}

type dedupEntry struct {
	comm   uint64 // connection of the copy delivered
	owner  uint64 // hash of its owner
	server netip.AddrPort
	t      time.Time
	gen    uint64
}

type ringSlot struct {
	key dedupKey
	gen uint64
}

// dedupCache is a bounded map with FIFO eviction.
type dedupCache struct {
	m    map[dedupKey]dedupEntry
	ring []ringSlot
	next int
	gen  uint64
}

func newDedupCache(n int) *dedupCache {
	return &dedupCache{m: make(map[dedupKey]dedupEntry, min(n, 1024)), ring: make([]ringSlot, n)}
}

// duplicate reports whether a copy of e's message from another user's
// connection was delivered within window of e.
func (c *dedupCache) duplicate(k dedupKey, e *decoder.Event, window time.Duration) bool {
	ent, ok := c.m[k]
	return ok && otherCopy(ent.comm, ent.owner, ent.server, e) && within(e.Time.Sub(ent.t), window)
}

// otherCopy reports whether e can be another copy of the message of a copy
// seen earlier on connection comm, owned by owner, to server:
//   - e is on a connection of another user: two connections of one user
//     carry different messages (two switchboards with the same people),
//     never one message twice;
//   - e is not the sender's own copy: the sender's copy comes first, the
//     switchboard relays it afterwards;
//   - e reached the same switchboard server, when both copies travelled
//     over the same IP version (one switchboard has one address per
//     version).
func otherCopy(comm, owner uint64, server netip.AddrPort, e *decoder.Event) bool {
	if comm == e.Comm || owner == ownerHash(e) || senderCopy(e) {
		return false
	}
	a, b := server.Addr().Unmap(), e.Server.Addr().Unmap()
	return a.Is4() != b.Is4() || server == e.Server || !server.IsValid() || !e.Server.IsValid()
}

// senderCopy reports whether e is a MSG as its sender's client sent it.
func senderCopy(e *decoder.Event) bool {
	return e.FromClient && e.User != "" && equalFoldASCII(e.From, e.User)
}

// ownerHash identifies the owner of e's connection (0 when unknown: then
// only the connection tells copies apart).
func ownerHash(e *decoder.Event) uint64 {
	if e.User == "" {
		return mix(e.Comm)
	}
	return mix(fnvLower(14695981039346656037, e.User))
}

// remember records that e was delivered.
func (c *dedupCache) remember(k dedupKey, e *decoder.Event) {
	c.gen++
	old := c.ring[c.next]
	if ent, ok := c.m[old.key]; ok && old.gen != 0 && ent.gen == old.gen {
		delete(c.m, old.key)
	}
	c.ring[c.next] = ringSlot{key: k, gen: c.gen}
	c.next = (c.next + 1) % len(c.ring)
	c.m[k] = dedupEntry{comm: e.Comm, owner: ownerHash(e), server: e.Server, t: e.Time, gen: c.gen}
}

func within(d, window time.Duration) bool { return d <= window && d >= -window }

// heldCopy is a copy of a MSG waiting for the target's own copy.
type heldCopy struct {
	key  dedupKey
	e    decoder.Event // deep copy
	h    hit           // task refreshed from the snapshot on release
	wall time.Time     // when it was held
}

// pendingCopies are the held copies, oldest first, bounded.
type pendingCopies struct {
	max int
	q   []*heldCopy
}

func newPendingCopies(n int) *pendingCopies { return &pendingCopies{max: n} }

func (pc *pendingCopies) len() int { return len(pc.q) }

// holds reports whether a copy of e's message from another connection is
// held (e is then a further copy of it).
func (pc *pendingCopies) holds(k dedupKey, e *decoder.Event, window time.Duration) bool {
	for _, c := range pc.q {
		if c.key == k && otherCopy(c.e.Comm, ownerHash(&c.e), c.e.Server, e) && within(e.Time.Sub(c.e.Time), window) {
			return true
		}
	}
	return false
}

// hold keeps a copy of e; it reports false (and keeps nothing) when the
// bound is reached, in which case the caller delivers e at once.
func (pc *pendingCopies) hold(k dedupKey, e *decoder.Event, h *hit, now time.Time) bool {
	if len(pc.q) >= pc.max {
		return false
	}
	c := &heldCopy{key: k, e: *e, h: *h, wall: now}
	c.e.To = slices.Clone(e.To)
	c.e.Raw = bytes.Clone(e.Raw)
	c.h.others = slices.Clone(h.others)
	c.h.passports = slices.Clone(h.passports)
	pc.q = append(pc.q, c)
	return true
}

// supersede drops the held copies of e's message from other connections
// (e, the target's own copy, is delivered instead) and returns how many.
func (pc *pendingCopies) supersede(k dedupKey, e *decoder.Event, window time.Duration) int {
	n := len(pc.q)
	pc.q = slices.DeleteFunc(pc.q, func(c *heldCopy) bool {
		return c.key == k && otherCopy(c.e.Comm, ownerHash(&c.e), c.e.Server, e) && within(e.Time.Sub(c.e.Time), window)
	})
	return n - len(pc.q)
}

// take removes and returns the held copies of task xid.
func (pc *pendingCopies) take(xid [16]byte) []*heldCopy {
	var out []*heldCopy
	pc.q = slices.DeleteFunc(pc.q, func(c *heldCopy) bool {
		if c.key.xid == xid {
			out = append(out, c)
			return true
		}
		return false
	})
	return out
}

// due removes and returns the oldest held copy whose wait is over (packet
// time pkt is wait past its own, or it was held wait ago in wall-clock
// time, or all is set), or nil.
func (pc *pendingCopies) due(pkt, wall time.Time, wait time.Duration, all bool) *heldCopy {
	for i, c := range pc.q {
		if all || (!pkt.IsZero() && pkt.Sub(c.e.Time) >= wait) || wall.Sub(c.wall) >= wait {
			pc.q = slices.Delete(pc.q, i, i+1)
			return c
		}
	}
	return nil
}

// messageHash identifies a message across its copies: FNV-1a over the
// lower-case sender, the content type and the MIME body, plus the
// switchboard's members at that moment (the sender and the recipients, the
// same set on every copy), combined so that their order does not matter.
// The members keep apart identical texts ("ok", every typing notification)
// sent in different conversations.
func messageHash(e *decoder.Event) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	h = fnvLower(h, e.From)
	h = (h ^ 0xff) * prime64
	for i := 0; i < len(e.ContentType); i++ {
		h = (h ^ uint64(e.ContentType[i])) * prime64
	}
	h = (h ^ 0xff) * prime64
	body, ok := mimeBody(e.Raw)
	if !ok {
		body = []byte(e.Body)
	}
	for _, c := range body {
		h = (h ^ uint64(c)) * prime64
	}
	var members uint64
	seenFrom := false
	for _, to := range e.To {
		if equalFoldASCII(to, e.From) {
			seenFrom = true
		}
		members += mix(fnvLower(offset64, to))
	}
	if !seenFrom {
		members += mix(fnvLower(offset64, e.From))
	}
	return mix(h ^ members)
}

// fnvLower continues FNV-1a hash h over s with ASCII letters lowered.
func fnvLower(h uint64, s string) uint64 {
	const prime64 = 1099511628211
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * prime64
	}
	return h
}

// mix is a 64-bit finaliser (splitmix64), so that sums of member hashes
// do not cancel out.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// mimeBody returns the bytes of a MIME message after the first empty
// line (CRLF or LF line ends), as the decoder splits it.
func mimeBody(raw []byte) ([]byte, bool) {
	p := raw
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return nil, false
		}
		line := p[:i]
		p = p[i+1:]
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			return p, true
		}
	}
	return nil, false
}

// sbConn is one switchboard connection as the POI remembers it.
type sbConn struct {
	comm       uint64
	owner      string   // lower case
	members    []string // the other members, lower case
	hadMembers bool
}

// sbTracker remembers the owner and members of switchboard connections,
// bounded, forgetting the oldest first.
type sbTracker struct {
	max, maxMembers int
	conns           map[uint64]*sbConn
	byOwner         map[string][]*sbConn
	ring            []uint64
	next            int
}

func newSBTracker(n, maxMembers int) *sbTracker {
	return &sbTracker{
		max:        n,
		maxMembers: maxMembers,
		conns:      make(map[uint64]*sbConn),
		byOwner:    make(map[string][]*sbConn),
		ring:       make([]uint64, 0, min(n, 1024)),
	}
}

// observe updates the tracker with a switchboard session event.
func (t *sbTracker) observe(e *decoder.Event) {
	c := t.conns[e.Comm]
	switch e.Kind {
	case decoder.KindSessionStart:
		if c == nil {
			c = t.add(e)
		}
		if c == nil {
			return
		}
		for _, m := range e.To {
			t.addMember(c, m)
		}
	case decoder.KindSessionJoin:
		if c == nil {
			c = t.add(e)
		}
		if c != nil {
			t.addMember(c, e.From)
		}
	case decoder.KindSessionLeave:
		if c == nil {
			return
		}
		who := lowerASCII(e.From)
		if who == c.owner {
			t.remove(c)
			return
		}
		c.members = slices.DeleteFunc(c.members, func(m string) bool { return m == who })
	}
}

func (t *sbTracker) add(e *decoder.Event) *sbConn {
	if e.User == "" || t.max <= 0 {
		return nil
	}
	if len(t.ring) < t.max {
		t.ring = append(t.ring, e.Comm)
	} else {
		if old := t.conns[t.ring[t.next]]; old != nil {
			t.remove(old)
		}
		t.ring[t.next] = e.Comm
		t.next = (t.next + 1) % t.max
	}
	c := &sbConn{comm: e.Comm, owner: lowerASCII(e.User)}
	t.conns[e.Comm] = c
	t.byOwner[c.owner] = append(t.byOwner[c.owner], c)
	return c
}

func (t *sbTracker) addMember(c *sbConn, who string) {
	if who == "" {
		return
	}
	w := lowerASCII(who)
	if w == c.owner || slices.Contains(c.members, w) || len(c.members) >= t.maxMembers {
		return
	}
	c.members = append(c.members, w)
	c.hadMembers = true
}

func (t *sbTracker) remove(c *sbConn) {
	if t.conns[c.comm] == c {
		delete(t.conns, c.comm)
	}
	list := slices.DeleteFunc(t.byOwner[c.owner], func(x *sbConn) bool { return x == c })
	if len(list) == 0 {
		delete(t.byOwner, c.owner)
	} else {
		t.byOwner[c.owner] = list
	}
}

// expects reports whether owner (lower case) has an open switchboard
// connection other than comm on which a copy of a message exchanged with
// peer will arrive: peer is one of its members, or it has none yet.
func (t *sbTracker) expects(owner, peer string, comm uint64) bool {
	p := lowerASCII(peer)
	for _, c := range t.byOwner[owner] {
		if c.comm == comm {
			continue
		}
		if !c.hadMembers && len(c.members) == 0 {
			return true
		}
		if p != "" && slices.Contains(c.members, p) {
			return true
		}
	}
	return false
}
