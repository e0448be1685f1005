package x2x3

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
)

// SenderConfig configures a Sender. Zero values mean the defaults.
type SenderConfig struct {
	// Addr is the MDF's host:port.
	Addr string
	// TLS, when set, makes the connection TLS; put the client certificate
	// in Certificates and the MDF's CA in RootCAs for mutual TLS.
	TLS *tls.Config
	// KeepaliveInterval: a keep-alive is sent when nothing was written for
	// this long (default 5s).
	KeepaliveInterval time.Duration
	// AckTimeout: a keep-alive unanswered for this long drops the
	// connection, which is then re-established (default 30s).
	AckTimeout time.Duration
	// DialTimeout bounds one connection attempt, TLS handshake included (default 10s).
	DialTimeout time.Duration
	// WriteTimeout bounds each write to the connection (default 10s).
	WriteTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait between connection
	// attempts; it doubles after each failure and is reset by an
	// acknowledged keep-alive (defaults 100ms and 30s).
	BackoffMin, BackoffMax time.Duration
	// MaxBufferedPDUs and MaxBufferedBytes bound the PDUs held, unsent or
	// sent but not yet confirmed (defaults 65536 PDUs and 64 MiB).
	MaxBufferedPDUs  int
	MaxBufferedBytes int
}

func (c *SenderConfig) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.KeepaliveInterval, 5*time.Second)
	def(&c.AckTimeout, 30*time.Second)
	def(&c.DialTimeout, 10*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.BackoffMin, 100*time.Millisecond)
	def(&c.BackoffMax, 30*time.Second)
	c.BackoffMax = max(c.BackoffMax, c.BackoffMin)
	if c.MaxBufferedPDUs <= 0 {
		c.MaxBufferedPDUs = 65536
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = 64 << 20
	}
}

// SenderState is what a Sender is doing.
type SenderState string

const (
	StateIdle       SenderState = "idle"       // Run not started
	StateConnecting SenderState = "connecting" // dialling the MDF
	StateConnected  SenderState = "connected"  // connection up
	StateBackoff    SenderState = "backoff"    // waiting before the next attempt
	StateClosed     SenderState = "closed"     // Run ended or Close called
)

// SenderStats are a Sender's counters.
type SenderStats struct {
	State         SenderState
	Sent          uint64 // PDUs written for the first time
	Resent        uint64 // PDUs written again after a reconnect
	Confirmed     uint64 // PDUs confirmed by an acknowledged keep-alive and released
	Dropped       uint64 // PDUs refused by Send because the buffer was full
	Buffered      int    // PDUs held now (unsent or unconfirmed)
	BufferedBytes int    // their bytes
	Connects      uint64 // connections established
	Reconnects    uint64 // connections established after the first
	DialFailures  uint64 // failed connection attempts
	Keepalives    uint64 // keep-alives sent
	Acks          uint64 // keep-alive acknowledgements received
}

// Sender is the POI side of X2/X3: a Sink that sends PDUs over one TCP (or
// TLS) connection to the MDF, reconnecting with exponential backoff.
//
// TS 103 221-2 has no per-PDU acknowledgement. A Sender keeps every PDU it
// was given until a keep-alive written after the PDU is answered by a
// keep-alive acknowledgement (a Receiver answers only once everything read
// before the keep-alive is durably accepted). It sends such a keep-alive as
// soon as unconfirmed PDUs are written and none is outstanding, and one
// every KeepaliveInterval when idle. After a reconnect, every unconfirmed
// PDU is written again, in order: the MDF may therefore see a PDU twice (it
// recognises a duplicate by XID and sequence number). While the MDF is
// away, PDUs wait in a bounded buffer; when it is full Send refuses the PDU
// with ErrBufferFull, counts it in Stats().Dropped and logs it (at most
// every 10 seconds, with the running total).
type Sender struct {
	cfg    SenderConfig
	log    *slog.Logger
	wake   chan struct{} // a PDU was queued or a Flush is waiting
	closed chan struct{} // closed by Close

	mu        sync.Mutex
	q         [][]byte // q[head:] are unconfirmed PDUs, encoded
	head      int
	qBytes    int
	base      uint64        // absolute index of q[head]: PDUs confirmed so far
	next      uint64        // absolute index of the next PDU to write on this connection
	written   uint64        // absolute index up to which PDUs were ever written (for Resent)
	progress  chan struct{} // closed and replaced whenever base advances or the Sender closes
	isClosed  bool
	running   bool
	runDone   chan struct{}
	kaSeq     uint32
	stats     SenderStats
	lastDrop  time.Time // last overflow log line
	dropShown uint64    // Dropped at the last overflow log line
}

// NewSender returns a Sender to cfg.Addr logging to logger. Nothing is
// dialled until Run.
func NewSender(cfg SenderConfig, logger *slog.Logger) *Sender {
	cfg.defaults()
	return &Sender{
		cfg:      cfg,
		log:      logger.With("mdf", cfg.Addr),
		wake:     make(chan struct{}, 1),
		closed:   make(chan struct{}),
		progress: make(chan struct{}),
		stats:    SenderStats{State: StateIdle},
	}
}

func (s *Sender) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Send queues an X2 or X3 PDU for sending. It does not block on the
// network: it returns ErrBufferFull when the buffer is full and ErrClosed
// after Close. p is encoded at once; the caller may reuse it afterwards.
func (s *Sender) Send(ctx context.Context, p *PDU) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("x2x3: sender: send: %w", err)
	}
	if p.Type != TypeX2 && p.Type != TypeX3 {
		return fmt.Errorf("x2x3: sender: send: %w: %s (keep-alives are the Sender's own)", ErrPDUType, p.Type)
	}
	b, err := p.AppendBinary(nil)
	if err != nil {
		return fmt.Errorf("x2x3: sender: send: %w", err)
	}
	s.mu.Lock()
	if s.isClosed {
		s.mu.Unlock()
		return fmt.Errorf("x2x3: sender: send: %w", ErrClosed)
	}
	if n := len(s.q) - s.head; n >= s.cfg.MaxBufferedPDUs || s.qBytes+len(b) > s.cfg.MaxBufferedBytes {
		s.stats.Dropped++
		dropped, show := s.stats.Dropped, time.Since(s.lastDrop) >= 10*time.Second
		if show {
			s.lastDrop, s.dropShown = time.Now(), dropped
		}
		bytes := s.qBytes
		s.mu.Unlock()
		if show {
			s.log.Warn("x2x3 sender: buffer full, PDU dropped", "dropped_total", dropped,
				"buffered", n, "buffered_bytes", bytes, "max_pdus", s.cfg.MaxBufferedPDUs, "max_bytes", s.cfg.MaxBufferedBytes)
		}
		return fmt.Errorf("x2x3: sender: send: %w (%d PDUs, %d bytes held)", ErrBufferFull, n, bytes)
	}
	s.q = append(s.q, b)
	s.qBytes += len(b)
	s.mu.Unlock()
	s.poke()
	return nil
}

// Flush returns once every PDU queued before the call is confirmed by the
// MDF (a keep-alive sent after it was acknowledged), or with an error when
// ctx ends first or the Sender is closed.
func (s *Sender) Flush(ctx context.Context) error {
	s.mu.Lock()
	target := s.base + uint64(len(s.q)-s.head)
	s.mu.Unlock()
	for {
		s.mu.Lock()
		done, closed, ch := s.base >= target, s.isClosed, s.progress
		pending := target - min(s.base, target)
		s.mu.Unlock()
		if done {
			return nil
		}
		if closed {
			return fmt.Errorf("x2x3: sender: flush: %w (%d PDUs unconfirmed)", ErrClosed, pending)
		}
		s.poke()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("x2x3: sender: flush: %w (%d PDUs unconfirmed)", ctx.Err(), pending)
		}
	}
}

// Stats returns the current counters.
func (s *Sender) Stats() SenderStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Buffered = len(s.q) - s.head
	st.BufferedBytes = s.qBytes
	return st
}

// Close stops the Sender: Run returns (Close waits for it), later Send and
// Flush calls fail with ErrClosed. PDUs not yet confirmed are lost; their
// number is logged. Call Flush first to deliver them.
func (s *Sender) Close() error {
	s.mu.Lock()
	if s.isClosed {
		s.mu.Unlock()
		return nil
	}
	s.isClosed = true
	s.stats.State = StateClosed
	close(s.progress)
	s.progress = make(chan struct{})
	n, done := len(s.q)-s.head, s.runDone
	s.mu.Unlock()
	close(s.closed)
	if done != nil {
		<-done
	}
	if n > 0 {
		s.log.Warn("x2x3 sender: closed with unconfirmed PDUs, they are lost", "unconfirmed", n)
	}
	return nil
}

func (s *Sender) setState(st SenderState) {
	s.mu.Lock()
	if !s.isClosed {
		s.stats.State = st
	}
	s.mu.Unlock()
}

// Run connects to the MDF and sends until ctx ends or Close is called;
// it returns nil after Close and ctx's error otherwise. Connection failures
// are logged and retried with backoff, never returned.
func (s *Sender) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return fmt.Errorf("x2x3: sender: run: %w", ErrRunning)
	}
	if s.isClosed {
		s.mu.Unlock()
		return nil
	}
	s.running = true
	s.runDone = make(chan struct{})
	done := s.runDone
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.stats.State = StateClosed
		close(done)
		s.mu.Unlock()
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()

	backoff := s.cfg.BackoffMin
	for ctx.Err() == nil {
		s.setState(StateConnecting)
		conn, err := s.dial(ctx)
		if err == nil {
			s.mu.Lock()
			s.stats.Connects++
			if s.stats.Connects > 1 {
				s.stats.Reconnects++
			}
			s.stats.State = StateConnected
			held := len(s.q) - s.head
			s.mu.Unlock()
			s.log.Info("x2x3 sender: connected", "held", held)
			var acked bool
			acked, err = s.session(ctx, conn)
			conn.Close()
			if acked {
				backoff = s.cfg.BackoffMin
			}
			if ctx.Err() != nil {
				break
			}
			s.mu.Lock()
			held = len(s.q) - s.head
			s.mu.Unlock()
			s.log.Warn("x2x3 sender: connection lost", "err", err, "unconfirmed", held, "retry_in", backoff)
		} else {
			if ctx.Err() != nil {
				break
			}
			s.mu.Lock()
			s.stats.DialFailures++
			s.mu.Unlock()
			s.log.Warn("x2x3 sender: connect failed", "err", err, "retry_in", backoff)
		}
		s.setState(StateBackoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		backoff = min(2*backoff, s.cfg.BackoffMax)
	}
	select {
	case <-s.closed:
		return nil
	default:
		return ctx.Err()
	}
}

func (s *Sender) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	var (
		c   net.Conn
		err error
	)
	if s.cfg.TLS != nil {
		d := &tls.Dialer{Config: s.cfg.TLS}
		c, err = d.DialContext(ctx, "tcp", s.cfg.Addr)
	} else {
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp", s.cfg.Addr)
	}
	if err != nil {
		return nil, fmt.Errorf("x2x3: sender: dial %s: %w", s.cfg.Addr, err)
	}
	return c, nil
}

// inbound is what the connection's reader goroutine reports.
type inbound struct {
	p   *PDU
	err error
}

// maxBatch bounds the bytes written between two looks at the acknowledgements.
const maxBatch = 256 << 10

// session sends on conn until it fails or ctx ends. acked reports whether a
// keep-alive was acknowledged on it.
func (s *Sender) session(ctx context.Context, conn net.Conn) (acked bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	s.mu.Lock()
	s.next = s.base // re-send everything unconfirmed
	s.mu.Unlock()

	in := make(chan inbound, 4)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		rd := NewReader(conn, 64<<10)
		for {
			p, err := rd.Next()
			select {
			case in <- inbound{p, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() { cancel(); conn.Close(); <-readerDone }()

	w := bufio.NewWriterSize(conn, 64<<10)
	var (
		kaOut    bool      // a keep-alive is outstanding
		kaSeq    uint32    // its sequence number
		kaMark   uint64    // absolute index of the first PDU after it
		kaSent   time.Time // when it was sent
		lastSent = time.Now()
		timer    = time.NewTimer(s.cfg.KeepaliveInterval)
		scratch  []byte
	)
	defer timer.Stop()
	write := func(b []byte) error {
		if err := conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout)); err != nil {
			return err
		}
		_, err := w.Write(b)
		return err
	}
	flush := func() error {
		if w.Buffered() == 0 {
			return nil
		}
		if err := conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout)); err != nil {
			return err
		}
		return w.Flush()
	}
	handle := func(m inbound) error {
		if m.err != nil {
			return fmt.Errorf("x2x3: sender: read from MDF: %w", m.err)
		}
		switch m.p.Type {
		case TypeKeepaliveAck:
			seq := m.p.Attrs.SeqNo
			if !kaOut || (seq != nil && *seq != kaSeq) {
				s.log.Debug("x2x3 sender: unexpected keep-alive ack ignored", "outstanding", kaOut)
				return nil
			}
			kaOut, acked = false, true
			s.confirm(kaMark)
		case TypeKeepalive: // the MDF checks on us: answer at once
			var err error
			if scratch, err = NewKeepaliveAck(m.p).AppendBinary(scratch[:0]); err != nil {
				return err
			}
			if err := write(scratch); err != nil {
				return fmt.Errorf("x2x3: sender: write keep-alive ack: %w", err)
			}
			return flush()
		default:
			return fmt.Errorf("x2x3: sender: MDF sent a %s PDU", m.p.Type)
		}
		return nil
	}

	for {
		// Write what is queued, a batch at a time, looking at what the MDF
		// sent between batches.
		for {
			batch, from := s.pending(maxBatch)
			if len(batch) == 0 {
				break
			}
			for _, b := range batch {
				if err := write(b); err != nil {
					return acked, fmt.Errorf("x2x3: sender: write: %w", err)
				}
			}
			s.markWritten(from, len(batch))
			lastSent = time.Now()
			select {
			case m := <-in:
				if err := handle(m); err != nil {
					return acked, err
				}
			default:
			}
		}
		// A keep-alive confirms what was written before it; one when
		// idle keeps the connection checked.
		s.mu.Lock()
		unconfirmed := s.next > s.base
		if !kaOut && (unconfirmed || time.Since(lastSent) >= s.cfg.KeepaliveInterval) {
			kaSeq = s.kaSeq
			s.kaSeq++
			kaMark = s.next
			s.stats.Keepalives++
			s.mu.Unlock()
			var err error
			if scratch, err = NewKeepalive(kaSeq).AppendBinary(scratch[:0]); err != nil {
				return acked, err
			}
			if err := write(scratch); err != nil {
				return acked, fmt.Errorf("x2x3: sender: write keep-alive: %w", err)
			}
			kaOut, kaSent, lastSent = true, time.Now(), time.Now()
		} else {
			s.mu.Unlock()
		}
		if err := flush(); err != nil {
			return acked, fmt.Errorf("x2x3: sender: write: %w", err)
		}

		if kaOut {
			timer.Reset(time.Until(kaSent.Add(s.cfg.AckTimeout)))
		} else {
			timer.Reset(time.Until(lastSent.Add(s.cfg.KeepaliveInterval)))
		}
		select {
		case <-ctx.Done():
			return acked, ctx.Err()
		case <-s.wake:
		case m := <-in:
			if err := handle(m); err != nil {
				return acked, err
			}
		case <-timer.C:
			if kaOut && time.Since(kaSent) >= s.cfg.AckTimeout {
				return acked, fmt.Errorf("x2x3: sender: %w within %s", ErrAckTimeout, s.cfg.AckTimeout)
			}
		}
	}
}

// pending returns the queued PDUs from s.next on, up to about limit bytes
// (at least one), and the absolute index of the first.
func (s *Sender) pending(limit int) ([][]byte, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.head + int(s.next-s.base)
	j, n := i, 0
	for j < len(s.q) && (j == i || n+len(s.q[j]) <= limit) {
		n += len(s.q[j])
		j++
	}
	return slices.Clone(s.q[i:j]), s.next // confirm may move the entries of s.q
}

// markWritten records that n PDUs from absolute index from were written.
func (s *Sender) markWritten(from uint64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from != s.next { // cannot happen: only the session goroutine moves next
		return
	}
	end := from + uint64(n)
	if end > s.written {
		fresh := end - max(from, s.written)
		s.stats.Sent += fresh
		s.stats.Resent += uint64(n) - fresh
		s.written = end
	} else {
		s.stats.Resent += uint64(n)
	}
	s.next = end
}

// confirm releases the PDUs before absolute index mark.
func (s *Sender) confirm(mark uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Acks++
	if mark <= s.base {
		return
	}
	n := int(mark - s.base)
	for i := s.head; i < s.head+n; i++ {
		s.qBytes -= len(s.q[i])
		s.q[i] = nil
	}
	s.head += n
	s.base = mark
	s.stats.Confirmed += uint64(n)
	if s.head > 1024 && s.head > len(s.q)/2 {
		s.q = append(s.q[:0], s.q[s.head:]...)
		clear(s.q[len(s.q):cap(s.q)])
		s.head = 0
	}
	close(s.progress)
	s.progress = make(chan struct{})
}

var _ Sink = (*Sender)(nil)
var _ Sink = (*FileSink)(nil)
