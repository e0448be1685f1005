package x2x3

import "sync"

// Sequencer hands out the sequence numbers of X2/X3 PDUs, one counter per
// XID, starting at 0 and wrapping after 2^32-1. It is safe for concurrent
// use. Memory is one map entry per XID seen; Forget releases a task's entry
// when it is deactivated.
type Sequencer struct {
	mu   sync.Mutex
	next map[[16]byte]uint32
}

// NewSequencer returns a Sequencer with every counter at 0.
func NewSequencer() *Sequencer { return &Sequencer{next: make(map[[16]byte]uint32)} }

// Next returns the next sequence number of xid.
func (s *Sequencer) Next(xid [16]byte) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.next[xid]
	s.next[xid] = n + 1
	return n
}

// Stamp sets p's sequence number attribute to the next number of p.XID and
// returns it.
func (s *Sequencer) Stamp(p *PDU) uint32 {
	n := s.Next(p.XID)
	p.Attrs.SeqNo = &n
	return n
}

// Forget drops xid's counter; its next number is 0 again.
func (s *Sequencer) Forget(xid [16]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.next, xid)
}
