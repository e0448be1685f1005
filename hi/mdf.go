package hi

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"rcds/hi/etsi"
	"rcds/store"
	"rcds/x1"
	"rcds/x2x3"
)

// Sentinel errors of the MDF.
var (
	// ErrClosed is returned by Send and Flush after Close.
	ErrClosed = errors.New("hi: MDF closed")
	// ErrStorage is returned by Flush (and Send) once a commit to the
	// database has failed: records may not have been persisted, so nothing
	// is acknowledged any more until the MDF is restarted.
	ErrStorage = errors.New("hi: queue storage failed")
)

// Audit operations the MDF writes (x1.AuditRecord.Operation).
const (
	AuditUnknownXID    = "X2X3UnknownXID"    // X2/X3 PDUs for an XID with no task
	AuditBadPDU        = "X2X3BadPDU"        // PDUs dropped: bad payload, unsupported format or type
	AuditQueueOverflow = "HIQueueOverflow"   // records refused by a full destination queue
	AuditConversion    = "HIConversionError" // IRI that could not be converted to TS 101 671
	AuditConnected     = "HIConnected"       // a delivery connection came up
	AuditDisconnected  = "HIDisconnected"    // a delivery connection went down
	AuditDelivered     = "HIDelivered"       // records confirmed by the LEMF
	AuditDestRemoved   = "HIDestinationRemoved"
)

// The MDF is both what a POI hands PDUs to in process and what an X2/X3
// receiver hands them to.
var (
	_ x2x3.Sink    = (*MDF)(nil)
	_ x2x3.Handler = (*MDF)(nil)
)

// auditPrincipal names the MDF in the audit log.
const auditPrincipal = "mdf"

// registry is what the MDF needs of *x1.Registry.
type registry interface {
	SubscribeWithSnapshot(fn func(x1.Change)) ([]x1.Task, []x1.Destination, func())
}

// MDF is the mediation function: it turns X2/X3 PDUs into PS-PDU records,
// queues them durably per destination and delivers them to the LEMFs.
// It implements x2x3.Sink (for a POI in the same process) and
// x2x3.Handler (for an x2x3.Receiver).
type MDF struct {
	cfg   MDFConfig
	log   *slog.Logger
	db    *store.DB
	w     *store.Writer
	ctr   *store.Counters // CINs, sequence numbers, event identifiers
	dedup *store.Counters // recent X2/X3 sequence numbers per XID
	unsub func()

	// mu orders numbering and submission: the records of one stream reach
	// their queue in sequence-number order.
	mu sync.Mutex
	// dmu guards windows (held briefly, never while submitting).
	dmu     sync.Mutex
	windows map[[16]byte]*dedupWindow

	// chMu orders registry changes; early holds those that came before the
	// snapshot was applied.
	chMu  sync.Mutex
	ready bool
	early []x1.Change

	rmu     sync.RWMutex
	tasks   map[[16]byte]*x1.Task
	routes  map[[16]byte]*route // derived from tasks and dests on every change
	dests   map[string]*destination
	runCtx  context.Context
	workers sync.WaitGroup

	closed    atomic.Bool
	failed    atomic.Bool
	failErr   atomic.Value // error
	stats     mdfCounters
	limiter   auditLimiter
	closeOnce sync.Once
}

type mdfCounters struct {
	pdus, duplicates, unknownXID, badPDU, noRoute, records, overflow, conversion, commitFailures atomic.Uint64
}

// MDFStats are the MDF's counters.
type MDFStats struct {
	PDUs           uint64 // X2/X3 PDUs handed in
	Duplicates     uint64 // PDUs dropped as re-sends of ones already accepted
	UnknownXID     uint64 // PDUs dropped: no task with that XID
	BadPDU         uint64 // PDUs dropped: bad payload, unsupported format or type
	NoRoute        uint64 // PDUs matching no warrant window, delivery type or destination
	Records        uint64 // records queued (one per destination)
	Overflow       uint64 // records refused by a full destination queue
	Conversion     uint64 // IRI records that could not be converted to TS 101 671
	CommitFailures uint64 // failed database commits
	Store          store.WriterStats
	Destinations   []DestinationStats
}

// NewMDF opens the MDF's queues and counters in db, subscribes to reg for
// tasks and destinations and is ready to accept PDUs. Delivery starts with
// Run; Close commits what is pending.
func NewMDF(cfg MDFConfig, reg *x1.Registry, db *store.DB, logger *slog.Logger) (*MDF, error) {
	if reg == nil {
		return nil, fmt.Errorf("%w: no registry", ErrConfig)
	}
	return newMDF(cfg, reg, db, logger)
}

func newMDF(cfg MDFConfig, reg registry, db *store.DB, logger *slog.Logger) (*MDF, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &MDF{
		cfg:     cfg,
		log:     logger,
		db:      db,
		windows: make(map[[16]byte]*dedupWindow),
		tasks:   make(map[[16]byte]*x1.Task),
		routes:  make(map[[16]byte]*route),
		dests:   make(map[string]*destination),
	}
	m.w = store.NewWriter(db, cfg.Commit)
	var err error
	if m.ctr, err = m.w.Counters("hi", 0); err != nil {
		m.w.Close()
		return nil, fmt.Errorf("hi: new MDF: %w", err)
	}
	if m.dedup, err = m.w.Counters("hi-x2x3", 4096); err != nil {
		m.w.Close()
		return nil, fmt.Errorf("hi: new MDF: %w", err)
	}
	// The registry calls onChange while holding its own lock, also during
	// SubscribeWithSnapshot's wait for it: take no lock of ours around the
	// call. Changes that arrive before the snapshot is applied are kept in
	// order and replayed after it.
	var openErr error
	tasks, dests, cancel := reg.SubscribeWithSnapshot(m.onChange)
	m.rmu.Lock()
	for i := range dests {
		if err := m.addDestinationLocked(dests[i]); err != nil && openErr == nil {
			openErr = err
		}
	}
	for i := range tasks {
		m.setTaskLocked(tasks[i])
	}
	m.rebuildRoutesLocked()
	m.rmu.Unlock()
	m.chMu.Lock()
	for _, c := range m.early {
		m.applyChange(c)
	}
	m.early, m.ready = nil, true
	m.chMu.Unlock()
	m.unsub = cancel
	if openErr != nil {
		cancel()
		m.w.Close()
		return nil, openErr
	}
	return m, nil
}

// Run delivers the queued records to the destinations until ctx ends,
// then stops the delivery workers (records not yet confirmed stay queued).
func (m *MDF) Run(ctx context.Context) error {
	m.rmu.Lock()
	if m.runCtx != nil {
		m.rmu.Unlock()
		return errors.New("hi: MDF already running")
	}
	m.runCtx = ctx
	for _, d := range m.dests {
		m.startWorkerLocked(d)
	}
	m.rmu.Unlock()
	<-ctx.Done()
	m.workers.Wait()
	return nil
}

// Close stops accepting PDUs, stops following the registry and commits
// everything pending (records, acknowledgements, counters). Call it after
// Run has returned; it does not close db.
func (m *MDF) Close() error {
	m.closeOnce.Do(func() {
		m.closed.Store(true)
		if m.unsub != nil {
			m.unsub()
		}
		// Serialise with Send: nothing is submitted after this.
		m.mu.Lock()
		m.mu.Unlock()
		m.w.Close()
	})
	return nil
}

// Stats returns the MDF's counters.
func (m *MDF) Stats() MDFStats {
	s := MDFStats{
		PDUs:           m.stats.pdus.Load(),
		Duplicates:     m.stats.duplicates.Load(),
		UnknownXID:     m.stats.unknownXID.Load(),
		BadPDU:         m.stats.badPDU.Load(),
		NoRoute:        m.stats.noRoute.Load(),
		Records:        m.stats.records.Load(),
		Overflow:       m.stats.overflow.Load(),
		Conversion:     m.stats.conversion.Load(),
		CommitFailures: m.stats.commitFailures.Load(),
		Store:          m.w.Stats(),
	}
	m.rmu.RLock()
	for _, d := range m.dests {
		s.Destinations = append(s.Destinations, d.statsSnapshot())
	}
	m.rmu.RUnlock()
	sortDestStats(s.Destinations)
	return s
}

// HandlePDU implements x2x3.Handler; it is Send.
func (m *MDF) HandlePDU(ctx context.Context, p *x2x3.PDU) error { return m.Send(ctx, p) }

// Flush implements x2x3.Sink and x2x3.Handler: it returns once every PDU
// handed in before it is committed to disk (with fsync). After a failed
// commit it returns ErrStorage.
func (m *MDF) Flush(ctx context.Context) error {
	if err := m.failure(); err != nil {
		return err
	}
	if m.closed.Load() {
		return ErrClosed
	}
	if err := m.w.Flush(ctx); err != nil {
		if errors.Is(err, store.ErrWriterClosed) {
			return ErrClosed
		}
		return fmt.Errorf("hi: flush: %w", err)
	}
	return m.failure()
}

func (m *MDF) failure() error {
	if !m.failed.Load() {
		return nil
	}
	err, _ := m.failErr.Load().(error)
	return fmt.Errorf("%w: %v", ErrStorage, err)
}

// target is one warrant a PDU is delivered under and its destinations.
type target struct {
	liid  string
	dests []*destination
}

// route is what Send needs of a task: per warrant, the destinations that
// take its IRI and its CC (HI delivery type and destination type both
// fit). Routes are rebuilt whenever a task or destination changes, and
// read-only afterwards.
type route struct {
	warrants []warrantRoute
}

type warrantRoute struct {
	md      x1.MediationDetails
	iri, cc []*destination
}

// rebuildRoutesLocked derives routes from tasks and dests (m.rmu held).
func (m *MDF) rebuildRoutesLocked() {
	routes := make(map[[16]byte]*route, len(m.tasks))
	for x, t := range m.tasks {
		r := &route{}
		for _, md := range t.Mediation {
			w := warrantRoute{md: md}
			for _, did := range md.DIDs {
				d := m.dests[did]
				if d == nil {
					continue
				}
				if fitsHI(md.DeliveryType, etsi.KindIRI) && fitsDest(d.dtype, etsi.KindIRI) {
					w.iri = append(w.iri, d)
				}
				if fitsHI(md.DeliveryType, etsi.KindCC) && fitsDest(d.dtype, etsi.KindCC) {
					w.cc = append(w.cc, d)
				}
			}
			r.warrants = append(r.warrants, w)
		}
		routes[x] = r
	}
	m.routes = routes
}

// Send implements x2x3.Sink. It maps the PDU to records for every
// destination of every warrant it falls under and submits them to the
// group commit; Flush waits for the commit. PDUs that cannot be delivered
// (unknown XID, bad payload, outside every warrant window) are dropped,
// counted, logged and audited, and Send returns nil for them: they are
// handled, and refusing them would make the POI send them again. A full
// destination queue refuses the record for that destination only (counted
// and audited). Send returns an error only when the MDF is closed or its
// storage failed.
func (m *MDF) Send(ctx context.Context, p *x2x3.PDU) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if err := m.failure(); err != nil {
		return err
	}
	received := m.cfg.Now()
	m.stats.pdus.Add(1)

	var kind etsi.PayloadKind
	switch p.Type {
	case x2x3.TypeX2:
		kind = etsi.KindIRI
	case x2x3.TypeX3:
		kind = etsi.KindCC
	default:
		m.dropBad(p, fmt.Sprintf("PDU type %s is not X2 or X3", p.Type))
		return nil
	}
	switch {
	case p.Format == x2x3.FormatETSI102232:
		if err := etsi.CheckPayload(kind, p.Payload); err != nil {
			m.dropBad(p, fmt.Sprintf("payload format 1: %v", err))
			return nil
		}
	case p.Format == x2x3.FormatMIME && kind == etsi.KindCC:
	default:
		m.dropBad(p, fmt.Sprintf("payload format %d is not supported for %s", p.Format, p.Type))
		return nil
	}

	ts := p.Attrs.Timestamp
	qual := etsi.TSQTimeOfInterception
	if ts.IsZero() {
		ts, qual = received, etsi.TSQTimeOfMediation
	}

	m.rmu.RLock()
	r := m.routes[p.XID]
	var targets []target
	if r != nil {
		targets = make([]target, 0, len(r.warrants))
		for i := range r.warrants {
			w := &r.warrants[i]
			if !w.md.InWindow(ts) {
				continue
			}
			ds := w.iri
			if kind == etsi.KindCC {
				ds = w.cc
			}
			if len(ds) > 0 {
				targets = append(targets, target{liid: w.md.LIID, dests: ds})
			}
		}
	}
	m.rmu.RUnlock()
	if r == nil {
		m.dropUnknown(p)
		return nil
	}
	if len(targets) == 0 {
		m.stats.noRoute.Add(1)
		m.log.Debug("X2/X3 PDU matches no warrant window or destination", "xid", xidString(p.XID), "type", p.Type.String())
		return nil
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return ErrClosed
	}
	var mark *dedupMark
	if p.Attrs.SeqNo != nil && m.cfg.DedupWindow > 0 {
		var dup bool
		var err error
		mark, dup, err = m.checkDuplicate(p)
		if err != nil {
			return m.storageFailed(err)
		}
		if dup {
			m.stats.duplicates.Add(1)
			return nil
		}
	}

	// A format-15 payload is checked once: the CCPayloads built from it
	// differ only in the event identifier.
	if p.Format == x2x3.FormatMIME {
		if _, err := m.mimePayload(p, ts, 0); err != nil {
			m.dropBad(p, fmt.Sprintf("format 15 content: %v", err))
			return nil
		}
	}

	b := m.w.NewBatch()
	var n int
	for _, t := range targets {
		cin, err := m.cin(t.liid, p.XID, p.CorrelationID)
		if err != nil {
			b.Abort()
			return m.storageFailed(err)
		}
		payload := p.Payload
		if p.Format == x2x3.FormatMIME {
			ev, err := m.next(eventKey(t.liid, cin))
			if err != nil {
				b.Abort()
				return m.storageFailed(err)
			}
			if payload, err = m.mimePayload(p, ts, uint32(ev)); err != nil {
				continue // cannot happen: the same content passed above
			}
		}
		// The sequence number is taken only once a record is built, so
		// that a record that cannot be built leaves no gap; a record
		// refused by a full queue does use its number (the gap tells the
		// LEMF that something is missing).
		seqK := seqKey(t.liid, cin, kind)
		seq, err := m.peekSeq(seqK)
		if err != nil {
			b.Abort()
			return m.storageFailed(err)
		}
		meta := recordMeta{kind: kind, seq: seq, cin: cin, received: received, liid: t.liid}
		h := m.header(t.liid, cin, seq, ts, qual)
		built := 0
		var base []byte
		for _, d := range t.dests {
			var rec []byte
			if d.cfg.Profile == Profile101671 && kind == etsi.KindIRI {
				conv, err := etsi.AppendIRIPayload671(nil, payload, &etsi.Params671{
					LIID: t.liid, CIN: cin, OperatorID: m.cfg.OperatorID,
					NetworkElementID: m.cfg.NetworkElementID, CountryCode: m.cfg.CountryCode,
				})
				if err == nil {
					rec, err = buildRecord(&meta, h, kind, conv)
				}
				if err != nil {
					m.conversionFailed(d, t.liid, cin, err)
					continue
				}
			} else {
				if base == nil {
					if base, err = buildRecord(&meta, h, kind, payload); err != nil {
						// The payload passed CheckPayload; only the header
						// can be wrong (a LIID BER cannot carry).
						m.conversionFailed(d, t.liid, cin, err)
						continue
					}
				}
				rec = base
			}
			built++
			if err := b.Append(d.q, rec); err != nil {
				if errors.Is(err, store.ErrQueueFull) {
					m.overflowed(d, t.liid)
					continue
				}
				b.Abort()
				return m.storageFailed(err)
			}
			d.stats.queued.Add(1)
			n++
		}
		if built > 0 {
			m.ctr.Set(seqK, uint64(seq)+1)
		}
	}
	if n == 0 {
		// Every destination refused (counted there); remember nothing.
		return nil
	}
	if mark != nil {
		m.setMark(mark)
	}
	b.OnDone = func(err error) {
		if err == nil {
			return
		}
		m.stats.commitFailures.Add(1)
		if mark != nil {
			m.clearMark(mark)
		}
		m.storageFailed(err)
	}
	if err := b.Submit(ctx); err != nil {
		if mark != nil {
			m.clearMark(mark)
		}
		if errors.Is(err, store.ErrWriterClosed) {
			return ErrClosed
		}
		return fmt.Errorf("hi: queue records: %w", err)
	}
	m.stats.records.Add(uint64(n))
	return nil
}

func buildRecord(meta *recordMeta, h *etsi.PSHeader, kind etsi.PayloadKind, payload []byte) ([]byte, error) {
	rec := make([]byte, 0, recordHeaderLen(len(meta.liid))+len(payload)+128+len(meta.liid))
	rec = appendRecordHeader(rec, meta)
	return etsi.AppendPSPDU(rec, h, kind, payload)
}

func (m *MDF) header(liid string, cin, seq uint32, ts time.Time, q etsi.TimeStampQualifier) *etsi.PSHeader {
	micro := etsi.MicroTime(ts)
	return &etsi.PSHeader{
		LIID:                     liid,
		AuthorizationCountryCode: m.cfg.CountryCode,
		CommunicationIdentifier: etsi.CommunicationIdentifier{
			NetworkIdentifier: etsi.NetworkIdentifier{
				OperatorIdentifier:       m.cfg.OperatorID,
				NetworkElementIdentifier: m.cfg.NetworkElementID,
			},
			CIN:                 &cin,
			DeliveryCountryCode: m.cfg.CountryCode,
		},
		SequenceNumber:       seq,
		TimeStamp:            ts.UTC(),
		MicroSecondTimeStamp: &micro,
		TimeStampQualifier:   &q,
	}
}

// Counter keys. LIIDs have 1..25 octets, so a length byte makes the keys
// unambiguous.
func liidKey(prefix byte, liid string, extra int) []byte {
	k := make([]byte, 0, 2+len(liid)+extra)
	k = append(k, prefix, byte(len(liid)))
	return append(k, liid...)
}

// cinMapKey maps (LIID, XID, correlation ID) to its CIN.
func cinMapKey(liid string, xid [16]byte, corr uint64) string {
	k := liidKey('m', liid, 24)
	k = append(k, xid[:]...)
	return string(binary.BigEndian.AppendUint64(k, corr))
}

// seqKey is the next sequence number of (LIID, CIN, IRI|CC).
func seqKey(liid string, cin uint32, kind etsi.PayloadKind) string {
	k := liidKey('s', liid, 5)
	k = binary.BigEndian.AppendUint32(k, cin)
	return string(append(k, byte(kind)))
}

// eventKey is the next MDF-assigned event-identifier of (LIID, CIN).
func eventKey(liid string, cin uint32) string {
	return string(binary.BigEndian.AppendUint32(liidKey('e', liid, 4), cin))
}

// cin returns the CIN of (LIID, XID, correlation ID), allocating the
// LIID's next one (from 1) on first use.
func (m *MDF) cin(liid string, xid [16]byte, corr uint64) (uint32, error) {
	v, _, err := m.ctr.Assign(cinMapKey(liid, xid, corr), string(liidKey('c', liid, 0)))
	if err != nil {
		return 0, err
	}
	return uint32(v + 1), nil
}

// peekSeq returns the next sequence number under key without taking it
// (m.mu is held, so nobody else takes it meanwhile); it wraps at 2^32 as
// TS 102 232-1 sequence numbers do. The caller stores value+1 once used.
func (m *MDF) peekSeq(key string) (uint32, error) {
	v, _, err := m.ctr.Get(key)
	if err != nil {
		return 0, err
	}
	return uint32(v), nil // 2^32 wraps to 0
}

// mimePayload builds the CCPayload of a format-15 (MIME) X3 PDU.
func (m *MDF) mimePayload(p *x2x3.PDU, ts time.Time, ev uint32) ([]byte, error) {
	ct := p.Attrs.MIMEType
	if ct == "" {
		ct = "application/octet-stream"
	}
	cc := etsi.NewMessagingCC(ev, ct, p.Payload)
	cc.ContentTransferEncoding = p.Attrs.MIMEEncoding
	return etsi.MarshalCCPayload(etsi.NewCCPayload(payloadDirection(p.Direction), ts, cc))
}

// next returns the counter's next value (from 0), wrapping at 2^32 like
// the identifiers it numbers.
func (m *MDF) next(key string) (uint64, error) {
	v, err := m.ctr.Next(key)
	if err != nil {
		return 0, err
	}
	if v >= 1<<32 {
		m.ctr.Set(key, 1)
		return 0, nil
	}
	return v, nil
}

func (m *MDF) storageFailed(err error) error {
	if m.failed.CompareAndSwap(false, true) {
		m.failErr.Store(err)
		m.log.Error("queue storage failed; nothing is acknowledged until restart", "err", err)
	}
	return fmt.Errorf("%w: %v", ErrStorage, err)
}

func fitsHI(t x1.HIDeliveryType, kind etsi.PayloadKind) bool {
	if kind == etsi.KindIRI {
		return t == x1.HI2Only || t == x1.HI2andHI3
	}
	return t == x1.HI3Only || t == x1.HI2andHI3
}

func fitsDest(t x1.DeliveryType, kind etsi.PayloadKind) bool {
	if kind == etsi.KindIRI {
		return t.HasX2()
	}
	return t.HasX3()
}

func payloadDirection(d x2x3.Direction) etsi.PayloadDirection {
	switch d {
	case x2x3.DirToTarget:
		return etsi.ToTarget
	case x2x3.DirFromTarget:
		return etsi.FromTarget
	case x2x3.DirMultiple:
		return etsi.Combined
	case x2x3.DirNotApplicable:
		return etsi.NotApplicable
	}
	return etsi.Indeterminate
}

func xidString(x [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], x[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], x[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], x[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], x[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], x[10:16])
	return string(b[:])
}

func parseXID(s string) ([16]byte, bool) {
	var x [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return x, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(x[:], []byte(h)); err != nil {
		return x, false
	}
	return x, true
}

// ---- registry changes ----

func (m *MDF) onChange(c x1.Change) {
	m.chMu.Lock()
	defer m.chMu.Unlock()
	if !m.ready {
		m.early = append(m.early, c)
		return
	}
	m.applyChange(c)
}

func (m *MDF) applyChange(c x1.Change) {
	m.rmu.Lock()
	defer m.rmu.Unlock()
	defer m.rebuildRoutesLocked()
	switch c.Kind {
	case x1.TaskActivated, x1.TaskModified:
		if c.Task != nil {
			m.setTaskLocked(*c.Task)
		}
	case x1.TaskDeactivated:
		if c.Task != nil {
			if x, ok := parseXID(c.Task.XID); ok {
				delete(m.tasks, x)
				m.dmu.Lock()
				delete(m.windows, x)
				m.dmu.Unlock()
			}
		}
	case x1.DestinationCreated:
		if c.Destination != nil {
			if err := m.addDestinationLocked(*c.Destination); err != nil {
				m.log.Error("cannot open destination queue", "did", c.Destination.DID, "err", err)
			}
		}
	case x1.DestinationModified:
		if c.Destination != nil {
			if d := m.dests[c.Destination.DID]; d != nil {
				d.update(*c.Destination)
			} else if err := m.addDestinationLocked(*c.Destination); err != nil {
				m.log.Error("cannot open destination queue", "did", c.Destination.DID, "err", err)
			}
		}
	case x1.DestinationRemoved:
		if c.Destination != nil {
			if d := m.dests[c.Destination.DID]; d != nil {
				delete(m.dests, d.did)
				d.stop()
				st := d.q.Stats()
				m.audit(x1.AuditRecord{Operation: AuditDestRemoved, DID: d.did, Result: "ok",
					Description: fmt.Sprintf("%d records were still queued and are kept on disk", st.Records)})
			}
		}
	}
}

func (m *MDF) setTaskLocked(t x1.Task) {
	x, ok := parseXID(t.XID)
	if !ok {
		m.log.Warn("task with an XID that is not a UUID ignored", "xid", t.XID)
		return
	}
	m.tasks[x] = &t
}

func (m *MDF) addDestinationLocked(xd x1.Destination) error {
	if _, ok := m.dests[xd.DID]; ok {
		return nil
	}
	cfg := m.cfg.destConfig(xd.DID)
	q, err := m.w.Queue("hi/"+xd.DID, store.QueueLimits{MaxRecords: cfg.QueueMaxRecords, MaxBytes: cfg.QueueMaxBytes})
	if err != nil {
		return fmt.Errorf("hi: destination %s: %w", xd.DID, err)
	}
	d := newDestination(m, xd, cfg, q)
	m.dests[xd.DID] = d
	if m.runCtx != nil {
		m.startWorkerLocked(d)
	}
	return nil
}

func (m *MDF) startWorkerLocked(d *destination) {
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		d.run(m.runCtx)
	}()
}

// ---- drops, audit ----

func (m *MDF) dropUnknown(p *x2x3.PDU) {
	n := m.stats.unknownXID.Add(1)
	xid := xidString(p.XID)
	if m.limiter.allow("unknown/"+xid, m.cfg.Now()) {
		m.log.Warn("X2/X3 PDU for an unknown XID dropped", "xid", xid, "type", p.Type.String(), "total_unknown", n)
		m.audit(x1.AuditRecord{Operation: AuditUnknownXID, XID: xid, Result: "error",
			Description: fmt.Sprintf("%s PDU dropped: no task with this XID (%d unknown-XID PDUs so far)", p.Type, n)})
	}
}

func (m *MDF) dropBad(p *x2x3.PDU, why string) {
	n := m.stats.badPDU.Add(1)
	xid := xidString(p.XID)
	if m.limiter.allow("bad/"+xid, m.cfg.Now()) {
		m.log.Warn("X2/X3 PDU dropped", "xid", xid, "reason", why, "total_bad", n)
		m.audit(x1.AuditRecord{Operation: AuditBadPDU, XID: xid, Result: "error",
			Description: fmt.Sprintf("%s (%d bad PDUs so far)", why, n)})
	}
}

func (m *MDF) overflowed(d *destination, liid string) {
	m.stats.overflow.Add(1)
	n := d.stats.overflow.Add(1)
	if m.limiter.allow("overflow/"+d.did, m.cfg.Now()) {
		st := d.q.Stats()
		m.log.Error("destination queue full: record refused", "did", d.did, "liid", liid,
			"queued_records", st.Records, "queued_bytes", st.Bytes, "total_refused", n)
		m.audit(x1.AuditRecord{Operation: AuditQueueOverflow, DID: d.did, Result: "error",
			Description: fmt.Sprintf("queue full (%d records, %d bytes): record for LIID %s refused; %d refused so far",
				st.Records, st.Bytes, liid, n)})
	}
}

func (m *MDF) conversionFailed(d *destination, liid string, cin uint32, err error) {
	m.stats.conversion.Add(1)
	n := d.stats.conversion.Add(1)
	if m.limiter.allow("conv/"+d.did, m.cfg.Now()) {
		m.log.Error("IRI not convertible to TS 101 671: record refused", "did", d.did, "liid", liid, "cin", cin, "err", err, "total", n)
		m.audit(x1.AuditRecord{Operation: AuditConversion, DID: d.did, Result: "error",
			Description: fmt.Sprintf("LIID %s CIN %d: %v (%d so far)", liid, cin, err, n)})
	}
}

// audit appends rec to the audit log through the group commit (it shares
// the next transaction instead of costing its own fsync).
func (m *MDF) audit(rec x1.AuditRecord) {
	rec.Principal = auditPrincipal
	data, err := json.Marshal(rec)
	if err != nil {
		return
	}
	b := m.w.NewBatch()
	b.Audit(data)
	if err := b.Submit(context.Background()); err != nil {
		m.log.Warn("audit entry not written", "op", rec.Operation, "err", err)
	}
}

// auditLimiter lets one entry per key through every interval; the counts
// in the entries say how many were suppressed. Its memory is bounded.
type auditLimiter struct {
	mu   sync.Mutex
	last map[string]time.Time
}

const auditInterval = 10 * time.Second

func (l *auditLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = make(map[string]time.Time)
	}
	if t, ok := l.last[key]; ok && now.Sub(t) < auditInterval {
		return false
	}
	if len(l.last) >= 1024 {
		for k, t := range l.last {
			if now.Sub(t) >= auditInterval {
				delete(l.last, k)
			}
		}
		if len(l.last) >= 1024 {
			return false
		}
	}
	l.last[key] = now
	return true
}

// ---- X2/X3 re-send detection ----

// dedupWindow remembers the last DedupWindow sequence numbers of one XID:
// slot seq%N holds seq<<32 | CRC-32C of the PDU. A POI re-sends the PDUs
// it has no confirmation for after a reconnect; they are byte-identical,
// so (sequence number, digest) recognises them, while a POI that restarted
// its numbering sends different PDUs under old numbers and is not mistaken
// for a re-send. The window is persisted with the records, so it survives
// a restart of the MDF.
type dedupWindow struct {
	slots []uint64
	used  []bool
}

type dedupMark struct {
	xid  [16]byte
	slot uint32
	val  uint64
	prev uint64
	had  bool
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func pduDigest(p *x2x3.PDU) uint32 {
	var h [24]byte
	binary.BigEndian.PutUint16(h[0:], uint16(p.Type))
	binary.BigEndian.PutUint16(h[2:], uint16(p.Format))
	binary.BigEndian.PutUint16(h[4:], uint16(p.Direction))
	binary.BigEndian.PutUint64(h[6:], p.CorrelationID)
	if !p.Attrs.Timestamp.IsZero() {
		binary.BigEndian.PutUint64(h[14:], uint64(p.Attrs.Timestamp.UnixNano()))
	}
	c := crc32.Update(0, crcTable, h[:])
	return crc32.Update(c, crcTable, p.Payload)
}

func dedupKey(xid [16]byte, slot uint32) string {
	var k [20]byte
	copy(k[:], xid[:])
	binary.BigEndian.PutUint32(k[16:], slot)
	return string(k[:])
}

// checkDuplicate reports whether p was already accepted and returns the
// mark to set once it is queued.
func (m *MDF) checkDuplicate(p *x2x3.PDU) (*dedupMark, bool, error) {
	m.dmu.Lock()
	defer m.dmu.Unlock()
	win := m.windows[p.XID]
	if win == nil {
		win = &dedupWindow{slots: make([]uint64, m.cfg.DedupWindow), used: make([]bool, m.cfg.DedupWindow)}
		err := m.dedup.Scan(string(p.XID[:]), func(k string, v uint64) {
			if len(k) != 20 {
				return
			}
			slot := binary.BigEndian.Uint32([]byte(k[16:]))
			if int(slot) < len(win.slots) && v != 0 {
				win.slots[slot], win.used[slot] = v, true
			}
		})
		if err != nil {
			return nil, false, err
		}
		m.windows[p.XID] = win
	}
	seq := *p.Attrs.SeqNo
	slot := seq % uint32(len(win.slots))
	val := uint64(seq)<<32 | uint64(pduDigest(p))
	if val == 0 {
		val = 1 // 0 means empty on disk
	}
	if win.used[slot] && win.slots[slot] == val {
		return nil, true, nil
	}
	return &dedupMark{xid: p.XID, slot: slot, val: val, prev: win.slots[slot], had: win.used[slot]}, false, nil
}

// setMark records an accepted PDU; its value is persisted by the commit
// that carries the PDU's records (it is set before they are submitted).
func (m *MDF) setMark(k *dedupMark) {
	m.dmu.Lock()
	defer m.dmu.Unlock()
	win := m.windows[k.xid]
	if win == nil {
		return
	}
	win.slots[k.slot], win.used[k.slot] = k.val, true
	m.dedup.Set(dedupKey(k.xid, k.slot), k.val)
}

// clearMark forgets a PDU whose records were not committed, so that its
// re-send is accepted.
func (m *MDF) clearMark(k *dedupMark) {
	m.dmu.Lock()
	defer m.dmu.Unlock()
	win := m.windows[k.xid]
	if win != nil && win.slots[k.slot] == k.val {
		win.slots[k.slot], win.used[k.slot] = k.prev, k.had
	}
	m.dedup.Set(dedupKey(k.xid, k.slot), k.prev)
}
