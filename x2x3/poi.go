package x2x3

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"rcds/decoder"
	"rcds/x1"
)

// TaskSource is where a POI takes its tasks from: the X1 registry
// (*x1.Registry). SubscribeWithSnapshot returns the tasks in force and calls
// fn with every change committed after them, synchronously, before the X1
// response is sent.
type TaskSource interface {
	SubscribeWithSnapshot(fn func(x1.Change)) (tasks []x1.Task, dests []x1.Destination, cancel func())
}

// POIConfig configures a POI. Zero values mean the defaults.
type POIConfig struct {
	// DedupWindow is how far apart, in packet time, two copies of one MSG
	// seen on different captured connections may be and still count as one
	// (default 5s). See README.md, "Duplicate messages".
	DedupWindow time.Duration
	// DedupEntries bounds the recent-message cache (default 16384 entries;
	// the oldest is forgotten first).
	DedupEntries int
	// MaxSwitchboards bounds the switchboard connections whose owner and
	// members the POI remembers to prefer a target's own copy of a
	// message (default 65536; the oldest is forgotten first). The memory
	// holds no more than the decoder already tracks and never leaves the
	// process.
	MaxSwitchboards int
	// MaxMembers bounds the members remembered per switchboard connection
	// (default 256).
	MaxMembers int
	// OwnCopyWait is how long a copy of a MSG on someone else's connection
	// is held when a copy on the target's own connection is expected
	// (packet time, and wall-clock time for an idle live capture; default
	// 2s). If the own copy does not come, the held one is delivered.
	OwnCopyWait time.Duration
	// MaxHeld bounds the copies held (default 4096; beyond, the oldest is
	// delivered at once).
	MaxHeld int
	// SyncTimeout bounds how long a task change waits for events being
	// matched against the old tasks to finish (default 5s). It only
	// matters if a Sink blocks for that long.
	SyncTimeout time.Duration
}

func (c *POIConfig) defaults() {
	if c.DedupWindow <= 0 {
		c.DedupWindow = 5 * time.Second
	}
	if c.DedupEntries <= 0 {
		c.DedupEntries = 16384
	}
	if c.MaxSwitchboards <= 0 {
		c.MaxSwitchboards = 65536
	}
	if c.MaxMembers <= 0 {
		c.MaxMembers = 256
	}
	if c.OwnCopyWait <= 0 {
		c.OwnCopyWait = 2 * time.Second
	}
	if c.MaxHeld <= 0 {
		c.MaxHeld = 4096
	}
	if c.SyncTimeout <= 0 {
		c.SyncTimeout = 5 * time.Second
	}
}

// POIStats are a POI's counters. They are aggregates: none of them is
// about one user, and none counts anything about people who are not
// targets beyond the total of events looked at.
type POIStats struct {
	Tasks        int    // tasks in force
	Events       uint64 // events looked at (all users)
	Matched      uint64 // (event, task) pairs that matched and were in the warrant window
	OutOfWindow  uint64 // (event, task) pairs that matched but fell outside every StartTime/EndTime window
	Duplicates   uint64 // (message, task) pairs suppressed as another connection's copy of a delivered message
	X2           uint64 // X2 PDUs handed to the sink
	X3           uint64 // X3 PDUs handed to the sink
	Bytes        uint64 // payload bytes of those PDUs
	EncodeErrors uint64 // payloads that could not be encoded (not sent)
	SendErrors   uint64 // PDUs the sink refused (buffer full, closed, ...)
	BadTargets   uint64 // target identifiers of the tasks in force that cannot be used (ignored)
}

// POI is the point of interception: it implements decoder.Emitter, matches
// each event against the active X1 tasks and hands the X2 (IRI) and X3
// (content) PDUs of the matching tasks to a Sink. See README.md for the
// matching rules, the IRI types and the duplicate rule.
//
// The tasks are kept as an immutable compiled snapshot behind an atomic
// pointer: Emit takes no lock to match. A task change (from the registry's
// subscription) builds a new snapshot, publishes it, and then waits until
// every Emit that might still use the old one has returned, so that when the
// registry answers a DeactivateTask the task's last PDU has already been
// handed over and none follows. Activation applies from the next event on.
//
// Emit may be called from several goroutines; the decoder's Mux calls it
// from one. Nothing about a user who is not a target is logged or counted
// per user.
type POI struct {
	cfg  POIConfig
	log  *slog.Logger
	sink Sink

	ctx    context.Context
	cancel context.CancelFunc
	unsub  func()

	snap atomic.Pointer[snapshot]
	gate gate

	// Writer side (task changes), serialised by wmu.
	wmu    sync.Mutex
	tasks  map[string]x1.Task
	states map[[16]byte]*xidState

	// Per-event mutable state: duplicate cache, held copies and
	// switchboard tracking. Also held while PDUs are sent, so that
	// sequence numbers reach the sink in order.
	smu   sync.Mutex
	dedup *dedupCache
	pend  *pendingCopies
	sbs   *sbTracker
	held  atomic.Int64 // pend.len(), readable without smu
	stop  chan struct{}
	done  chan struct{}

	events, matched, outOfWindow, duplicates            atomic.Uint64
	x2, x3, bytes, encodeErrors, sendErrors, badTargets atomic.Uint64
	lastSendErrLog                                      atomic.Int64
}

// xidState holds the counters of one XID; it outlives modifications and a
// deactivation followed by a new activation of the same XID.
type xidState struct {
	seq     atomic.Uint32 // next sequence number (attribute 8)
	eventID atomic.Uint32 // last event-identifier handed out
}

// maxXIDStates bounds the counters kept for XIDs no longer active.
const maxXIDStates = 65536

// NewPOI returns a POI that takes its tasks from tasks (subscribing at
// once, with the current tasks as the initial snapshot) and sends PDUs to
// sink. Close unsubscribes.
func NewPOI(cfg POIConfig, tasks TaskSource, sink Sink, logger *slog.Logger) *POI {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &POI{
		cfg:    cfg,
		log:    logger,
		sink:   sink,
		ctx:    ctx,
		cancel: cancel,
		tasks:  make(map[string]x1.Task),
		states: make(map[[16]byte]*xidState),
		dedup:  newDedupCache(cfg.DedupEntries),
		pend:   newPendingCopies(cfg.MaxHeld),
		sbs:    newSBTracker(cfg.MaxSwitchboards, cfg.MaxMembers),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	p.snap.Store(&snapshot{})
	if tasks != nil {
		p.wmu.Lock()
		initial, _, unsub := tasks.SubscribeWithSnapshot(p.onChange)
		for _, t := range initial {
			p.tasks[t.XID] = t
		}
		p.publishLocked()
		p.wmu.Unlock()
		p.unsub = unsub
		p.log.Info("POI started", "tasks", len(initial))
	}
	go p.timer()
	return p
}

// timer releases held copies of an idle live capture.
func (p *POI) timer() {
	defer close(p.done)
	t := time.NewTicker(max(p.cfg.OwnCopyWait/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.releaseHeld(false)
		}
	}
}

// Close delivers the held copies, unsubscribes from the task source and
// stops; Emit does nothing afterwards. It does not close the sink.
func (p *POI) Close() error {
	p.releaseHeld(true)
	p.wmu.Lock()
	if p.snap.Load().closed {
		p.wmu.Unlock()
		return nil
	}
	unsub := p.unsub
	p.unsub = nil
	p.tasks = map[string]x1.Task{}
	p.snap.Store(&snapshot{closed: true})
	p.wmu.Unlock()
	if unsub != nil {
		unsub()
	}
	p.gate.synchronize(p.cfg.SyncTimeout)
	close(p.stop)
	<-p.done
	p.cancel()
	return nil
}

// Flush delivers the copies held for the duplicate rule (the input is
// taken to be complete: a capture file processed to its end) and flushes
// the sink: it returns once every PDU handed over so far is durably
// accepted.
func (p *POI) Flush(ctx context.Context) error {
	p.releaseHeld(true)
	if err := p.sink.Flush(ctx); err != nil {
		return fmt.Errorf("x2x3: poi: flush: %w", err)
	}
	return nil
}

// Stats returns the counters.
func (p *POI) Stats() POIStats {
	return POIStats{
		Tasks:        len(p.snap.Load().tasks),
		Events:       p.events.Load(),
		Matched:      p.matched.Load(),
		OutOfWindow:  p.outOfWindow.Load(),
		Duplicates:   p.duplicates.Load(),
		X2:           p.x2.Load(),
		X3:           p.x3.Load(),
		Bytes:        p.bytes.Load(),
		EncodeErrors: p.encodeErrors.Load(),
		SendErrors:   p.sendErrors.Load(),
		BadTargets:   p.badTargets.Load(),
	}
}

// onChange is the registry subscription.
func (p *POI) onChange(c x1.Change) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.snap.Load().closed {
		return
	}
	switch c.Kind {
	case x1.TaskActivated, x1.TaskModified:
		if c.Task == nil {
			return
		}
		p.tasks[c.Task.XID] = *c.Task
		p.log.Info("POI task in force", "xid", c.Task.XID, "change", c.Kind.String(), "targets", len(c.Task.Targets),
			"delivery", string(c.Task.DeliveryType))
	case x1.TaskDeactivated:
		if c.Task == nil {
			return
		}
		// Copies held for the duplicate rule were intercepted while the
		// task was in force: deliver them before it stops.
		if xid, ok := parseXID(c.Task.XID); ok {
			p.releaseTask(xid)
		}
		delete(p.tasks, c.Task.XID)
		p.log.Info("POI task stopped", "xid", c.Task.XID, "implicit", c.Implicit)
	default:
		return // destinations do not concern the POI
	}
	p.publishLocked()
	// Wait for events still being matched against the old snapshot: once
	// this returns (and the registry answers the ADMF), a deactivated task
	// gets no further PDU.
	if !p.gate.synchronize(p.cfg.SyncTimeout) {
		p.log.Error("POI: events still in flight after a task change", "waited", p.cfg.SyncTimeout)
	}
}

// publishLocked compiles p.tasks into a new snapshot and publishes it.
func (p *POI) publishLocked() {
	s, bad := compile(p.tasks, p.stateLocked)
	if old := p.badTargets.Swap(uint64(bad)); bad > 0 && uint64(bad) != old {
		p.log.Warn("POI: target identifiers ignored (not of their declared kind, or unparsable)", "count", bad)
	}
	p.snap.Store(s)
	p.pruneStatesLocked()
}

// stateLocked returns the counters of xid, creating them.
func (p *POI) stateLocked(xid [16]byte) *xidState {
	st := p.states[xid]
	if st == nil {
		st = new(xidState)
		p.states[xid] = st
	}
	return st
}

// pruneStatesLocked forgets counters of inactive XIDs beyond maxXIDStates.
func (p *POI) pruneStatesLocked() {
	if len(p.states) <= maxXIDStates {
		return
	}
	active := make(map[[16]byte]bool, len(p.tasks))
	for _, ct := range p.snap.Load().tasks {
		active[ct.xid] = true
	}
	for xid := range p.states {
		if len(p.states) <= maxXIDStates {
			break
		}
		if !active[xid] {
			delete(p.states, xid)
		}
	}
}

// Emit implements decoder.Emitter: it matches e against the tasks in force
// and sends the PDUs of every task it involves.
func (p *POI) Emit(e *decoder.Event) {
	p.events.Add(1)
	ep := p.gate.enter()
	defer p.gate.exit(ep)
	s := p.snap.Load()
	if s.closed {
		return
	}
	track := e.Role == decoder.RoleSwitchboard && sessionKind(e.Kind)
	var hits []hit
	if len(s.tasks) > 0 && delivered(e.Kind) {
		var hitBuf [4]hit
		hits = s.match(e, hitBuf[:0])
	}
	if !track && len(hits) == 0 && p.held.Load() == 0 {
		return // the common case: no lock taken
	}
	p.smu.Lock()
	defer p.smu.Unlock()
	if track {
		p.sbs.observe(e)
	}
	if p.held.Load() > 0 { // older copies first
		p.releaseLocked(s, e.Time, time.Now(), false)
	}
	for i := range hits {
		p.deliverLocked(e, &hits[i])
	}
}

// delivered reports whether events of kind k become PDUs (info and error
// events do not).
func delivered(k decoder.Kind) bool {
	switch k {
	case decoder.KindInfo, decoder.KindError, "":
		return false
	}
	return true
}

func sessionKind(k decoder.Kind) bool {
	return k == decoder.KindSessionStart || k == decoder.KindSessionJoin || k == decoder.KindSessionLeave
}

// messageKind reports whether k is a MSG: an IRI deposit and, for X3, content.
func messageKind(k decoder.Kind) bool {
	switch k {
	case decoder.KindMessage, decoder.KindTyping, decoder.KindFileInvite, decoder.KindP2P:
		return true
	}
	return false
}

// deliverLocked applies the warrant window and the duplicate rule
// (poi_dedup.go) to one matching task and sends its PDUs for e.
func (p *POI) deliverLocked(e *decoder.Event, h *hit) {
	t := h.task
	if !t.inWindow(e.Time) {
		p.outOfWindow.Add(1)
		return
	}
	if messageKind(e.Kind) {
		key := dedupKey{xid: t.xid, h: messageHash(e)}
		switch {
		case p.dedup.duplicate(key, e, p.cfg.DedupWindow):
			p.duplicates.Add(1)
			return
		case h.own:
			if n := p.pend.supersede(key, e, p.cfg.DedupWindow); n > 0 {
				p.duplicates.Add(uint64(n))
				p.held.Store(int64(p.pend.len()))
			}
		case p.pend.holds(key, e, p.cfg.DedupWindow):
			p.duplicates.Add(1)
			return
		case p.expectOwnCopy(e, h):
			if p.pend.hold(key, e, h, time.Now()) {
				p.held.Store(int64(p.pend.len()))
				return
			}
		}
		p.dedup.remember(key, e)
	}
	p.sendPDUs(e, h)
}

// releaseLocked delivers the held copies whose wait is over: packet time
// now (pkt) is OwnCopyWait past them, or they waited that long in
// wall-clock time, or all of them when all is set. A held copy whose task
// is no longer in force is dropped.
func (p *POI) releaseLocked(s *snapshot, pkt, wall time.Time, all bool) {
	for {
		hc := p.pend.due(pkt, wall, p.cfg.OwnCopyWait, all)
		if hc == nil {
			break
		}
		p.releaseOne(s, hc)
	}
	p.held.Store(int64(p.pend.len()))
}

// releaseOne delivers a held copy with its task as it is in s (not at all
// when the task is no longer in force).
func (p *POI) releaseOne(s *snapshot, hc *heldCopy) {
	t := s.byXID[hc.key.xid]
	if t == nil || s.closed {
		return
	}
	hc.h.task = t
	if !t.inWindow(hc.e.Time) {
		p.outOfWindow.Add(1)
		return
	}
	if p.dedup.duplicate(hc.key, &hc.e, p.cfg.DedupWindow) {
		p.duplicates.Add(1)
		return
	}
	p.dedup.remember(hc.key, &hc.e)
	p.sendPDUs(&hc.e, &hc.h)
}

// releaseHeld delivers held copies that waited OwnCopyWait in wall-clock
// time (all of them with all set); the POI's timer and Flush call it.
func (p *POI) releaseHeld(all bool) {
	if p.held.Load() == 0 {
		return
	}
	ep := p.gate.enter()
	defer p.gate.exit(ep)
	p.smu.Lock()
	defer p.smu.Unlock()
	p.releaseLocked(p.snap.Load(), time.Time{}, time.Now(), all)
}

// releaseTask delivers the held copies of task xid at once.
func (p *POI) releaseTask(xid [16]byte) {
	if p.held.Load() == 0 {
		return
	}
	ep := p.gate.enter()
	defer p.gate.exit(ep)
	p.smu.Lock()
	defer p.smu.Unlock()
	s := p.snap.Load()
	for _, hc := range p.pend.take(xid) {
		p.releaseOne(s, hc)
	}
	p.held.Store(int64(p.pend.len()))
}

// expectOwnCopy reports whether a copy of e on a connection of one of the
// task's passport targets is to be expected: the target has an open
// switchboard connection of its own (not e's) whose members include the
// other party of e, or that has had no members yet.
func (p *POI) expectOwnCopy(e *decoder.Event, h *hit) bool {
	for _, tg := range h.passports {
		peer := e.From
		if equalFoldASCII(peer, tg) {
			peer = e.User
		}
		if p.sbs.expects(tg, peer, e.Comm) {
			return true
		}
	}
	return false
}

// sendPDUs builds and sends the X2 and X3 PDUs of one task for e.
func (p *POI) sendPDUs(e *decoder.Event, h *hit) {
	t := h.task
	msg := messageKind(e.Kind)
	p.matched.Add(1)
	dir := h.direction(e)
	var eventID uint32
	if msg {
		eventID = t.state.eventID.Add(1)
	}
	if t.x2 {
		payload, err := iriPayload(e, eventID)
		if err != nil {
			p.encodeFailed("X2", t, e, err)
		} else {
			p.send(e, h, TypeX2, dir, payload, "")
		}
	}
	if t.x3 && msg {
		ct := contentType(e)
		payload, err := ccPayload(e, eventID, dir, ct)
		if err != nil {
			p.encodeFailed("X3", t, e, err)
		} else {
			p.send(e, h, TypeX3, dir, payload, ct)
		}
	}
}

func (p *POI) send(e *decoder.Event, h *hit, typ PDUType, dir Direction, payload []byte, mime string) {
	t := h.task
	seq := t.state.seq.Add(1) - 1
	pdu := &PDU{
		Version:       Version,
		Type:          typ,
		Format:        FormatETSI102232,
		Direction:     dir,
		XID:           t.xid,
		CorrelationID: e.Comm,
		Payload:       payload,
	}
	a := &pdu.Attrs
	a.SeqNo = &seq
	a.Timestamp = e.Time
	a.Src, a.Dst = e.Client, e.Server
	if !e.FromClient {
		a.Src, a.Dst = e.Server, e.Client
	}
	if a.Src.IsValid() || a.Dst.IsValid() {
		a.IPProtocol = 6
	}
	a.MatchedTarget = h.target
	if len(h.others) > 0 {
		a.OtherTarget = h.others
	}
	a.MIMEType = mime
	if err := p.sink.Send(p.ctx, pdu); err != nil {
		p.sendErrors.Add(1)
		now := time.Now().UnixNano()
		if last := p.lastSendErrLog.Load(); now-last >= int64(10*time.Second) && p.lastSendErrLog.CompareAndSwap(last, now) {
			p.log.Warn("POI: sink refused a PDU", "xid", t.xidString, "type", typ.String(), "err", err,
				"refused_total", p.sendErrors.Load())
		}
		return
	}
	if typ == TypeX2 {
		p.x2.Add(1)
	} else {
		p.x3.Add(1)
	}
	p.bytes.Add(uint64(len(payload)))
}

func (p *POI) encodeFailed(what string, t *ctask, e *decoder.Event, err error) {
	p.encodeErrors.Add(1)
	// The error names a field and a constraint, never a value.
	p.log.Warn("POI: cannot encode payload, not sent", "xid", t.xidString, "pdu", what, "kind", string(e.Kind), "err", err)
}
