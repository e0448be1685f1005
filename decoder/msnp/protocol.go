package msnp

import (
	"bytes"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"rcds/capture"
	"rcds/decoder"
)

// Name is the protocol name set in every event's Proto.
const Name = "msnp"

// Default bounds of Options.
const (
	DefaultMaxLineLength   = 64 << 10
	DefaultMaxPayload      = 1 << 20
	DefaultMaxSwitchboards = 65536
	DefaultMaxMembers      = 256
	DefaultMaxEchoes       = 64
	DefaultLinkTTL         = 10 * time.Minute
)

// detectMaxLines is how many complete lines without an MSNP signature make
// Detect answer No.
const detectMaxLines = 16

// detectMaxBytes is how many bytes without an MSNP signature make Detect
// answer No (the Mux buffers at most this much per direction).
const detectMaxBytes = 4096

// Options bound the memory the decoder uses. Zero fields take the defaults.
type Options struct {
	// MaxLineLength bounds one command line; a longer line is an error
	// event and the framer skips to the next line end.
	MaxLineLength int
	// MaxPayload bounds the declared payload length of a command (MSG,
	// UUX, ADL, ...); a larger one is an error event.
	MaxPayload int
	// MaxSwitchboards bounds the switchboard invitations and transfers
	// (XFR SB and RNG cookies) remembered to link a switchboard connection
	// to its notification-server connection. The oldest is forgotten first.
	// A link is forgotten as soon as a switchboard USR or ANS presents its
	// cookie, and LinkTTL after it was made.
	MaxSwitchboards int
	// LinkTTL is how long, in packet time, an XFR SB or RNG cookie that no
	// switchboard has presented yet is remembered (MSN servers reject
	// stale cookies well before that). Zero takes DefaultLinkTTL; a
	// negative value keeps links until used or evicted by MaxSwitchboards.
	LinkTTL time.Duration
	// MaxMembers bounds the users tracked in one switchboard.
	MaxMembers int
	// MaxEchoes bounds the client requests per connection remembered to
	// recognise the server's echo (CHG, ADD, ADC, REA, PRP).
	MaxEchoes int
}

func (o Options) withDefaults() Options {
	if o.MaxLineLength <= 0 {
		o.MaxLineLength = DefaultMaxLineLength
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.MaxSwitchboards <= 0 {
		o.MaxSwitchboards = DefaultMaxSwitchboards
	}
	if o.MaxMembers <= 0 {
		o.MaxMembers = DefaultMaxMembers
	}
	if o.MaxEchoes <= 0 {
		o.MaxEchoes = DefaultMaxEchoes
	}
	if o.LinkTTL == 0 {
		o.LinkTTL = DefaultLinkTTL
	}
	return o
}

// Stats are the decoder's counters since New, and (Links) the size of its
// switchboard link table now.
type Stats struct {
	Conns        uint64 // connections decoded
	Commands     uint64 // commands framed
	Errors       uint64 // error events (framing and stream problems)
	SkippedBytes uint64 // bytes dropped while resynchronising
	LinksEvicted uint64 // switchboard links forgotten to respect MaxSwitchboards
	LinksExpired uint64 // switchboard links forgotten after LinkTTL unused
	Links        uint64 // switchboard links remembered now (at most MaxSwitchboards)
}

// Protocol is the MSNP decoder. It implements decoder.Protocol. State shared
// between connections (which switchboard belongs to which login) lives here;
// the connections of one Protocol must be driven from one goroutine at a
// time, as the capture engine and the Mux do.
type Protocol struct {
	log *slog.Logger
	opt Options

	// Switchboard links by cookie, and the same entries in a list from the
	// oldest to the newest (for MaxSwitchboards and LinkTTL).
	mu             sync.Mutex
	links          map[string]*linkEntry
	oldest, newest *linkEntry

	conns, commands, errors, skipped, evicted, expired atomic.Uint64
	nlinks                                             atomic.Int64

	// Parsed X-MMS-IM-Format values by their bytes, shared by every
	// connection (a *Format is never changed once emitted); at most
	// maxSharedFormats, then started afresh.
	fmtMu sync.Mutex
	fmts  map[string]*decoder.Format
}

// maxSharedFormats bounds Protocol.fmts (values are at most 1024 bytes).
const maxSharedFormats = 256

// sharedFormat returns parseFormat(v), parsed once per distinct value.
func (p *Protocol) sharedFormat(v []byte) *decoder.Format {
	p.fmtMu.Lock()
	defer p.fmtMu.Unlock()
	if f, ok := p.fmts[string(v)]; ok {
		return f
	}
	f := parseFormat(v)
	if p.fmts == nil || len(p.fmts) >= maxSharedFormats {
		p.fmts = make(map[string]*decoder.Format)
	}
	p.fmts[string(v)] = f
	return f
}

// link ties a switchboard authentication cookie to the notification-server
// connection that received it, and (for RNG) to the inviting user.
type link struct {
	ns     *nsRef // nil, or ns.c nil once that connection closed
	caller string
}

// nsRef reaches a notification-server connection from its links while it is
// open: Close clears c, so a link never keeps a closed connection (its
// framers, buffers and event) alive.
type nsRef struct{ c *conn }

// linkEntry is one remembered cookie.
type linkEntry struct {
	key        string
	l          link
	at         time.Time // packet time it was made
	prev, next *linkEntry
}

var _ decoder.Protocol = (*Protocol)(nil)

// New returns an MSNP decoder with the given bounds. The logger receives
// only counts and protocol-level notices, never identities or content.
func New(logger *slog.Logger, opt Options) *Protocol {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Protocol{
		log:   logger,
		opt:   opt.withDefaults(),
		links: make(map[string]*linkEntry),
	}
}

// Name returns "msnp".
func (p *Protocol) Name() string { return Name }

// Stats returns a snapshot of the counters; safe from any goroutine.
func (p *Protocol) Stats() Stats {
	return Stats{
		Conns:        p.conns.Load(),
		Commands:     p.commands.Load(),
		Errors:       p.errors.Load(),
		SkippedBytes: p.skipped.Load(),
		LinksEvicted: p.evicted.Load(),
		LinksExpired: p.expired.Load(),
		Links:        uint64(p.nlinks.Load()),
	}
}

// Detect answers Yes when a complete line of first is an MSNP command with
// a shape no other protocol uses (VER ... MSNPn, a login or switchboard USR,
// ANS, a client or server MSG header, NLN, JOI, IRO, RNG, ...), on any port.
// It answers No after detectMaxLines lines or detectMaxBytes bytes without
// one, and NeedMore before that. The direction is not used: a connection
// first seen mid-session may show either side first.
func (p *Protocol) Detect(_ capture.Dir, first []byte) decoder.Verdict {
	var c command
	lines := 0
	b := first
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		line := b[:i]
		b = b[i+1:]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue
		}
		lines++
		if parseCommand(line, &c) == nil && signature(&c) {
			return decoder.Yes
		}
		if lines >= detectMaxLines {
			return decoder.No
		}
	}
	if len(first) >= detectMaxBytes {
		return decoder.No
	}
	return decoder.NeedMore
}

// NewConn returns the decoder of one connection.
func (p *Protocol) NewConn(id capture.ConnID, emit decoder.Emitter) decoder.ConnDecoder {
	p.conns.Add(1)
	c := &conn{p: p, emit: emit, id: id}
	for d := range c.fr {
		c.fr[d] = newFramer(p.opt.MaxLineLength, p.opt.MaxPayload, &c.cmd)
		// A connection may be first seen mid-session: skip to the first
		// line that parses as a command.
		c.fr[d].startResync()
	}
	c.errArmed = [2]bool{true, true}
	return c
}

// addLink remembers a switchboard cookie made at packet time ts. A cookie
// already known takes the new link and becomes the newest.
func (p *Protocol) addLink(cookie []byte, l link, ts time.Time) {
	if len(cookie) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLinks(ts)
	if e, ok := p.links[string(cookie)]; ok {
		p.unlinkEntry(e)
		e.l, e.at = l, ts
		p.pushEntry(e)
		return
	}
	if len(p.links) >= p.opt.MaxSwitchboards {
		p.dropEntry(p.oldest)
		if p.evicted.Add(1) == 1 {
			p.log.Warn("msnp: switchboard link table full; forgetting the oldest links (counted in Stats.LinksEvicted)",
				slog.Int("max_switchboards", p.opt.MaxSwitchboards))
		}
	}
	e := &linkEntry{key: string(cookie), l: l, at: ts}
	p.links[e.key] = e
	p.pushEntry(e)
	p.nlinks.Store(int64(len(p.links)))
}

// takeLink returns the link of a cookie presented at packet time ts and
// forgets it: a switchboard cookie authenticates one connection.
func (p *Protocol) takeLink(cookie []byte, ts time.Time) (l link, ns *conn, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLinks(ts)
	e, ok := p.links[string(cookie)]
	if !ok {
		return link{}, nil, false
	}
	p.dropEntry(e)
	if e.l.ns != nil {
		ns = e.l.ns.c
	}
	return e.l, ns, true
}

// lookupLink returns the link of a cookie without forgetting it.
func (p *Protocol) lookupLink(cookie []byte) (link, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.links[string(cookie)]
	if !ok {
		return link{}, false
	}
	return e.l, true
}

// releaseNS cuts the links of a closing notification-server connection to
// it (the callers they carry are still needed).
func (p *Protocol) releaseNS(r *nsRef) {
	p.mu.Lock()
	r.c = nil
	p.mu.Unlock()
}

// expireLinks forgets, from the oldest, the links made more than LinkTTL
// before ts. p.mu is held.
func (p *Protocol) expireLinks(ts time.Time) {
	if p.opt.LinkTTL < 0 {
		return
	}
	for e := p.oldest; e != nil && ts.Sub(e.at) > p.opt.LinkTTL; e = p.oldest {
		p.dropEntry(e)
		p.expired.Add(1)
	}
}

// dropEntry removes an entry from the map and the list. p.mu is held.
func (p *Protocol) dropEntry(e *linkEntry) {
	delete(p.links, e.key)
	p.unlinkEntry(e)
	p.nlinks.Store(int64(len(p.links)))
}

func (p *Protocol) pushEntry(e *linkEntry) {
	e.prev, e.next = p.newest, nil
	if p.newest != nil {
		p.newest.next = e
	} else {
		p.oldest = e
	}
	p.newest = e
}

func (p *Protocol) unlinkEntry(e *linkEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		p.oldest = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		p.newest = e.prev
	}
	e.prev, e.next = nil, nil
}

// Status codes of NLN/ILN/CHG.
func isStatus(b []byte) bool {
	switch string(b) {
	case "NLN", "BSY", "IDL", "BRB", "AWY", "PHN", "LUN", "HDN", "FLN":
		return true
	}
	return false
}

func hasAt(b []byte) bool { return bytes.IndexByte(b, '@') > 0 }

// signature reports whether a parsed line is unmistakably MSNP.
func signature(c *command) bool {
	t := c.tok
	trid := isNumeric(t(1))
	switch string(c.verb()) {
	case "VER":
		for i := 1; i < c.n; i++ {
			if bytes.HasPrefix(c.toks[i], []byte("MSNP")) {
				return trid
			}
		}
	case "USR":
		if !trid {
			return false
		}
		switch string(t(2)) {
		case "MD5", "TWN", "SSO":
			return string(t(3)) == "I" || string(t(3)) == "S"
		case "OK":
			return hasAt(passportBytes(t(3)))
		}
		return c.n == 4 && hasAt(passportBytes(t(2)))
	case "ANS":
		return trid && ((c.n == 5 && hasAt(passportBytes(t(2)))) || (c.n == 3 && string(t(2)) == "OK"))
	case "MSG":
		if c.n != 4 || !isNumeric(t(3)) {
			return false
		}
		if trid {
			switch string(t(2)) {
			case "U", "N", "A", "D":
				return true
			}
			return false
		}
		return hasAt(passportBytes(t(1))) || string(t(1)) == "Hotmail"
	case "NLN":
		return c.n >= 4 && isStatus(t(1)) && hasAt(passportBytes(t(2)))
	case "ILN":
		return trid && c.n >= 5 && isStatus(t(2)) && hasAt(passportBytes(t(3)))
	case "FLN", "BYE":
		return c.n >= 2 && c.n <= 3 && hasAt(passportBytes(t(1)))
	case "JOI":
		return c.n >= 3 && hasAt(passportBytes(t(1)))
	case "IRO":
		return c.n >= 6 && trid && isNumeric(t(2)) && isNumeric(t(3)) && hasAt(passportBytes(t(4)))
	case "RNG":
		return c.n >= 7 && string(t(3)) == "CKI" && hasAt(passportBytes(t(5)))
	case "CAL":
		return trid && c.n >= 3 && (hasAt(passportBytes(t(2))) || string(t(2)) == "RINGING")
	case "XFR":
		return trid && c.n >= 3 && (string(t(2)) == "NS" || string(t(2)) == "SB")
	case "CHG":
		return trid && c.n >= 3 && isStatus(t(2))
	case "PNG":
		return c.n == 1 && len(c.line) == 3
	case "QNG":
		return c.n == 2 && isNumeric(t(1))
	case "UBX":
		return c.n >= 3 && hasAt(passportBytes(t(1))) && isNumeric(c.last())
	case "ADD", "ADC":
		if !trid || c.n < 4 {
			return false
		}
		switch string(t(2)) {
		case "FL", "AL", "BL", "RL", "PL":
			return true
		}
	case "REA":
		return trid && c.n >= 4 && hasAt(passportBytes(t(2)))
	case "LST":
		for i := 1; i < c.n; i++ {
			if hasAt(c.toks[i]) {
				return true
			}
		}
	}
	return false
}

// side is which end of a connection sent a line.
type side uint8

const (
	sideUnknown side = iota
	sideClient
	sideServer
)

// lineSide tells, where the shape of a line allows it, whether a client or
// a server sent it.
func lineSide(c *command) side {
	t := c.tok
	if isDigit(c.verb()[0]) {
		return sideServer
	}
	switch string(c.verb()) {
	case "MSG":
		if c.n == 4 {
			if isNumeric(t(1)) {
				return sideClient
			}
			return sideServer
		}
	case "PNG", "QRY":
		return sideClient
	case "JOI", "IRO", "BYE", "NLN", "ILN", "FLN", "RNG", "QNG", "UBX", "NOT", "CHL", "LST", "BPR", "UBN", "UBM":
		return sideServer
	case "USR":
		switch {
		case string(t(2)) == "OK":
			return sideServer
		case string(t(3)) == "I":
			return sideClient
		case c.n == 4 && hasAt(passportBytes(t(2))):
			return sideClient
		}
	case "ANS":
		if string(t(2)) == "OK" {
			return sideServer
		}
		if c.n == 5 {
			return sideClient
		}
	case "CAL":
		if string(t(2)) == "RINGING" {
			return sideServer
		}
		if c.n == 3 {
			return sideClient
		}
	case "XFR":
		if c.n == 3 {
			return sideClient
		}
		if c.n >= 5 {
			return sideServer
		}
	case "VER":
		if bytes.Equal(c.last(), []byte("CVR0")) {
			return sideClient
		}
	}
	return sideUnknown
}

// passportBytes strips the MSNP13+ network prefix ("1:") and the MSNP18
// endpoint suffix (";{guid}") from a passport token.
func passportBytes(b []byte) []byte {
	if i := bytes.IndexByte(b, ':'); i > 0 && i <= 3 && isNumeric(b[:i]) {
		b = b[i+1:]
	}
	if i := bytes.IndexByte(b, ';'); i >= 0 {
		b = b[:i]
	}
	return b
}
