package msnp

import (
	"bytes"
	"net/netip"
	"strings"
	"time"

	"rcds/capture"
	"rcds/decoder"
)

// conn decodes one TCP connection (dispatch, notification server or
// switchboard) and tracks its session.
type conn struct {
	p    *Protocol
	emit decoder.Emitter
	id   capture.ConnID

	fr       [2]framer // indexed by capture.Dir
	cmd      command   // parse scratch of both framers (one call at a time)
	errArmed [2]bool   // an error may be reported for this direction
	curDir   capture.Dir
	curTS    time.Time

	// Orientation: flipped when the capture's client/server guess is the
	// reverse of what the MSNP lines show. Fixed once an event is emitted.
	flipped   bool
	sideFixed bool
	identSet  bool

	role         decoder.Role
	version      int
	owner        string // passport owning the connection
	pendingOwner string // claimed by an NS "USR trid MD5|TWN|SSO I passport" before its OK
	nsAuth       bool   // an NS login (USR MD5|TWN|SSO) is under way
	loggedIn     bool
	loggedOut    bool
	started      bool // session_start emitted
	inferred     bool // switchboard first seen mid-session
	sbOut        bool
	ownerLeft    bool // the owner's session_leave was emitted (SB OUT, or a BYE naming the owner)

	members []string // switchboard members in order of joining (owner included)
	caller  string   // the inviter named by the RNG the ANS answers, until IRO lists the members
	ref     *nsRef   // what this NS connection's switchboard links point to; cleared at Close
	echoes  []echo   // client requests awaiting their server echo

	ev    decoder.Event
	toBuf []string
	mm    mimeMessage

	// The last X-MMS-IM-Format per direction and its parsed form, shared by
	// the events that repeat it (a *Format is never changed once emitted).
	fmtRaw [2][]byte
	fmt    [2]*decoder.Format
}

// echo is a client request (verb and transaction id) whose server echo must
// not produce a second event.
type echo struct {
	verb [3]byte
	trid uint32
}

// Data implements decoder.ConnDecoder.
func (c *conn) Data(dir capture.Dir, data []byte, ts time.Time) {
	if dir > capture.ServerToClient {
		return
	}
	c.curDir, c.curTS = dir, ts
	c.fr[dir].push(data, c)
	c.fr[dir].release()
}

// Gap implements decoder.ConnDecoder.
func (c *conn) Gap(dir capture.Dir, n int, ts time.Time) {
	if dir > capture.ServerToClient {
		return
	}
	c.curDir, c.curTS = dir, ts
	if err := c.fr[dir].gap(n); err != nil {
		c.frameError(err)
	}
}

// Close implements decoder.ConnDecoder.
func (c *conn) Close(reason capture.CloseReason, ts time.Time) {
	for d := capture.ClientToServer; d <= capture.ServerToClient; d++ {
		c.curDir, c.curTS = d, ts
		if err := c.fr[d].end(); err != nil {
			c.errArmed[d] = true
			c.frameError(err)
		}
		c.p.skipped.Add(uint64(c.fr[d].skipped))
		c.fr[d].skipped = 0
		c.fr[d].buf = nil
	}
	switch reason {
	case capture.CloseFIN, capture.CloseRST, capture.CloseIdle:
		if c.role == decoder.RoleNotification && c.owner != "" && !c.loggedOut {
			c.curTS = ts
			c.logout(true)
		}
	}
	switch reason {
	case capture.CloseFIN, capture.CloseRST:
		// A switchboard the owner leaves without OUT: the connection closing
		// is its leaving. Not the end of a capture file (CloseEOF), nor an
		// idle timeout or eviction, which say nothing about the user.
		if c.role == decoder.RoleSwitchboard && c.owner != "" && c.started && !c.ownerLeft {
			c.curTS = ts
			c.ownerClosed()
		}
	}
	if c.ref != nil {
		c.p.releaseNS(c.ref)
		c.ref = nil
	}
}

// nsLink returns the link of a cookie this notification-server connection
// was given.
func (c *conn) nsLink(caller string) link {
	if c.ref == nil {
		c.ref = &nsRef{c: c}
	}
	return link{ns: c.ref, caller: caller}
}

func (c *conn) fromClient(dir capture.Dir) bool {
	return (dir == capture.ClientToServer) != c.flipped
}

// frameError implements frameHandler.
func (c *conn) frameError(err error) {
	c.p.errors.Add(1)
	if !c.errArmed[c.curDir] {
		return
	}
	c.errArmed[c.curDir] = false
	e := c.event(decoder.KindError, c.fromClient(c.curDir))
	e.Detail = err.Error()
	c.emit.Emit(e)
}

// frame implements frameHandler: one complete command.
func (c *conn) frame(cmd *command, payload []byte) {
	c.p.commands.Add(1)
	c.errArmed[c.curDir] = true
	if !c.sideFixed {
		if s := lineSide(cmd); s != sideUnknown {
			c.sideFixed = true
			c.flipped = (s == sideClient) != (c.curDir == capture.ClientToServer)
		}
	}
	fc := c.fromClient(c.curDir)
	v := cmd.verb()
	if isDigit(v[0]) {
		if !fc {
			e := c.event(decoder.KindInfo, fc)
			e.Detail = "msnp: server error " + string(v)
			c.emit.Emit(e)
		}
		return
	}
	switch string(v) {
	case "VER":
		c.onVER(cmd)
	case "USR":
		c.onUSR(cmd, fc)
	case "XFR":
		c.onXFR(cmd, fc)
	case "RNG":
		c.onRNG(cmd, fc)
	case "ANS":
		c.onANS(cmd, fc)
	case "IRO":
		c.onIRO(cmd, fc)
	case "JOI":
		c.onJOI(cmd, fc)
	case "BYE":
		c.onBYE(cmd, fc)
	case "CAL":
		c.setRole(decoder.RoleSwitchboard)
		c.ensureStarted(fc)
	case "OUT":
		c.onOUT(fc)
	case "MSG":
		c.onMSG(cmd, payload, fc)
	case "CHG":
		c.onCHG(cmd, fc)
	case "NLN":
		c.onNLN(cmd, fc, 1, 2)
	case "ILN":
		c.onNLN(cmd, fc, 2, 3)
	case "FLN":
		c.onFLN(cmd, fc)
	case "ADD":
		c.onADD(cmd, fc)
	case "ADC":
		c.onADC(cmd, fc)
	case "ADL":
		c.onADL(cmd, payload, fc)
	case "REA":
		c.onREA(cmd, fc)
	case "PRP":
		c.onPRP(cmd, fc)
	case "UUX":
		c.onUUX(cmd, payload, fc)
	case "UBX":
		c.onUBX(cmd, payload, fc)
	case "PNG", "QNG", "SYN", "LST", "LSG", "GTC", "BLP", "BPR", "CHL", "QRY",
		"RML", "FQY", "GCF", "UUN", "UBN", "UUM", "UBM", "SBS", "NOT", "SDC":
		c.setRole(decoder.RoleNotification)
	}
}

// event prepares the connection's reusable event: identity fields set,
// everything else cleared.
func (c *conn) event(kind decoder.Kind, fromClient bool) *decoder.Event {
	if !c.identSet {
		c.identSet = true
		c.sideFixed = true
		cl, sv := c.id.Client, c.id.Server
		if c.flipped {
			cl, sv = sv, cl
		}
		c.ev = decoder.Event{
			Proto:  Name,
			Flow:   flowString(cl, sv),
			Comm:   decoder.CommID(cl, sv, c.id.Start),
			Client: cl,
			Server: sv,
		}
	}
	e := &c.ev
	*e = decoder.Event{
		Kind:       kind,
		Time:       c.curTS.UTC(),
		Proto:      e.Proto,
		Flow:       e.Flow,
		Role:       c.role,
		Comm:       e.Comm,
		FromClient: fromClient,
		User:       c.owner,
		Client:     e.Client,
		Server:     e.Server,
	}
	return e
}

func flowString(cl, sv netip.AddrPort) string {
	b := make([]byte, 0, 64)
	b = cl.AppendTo(b)
	b = append(b, '-')
	b = sv.AppendTo(b)
	return string(b)
}

func (c *conn) setRole(r decoder.Role) {
	if c.role == decoder.RoleUnknown {
		c.role = r
	}
}

// setOwner records the connection's owner once known.
func (c *conn) setOwner(passport string) {
	if c.owner != "" || passport == "" {
		return
	}
	c.owner = passport
	if c.role == decoder.RoleSwitchboard {
		c.addMember(passport)
	}
}

// --- switchboard membership ---

func (c *conn) memberIndex(passport []byte) int {
	for i, m := range c.members {
		if equalFoldASCII(m, passport) {
			return i
		}
	}
	return -1
}

// equalFoldASCII compares a string and bytes, ignoring ASCII case (passports
// are ASCII; other bytes must match exactly).
func equalFoldASCII(s string, b []byte) bool {
	if len(s) != len(b) {
		return false
	}
	for i := 0; i < len(s); i++ {
		x, y := s[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (c *conn) memberIndexString(p string) int {
	for i, m := range c.members {
		if len(m) == len(p) && strings.EqualFold(m, p) {
			return i
		}
	}
	return -1
}

// addMember adds a member (bytes are normalised and copied) and returns its
// stored string and whether it was new.
func (c *conn) addMember(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	if i := c.memberIndexString(p); i >= 0 {
		return c.members[i], false
	}
	if len(c.members) >= c.p.opt.MaxMembers {
		return p, false
	}
	c.members = append(c.members, p)
	return p, true
}

// member returns the stored member string for passport bytes, adding it
// when absent.
func (c *conn) member(b []byte) (string, bool) {
	b = passportBytes(b)
	if i := c.memberIndex(b); i >= 0 {
		return c.members[i], false
	}
	return c.addMember(string(b))
}

func (c *conn) removeMember(b []byte) (string, bool) {
	b = passportBytes(b)
	i := c.memberIndex(b)
	if i < 0 {
		return "", false
	}
	m := c.members[i]
	c.members = append(c.members[:i], c.members[i+1:]...)
	return m, true
}

// others returns the members other than from, in order of joining, in a
// reused slice.
func (c *conn) others(from string) []string {
	c.toBuf = c.toBuf[:0]
	for _, m := range c.members {
		if !strings.EqualFold(m, from) {
			c.toBuf = append(c.toBuf, m)
		}
	}
	if len(c.toBuf) == 0 {
		return nil
	}
	return c.toBuf
}

// ensureStarted emits session_start for a switchboard first seen
// mid-session (or whose USR/ANS was not captured).
func (c *conn) ensureStarted(fc bool) {
	if !c.started {
		c.inferred = true
		c.startSession(fc)
	}
}

// startSession emits the connection's one session_start: User = owner, To =
// the members already known.
func (c *conn) startSession(fc bool) {
	if c.started {
		return
	}
	c.started = true
	e := c.event(decoder.KindSessionStart, fc)
	e.To = c.others(c.owner)
	c.emit.Emit(e)
}

// --- echo tracking ---

func (c *conn) rememberEcho(verb []byte, trid []byte) {
	t, ok := tridValue(trid)
	if !ok || t == 0 {
		return
	}
	var e echo
	copy(e.verb[:], verb)
	e.trid = t
	if len(c.echoes) >= c.p.opt.MaxEchoes {
		copy(c.echoes, c.echoes[1:])
		c.echoes = c.echoes[:len(c.echoes)-1]
	}
	c.echoes = append(c.echoes, e)
}

// consumeEcho reports whether a server line answers a remembered request,
// forgetting the request.
func (c *conn) consumeEcho(verb []byte, trid []byte) bool {
	t, ok := tridValue(trid)
	if !ok || t == 0 {
		return false
	}
	for i, e := range c.echoes {
		if e.trid == t && bytes.Equal(e.verb[:], verb) {
			c.echoes = append(c.echoes[:i], c.echoes[i+1:]...)
			return true
		}
	}
	return false
}

func tridValue(b []byte) (uint32, bool) {
	if !isNumeric(b) || len(b) > 9 {
		return 0, false
	}
	var n uint32
	for _, x := range b {
		n = n*10 + uint32(x-'0')
	}
	return n, true
}

// --- commands ---

func (c *conn) onVER(cmd *command) {
	for i := 1; i < cmd.n; i++ {
		t := cmd.toks[i]
		if bytes.HasPrefix(t, []byte("MSNP")) && isNumeric(t[4:]) && len(t) <= 6 {
			v := 0
			for _, x := range t[4:] {
				v = v*10 + int(x-'0')
			}
			if v > c.version {
				c.version = v
			}
		}
	}
}

func (c *conn) onUSR(cmd *command, fc bool) {
	t2 := cmd.tok(2)
	switch string(t2) {
	case "MD5", "TWN", "SSO":
		c.nsAuth = true
		if fc && string(cmd.tok(3)) == "I" && cmd.n >= 5 {
			c.pendingOwner = string(passportBytes(cmd.tok(4)))
		}
		return
	case "OK":
		if fc || cmd.n < 4 {
			return
		}
		passport := string(passportBytes(cmd.tok(3)))
		sb := c.role == decoder.RoleSwitchboard
		if !sb && c.role != decoder.RoleNotification && !c.nsAuth {
			// Neither request was captured: MSNP2-7 NS and SB answers both
			// have 5 tokens, later NS answers have more.
			sb = cmd.n <= 5
		}
		if sb {
			c.setRole(decoder.RoleSwitchboard)
			c.setOwner(passport)
			c.startSession(fc)
			return
		}
		c.setRole(decoder.RoleNotification)
		c.setOwner(passport)
		if c.loggedIn {
			return
		}
		c.loggedIn = true
		c.emit.Emit(c.event(decoder.KindLogin, fc))
		return
	}
	// Switchboard authentication: USR trid passport cookie.
	if fc && cmd.n >= 4 && hasAt(passportBytes(t2)) {
		c.sbAuthenticate(passportBytes(t2), cmd.tok(3), fc)
	}
}

// sbAuthenticate handles a client's switchboard USR or ANS: the passport
// owns the connection (and, through the cookie, the NS connection that was
// given it) and the session starts.
func (c *conn) sbAuthenticate(passport, cookie []byte, fc bool) {
	c.setRole(decoder.RoleSwitchboard)
	owner := string(passport)
	c.setOwner(owner)
	if l, ns, ok := c.p.takeLink(cookie, c.curTS); ok {
		if ns != nil {
			ns.setOwner(owner)
		}
		if !strings.EqualFold(l.caller, owner) {
			c.caller = l.caller
		}
	}
	c.startSession(fc)
}

func (c *conn) onXFR(cmd *command, fc bool) {
	if fc {
		if string(cmd.tok(2)) == "SB" {
			c.setRole(decoder.RoleNotification)
		}
		return
	}
	switch string(cmd.tok(2)) {
	case "NS":
		if !c.loggedIn && c.role == decoder.RoleUnknown {
			c.role = decoder.RoleDispatch
			c.setOwner(c.pendingOwner)
		}
	case "SB":
		c.setRole(decoder.RoleNotification)
		for i := 3; i+1 < cmd.n; i++ {
			if string(cmd.toks[i]) == "CKI" {
				c.p.addLink(cmd.toks[i+1], c.nsLink(""), c.curTS)
				break
			}
		}
	}
}

func (c *conn) onRNG(cmd *command, fc bool) {
	if fc || cmd.n < 6 {
		return
	}
	c.setRole(decoder.RoleNotification)
	// RNG sessid address CKI cookie caller nick ...
	if string(cmd.tok(3)) == "CKI" {
		c.p.addLink(cmd.tok(4), c.nsLink(string(passportBytes(cmd.tok(5)))), c.curTS)
	}
}

func (c *conn) onANS(cmd *command, fc bool) {
	c.setRole(decoder.RoleSwitchboard)
	switch {
	case fc && cmd.n >= 5:
		c.sbAuthenticate(passportBytes(cmd.tok(2)), cmd.tok(3), fc)
	case !fc && string(cmd.tok(2)) == "OK":
		c.startSession(fc)
	}
}

// onIRO: a member already in the session the owner answered.
func (c *conn) onIRO(cmd *command, fc bool) {
	if fc || cmd.n < 5 {
		return
	}
	c.setRole(decoder.RoleSwitchboard)
	c.ensureStarted(fc)
	c.caller = "" // IRO lists the members, the inviter included
	c.joined(cmd.tok(4), fc)
}

// useCaller makes the RNG inviter a member when the IRO lines that would
// have listed it were not captured.
func (c *conn) useCaller() {
	if c.caller != "" {
		c.addMember(c.caller)
		c.caller = ""
	}
}

// onJOI: a user joins the session.
func (c *conn) onJOI(cmd *command, fc bool) {
	if fc || cmd.n < 2 {
		return
	}
	c.setRole(decoder.RoleSwitchboard)
	c.ensureStarted(fc)
	c.useCaller()
	c.joined(cmd.tok(1), fc)
}

// joined records a member and emits session_join when it is new.
func (c *conn) joined(passport []byte, fc bool) {
	who, isNew := c.member(passport)
	if !isNew {
		return
	}
	e := c.event(decoder.KindSessionJoin, fc)
	e.From = who
	e.Contact = who
	e.To = c.others(who)
	c.emit.Emit(e)
}

func (c *conn) onBYE(cmd *command, fc bool) {
	if fc || cmd.n < 2 {
		return
	}
	c.setRole(decoder.RoleSwitchboard)
	c.ensureStarted(fc)
	c.useCaller()
	who, ok := c.removeMember(cmd.tok(1))
	if !ok {
		if !c.inferred {
			return
		}
		who = string(passportBytes(cmd.tok(1)))
	}
	if c.owner != "" && strings.EqualFold(who, c.owner) {
		c.ownerLeft = true
	}
	c.left(who, fc)
}

// left emits session_leave for who (already removed from the members).
func (c *conn) left(who string, fc bool) {
	e := c.event(decoder.KindSessionLeave, fc)
	e.From = who
	e.Contact = who
	e.To = c.others(who)
	c.emit.Emit(e)
}

func (c *conn) onOUT(fc bool) {
	switch c.role {
	case decoder.RoleSwitchboard:
		if !fc || c.sbOut {
			return
		}
		c.sbOut = true
		c.ensureStarted(fc)
		c.ownerLeft = true
		if i := c.memberIndexString(c.owner); c.owner != "" && i >= 0 {
			c.members = append(c.members[:i], c.members[i+1:]...)
		}
		c.left(c.owner, fc)
	case decoder.RoleNotification:
		if c.owner != "" && !c.loggedOut {
			c.logout(fc)
		}
	}
}

// ownerClosed emits the owner's session_leave for a switchboard connection
// that closed (FIN or RST) without the owner's OUT, as OUT would: From =
// Contact = the owner, To = the remaining members.
func (c *conn) ownerClosed() {
	c.ownerLeft = true
	if i := c.memberIndexString(c.owner); i >= 0 {
		c.members = append(c.members[:i], c.members[i+1:]...)
	}
	e := c.event(decoder.KindSessionLeave, true)
	e.From = c.owner
	e.Contact = c.owner
	e.To = c.others(c.owner)
	e.Detail = "connection closed without OUT"
	c.emit.Emit(e)
}

func (c *conn) logout(fc bool) {
	c.loggedOut = true
	c.emit.Emit(c.event(decoder.KindLogout, fc))
}

func (c *conn) onMSG(cmd *command, payload []byte, fc bool) {
	if cmd.n != 4 {
		return
	}
	m := &c.mm
	parseMIME(payload, m)
	ct := contentTypeString(m.contentType)
	sender := cmd.tok(1)
	if c.role == decoder.RoleUnknown {
		if !fc && string(sender) == "Hotmail" {
			c.role = decoder.RoleNotification
		} else {
			c.role = decoder.RoleSwitchboard
		}
	}
	kind := decoder.KindInfo
	var from string
	if c.role != decoder.RoleSwitchboard {
		// Server messages on a notification server (profile, e-mail
		// notifications...) are never chat.
		if fc {
			from = c.owner
		} else {
			from = c.senderString(sender)
		}
	} else {
		typing := ct == ctControl && len(m.typingUser) > 0
		if fc {
			if c.owner == "" && typing {
				// A client's typing notification names the connection's owner.
				c.setOwner(string(passportBytes(m.typingUser)))
			}
			c.ensureStarted(fc)
			from = c.owner
		} else {
			c.ensureStarted(fc)
			from, _ = c.member(sender)
		}
		c.useCaller()
		switch {
		case ct == ctText:
			kind = decoder.KindMessage
		case typing:
			kind = decoder.KindTyping
		case ct == ctInvite:
			kind = decoder.KindFileInvite
		case ct == ctP2P:
			kind = decoder.KindP2P
		}
	}
	e := c.event(kind, fc)
	e.From = from
	if c.role == decoder.RoleSwitchboard {
		e.To = c.others(from)
	}
	e.ContentType = ct
	e.Charset = charsetString(m.charset)
	e.Raw = payload
	e.Body, _ = decodeBody(m.body, m.charset)
	if kind == decoder.KindMessage && len(m.format) > 0 {
		e.Format = c.format(m.format)
	}
	c.emit.Emit(e)
}

// format returns the parsed X-MMS-IM-Format value, reusing the previous
// one of the same direction when the bytes are the same.
func (c *conn) format(v []byte) *decoder.Format {
	d := c.curDir
	if c.fmt[d] != nil && bytes.Equal(c.fmtRaw[d], v) {
		return c.fmt[d]
	}
	if len(v) > 1024 {
		return parseFormat(v)
	}
	c.fmtRaw[d] = append(c.fmtRaw[d][:0], v...)
	c.fmt[d] = c.p.sharedFormat(v)
	return c.fmt[d]
}

// senderString returns the sender token of a server MSG as a string,
// without allocating for the notification server's "Hotmail".
func (c *conn) senderString(b []byte) string {
	if string(b) == "Hotmail" {
		return "Hotmail"
	}
	return string(passportBytes(b))
}

func (c *conn) onCHG(cmd *command, fc bool) {
	if cmd.n < 3 {
		return
	}
	c.setRole(decoder.RoleNotification)
	if fc {
		c.rememberEcho(cmd.verb(), cmd.tok(1))
	} else if c.consumeEcho(cmd.verb(), cmd.tok(1)) {
		return
	}
	e := c.event(decoder.KindPresence, fc)
	e.Status = string(cmd.tok(2))
	c.emit.Emit(e)
}

// onNLN handles NLN (status at si, passport at pi) and ILN.
func (c *conn) onNLN(cmd *command, fc bool, si, pi int) {
	if fc || cmd.n <= pi {
		return
	}
	c.setRole(decoder.RoleNotification)
	e := c.event(decoder.KindPresence, fc)
	e.Status = string(cmd.tok(si))
	e.Contact = string(passportBytes(cmd.tok(pi)))
	ni := pi + 1
	// MSNP13-17 put a network id between the passport and the nick. Without
	// VER, a short number followed by a nick and a client id is taken as one.
	if t := cmd.tok(ni); isNumeric(t) {
		switch {
		case c.version >= 13 && c.version < 18 && cmd.n > ni+1:
			ni++
		case c.version == 0 && len(t) <= 2 && cmd.n >= ni+3:
			ni++
		}
	}
	if nick := cmd.tok(ni); nick != nil {
		e.Nick = urlDecode(nick)
	}
	c.emit.Emit(e)
}

func (c *conn) onFLN(cmd *command, fc bool) {
	if fc || cmd.n < 2 {
		return
	}
	c.setRole(decoder.RoleNotification)
	e := c.event(decoder.KindPresence, fc)
	e.Status = "FLN"
	e.Contact = string(passportBytes(cmd.tok(1)))
	c.emit.Emit(e)
}

// contactAdd emits one contact_add.
func (c *conn) contactAdd(fc bool, contact string) {
	e := c.event(decoder.KindContactAdd, fc)
	e.Contact = contact
	c.emit.Emit(e)
}

func (c *conn) onADD(cmd *command, fc bool) {
	if cmd.n < 4 {
		return
	}
	c.setRole(decoder.RoleNotification)
	if fc {
		c.rememberEcho(cmd.verb(), cmd.tok(1))
	} else if c.consumeEcho(cmd.verb(), cmd.tok(1)) {
		return
	}
	// Client: ADD trid list passport nick; server: ADD trid list version passport nick.
	for i := 3; i < cmd.n; i++ {
		if hasAt(passportBytes(cmd.toks[i])) {
			c.contactAdd(fc, string(passportBytes(cmd.toks[i])))
			return
		}
	}
}

func (c *conn) onADC(cmd *command, fc bool) {
	if cmd.n < 4 {
		return
	}
	c.setRole(decoder.RoleNotification)
	var passport []byte
	for i := 3; i < cmd.n; i++ {
		if t := cmd.toks[i]; bytes.HasPrefix(t, []byte("N=")) {
			passport = passportBytes(t[2:])
		}
	}
	if len(passport) == 0 {
		return // adds a known contact to a group
	}
	if fc {
		c.rememberEcho(cmd.verb(), cmd.tok(1))
	} else if c.consumeEcho(cmd.verb(), cmd.tok(1)) {
		return
	}
	c.contactAdd(fc, string(passport))
}

func (c *conn) onADL(cmd *command, payload []byte, fc bool) {
	c.setRole(decoder.RoleNotification)
	if len(payload) == 0 {
		return
	}
	forEachADLContact(payload, func(contact string) {
		c.contactAdd(fc, contact)
	})
}

func (c *conn) onREA(cmd *command, fc bool) {
	if cmd.n < 4 {
		return
	}
	c.setRole(decoder.RoleNotification)
	if fc {
		c.rememberEcho(cmd.verb(), cmd.tok(1))
	} else if c.consumeEcho(cmd.verb(), cmd.tok(1)) {
		return
	}
	// Client: REA trid passport nick; server: REA trid version passport nick.
	pi := 2
	if !fc && cmd.n >= 5 && isNumeric(cmd.tok(2)) {
		pi = 3
	}
	passport := passportBytes(cmd.tok(pi))
	e := c.event(decoder.KindNickname, fc)
	if c.owner == "" || !strings.EqualFold(c.owner, string(passport)) {
		e.Contact = string(passport)
	}
	e.Nick = urlDecode(cmd.tok(pi + 1))
	c.emit.Emit(e)
}

func (c *conn) onPRP(cmd *command, fc bool) {
	mfn := -1
	for i := 1; i+1 < cmd.n; i++ {
		if string(cmd.toks[i]) == "MFN" {
			mfn = i
			break
		}
	}
	c.setRole(decoder.RoleNotification)
	if mfn < 0 {
		return
	}
	if mfn > 1 {
		if fc {
			c.rememberEcho(cmd.verb(), cmd.tok(1))
		} else if c.consumeEcho(cmd.verb(), cmd.tok(1)) {
			return
		}
	}
	e := c.event(decoder.KindNickname, fc)
	e.Nick = urlDecode(cmd.tok(mfn + 1))
	c.emit.Emit(e)
}

func (c *conn) onUUX(cmd *command, payload []byte, fc bool) {
	c.setRole(decoder.RoleNotification)
	if !fc || len(payload) == 0 {
		return
	}
	psm, ok := personalMessage(payload)
	if !ok {
		return
	}
	e := c.event(decoder.KindPersonalMessage, fc)
	e.Body = psm
	c.emit.Emit(e)
}

func (c *conn) onUBX(cmd *command, payload []byte, fc bool) {
	c.setRole(decoder.RoleNotification)
	if fc || len(payload) == 0 {
		return
	}
	psm, ok := personalMessage(payload)
	if !ok {
		return
	}
	e := c.event(decoder.KindPersonalMessage, fc)
	e.Contact = string(passportBytes(cmd.tok(1)))
	e.Body = psm
	c.emit.Emit(e)
}
