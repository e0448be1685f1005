package hi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"rcds/hi/etsi"
)

// OptionPolicy is how the LEMF answers an optionRequest.
type OptionPolicy string

const (
	OptionsAccept  OptionPolicy = ""        // accept pDUAcknowledgement (the default)
	OptionsDecline OptionPolicy = "decline" // decline every option
	OptionsIgnore  OptionPolicy = "ignore"  // do not answer at all
)

// LEMFConfig configures the reference LEMF.
type LEMFConfig struct {
	// HI2Listen and HI3Listen are the listen addresses ("host:port"; port 0
	// picks a free one, kept across Serve calls). At least one is required.
	HI2Listen, HI3Listen string
	// TLS, when set, makes both listeners TLS servers.
	TLS *tls.Config
	// RawDir, when set, receives hi2-N.ber / hi3-N.ber per accepted
	// connection holding exactly the bytes received.
	RawDir string
	// Out, when set, receives one JSON object per record (JSONL).
	Out io.Writer
	// View, when set, receives a live human-readable line per record.
	View io.Writer
	// OnRecord, when set, is called with every record in the order of
	// its connection, before any confirmation that covers it is sent. It
	// is called from each connection's goroutine (so concurrently for
	// several connections) and must not keep rec.Raw.
	OnRecord func(rec *LEMFRecord)
	// Options selects the answer to optionRequest (default accept).
	Options OptionPolicy
	// NoKeepaliveResponse makes the LEMF ignore keep-alives (to test an
	// MDF against a LEMF that never answers them).
	NoKeepaliveResponse bool
	// MaxRecord bounds one record (default 16 MiB).
	MaxRecord int
	// DedupEntries bounds the (LIID, CIN, seq, kind) digests kept to
	// recognise re-sent records (default 1<<20, oldest forgotten first).
	DedupEntries int
	// IntegrityWindow bounds the records per connection kept to verify
	// integrityCheck PDUs (default 4096).
	IntegrityWindow int
}

// LEMFRecord is one record the LEMF received: the `--out` JSON object.
type LEMFRecord struct {
	HI          string    `json:"hi"`   // "hi2" or "hi3": the listener
	Conn        int       `json:"conn"` // N of the raw file hiX-N.ber
	Offset      int64     `json:"offset"`
	LIID        string    `json:"liid,omitempty"`
	CIN         *uint32   `json:"cin,omitempty"`
	Seq         uint32    `json:"seq"`
	Kind        string    `json:"kind"` // iri, cc, keepalive, keepalive_response, option_request, option_complete, ack_request, integrity, tri, error
	Time        time.Time `json:"time,omitzero"`
	Profile     string    `json:"profile,omitempty"`  // "101671" for eTSI671IRI records
	IRIType     string    `json:"iri_type,omitempty"` // begin, end, continue, report
	Category    string    `json:"category,omitempty"` // e.g. message:deposit, message-box:login
	Status      string    `json:"status,omitempty"`
	Parties     []string  `json:"parties,omitempty"`
	From        string    `json:"from,omitempty"`
	To          []string  `json:"to,omitempty"`
	Subject     string    `json:"subject,omitempty"` // nickname, personal message, presence code
	EventID     *uint32   `json:"event_id,omitempty"`
	Direction   string    `json:"direction,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Content     []byte    `json:"content,omitempty"` // base64 in JSON
	Duplicate   bool      `json:"duplicate,omitempty"`
	Conflict    bool      `json:"conflict,omitempty"` // sequence number re-used with different bytes
	Integrity   string    `json:"integrity,omitempty"`
	Error       string    `json:"error,omitempty"`
	// Raw is the complete encoded PS-PDU (not in the JSON).
	Raw []byte `json:"-"`
}

// LEMFStats are the LEMF's counters.
type LEMFStats struct {
	Connections         uint64
	Active              int64
	Bytes               uint64
	Records             uint64 // IRI and CC records (duplicates included)
	IRI, CC             uint64
	Duplicates          uint64 // re-sent identical records
	Conflicts           uint64 // sequence numbers re-used with different bytes
	DecodeErrors        uint64 // records that split correctly but do not decode
	Malformed           uint64 // connections dropped: the byte stream is not BER
	Truncated           uint64 // connections that ended inside a record
	Keepalives          uint64 // keep-alives received
	AckRequests         uint64 // pDUAcknowledgementRequests received
	OptionRequests      uint64
	IntegrityOK         uint64
	IntegrityFailed     uint64
	IntegrityUnverified uint64
	WriteErrors         uint64
}

type lemfCounters struct {
	connections, bytes, records, iri, cc, duplicates, conflicts, decodeErrors  atomic.Uint64
	malformed, truncated, keepalives, ackRequests, optionRequests, integrityOK atomic.Uint64
	integrityFailed, integrityUnverified, writeErrors                          atomic.Uint64
	active                                                                     atomic.Int64
}

// LEMF is the reference agency receiver for HI2/HI3.
type LEMF struct {
	cfg LEMFConfig
	log *slog.Logger

	mu       sync.Mutex // guards the listeners, addresses, conns and numbering
	addrs    [2]string
	lns      [2]net.Listener
	conns    map[net.Conn]struct{}
	connSeq  [2]int
	outMu    sync.Mutex // guards Out, View and the dedup table
	out      *bufio.Writer
	dedup    map[dedupID][32]byte
	dedupFIF []dedupID
	dedupPos int
	stats    lemfCounters
}

// dedupID names a record: (LIID, CIN, sequence number, IRI|CC). IRI in
// the TS 101 671 profile is numbered like the TS 102 232 IRI of the same
// warrant, so it is told apart by p671 (a LEMF fed by two destinations of
// different profiles sees both).
type dedupID struct {
	liid string
	cin  uint32
	seq  uint32
	kind etsi.PayloadKind
	p671 bool
}

var hiNames = [2]string{"hi2", "hi3"}

// ErrNoListener is returned by NewLEMF without a listen address.
var ErrNoListener = errors.New("hi: LEMF has no HI2 or HI3 listen address")

// NewLEMF checks cfg and prepares the LEMF; Listen binds, Serve serves.
func NewLEMF(cfg LEMFConfig, logger *slog.Logger) (*LEMF, error) {
	if cfg.HI2Listen == "" && cfg.HI3Listen == "" {
		return nil, ErrNoListener
	}
	switch cfg.Options {
	case OptionsAccept, OptionsDecline, OptionsIgnore:
	default:
		return nil, fmt.Errorf("%w: LEMF option policy %q", ErrConfig, cfg.Options)
	}
	if cfg.MaxRecord <= 0 {
		cfg.MaxRecord = 16 << 20
	}
	if cfg.DedupEntries <= 0 {
		cfg.DedupEntries = 1 << 20
	}
	if cfg.IntegrityWindow <= 0 {
		cfg.IntegrityWindow = 4096
	}
	if cfg.RawDir != "" {
		if err := os.MkdirAll(cfg.RawDir, 0o700); err != nil {
			return nil, fmt.Errorf("hi: LEMF raw dir: %w", err)
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &LEMF{cfg: cfg, log: logger, addrs: [2]string{cfg.HI2Listen, cfg.HI3Listen},
		conns: make(map[net.Conn]struct{}), dedup: make(map[dedupID][32]byte)}
	if cfg.Out != nil {
		l.out = bufio.NewWriterSize(cfg.Out, 64<<10)
	}
	return l, nil
}

// Listen binds the configured addresses. After a Serve has returned it can
// be called again: a port picked by the system is bound again.
func (l *LEMF) Listen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, a := range l.addrs {
		if a == "" || l.lns[i] != nil {
			continue
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for j := range l.lns {
				if l.lns[j] != nil {
					l.lns[j].Close()
					l.lns[j] = nil
				}
			}
			return fmt.Errorf("hi: LEMF listen %s on %s: %w", hiNames[i], a, err)
		}
		l.addrs[i] = ln.Addr().String()
		if l.cfg.TLS != nil {
			ln = tls.NewListener(ln, l.cfg.TLS)
		}
		l.lns[i] = ln
	}
	return nil
}

// HI2Addr and HI3Addr return the bound addresses ("" when not listening).
func (l *LEMF) HI2Addr() string { return l.addr(0) }
func (l *LEMF) HI3Addr() string { return l.addr(1) }

func (l *LEMF) addr(i int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addrs[i]
}

// Serve accepts connections until ctx ends (binding first if Listen was
// not called), then closes the listeners and every connection and waits
// for them. Output is flushed before it returns.
func (l *LEMF) Serve(ctx context.Context) error {
	if err := l.Listen(); err != nil {
		return err
	}
	l.mu.Lock()
	lns := l.lns
	l.mu.Unlock()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for i, ln := range lns {
		if ln == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- l.accept(ctx, ln, i, &wg)
		}()
	}
	<-ctx.Done()
	l.mu.Lock()
	for i := range l.lns {
		if l.lns[i] != nil {
			l.lns[i].Close()
			l.lns[i] = nil
		}
	}
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	wg.Wait()
	l.flushOut()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

func (l *LEMF) accept(ctx context.Context, ln net.Listener, hi int, wg *sync.WaitGroup) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("hi: LEMF accept: %w", err)
		}
		l.mu.Lock()
		if ctx.Err() != nil {
			l.mu.Unlock()
			c.Close()
			return nil
		}
		l.conns[c] = struct{}{}
		l.connSeq[hi]++
		n := l.connSeq[hi]
		l.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.serveConn(c, hi, n)
			l.mu.Lock()
			delete(l.conns, c)
			l.mu.Unlock()
		}()
	}
}

// Stats returns the LEMF's counters.
func (l *LEMF) Stats() LEMFStats {
	s := &l.stats
	return LEMFStats{
		Connections: s.connections.Load(), Active: s.active.Load(), Bytes: s.bytes.Load(),
		Records: s.records.Load(), IRI: s.iri.Load(), CC: s.cc.Load(),
		Duplicates: s.duplicates.Load(), Conflicts: s.conflicts.Load(), DecodeErrors: s.decodeErrors.Load(),
		Malformed: s.malformed.Load(), Truncated: s.truncated.Load(), Keepalives: s.keepalives.Load(),
		AckRequests: s.ackRequests.Load(), OptionRequests: s.optionRequests.Load(),
		IntegrityOK: s.integrityOK.Load(), IntegrityFailed: s.integrityFailed.Load(),
		IntegrityUnverified: s.integrityUnverified.Load(), WriteErrors: s.writeErrors.Load(),
	}
}

// countingReader counts the bytes read and copies them to the raw file.
type countingReader struct {
	r   io.Reader
	raw *bufio.Writer
	n   *atomic.Uint64
	err error // first raw write error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n.Add(uint64(n))
		if c.raw != nil && c.err == nil {
			_, c.err = c.raw.Write(p[:n])
		}
	}
	return n, err
}

// lemfConn is the state of one accepted connection.
type lemfConn struct {
	l      *LEMF
	w      io.Writer               // answers to the MDF
	dl     func(t time.Time) error // write deadline, may be nil
	hi     int
	n      int
	raw    *bufio.Writer
	log    *slog.Logger
	window map[dedupID][]byte // records kept for integrity checks
	order  []dedupID
}

func (l *LEMF) serveConn(c net.Conn, hi, n int) {
	l.stats.connections.Add(1)
	l.stats.active.Add(1)
	defer l.stats.active.Add(-1)
	defer c.Close()
	lc := l.newConn(c, c.SetWriteDeadline, hi, n)
	lc.log = lc.log.With("remote", c.RemoteAddr().String())
	if l.cfg.RawDir != "" {
		path := filepath.Join(l.cfg.RawDir, fmt.Sprintf("%s-%d.ber", hiNames[hi], n))
		f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			lc.log.Error("cannot create raw file; connection refused", "path", path, "err", err)
			return
		}
		lc.raw = bufio.NewWriterSize(f, 64<<10)
		defer func() {
			if err := lc.raw.Flush(); err != nil {
				lc.log.Error("raw file write failed", "path", path, "err", err)
			}
			f.Close()
		}()
	}
	lc.log.Info("HI connection accepted")
	lc.consume(c)
}

func (l *LEMF) newConn(w io.Writer, dl func(time.Time) error, hi, n int) *lemfConn {
	return &lemfConn{l: l, w: w, dl: dl, hi: hi, n: n, window: make(map[dedupID][]byte),
		log: l.log.With("hi", hiNames[hi], "conn", n)}
}

// consume reads records from r until it ends or breaks.
func (lc *lemfConn) consume(r io.Reader) {
	l := lc.l
	cr := &countingReader{r: r, raw: lc.raw, n: &l.stats.bytes}
	rr := etsi.NewRecordReader(cr, l.cfg.MaxRecord)
	var offset int64
	for {
		rec, err := rr.Next()
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				lc.log.Info("HI connection closed by the peer", "bytes", offset)
			case errors.Is(err, io.ErrUnexpectedEOF):
				l.stats.truncated.Add(1)
				lc.log.Warn("HI connection ended inside a record", "offset", offset, "err", err)
			case errors.Is(err, net.ErrClosed):
				lc.log.Info("HI connection closed")
			default:
				var ne net.Error
				if errors.As(err, &ne) {
					lc.log.Info("HI connection read error", "err", err)
				} else {
					l.stats.malformed.Add(1)
					lc.log.Warn("HI stream is not BER; connection dropped", "offset", offset, "err", err)
					lc.emit(&LEMFRecord{HI: hiNames[lc.hi], Conn: lc.n, Offset: offset, Kind: "error", Error: err.Error()})
				}
			}
			if cr.err != nil {
				lc.log.Error("raw file write failed", "err", cr.err)
			}
			return
		}
		if err := lc.record(rec, offset); err != nil {
			l.stats.writeErrors.Add(1)
			lc.log.Warn("cannot answer the MDF; connection dropped", "err", err)
			return
		}
		offset += int64(len(rec))
	}
}

// record handles one complete record.
func (lc *lemfConn) record(raw []byte, offset int64) error {
	l := lc.l
	base := LEMFRecord{HI: hiNames[lc.hi], Conn: lc.n, Offset: offset}
	var p etsi.PSPDU
	if err := etsi.Unmarshal(raw, &p); err != nil {
		l.stats.decodeErrors.Add(1)
		lc.log.Warn("record does not decode", "offset", offset, "err", err)
		base.Kind, base.Error = "error", err.Error()
		lc.emit(&base)
		return nil
	}
	h := &p.Header
	base.LIID = h.LIID
	base.Seq = h.SequenceNumber
	base.CIN = h.CommunicationIdentifier.CIN
	if h.MicroSecondTimeStamp != nil {
		base.Time = h.MicroSecondTimeStamp.Time()
	} else if !h.TimeStamp.IsZero() {
		base.Time = h.TimeStamp.UTC()
	}
	switch pl := p.Payload.(type) {
	case etsi.IRIPayloadSequence:
		l.stats.records.Add(1)
		l.stats.iri.Add(1)
		p671 := len(pl) > 0
		for i := range pl {
			if _, ok := pl[i].Contents.(*etsi.ETSI671IRI); !ok {
				p671 = false
			}
		}
		dup, conflict := lc.check(h, etsi.KindIRI, p671, raw)
		for i := range pl {
			r := base
			r.Kind, r.Duplicate, r.Conflict, r.Raw = "iri", dup, conflict, raw
			fillIRI(&r, &pl[i])
			lc.emit(&r)
		}
	case etsi.CCPayloadSequence:
		l.stats.records.Add(1)
		l.stats.cc.Add(1)
		dup, conflict := lc.check(h, etsi.KindCC, false, raw)
		for i := range pl {
			r := base
			r.Kind, r.Duplicate, r.Conflict, r.Raw = "cc", dup, conflict, raw
			fillCC(&r, &pl[i])
			lc.emit(&r)
		}
	case *etsi.KeepAlive:
		l.stats.keepalives.Add(1)
		base.Kind = "keepalive"
		lc.emit(&base)
		if !l.cfg.NoKeepaliveResponse {
			return lc.answer(h, &etsi.KeepAliveResponse{})
		}
	case *etsi.KeepAliveResponse:
		base.Kind = "keepalive_response"
		lc.emit(&base)
	case *etsi.PDUAcknowledgementRequest:
		l.stats.ackRequests.Add(1)
		base.Kind = "ack_request"
		lc.emit(&base)
		return lc.answer(h, &etsi.PDUAcknowledgementResponse{})
	case *etsi.OptionRequest:
		l.stats.optionRequests.Add(1)
		base.Kind = "option_request"
		lc.emit(&base)
		resp := &etsi.OptionResponse{}
		for _, o := range pl.RequestedOptions {
			if _, ok := o.(*etsi.PDUAcknowledgement); ok && l.cfg.Options == OptionsAccept {
				resp.AcceptedOptions = append(resp.AcceptedOptions, o)
			} else {
				resp.DeclinedOptions = append(resp.DeclinedOptions, o)
			}
		}
		if l.cfg.Options != OptionsIgnore {
			return lc.answer(h, resp)
		}
	case *etsi.OptionComplete:
		base.Kind = "option_complete"
		lc.emit(&base)
	case *etsi.IntegrityCheck:
		base.Kind = "integrity"
		base.Integrity = lc.verify(h, pl)
		lc.emit(&base)
	default:
		base.Kind = "tri"
		if u, ok := pl.(*etsi.Unknown); ok {
			base.Error = fmt.Sprintf("payload alternative [%d] not modelled", u.Tag())
		} else {
			base.Error = fmt.Sprintf("%T", pl)
		}
		lc.emit(&base)
	}
	return nil
}

// check de-duplicates an IRI/CC record by (LIID, CIN, seq, kind) and keeps
// it for integrity checks.
func (lc *lemfConn) check(h *etsi.PSHeader, kind etsi.PayloadKind, p671 bool, raw []byte) (dup, conflict bool) {
	l := lc.l
	id := dedupID{liid: h.LIID, seq: h.SequenceNumber, kind: kind, p671: p671}
	if h.CommunicationIdentifier.CIN != nil {
		id.cin = *h.CommunicationIdentifier.CIN
	}
	sum := sha256.Sum256(raw)
	l.outMu.Lock()
	prev, seen := l.dedup[id]
	if !seen {
		if len(l.dedupFIF) < l.cfg.DedupEntries {
			l.dedupFIF = append(l.dedupFIF, id)
		} else {
			delete(l.dedup, l.dedupFIF[l.dedupPos])
			l.dedupFIF[l.dedupPos] = id
			l.dedupPos = (l.dedupPos + 1) % len(l.dedupFIF)
		}
		l.dedup[id] = sum
	}
	l.outMu.Unlock()
	switch {
	case !seen:
	case prev == sum:
		dup = true
		l.stats.duplicates.Add(1)
	default:
		conflict = true
		l.stats.conflicts.Add(1)
		lc.log.Error("sequence number re-used with different bytes", "liid", h.LIID, "cin", id.cin, "seq", id.seq, "kind", kind.String())
	}
	// One connection carries one profile: the window ignores it.
	wid := id
	wid.p671 = false
	if _, ok := lc.window[wid]; !ok {
		if len(lc.order) >= lc.l.cfg.IntegrityWindow {
			delete(lc.window, lc.order[0])
			lc.order = lc.order[1:]
		}
		lc.order = append(lc.order, wid)
	}
	lc.window[wid] = bytes.Clone(raw)
	return dup, conflict
}

// verify checks an integrityCheck against the records of this connection.
func (lc *lemfConn) verify(h *etsi.PSHeader, ic *etsi.IntegrityCheck) string {
	l := lc.l
	id := dedupID{liid: h.LIID, kind: etsi.KindIRI}
	if h.CommunicationIdentifier.CIN != nil {
		id.cin = *h.CommunicationIdentifier.CIN
	}
	if ic.DataType != nil && *ic.DataType == etsi.DataCC {
		id.kind = etsi.KindCC
	}
	recs := make([][]byte, 0, len(ic.IncludedSequenceNumbers))
	for _, s := range ic.IncludedSequenceNumbers {
		id.seq = s
		r, ok := lc.window[id]
		if !ok {
			l.stats.integrityUnverified.Add(1)
			return "unverified"
		}
		recs = append(recs, r)
	}
	if err := ic.Verify(recs); err != nil {
		l.stats.integrityFailed.Add(1)
		lc.log.Error("integrity check failed", "liid", h.LIID, "cin", id.cin, "err", err)
		return "failed"
	}
	l.stats.integrityOK.Add(1)
	return "ok"
}

// answer writes a TRI PDU carrying the request's LIID, CIN and sequence
// number, after making everything received so far durable in the outputs.
func (lc *lemfConn) answer(req *etsi.PSHeader, p etsi.TRIPayload) error {
	lc.l.flushOut()
	if lc.raw != nil {
		if err := lc.raw.Flush(); err != nil {
			return fmt.Errorf("raw file: %w", err)
		}
	}
	now := time.Now()
	micro := etsi.MicroTime(now)
	h := *req
	h.TimeStamp = now.UTC()
	h.MicroSecondTimeStamp = &micro
	q := etsi.TSQTimeOfMediation
	h.TimeStampQualifier = &q
	b, err := etsi.Marshal(&etsi.PSPDU{Header: h, Payload: p})
	if err != nil {
		return fmt.Errorf("encode %T: %w", p, err)
	}
	if lc.dl != nil {
		if err := lc.dl(now.Add(10 * time.Second)); err != nil {
			return err
		}
	}
	_, err = lc.w.Write(b)
	return err
}

func (l *LEMF) flushOut() {
	l.outMu.Lock()
	defer l.outMu.Unlock()
	if l.out != nil {
		if err := l.out.Flush(); err != nil {
			l.stats.writeErrors.Add(1)
		}
	}
}

// emit hands a record to OnRecord, Out and View.
func (lc *lemfConn) emit(r *LEMFRecord) {
	l := lc.l
	if l.cfg.OnRecord != nil {
		l.cfg.OnRecord(r)
	}
	if l.out == nil && l.cfg.View == nil {
		return
	}
	l.outMu.Lock()
	defer l.outMu.Unlock()
	if l.out != nil {
		if err := writeJSONLine(l.out, r); err != nil {
			l.stats.writeErrors.Add(1)
		}
	}
	if l.cfg.View != nil {
		if _, err := io.WriteString(l.cfg.View, viewLine(r)); err != nil {
			l.stats.writeErrors.Add(1)
		}
	}
}
