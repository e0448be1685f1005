package msnp

import (
	"bytes"
	"log/slog"
	"sync"
	"sync/atomic"

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
	MaxSwitchboards int
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
	return o
}

// Stats are the decoder's counters since New.
type Stats struct {
	Conns        uint64 // connections decoded
	Commands     uint64 // commands framed
	Errors       uint64 // error events (framing and stream problems)
	SkippedBytes uint64 // bytes dropped while resynchronising
	LinksEvicted uint64 // switchboard links forgotten to respect MaxSwitchboards
}

// Protocol is the MSNP decoder. It implements decoder.Protocol. State shared
// between connections (which switchboard belongs to which login) lives here;
// the connections of one Protocol must be driven from one goroutine at a
// time, as the capture engine and the Mux do.
type Protocol struct {
	log *slog.Logger
	opt Options

	mu    sync.Mutex
	links map[string]link // XFR SB / RNG cookie -> NS connection
	order []string        // ring of cookies, oldest first
	head  int

	conns, commands, errors, skipped, evicted atomic.Uint64

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
	ns     *conn
	caller string
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
		links: make(map[string]link),
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

// addLink remembers a switchboard cookie.
func (p *Protocol) addLink(cookie []byte, l link) {
	if len(cookie) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := string(cookie)
	if _, ok := p.links[k]; ok {
		p.links[k] = l
		return
	}
	if len(p.order) < p.opt.MaxSwitchboards {
		p.order = append(p.order, k)
	} else {
		old := p.order[p.head]
		delete(p.links, old)
		if p.evicted.Add(1) == 1 {
			p.log.Warn("msnp: switchboard link table full; forgetting the oldest links (counted in Stats.LinksEvicted)",
				slog.Int("max_switchboards", p.opt.MaxSwitchboards))
		}
		p.order[p.head] = k
		p.head = (p.head + 1) % len(p.order)
	}
	p.links[k] = l
}

// lookupLink returns the link of a cookie.
func (p *Protocol) lookupLink(cookie []byte) (link, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.links[string(cookie)]
	return l, ok
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
