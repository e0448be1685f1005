package x2x3

import (
	"sync/atomic"
	"time"
)

// gate lets a writer wait until every reader that may have seen an old
// snapshot is done (a two-slot grace period, as in RCU). Readers never
// block; writers are serialised by the caller.
type gate struct {
	epoch   atomic.Uint64
	readers [2]atomic.Int64
}

// enter registers a reader and returns the token for exit. A reader that
// registered in the slot of epoch e and then still saw epoch e is waited
// for by the writer that moves the epoch past e.
func (g *gate) enter() uint64 {
	for {
		e := g.epoch.Load()
		g.readers[e&1].Add(1)
		if g.epoch.Load() == e {
			return e
		}
		g.readers[e&1].Add(-1)
	}
}

func (g *gate) exit(e uint64) { g.readers[e&1].Add(-1) }

// synchronize moves to the next epoch and waits (at most timeout) until the
// readers of the previous one have exited. The caller publishes the new
// snapshot before calling it. It reports whether they all exited.
func (g *gate) synchronize(timeout time.Duration) bool {
	old := g.epoch.Add(1) - 1
	slot := &g.readers[old&1]
	if slot.Load() == 0 {
		return true
	}
	deadline := time.Now().Add(timeout)
	wait := time.Microsecond
	for slot.Load() != 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Millisecond)
	}
	return true
}
