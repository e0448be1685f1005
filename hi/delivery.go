package hi

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"rcds/hi/etsi"
	"rcds/store"
	"rcds/x1"
)

// Errors that end a delivery session (logged, counted, then reconnect).
var (
	errProbeTimeout   = errors.New("confirmation request not answered in time")
	errAddressChanged = errors.New("destination modified")
	errStopped        = errors.New("destination removed")
)

// ConfirmMode is how a delivery connection gets its records confirmed.
type ConfirmMode string

const (
	ModeNone      ConfirmMode = ""                   // not connected / negotiating
	ModeAck       ConfirmMode = "pDUAcknowledgement" // the LEMF accepted the option
	ModeKeepalive ConfirmMode = "keep-alive"         // fallback: keep-alive answered after the records
)

// DestinationStats are the counters of one destination.
type DestinationStats struct {
	DID            string
	Address        string
	Profile        Profile
	Connected      bool
	Mode           ConfirmMode
	Queue          store.QueueStats
	Queued         uint64 // records queued for this destination
	Sent           uint64 // records written for the first time
	Resent         uint64 // records written again after a reconnect or restart
	Confirmed      uint64 // records confirmed by the LEMF and removed from the queue
	Overflow       uint64 // records refused because the queue was full
	Conversion     uint64 // records refused because the TS 101 671 conversion failed
	Connects       uint64
	DialFailures   uint64
	Disconnects    uint64
	ProtocolErrors uint64 // sessions ended by undecodable input from the LEMF or a close inside a record
	Ignored        uint64 // well-formed PDUs from the LEMF that were not expected (logged, ignored)
	ProbeTimeouts  uint64 // sessions ended by an unanswered keep-alive / acknowledgement request
	WriteTimeouts  uint64 // sessions ended because the LEMF stopped reading
	Probes         uint64 // keep-alives and acknowledgement requests sent
	Integrity      uint64 // integrityCheck PDUs sent
	// Latency is the distribution of the time from X2/X3 receipt to the
	// LEMF's confirmation of the record.
	Latency LatencySummary
}

type destCounters struct {
	queued, sent, resent, confirmed, overflow, conversion    atomic.Uint64
	connects, dialFailures, disconnects, protocolErrors      atomic.Uint64
	probeTimeouts, writeTimeouts, probes, integrity, ignored atomic.Uint64
	connected                                                atomic.Bool
	mode                                                     atomic.Value // ConfirmMode
	highestSent                                              atomic.Uint64
	latency                                                  histogram
}

// destination is one LEMF endpoint (DID): its queue and delivery worker.
type destination struct {
	m   *MDF
	did string
	cfg DestinationConfig
	q   *store.Queue

	// dtype is read by Send under m.rmu (read) and written under m.rmu.
	dtype x1.DeliveryType

	mu      sync.Mutex
	addr    string
	restart chan struct{}
	cancel  context.CancelFunc
	stopped bool

	stats destCounters
}

func newDestination(m *MDF, xd x1.Destination, cfg DestinationConfig, q *store.Queue) *destination {
	d := &destination{m: m, did: xd.DID, cfg: cfg, q: q, dtype: xd.DeliveryType, addr: xd.Address,
		restart: make(chan struct{}, 1)}
	d.stats.mode.Store(ModeNone)
	st := q.Stats()
	// Records already queued (from an earlier run) count as re-sent.
	if st.Tail > 0 {
		d.stats.highestSent.Store(st.Tail)
	}
	return d
}

// update applies a DestinationModified change (m.rmu held).
func (d *destination) update(xd x1.Destination) {
	d.dtype = xd.DeliveryType
	d.mu.Lock()
	changed := d.addr != xd.Address
	d.addr = xd.Address
	d.mu.Unlock()
	if changed {
		select {
		case d.restart <- struct{}{}:
		default:
		}
	}
}

func (d *destination) address() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.addr
}

func (d *destination) stop() {
	d.mu.Lock()
	d.stopped = true
	if d.cancel != nil {
		d.cancel()
	}
	d.mu.Unlock()
}

func (d *destination) statsSnapshot() DestinationStats {
	mode, _ := d.stats.mode.Load().(ConfirmMode)
	return DestinationStats{
		DID:            d.did,
		Address:        d.address(),
		Profile:        d.cfg.Profile,
		Connected:      d.stats.connected.Load(),
		Mode:           mode,
		Queue:          d.q.Stats(),
		Queued:         d.stats.queued.Load(),
		Sent:           d.stats.sent.Load(),
		Resent:         d.stats.resent.Load(),
		Confirmed:      d.stats.confirmed.Load(),
		Overflow:       d.stats.overflow.Load(),
		Conversion:     d.stats.conversion.Load(),
		Connects:       d.stats.connects.Load(),
		DialFailures:   d.stats.dialFailures.Load(),
		Disconnects:    d.stats.disconnects.Load(),
		ProtocolErrors: d.stats.protocolErrors.Load(),
		Ignored:        d.stats.ignored.Load(),
		ProbeTimeouts:  d.stats.probeTimeouts.Load(),
		WriteTimeouts:  d.stats.writeTimeouts.Load(),
		Probes:         d.stats.probes.Load(),
		Integrity:      d.stats.integrity.Load(),
		Latency:        d.stats.latency.summary(),
	}
}

func sortDestStats(s []DestinationStats) {
	slices.SortFunc(s, func(a, b DestinationStats) int {
		switch {
		case a.DID < b.DID:
			return -1
		case a.DID > b.DID:
			return 1
		}
		return 0
	})
}

// run connects, delivers and reconnects with backoff until ctx ends or the
// destination is removed.
func (d *destination) run(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	d.cancel = cancel
	d.mu.Unlock()

	t := &d.m.cfg.Timings
	log := d.m.log.With("did", d.did)
	backoff := t.BackoffMin
	var lastDialLog time.Time
	for ctx.Err() == nil {
		addr := d.address()
		conn, err := d.dial(ctx, addr)
		if err != nil {
			n := d.stats.dialFailures.Add(1)
			if now := time.Now(); now.Sub(lastDialLog) >= auditInterval {
				lastDialLog = now
				log.Warn("LEMF unreachable", "addr", addr, "err", err, "failures", n, "queued", d.q.Stats().Records)
			}
		} else {
			d.stats.connects.Add(1)
			d.stats.connected.Store(true)
			log.Info("connected to LEMF", "addr", addr)
			confirmed, err := d.session(ctx, conn)
			conn.Close()
			d.stats.connected.Store(false)
			d.stats.mode.Store(ModeNone)
			d.stats.disconnects.Add(1)
			if confirmed > 0 {
				backoff = t.BackoffMin
			}
			st := d.q.Stats()
			level := "error"
			if ctx.Err() != nil {
				level = "ok"
			}
			log.Info("disconnected from LEMF", "addr", addr, "reason", err, "confirmed", confirmed, "unconfirmed", st.Records)
			d.m.audit(x1.AuditRecord{Operation: AuditDisconnected, DID: d.did, Result: level,
				Description: fmt.Sprintf("%s: %v; %d records confirmed on this connection, %d queued", addr, err, confirmed, st.Records)})
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, errAddressChanged) {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.restart:
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, t.BackoffMax)
	}
}

func (d *destination) dial(ctx context.Context, addr string) (net.Conn, error) {
	if addr == "" {
		return nil, errors.New("destination has no address")
	}
	t := &d.m.cfg.Timings
	nd := &net.Dialer{Timeout: t.DialTimeout, KeepAlive: 30 * time.Second}
	if d.cfg.TLS == nil {
		return nd.DialContext(ctx, "tcp", addr)
	}
	cfg := d.cfg.TLS.Clone()
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			cfg.ServerName = host
		}
	}
	td := &tls.Dialer{NetDialer: nd, Config: cfg}
	dctx, cancel := context.WithTimeout(ctx, t.DialTimeout)
	defer cancel()
	return td.DialContext(dctx, "tcp", addr)
}

// inbound is one PDU (or the end of the stream) read from the LEMF.
type inbound struct {
	pdu etsi.PSPDU
	err error
}

// inflight is a record written and not yet confirmed.
type inflight struct {
	pos      uint64
	size     int
	received time.Time
}

// probe is a keep-alive or pDUAcknowledgementRequest written after the
// records up to pos.
type probe struct {
	seq  uint32
	pos  uint64
	ack  bool // pDUAcknowledgementRequest (else keep-alive)
	sent time.Time
}

type intGroup struct {
	liid    string
	cin     uint32
	kind    etsi.PayloadKind
	seqs    []uint32
	records [][]byte
}

type groupKey struct {
	liid string
	cin  uint32
	kind etsi.PayloadKind
}

// session is one connection's state.
type session struct {
	d    *destination
	conn net.Conn
	bw   *bufio.Writer
	in   chan inbound
	done chan struct{}

	mode       ConfirmMode
	triSeq     uint32
	liid       string // LIID for TRI PDUs: of the last record written
	pos        uint64 // last position written
	lastProbe  uint64 // position covered by the last probe
	probes     []probe
	flight     []inflight
	flightB    int
	lastWrite  time.Time
	confirmed  uint64
	groups     map[groupKey]*intGroup
	groupOrder []groupKey
}

const maxProbes = 64

func (d *destination) session(ctx context.Context, conn net.Conn) (uint64, error) {
	t := &d.m.cfg.Timings
	s := &session{
		d:      d,
		conn:   conn,
		bw:     bufio.NewWriterSize(conn, 64<<10),
		in:     make(chan inbound, 16),
		done:   make(chan struct{}),
		groups: make(map[groupKey]*intGroup),
	}
	defer close(s.done)
	go s.readLoop()
	st := d.q.Stats()
	s.pos = st.Head - 1
	s.lastProbe = s.pos
	s.liid = d.m.cfg.OperatorID

	if err := s.negotiate(ctx); err != nil {
		return 0, err
	}
	d.stats.mode.Store(s.mode)
	d.m.audit(x1.AuditRecord{Operation: AuditConnected, DID: d.did, Result: "ok",
		Description: fmt.Sprintf("%s: confirmation by %s; %d records queued", conn.RemoteAddr(), s.mode, st.Records)})

	timer := time.NewTimer(t.KeepaliveInterval)
	defer timer.Stop()
	for {
		more, err := s.sendRecords()
		if err != nil {
			return s.confirmed, err
		}
		if err := s.maybeProbe(more); err != nil {
			return s.confirmed, err
		}
		if err := s.bw.Flush(); err != nil {
			return s.confirmed, s.writeErr(err)
		}
		now := time.Now()
		if len(s.probes) > 0 && now.Sub(s.probes[0].sent) >= t.ProbeTimeout {
			d.stats.probeTimeouts.Add(1)
			return s.confirmed, fmt.Errorf("%w (%s outstanding for %v)", errProbeTimeout, s.probeName(s.probes[0]), now.Sub(s.probes[0].sent).Round(time.Millisecond))
		}
		if more && s.room() {
			// Keep writing, but look at answers without waiting.
			select {
			case ev := <-s.in:
				if err := s.handle(ev); err != nil {
					return s.confirmed, err
				}
			case <-ctx.Done():
				return s.confirmed, ctx.Err()
			default:
			}
			continue
		}
		wait := t.KeepaliveInterval - now.Sub(s.lastWrite)
		if len(s.probes) > 0 {
			wait = min(wait, t.ProbeTimeout-now.Sub(s.probes[0].sent))
		}
		timer.Reset(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			return s.confirmed, ctx.Err()
		case <-d.restart:
			return s.confirmed, errAddressChanged
		case <-d.q.Notify():
		case ev := <-s.in:
			if err := s.handle(ev); err != nil {
				return s.confirmed, err
			}
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// negotiate offers pDUAcknowledgement and waits for the answer.
func (s *session) negotiate(ctx context.Context) error {
	d := s.d
	req := &etsi.OptionRequest{RequestedOptions: []etsi.Option{&etsi.PDUAcknowledgement{}}}
	if err := s.writeTRI(req, nil); err != nil {
		return err
	}
	if err := s.bw.Flush(); err != nil {
		return s.writeErr(err)
	}
	timer := time.NewTimer(d.m.cfg.Timings.OptionTimeout)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			s.mode = ModeKeepalive
			return nil
		case ev := <-s.in:
			if ev.err != nil {
				return s.readErr(ev.err)
			}
			switch p := ev.pdu.Payload.(type) {
			case *etsi.OptionResponse:
				s.mode = ModeKeepalive
				for _, o := range p.AcceptedOptions {
					if _, ok := o.(*etsi.PDUAcknowledgement); ok {
						s.mode = ModeAck
					}
				}
				if s.mode == ModeAck {
					if err := s.writeTRI(&etsi.OptionComplete{}, nil); err != nil {
						return err
					}
					if err := s.bw.Flush(); err != nil {
						return s.writeErr(err)
					}
				}
				return nil
			default:
				if err := s.handle(ev); err != nil {
					return err
				}
			}
		}
	}
}

// room reports whether the in-flight window has space.
func (s *session) room() bool {
	t := &s.d.m.cfg.Timings
	return len(s.flight) < t.MaxInFlight && s.flightB < t.MaxInFlightBytes
}

// sendRecords writes the next records of the queue (buffered) and reports
// whether more are waiting.
func (s *session) sendRecords() (more bool, err error) {
	d := s.d
	t := &d.m.cfg.Timings
	if !s.room() {
		return d.q.Stats().Tail > s.pos, nil
	}
	n := min(256, t.MaxInFlight-len(s.flight))
	recs, err := d.q.Read(s.pos+1, n, min(1<<20, t.MaxInFlightBytes-s.flightB))
	if err != nil {
		return false, err
	}
	if len(recs) == 0 {
		return false, nil
	}
	if err := s.conn.SetWriteDeadline(time.Now().Add(t.WriteTimeout)); err != nil {
		return false, s.writeErr(err)
	}
	high := d.stats.highestSent.Load()
	for _, r := range recs {
		meta, pdu, err := parseRecord(r.Data)
		if err != nil {
			// Cannot happen with records this package wrote; skip it
			// rather than block the queue forever.
			d.m.log.Error("undecodable queued record skipped", "did", d.did, "pos", r.Pos, "err", err)
			s.pos = r.Pos
			continue
		}
		if _, err := s.bw.Write(pdu); err != nil {
			return false, s.writeErr(err)
		}
		s.pos = r.Pos
		s.liid = meta.liid
		s.flight = append(s.flight, inflight{pos: r.Pos, size: len(pdu), received: meta.received})
		s.flightB += len(pdu)
		if r.Pos <= high {
			d.stats.resent.Add(1)
		} else {
			d.stats.sent.Add(1)
		}
		if d.cfg.Integrity {
			if err := s.addIntegrity(meta, pdu); err != nil {
				return false, err
			}
		}
	}
	if s.pos > high {
		d.stats.highestSent.Store(s.pos)
	}
	s.lastWrite = time.Now()
	return d.q.Stats().Tail > s.pos, nil
}

// maybeProbe writes a confirmation request when records are unconfirmed and
// the worker caught up (or ProbeEvery records passed), and a keep-alive
// when the connection was idle for KeepaliveInterval.
func (s *session) maybeProbe(more bool) error {
	t := &s.d.m.cfg.Timings
	now := time.Now()
	switch {
	case s.pos > s.lastProbe && len(s.probes) < maxProbes &&
		(!more || s.pos-s.lastProbe >= uint64(t.ProbeEvery) || !s.room()):
	case now.Sub(s.lastWrite) >= t.KeepaliveInterval && len(s.probes) == 0:
	default:
		return nil
	}
	if err := s.flushIntegrity(); err != nil {
		return err
	}
	p := probe{pos: s.pos, ack: s.mode == ModeAck, sent: now}
	var payload etsi.TRIPayload = &etsi.KeepAlive{}
	if p.ack {
		payload = &etsi.PDUAcknowledgementRequest{}
	}
	seq, err := s.writeTRIseq(payload, nil)
	if err != nil {
		return err
	}
	p.seq = seq
	s.probes = append(s.probes, p)
	s.lastProbe = s.pos
	s.d.stats.probes.Add(1)
	return nil
}

func (s *session) probeName(p probe) string {
	if p.ack {
		return fmt.Sprintf("pDUAcknowledgementRequest seq %d", p.seq)
	}
	return fmt.Sprintf("keep-alive seq %d", p.seq)
}

// handle processes one PDU from the LEMF.
func (s *session) handle(ev inbound) error {
	d := s.d
	if ev.err != nil {
		return s.readErr(ev.err)
	}
	seq := ev.pdu.Header.SequenceNumber
	switch ev.pdu.Payload.(type) {
	case *etsi.PDUAcknowledgementResponse:
		for i, p := range s.probes {
			if p.ack && p.seq == seq {
				s.confirm(i)
				return nil
			}
		}
		d.m.log.Warn("pDUAcknowledgementResponse for no outstanding request ignored", "did", d.did, "seq", seq)
	case *etsi.KeepAliveResponse:
		first := -1
		for i, p := range s.probes {
			if p.ack {
				continue
			}
			if p.seq == seq {
				s.confirm(i)
				return nil
			}
			if first < 0 {
				first = i
			}
		}
		if first >= 0 {
			// The LEMF did not echo the sequence number: responses come in
			// order, so this one answers the oldest keep-alive.
			s.confirm(first)
			return nil
		}
		d.m.log.Debug("unsolicited keep-aliveResponse ignored", "did", d.did)
	case *etsi.KeepAlive:
		if err := s.writeTRI(&etsi.KeepAliveResponse{}, &seq); err != nil {
			return err
		}
		if err := s.bw.Flush(); err != nil {
			return s.writeErr(err)
		}
	case *etsi.OptionResponse, *etsi.PaddingPDU, *etsi.TestPDU:
		// Late or harmless.
	default:
		// Well-formed but not for us (a LEMF's own option request, records
		// sent back, ...): the stream is still in step, so it is counted
		// and logged, not a reason to drop the connection.
		n := d.stats.ignored.Add(1)
		if d.m.limiter.allow("ignored/"+d.did, time.Now()) {
			d.m.log.Warn("unexpected PDU from the LEMF ignored", "did", d.did, "payload", fmt.Sprintf("%T", ev.pdu.Payload), "total", n)
		}
	}
	return nil
}

// confirm releases everything the i-th outstanding probe covers.
func (s *session) confirm(i int) {
	d := s.d
	p := s.probes[i]
	s.probes = s.probes[i+1:]
	now := time.Now()
	n := 0
	for n < len(s.flight) && s.flight[n].pos <= p.pos {
		d.stats.latency.observe(now.Sub(s.flight[n].received))
		s.flightB -= s.flight[n].size
		n++
	}
	if n == 0 {
		return
	}
	s.flight = s.flight[n:]
	d.q.Ack(p.pos)
	s.confirmed += uint64(n)
	d.stats.confirmed.Add(uint64(n))
	d.m.audit(x1.AuditRecord{Operation: AuditDelivered, DID: d.did, Result: "ok",
		Description: fmt.Sprintf("%d records confirmed by %s (queue positions up to %d)", n, s.probeName(p), p.pos)})
}

func (s *session) nextTRISeq() uint32 {
	v := s.triSeq
	s.triSeq++
	return v
}

func (s *session) writeTRI(p etsi.TRIPayload, seq *uint32) error {
	_, err := s.writeTRIhdr(p, seq, s.liid, nil)
	return err
}

func (s *session) writeTRIseq(p etsi.TRIPayload, seq *uint32) (uint32, error) {
	return s.writeTRIhdr(p, seq, s.liid, nil)
}

// writeTRIhdr writes a TRI PDU with the given (or the next) sequence number.
func (s *session) writeTRIhdr(p etsi.TRIPayload, seq *uint32, liid string, cin *uint32) (uint32, error) {
	d := s.d
	var n uint32
	if seq != nil {
		n = *seq
	} else {
		n = s.nextTRISeq()
	}
	now := time.Now()
	micro := etsi.MicroTime(now)
	q := etsi.TSQTimeOfMediation
	pdu := etsi.PSPDU{
		Header: etsi.PSHeader{
			LIID:                     liid,
			AuthorizationCountryCode: d.m.cfg.CountryCode,
			CommunicationIdentifier: etsi.CommunicationIdentifier{
				NetworkIdentifier: etsi.NetworkIdentifier{
					OperatorIdentifier:       d.m.cfg.OperatorID,
					NetworkElementIdentifier: d.m.cfg.NetworkElementID,
				},
				CIN:                 cin,
				DeliveryCountryCode: d.m.cfg.CountryCode,
			},
			SequenceNumber:       n,
			TimeStamp:            now.UTC(),
			MicroSecondTimeStamp: &micro,
			TimeStampQualifier:   &q,
		},
		Payload: p,
	}
	b, err := etsi.Marshal(&pdu)
	if err != nil {
		return 0, fmt.Errorf("encode %T: %w", p, err)
	}
	if err := s.conn.SetWriteDeadline(now.Add(d.m.cfg.Timings.WriteTimeout)); err != nil {
		return 0, s.writeErr(err)
	}
	if _, err := s.bw.Write(b); err != nil {
		return 0, s.writeErr(err)
	}
	s.lastWrite = now
	return n, nil
}

func (s *session) addIntegrity(meta recordMeta, pdu []byte) error {
	k := groupKey{meta.liid, meta.cin, meta.kind}
	g := s.groups[k]
	if g == nil {
		g = &intGroup{liid: meta.liid, cin: meta.cin, kind: meta.kind}
		s.groups[k] = g
		s.groupOrder = append(s.groupOrder, k)
	}
	g.seqs = append(g.seqs, meta.seq)
	g.records = append(g.records, pdu)
	if len(g.seqs) >= s.d.cfg.IntegrityGroup {
		return s.writeIntegrity(g)
	}
	return nil
}

func (s *session) flushIntegrity() error {
	for _, k := range s.groupOrder {
		if g := s.groups[k]; g != nil && len(g.seqs) > 0 {
			if err := s.writeIntegrity(g); err != nil {
				return err
			}
		}
	}
	clear(s.groups)
	s.groupOrder = s.groupOrder[:0]
	return nil
}

func (s *session) writeIntegrity(g *intGroup) error {
	dt := etsi.DataIRI
	if g.kind == etsi.KindCC {
		dt = etsi.DataCC
	}
	ic, err := etsi.NewIntegrityCheck(dt, g.seqs, g.records)
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	cin := g.cin
	if _, err := s.writeTRIhdr(ic, nil, g.liid, &cin); err != nil {
		return err
	}
	s.d.stats.integrity.Add(1)
	g.seqs = g.seqs[:0]
	g.records = g.records[:0]
	return nil
}

func (s *session) writeErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		s.d.stats.writeTimeouts.Add(1)
		return fmt.Errorf("LEMF not reading (write timeout): %w", err)
	}
	return fmt.Errorf("write: %w", err)
}

func (s *session) readErr(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("LEMF closed the connection")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		s.d.stats.protocolErrors.Add(1)
		return fmt.Errorf("LEMF closed the connection inside a record: %w", err)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fmt.Errorf("read: %w", err)
	}
	s.d.stats.protocolErrors.Add(1)
	return fmt.Errorf("bad input from the LEMF: %w", err)
}

// maxInbound bounds a PDU from the LEMF (they are small TRI PDUs).
const maxInbound = 64 << 10

func (s *session) readLoop() {
	rr := etsi.NewRecordReader(s.conn, maxInbound)
	for {
		var ev inbound
		rec, err := rr.Next()
		if err == nil {
			err = etsi.Unmarshal(rec, &ev.pdu)
		}
		ev.err = err
		select {
		case s.in <- ev:
		case <-s.done:
			return
		}
		if err != nil {
			return
		}
	}
}
