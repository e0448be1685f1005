package msnsim

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ServerConfig configures a Server. The zero value is usable: loopback,
// ephemeral ports, the default bounds.
type ServerConfig struct {
	// Host is the address the three listeners bind (default 127.0.0.1).
	Host string
	// DispatchPort, NSPort and SBPort are the listening ports; 0 picks an
	// ephemeral port.
	DispatchPort, NSPort, SBPort int
	// Advertise is the host announced in XFR and RNG (default: the address
	// each listener is bound to; 127.0.0.1 when that is unspecified).
	Advertise string
	// Listen opens a listener (default net.ListenConfig.Listen). A test can
	// use it to listen inside another network namespace.
	Listen func(ctx context.Context, network, address string) (net.Listener, error)

	MaxConns     int           // open connections, all roles (default 1024)
	MaxLine      int           // bytes per command line (default 4096)
	MaxPayload   int           // bytes per payload (default 32 KiB)
	MaxAccounts  int           // distinct users ever signed in (default 10000)
	MaxContacts  int           // contacts per user and list (default 1000)
	MaxSBMembers int           // members per switchboard (default 20)
	MaxTickets   int           // pending XFR/RNG cookies (default 4096)
	TicketTTL    time.Duration // lifetime of an unused cookie (default 2 min)
	IdleTimeout  time.Duration // a connection silent this long is closed (default 5 min)
	WriteTimeout time.Duration // a peer not reading for this long is closed (default 10 s)
	// SendQueue is how many relayed messages may wait for one connection
	// (default 1024); a peer that keeps it full for WriteTimeout is
	// dropped. Control lines have as much headroom again.
	SendQueue int
}

func (c *ServerConfig) setDefaults() {
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.Listen == nil {
		var lc net.ListenConfig
		c.Listen = lc.Listen
	}
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&c.MaxConns, 1024)
	def(&c.MaxLine, defaultMaxLine)
	def(&c.MaxPayload, defaultMaxPayload)
	def(&c.MaxAccounts, 10000)
	def(&c.MaxContacts, 1000)
	def(&c.MaxSBMembers, 20)
	def(&c.MaxTickets, 4096)
	def(&c.SendQueue, 1024)
	if c.MaxLine < minMaxLine {
		c.MaxLine = minMaxLine
	}
	if c.TicketTTL <= 0 {
		c.TicketTTL = 2 * time.Minute
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
}

// Addrs are the addresses of a running server's listeners.
type Addrs struct {
	Dispatch, NS, SB netip.AddrPort
}

// Stats counts what a server has done.
type Stats struct {
	Accepted uint64 // connections accepted
	Rejected uint64 // connections refused by MaxConns
	Active   int    // connections open now
	Logins   uint64 // successful NS logins
	Relayed  uint64 // switchboard MSGs relayed (once per sender's MSG)
	Dropped  uint64 // connections closed for a bound (line, payload, queue, idle)
}

// Server is a small MSN Messenger service: dispatch server, notification
// server and switchboard on three TCP listeners.
type Server struct {
	cfg ServerConfig
	log *slog.Logger

	mu       sync.Mutex
	started  bool
	closed   bool
	lns      []net.Listener
	addrs    Addrs
	adv      [3]string // advertised host:port of dispatch, NS, SB
	accounts map[string]*account
	online   map[string]*sconn
	tickets  map[string]*ticket
	sbs      map[string]*switchboard
	conns    map[*sconn]struct{}
	nextConn uint64

	accepted, rejected, logins, relayed, dropped atomic.Uint64

	wg sync.WaitGroup
}

// account is a user's server-side state; it outlives NS sessions.
type account struct {
	passport string
	nick     string // decoded
	fl       map[string]bool
	al       map[string]bool
	bl       map[string]bool
	listVer  int
	gtc      string
	blp      string
	psm      []byte // last UUX payload
}

// ticket is a switchboard cookie handed out by XFR SB (sb == nil) or RNG.
type ticket struct {
	passport string
	nick     string
	clientID string
	ver      proto
	sb       *switchboard
	expires  time.Time
}

type switchboard struct {
	id      string
	members []*sconn
	closed  bool
}

// NewServer returns a server; Start makes it listen. logger may be nil.
func NewServer(cfg ServerConfig, logger *slog.Logger) *Server {
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		cfg:      cfg,
		log:      logger,
		accounts: make(map[string]*account),
		online:   make(map[string]*sconn),
		tickets:  make(map[string]*ticket),
		sbs:      make(map[string]*switchboard),
		conns:    make(map[*sconn]struct{}),
	}
}

// Start opens the three listeners and serves until ctx is cancelled, then
// closes every listener and connection. It returns once listening.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("msnsim: start server: already started")
	}
	s.started = true
	s.mu.Unlock()

	roles := []Role{RoleDispatch, RoleNS, RoleSB}
	ports := []int{s.cfg.DispatchPort, s.cfg.NSPort, s.cfg.SBPort}
	var lns []net.Listener
	var addrs [3]netip.AddrPort
	for i := range roles {
		ln, err := s.cfg.Listen(ctx, "tcp", net.JoinHostPort(s.cfg.Host, strconv.Itoa(ports[i])))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("msnsim: start server: listen %s: %w", roles[i], err)
		}
		ap, err := netip.ParseAddrPort(ln.Addr().String())
		if err != nil {
			ln.Close()
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("msnsim: start server: listener address: %w", err)
		}
		lns = append(lns, ln)
		addrs[i] = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	s.mu.Lock()
	s.lns = lns
	s.addrs = Addrs{Dispatch: addrs[0], NS: addrs[1], SB: addrs[2]}
	for i, ap := range addrs {
		host := s.cfg.Advertise
		if host == "" {
			host = ap.Addr().String()
			if ap.Addr().IsUnspecified() {
				host = "127.0.0.1"
			}
		}
		s.adv[i] = net.JoinHostPort(host, strconv.Itoa(int(ap.Port())))
	}
	s.mu.Unlock()
	s.log.Info("msnsim server listening", "dispatch", addrs[0], "ns", addrs[1], "sb", addrs[2])

	for i, ln := range lns {
		s.wg.Add(1)
		go s.acceptLoop(ln, roles[i])
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-ctx.Done()
		s.shutdown()
	}()
	return nil
}

// Addrs returns the listeners' addresses (zero before Start).
func (s *Server) Addrs() Addrs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs
}

// Wait blocks until the server's context is cancelled and every goroutine
// of the server has ended.
func (s *Server) Wait() { s.wg.Wait() }

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	active := len(s.conns)
	s.mu.Unlock()
	return Stats{
		Accepted: s.accepted.Load(), Rejected: s.rejected.Load(), Active: active,
		Logins: s.logins.Load(), Relayed: s.relayed.Load(), Dropped: s.dropped.Load(),
	}
}

// Online reports whether passport has a notification-server session.
func (s *Server) Online(passport string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.online[normPassport(passport)]
	return ok
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.closed = true
	lns := s.lns
	conns := make([]*sconn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
	for _, c := range conns {
		c.close()
	}
	s.log.Info("msnsim server stopped")
}

func (s *Server) acceptLoop(ln net.Listener, role Role) {
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient (e.g. EMFILE): back off a little and retry.
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay < time.Second {
				delay *= 2
			}
			s.log.Warn("msnsim accept", "role", role, "err", err)
			time.Sleep(delay)
			continue
		}
		delay = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		if len(s.conns) >= s.cfg.MaxConns {
			s.mu.Unlock()
			s.rejected.Add(1)
			nc.Close()
			continue
		}
		s.nextConn++
		c := &sconn{
			srv:  s,
			nc:   nc,
			role: role,
			id:   s.nextConn,
			// Relayed messages fill at most SendQueue slots (sendWait); the
			// other half is headroom for control lines sent without waiting.
			out:  make(chan []byte, 2*s.cfg.SendQueue),
			done: make(chan struct{}),
		}
		s.conns[c] = struct{}{}
		s.wg.Add(2)
		s.mu.Unlock()
		s.accepted.Add(1)
		go c.writeLoop()
		go c.serve()
	}
}

// sconn is one server-side connection. Fields after the first block are
// guarded by srv.mu.
type sconn struct {
	srv       *Server
	nc        net.Conn
	role      Role
	id        uint64
	out       chan []byte // nil element: close after writing what precedes
	done      chan struct{}
	closeOnce sync.Once

	// relay is set by a MSG handler (under srv.mu) and delivered by serve
	// after releasing it: the recipients, the relayed bytes, then the
	// sender's ACK or NAK line (nil for none).
	relayTo  []*sconn
	relayMsg []byte
	relayAck []byte

	ver      proto
	hasVer   bool
	authed   int // NS: 0 nothing, 1 USR I seen, 2 logged in
	passport string
	acct     *account
	status   string // "" until the first CHG (offline to others)
	clientID string
	sb       *switchboard
	nick     string // SB: friendly name in this switchboard
	left     bool   // SB: sent OUT
}

func (c *sconn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

// send queues b for writing; it never blocks. A full queue means the peer
// does not read: the connection is dropped.
func (c *sconn) send(b []byte) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.out <- b:
	default:
		c.srv.dropped.Add(1)
		c.srv.log.Warn("msnsim: send queue full, dropping connection", "conn", c.id, "role", c.role)
		c.close()
	}
}

// sendWait queues b once fewer than SendQueue items are waiting, waiting up
// to WriteTimeout for that (backpressure for relayed messages); a peer that
// does not make room is dropped. It must be called without srv.mu held.
func (c *sconn) sendWait(b []byte) {
	if !c.waitBelow(c.srv.cfg.SendQueue) {
		return
	}
	c.send(b)
}

// waitRoom is the reader's backpressure: a client that sends faster than it
// reads our answers is not read further until its queue is half drained.
func (c *sconn) waitRoom() bool { return c.waitBelow(c.srv.cfg.SendQueue / 2) }

// waitBelow waits until fewer than n items are queued; false if the
// connection ended or the peer did not read for WriteTimeout (dropped).
func (c *sconn) waitBelow(n int) bool {
	n = max(n, 1)
	if len(c.out) < n {
		return true
	}
	deadline := time.Now().Add(c.srv.cfg.WriteTimeout)
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	for len(c.out) >= n {
		if time.Now().After(deadline) {
			c.srv.dropped.Add(1)
			c.srv.log.Warn("msnsim: peer not reading, dropping connection", "conn", c.id, "role", c.role)
			c.close()
			return false
		}
		select {
		case <-c.done:
			return false
		case <-tick.C:
		}
	}
	return true
}

// isTrid reports whether s is a transaction ID (digits only).
func isTrid(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// closeAfterFlush closes the connection once everything queued is written.
func (c *sconn) closeAfterFlush() { c.send(nil) }

func (c *sconn) reply(verb string, args ...string) { c.send(line(verb, args...)) }

func (c *sconn) fail(code int, trid string) {
	if !isTrid(trid) {
		c.reply(strconv.Itoa(code))
		return
	}
	c.reply(strconv.Itoa(code), trid)
}

func (c *sconn) writeLoop() {
	defer c.srv.wg.Done()
	bw := bufio.NewWriterSize(c.nc, 16<<10)
	fail := func(err error) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.srv.dropped.Add(1)
			c.srv.log.Warn("msnsim: peer not reading, dropping connection", "conn", c.id, "role", c.role)
		}
		c.close()
	}
	// write buffers b (nil: flush and close); false when the loop must end.
	// The deadline is renewed for every write: it bounds how long one write
	// may block, not how long the queue stays busy.
	write := func(b []byte) bool {
		c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
		if b == nil {
			bw.Flush()
			c.close()
			return false
		}
		if _, err := bw.Write(b); err != nil {
			fail(err)
			return false
		}
		return true
	}
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			if !write(b) {
				return
			}
		drain:
			for n := 0; n < 64; n++ {
				select {
				case b := <-c.out:
					if !write(b) {
						return
					}
				default:
					break drain
				}
			}
			c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
			if err := bw.Flush(); err != nil {
				fail(err)
				return
			}
		}
	}
}

func (c *sconn) serve() {
	s := c.srv
	defer s.wg.Done()
	log := s.log.With("conn", c.id, "role", c.role, "remote", c.nc.RemoteAddr().String())
	log.Debug("msnsim connection open")
	r := newLineReader(c.nc, s.cfg.MaxLine, s.cfg.MaxPayload, clientPayloadVerbs)
	var err error
	for {
		c.nc.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		var cmd *command
		cmd, err = r.next()
		if err != nil {
			break
		}
		s.mu.Lock()
		switch c.role {
		case RoleDispatch:
			c.handleDispatch(cmd)
		case RoleNS:
			c.handleNS(cmd)
		case RoleSB:
			c.handleSB(cmd)
		}
		to, msg, ack := c.relayTo, c.relayMsg, c.relayAck
		c.relayTo, c.relayMsg, c.relayAck = nil, nil, nil
		s.mu.Unlock()
		for _, m := range to {
			m.sendWait(msg)
		}
		if ack != nil {
			c.sendWait(ack)
		}
		// Backpressure: a client that sends faster than it reads our
		// answers is not read further until its queue drains.
		if !c.waitRoom() {
			break
		}
	}
	var fe *frameError
	var ne net.Error
	switch {
	case errors.As(err, &fe):
		// Answer the unframeable command, then hang up: the stream cannot be
		// resynchronised.
		c.fail(codeSyntax, fe.cmd.trid())
		c.closeAfterFlush()
		s.dropped.Add(1)
		log.Debug("msnsim connection dropped", "err", err)
	case errors.Is(err, ErrLineTooLong), errors.Is(err, ErrProtocol), errors.As(err, &ne) && ne.Timeout():
		s.dropped.Add(1)
		log.Debug("msnsim connection dropped", "err", err)
		c.close()
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
		log.Debug("msnsim connection read", "err", err)
	}
	s.mu.Lock()
	c.cleanup()
	delete(s.conns, c)
	s.mu.Unlock()
	// Give a queued close-after-flush a moment only if it is still pending;
	// the writer owns the close in that case.
	select {
	case <-c.done:
	case <-time.After(s.cfg.WriteTimeout):
		c.close()
	}
	log.Debug("msnsim connection closed")
}

// cleanup runs (under srv.mu) when the connection's reader ends.
func (c *sconn) cleanup() {
	switch c.role {
	case RoleNS:
		c.goOffline()
	case RoleSB:
		c.leaveSB()
	}
	// A connection whose reader ended closes once its queue is written.
	c.closeAfterFlush()
}

// goOffline ends c's NS session: not online any more, FLN to watchers.
func (c *sconn) goOffline() {
	s := c.srv
	if c.authed == 2 && s.online[c.passport] == c {
		delete(s.online, c.passport)
		if visible(c.status) {
			s.notifyOffline(c)
		}
	}
	c.authed = 0
	c.status = ""
}

func visible(status string) bool { return status != "" && status != "HDN" }

// randomCookie returns an unguessable switchboard cookie in MSN's shape.
func randomCookie() string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("%d.%d.%d", binary.BigEndian.Uint32(b[0:4])%900000000+100000000,
		binary.BigEndian.Uint32(b[4:8])>>1, binary.BigEndian.Uint32(b[8:12])>>17)
}

func randomSessionID() string {
	var b [4]byte
	rand.Read(b[:])
	return strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[:])>>1)+1, 10)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newTicket stores a cookie; it returns "" when the ticket table is full.
func (s *Server) newTicket(t *ticket) string {
	now := time.Now()
	if len(s.tickets) >= s.cfg.MaxTickets {
		for k, v := range s.tickets {
			if now.After(v.expires) || (v.sb != nil && v.sb.closed) {
				delete(s.tickets, k)
			}
		}
		if len(s.tickets) >= s.cfg.MaxTickets {
			return ""
		}
	}
	t.expires = now.Add(s.cfg.TicketTTL)
	for {
		cookie := randomCookie()
		if _, dup := s.tickets[cookie]; !dup {
			s.tickets[cookie] = t
			return cookie
		}
	}
}

// takeTicket removes and returns a valid ticket for cookie, or nil.
func (s *Server) takeTicket(cookie string) *ticket {
	t, ok := s.tickets[cookie]
	if !ok {
		return nil
	}
	delete(s.tickets, cookie)
	if time.Now().After(t.expires) || (t.sb != nil && t.sb.closed) {
		return nil
	}
	return t
}
