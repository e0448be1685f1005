package msnsim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ClientConfig configures a scripted user.
type ClientConfig struct {
	// Dispatch is the dispatch server's host:port (Server.Addrs().Dispatch).
	Dispatch string
	// Passport is the sign-in name (user@domain).
	Passport string
	// Nick is the friendly name set after login (empty: keep the server's).
	Nick string
	// Version is the MSNP version, 8 to 15 (default 15). 8 and 15 are the
	// main ones; 11 and 13 are exercised too.
	Version int
	// Status is the presence set at login (default NLN; HDN appears offline).
	Status string
	// Dial opens TCP connections (default net.Dialer.DialContext).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// WrapConn, if set, wraps every connection (e.g. Tap.Wrap).
	WrapConn func(net.Conn) net.Conn
	// Logger receives debug logs (default: discard).
	Logger *slog.Logger
	// InboxSize is the capacity of the Inbox channel (default 4096); a
	// message that finds it full is dropped and counted (Dropped).
	InboxSize int
	// Timeout bounds each request and wait that has no earlier deadline
	// (default 10 s).
	Timeout time.Duration
	// MaxLine and MaxPayload bound what the client reads (defaults 4096 and
	// 32 KiB).
	MaxLine, MaxPayload int
}

// Contact is what a client knows about a contact.
type Contact struct {
	Passport string
	Nick     string // decoded friendly name, as last announced
	Status   string // NLN, BSY, ... or FLN when offline
	ClientID string
	PSM      string // personal message (MSNP11+), decoded
	Lists    int    // list bits from SYN/LST (FL 1, AL 2, BL 4, RL 8)
}

// Message is a switchboard MSG received by a client.
type Message struct {
	Chat        string // switchboard session ID
	To          string // the receiving user
	From        string
	FromNick    string
	ContentType string // media type, lower-case, without parameters
	Kind        string
	Headers     map[string]string // MIME headers (canonical names as sent)
	Body        string            // after the blank line, byte-exact
	Raw         []byte            // the whole MIME payload
	Time        time.Time         // when it was read
}

// Client is one scripted MSN user. Its methods are safe for concurrent use.
type Client struct {
	cfg  ClientConfig
	ver  proto
	log  *slog.Logger
	stop func() bool // unregisters the context watcher

	inbox   chan Message
	dropped atomic.Uint64
	nsTrid  atomic.Int64

	wg sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	conns    map[*mconn]struct{}
	dispatch *mconn
	ns       *mconn
	loggedIn bool
	nick     string
	status   string
	contacts map[string]*Contact
	chats    map[string]*Chat
	lstWant  int
	lstGot   int
	changed  chan struct{}
}

// Dial prepares a client and opens its dispatch-server connection (VER and
// CVR). ctx bounds the client's lifetime: when it is cancelled every
// connection is closed. Call Login to sign in, Close when done.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	if cfg.Version == 0 {
		cfg.Version = 15
	}
	if cfg.Version < minVersion || cfg.Version > maxVersion {
		return nil, fmt.Errorf("msnsim: dial: version %d: %w", cfg.Version, ErrUnsupported)
	}
	if !validPassport(cfg.Passport) {
		return nil, fmt.Errorf("msnsim: dial: invalid passport %q", cfg.Passport)
	}
	if cfg.Dispatch == "" {
		return nil, errors.New("msnsim: dial: no dispatch address")
	}
	if cfg.Status == "" {
		cfg.Status = "NLN"
	}
	if !validStatus(cfg.Status) {
		return nil, fmt.Errorf("msnsim: dial: invalid status %q", cfg.Status)
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.InboxSize <= 0 {
		cfg.InboxSize = 4096
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = defaultMaxLine
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = defaultMaxPayload
	}
	cl := &Client{
		cfg:      cfg,
		ver:      proto(cfg.Version),
		log:      cfg.Logger.With("passport", cfg.Passport),
		inbox:    make(chan Message, cfg.InboxSize),
		conns:    make(map[*mconn]struct{}),
		contacts: make(map[string]*Contact),
		chats:    make(map[string]*Chat),
		changed:  make(chan struct{}),
	}
	cl.stop = context.AfterFunc(ctx, func() { cl.Close() })
	if err := cl.openDispatch(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// Passport returns the client's sign-in name.
func (cl *Client) Passport() string { return normPassport(cl.cfg.Passport) }

// Version returns the client's MSNP version.
func (cl *Client) Version() int { return int(cl.ver) }

// Inbox delivers every switchboard message the client receives, from all
// its chats, in arrival order.
func (cl *Client) Inbox() <-chan Message { return cl.inbox }

// Dropped counts messages lost because the Inbox was full.
func (cl *Client) Dropped() uint64 { return cl.dropped.Load() }

// Nick returns the client's current friendly name.
func (cl *Client) Nick() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.nick
}

// LoggedIn reports whether the client has a notification-server session.
func (cl *Client) LoggedIn() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.loggedIn
}

// Close ends every connection at once (no OUT) and waits for the client's
// goroutines. It is safe to call more than once.
func (cl *Client) Close() error {
	cl.mu.Lock()
	if cl.closed {
		cl.mu.Unlock()
		cl.wg.Wait()
		return nil
	}
	cl.closed = true
	for m := range cl.conns {
		m.close()
	}
	cl.notifyLocked()
	cl.mu.Unlock()
	if cl.stop != nil {
		cl.stop()
	}
	cl.wg.Wait()
	return nil
}

// notifyLocked wakes every waitFor (cl.mu held).
func (cl *Client) notifyLocked() {
	close(cl.changed)
	cl.changed = make(chan struct{})
}

// waitFor waits until cond (evaluated with cl.mu held) is true.
func (cl *Client) waitFor(ctx context.Context, what string, cond func() bool) error {
	timer := time.NewTimer(cl.cfg.Timeout)
	defer timer.Stop()
	for {
		cl.mu.Lock()
		ok := cond()
		ch, closed := cl.changed, cl.closed
		cl.mu.Unlock()
		if ok {
			return nil
		}
		if closed {
			return fmt.Errorf("msnsim: wait for %s: %w", what, ErrClosed)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("msnsim: wait for %s: %w", what, ctx.Err())
		case <-timer.C:
			return fmt.Errorf("msnsim: wait for %s: %w", what, context.DeadlineExceeded)
		}
	}
}

// versionList is what the client offers in VER: its version and up to two
// older ones (never below MSNP8), as real clients do.
func (cl *Client) versionList() []string {
	var out []string
	for v := int(cl.ver); v >= minVersion && v > int(cl.ver)-3; v-- {
		out = append(out, proto(v).String())
	}
	return append(out, "CVR0")
}

func (cl *Client) cvrArgs() []string {
	switch {
	case cl.ver < 9:
		return []string{"0x0409", "win", "4.10", "i386", "MSNMSGR", "5.0.0544", "MSMSGS", cl.Passport()}
	case cl.ver < 13:
		return []string{"0x0409", "winnt", "5.1", "i386", "MSNMSGR", "7.0.0816", "MSMSGS", cl.Passport()}
	}
	return []string{"0x0409", "winnt", "5.1", "i386", "MSNMSGR", "8.5.1302", "BC01", cl.Passport()}
}

// hello negotiates VER and sends CVR on a fresh dispatch or NS connection.
func (cl *Client) hello(ctx context.Context, m *mconn) error {
	r, err := m.request(ctx, "VER", cl.versionList()...)
	if err != nil {
		return fmt.Errorf("msnsim: %s VER: %w", m.role, err)
	}
	if r.arg(1) != cl.ver.String() {
		return fmt.Errorf("msnsim: %s VER: server chose %q, want %s: %w", m.role, r.arg(1), cl.ver, ErrUnsupported)
	}
	if _, err := m.request(ctx, "CVR", cl.cvrArgs()...); err != nil {
		return fmt.Errorf("msnsim: %s CVR: %w", m.role, err)
	}
	return nil
}

func (cl *Client) openDispatch(ctx context.Context) error {
	m, err := cl.dialConn(ctx, cl.cfg.Dispatch, RoleDispatch, &cl.nsTrid, nil, nil)
	if err != nil {
		return err
	}
	if err := cl.hello(ctx, m); err != nil {
		m.close()
		return err
	}
	cl.mu.Lock()
	cl.dispatch = m
	cl.mu.Unlock()
	return nil
}

func (cl *Client) authPackage() string {
	if cl.ver.sso() {
		return "SSO"
	}
	return "TWN"
}

// Login signs in: USR on the dispatch server, XFR to the notification
// server, VER/CVR/USR there (a made-up Passport ticket or SSO token), the
// contact list (SYN in MSNP8-12; BLP and ADL in MSNP13+), the nickname if
// ClientConfig.Nick differs from the server's, and the initial CHG.
func (cl *Client) Login(ctx context.Context) error {
	cl.mu.Lock()
	if cl.loggedIn || cl.ns != nil {
		cl.mu.Unlock()
		return errors.New("msnsim: login: already logged in")
	}
	d := cl.dispatch
	cl.dispatch = nil
	cl.mu.Unlock()
	if d == nil || isDone(d) {
		if err := cl.openDispatch(ctx); err != nil {
			return fmt.Errorf("msnsim: login: %w", err)
		}
		cl.mu.Lock()
		d = cl.dispatch
		cl.dispatch = nil
		cl.mu.Unlock()
	}
	r, err := d.request(ctx, "USR", cl.authPackage(), "I", cl.Passport())
	d.close()
	if err != nil {
		return fmt.Errorf("msnsim: login: dispatch USR: %w", err)
	}
	if r.Verb != "XFR" || r.arg(1) != "NS" || r.arg(2) == "" {
		return fmt.Errorf("msnsim: login: dispatch answered %q: %w", r.String(), ErrProtocol)
	}
	ns, err := cl.dialConn(ctx, r.arg(2), RoleNS, &cl.nsTrid, cl.onNS, nil)
	if err != nil {
		return fmt.Errorf("msnsim: login: %w", err)
	}
	ns.onClose = func() { cl.nsClosed(ns) }
	cl.mu.Lock()
	cl.ns = ns
	cl.lstWant, cl.lstGot = 0, 0
	cl.mu.Unlock()
	if err := cl.signIn(ctx, ns); err != nil {
		ns.close()
		<-ns.done
		return fmt.Errorf("msnsim: login: %w", err)
	}
	return nil
}

func isDone(m *mconn) bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

func (cl *Client) signIn(ctx context.Context, ns *mconn) error {
	if err := cl.hello(ctx, ns); err != nil {
		return err
	}
	if _, err := ns.request(ctx, "USR", cl.authPackage(), "I", cl.Passport()); err != nil {
		return fmt.Errorf("USR I: %w", err)
	}
	var ok *command
	var err error
	if cl.ver.sso() {
		resp := make([]byte, 96)
		rand.Read(resp)
		ok, err = ns.request(ctx, "USR", "SSO", "S", "t="+randomHex(24)+"&p=", base64.StdEncoding.EncodeToString(resp))
	} else {
		ok, err = ns.request(ctx, "USR", "TWN", "S", "t="+randomHex(24)+"&p="+randomHex(16))
	}
	if err != nil {
		return fmt.Errorf("USR S: %w", err)
	}
	if ok.arg(1) != "OK" {
		return fmt.Errorf("USR S answered %q: %w", ok.String(), ErrProtocol)
	}
	serverNick := ""
	if cl.ver.nickInUSR() {
		serverNick = decodeNick(ok.arg(3))
	}
	cl.mu.Lock()
	cl.loggedIn = true
	cl.nick = serverNick
	cl.notifyLocked()
	cl.mu.Unlock()

	if cl.ver.syn() {
		args := []string{"0"}
		if cl.ver >= 10 {
			args = []string{"0", "0"}
		}
		r, err := ns.request(ctx, "SYN", args...)
		if err != nil {
			return fmt.Errorf("SYN: %w", err)
		}
		// MSNP8/9: SYN trid ver n groups; MSNP10-12: SYN trid ts ts n groups.
		idx := 2
		if cl.ver >= 10 {
			idx = 3
		}
		if n, err := strconv.Atoi(r.arg(idx)); err == nil && n > 0 {
			cl.mu.Lock()
			cl.lstWant = n
			cl.mu.Unlock()
			if err := cl.waitFor(ctx, "contact list", func() bool { return cl.lstGot >= cl.lstWant }); err != nil {
				return err
			}
		}
	} else {
		if _, err := ns.request(ctx, "BLP", "AL"); err != nil {
			return fmt.Errorf("BLP: %w", err)
		}
		cl.mu.Lock()
		var known []string
		for p, c := range cl.contacts {
			if c.Lists&1 != 0 {
				known = append(known, p)
			}
		}
		cl.mu.Unlock()
		sort.Strings(known)
		if _, err := ns.requestPayload(ctx, "ADL", adlPayload(known, 3, true)); err != nil {
			return fmt.Errorf("ADL: %w", err)
		}
	}
	cl.mu.Lock()
	current := cl.nick
	cl.mu.Unlock()
	if cl.cfg.Nick != "" && (cl.ver.u() || cl.cfg.Nick != current) {
		if err := cl.SetNick(ctx, cl.cfg.Nick); err != nil {
			return err
		}
	}
	return cl.SetPresence(ctx, cl.cfg.Status)
}

// adlPayload builds an ADL document for passports with list bits l.
func adlPayload(passports []string, l int, initial bool) []byte {
	var b strings.Builder
	if initial {
		b.WriteString(`<ml l="1">`)
	} else {
		b.WriteString(`<ml>`)
	}
	byDomain := map[string][]string{}
	var domains []string
	for _, p := range passports {
		at := strings.LastIndexByte(p, '@')
		user, dom := p[:at], p[at+1:]
		if _, ok := byDomain[dom]; !ok {
			domains = append(domains, dom)
		}
		byDomain[dom] = append(byDomain[dom], user)
	}
	for _, d := range domains {
		fmt.Fprintf(&b, `<d n="%s">`, xmlAttr(d))
		for _, u := range byDomain[d] {
			fmt.Fprintf(&b, `<c n="%s" l="%d" t="1" />`, xmlAttr(u), l)
		}
		b.WriteString(`</d>`)
	}
	b.WriteString(`</ml>`)
	return []byte(b.String())
}

func xmlAttr(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ns returns the NS connection or ErrNotLoggedIn.
func (cl *Client) nsConn(op string) (*mconn, error) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.ns == nil || !cl.loggedIn {
		return nil, fmt.Errorf("msnsim: %s: %w", op, ErrNotLoggedIn)
	}
	return cl.ns, nil
}

// SetPresence changes the client's status (CHG): NLN, BSY, IDL, BRB, AWY,
// PHN, LUN or HDN (appear offline).
func (cl *Client) SetPresence(ctx context.Context, status string) error {
	if !validStatus(status) {
		return fmt.Errorf("msnsim: set presence: invalid status %q", status)
	}
	ns, err := cl.nsConn("set presence")
	if err != nil {
		return err
	}
	if _, err := ns.request(ctx, "CHG", status, cl.ver.clientID()); err != nil {
		return fmt.Errorf("msnsim: set presence: %w", err)
	}
	cl.mu.Lock()
	cl.status = status
	cl.notifyLocked()
	cl.mu.Unlock()
	return nil
}

// AddContact adds passport to the forward list: ADD (MSNP8/9), ADC
// (MSNP10-12) or ADL (MSNP13+).
func (cl *Client) AddContact(ctx context.Context, passport string) error {
	if !validPassport(passport) {
		return fmt.Errorf("msnsim: add contact: invalid passport %q", passport)
	}
	p := normPassport(passport)
	ns, err := cl.nsConn("add contact")
	if err != nil {
		return err
	}
	switch cl.ver.addVerb() {
	case "ADD":
		_, err = ns.request(ctx, "ADD", "FL", p, p, "0")
	case "ADC":
		_, err = ns.request(ctx, "ADC", "FL", "N="+p, "F="+p)
	default:
		_, err = ns.requestPayload(ctx, "ADL", adlPayload([]string{p}, 1, false))
	}
	if err != nil {
		return fmt.Errorf("msnsim: add contact: %w", err)
	}
	cl.mu.Lock()
	c := cl.contactLocked(p)
	c.Lists |= 1
	cl.notifyLocked()
	cl.mu.Unlock()
	return nil
}

// contactLocked returns (creating) the contact entry for p.
func (cl *Client) contactLocked(p string) *Contact {
	c := cl.contacts[p]
	if c == nil {
		c = &Contact{Passport: p, Nick: p, Status: "FLN"}
		cl.contacts[p] = c
	}
	return c
}

// SetNick changes the friendly name: REA (MSNP8/9) or PRP MFN (MSNP10+).
func (cl *Client) SetNick(ctx context.Context, nick string) error {
	if nick == "" {
		return errors.New("msnsim: set nick: empty nickname")
	}
	ns, err := cl.nsConn("set nick")
	if err != nil {
		return err
	}
	if cl.ver.prp() {
		_, err = ns.request(ctx, "PRP", "MFN", encodeNick(nick))
	} else {
		_, err = ns.request(ctx, "REA", cl.Passport(), encodeNick(nick))
	}
	if err != nil {
		return fmt.Errorf("msnsim: set nick: %w", err)
	}
	cl.mu.Lock()
	cl.nick = nick
	cl.notifyLocked()
	cl.mu.Unlock()
	return nil
}

// SetPSM sets the personal message (UUX, MSNP11+).
func (cl *Client) SetPSM(ctx context.Context, text string) error {
	if !cl.ver.uux() {
		return fmt.Errorf("msnsim: set personal message: %s: %w", cl.ver, ErrUnsupported)
	}
	ns, err := cl.nsConn("set personal message")
	if err != nil {
		return err
	}
	payload := "<Data><PSM>" + xmlAttr(text) + "</PSM><CurrentMedia></CurrentMedia>"
	if cl.ver >= 13 {
		payload += "<MachineGuid>{" + strings.ToUpper(contactGUID(cl.Passport())) + "}</MachineGuid>"
	}
	payload += "</Data>"
	if _, err := ns.requestPayload(ctx, "UUX", []byte(payload)); err != nil {
		return fmt.Errorf("msnsim: set personal message: %w", err)
	}
	return nil
}

// SetPrivacy sets the privacy mode (BLP): allow everyone (AL) or only the
// allow list (BL).
func (cl *Client) SetPrivacy(ctx context.Context, allowAll bool) error {
	ns, err := cl.nsConn("set privacy")
	if err != nil {
		return err
	}
	mode := "BL"
	if allowAll {
		mode = "AL"
	}
	if _, err := ns.request(ctx, "BLP", mode); err != nil {
		return fmt.Errorf("msnsim: set privacy: %w", err)
	}
	return nil
}

// Command sends any NS request and returns the reply's tokens (verb first).
// Tests use it for commands without a method (GTC, BLP, error probes).
func (cl *Client) Command(ctx context.Context, verb string, args ...string) ([]string, error) {
	ns, err := cl.nsConn(verb)
	if err != nil {
		return nil, err
	}
	r, err := ns.request(ctx, verb, args...)
	if r == nil {
		return nil, err
	}
	return append([]string{r.Verb}, r.Args...), err
}

// Logout leaves every chat (OUT on each switchboard), then sends OUT to the
// notification server and waits for it to hang up.
func (cl *Client) Logout(ctx context.Context) error {
	for _, ch := range cl.Chats() {
		if err := ch.Leave(ctx); err != nil {
			cl.log.Debug("msnsim logout: leave chat", "chat", ch.ID(), "err", err)
		}
	}
	ns, err := cl.nsConn("logout")
	if err != nil {
		return err
	}
	if err := ns.closeGracefully(ctx); err != nil {
		return fmt.Errorf("msnsim: logout: %w", err)
	}
	return nil
}

func (cl *Client) nsClosed(ns *mconn) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.ns == ns {
		cl.ns = nil
		cl.loggedIn = false
		cl.status = ""
		for _, c := range cl.contacts {
			c.Status = "FLN"
		}
		cl.notifyLocked()
	}
}

// Contacts returns a snapshot of the known contacts, sorted by passport.
func (cl *Client) Contacts() []Contact {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := make([]Contact, 0, len(cl.contacts))
	for _, c := range cl.contacts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Passport < out[j].Passport })
	return out
}

// Contact returns what the client knows about passport.
func (cl *Client) Contact(passport string) (Contact, bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	c, ok := cl.contacts[normPassport(passport)]
	if !ok {
		return Contact{}, false
	}
	return *c, true
}

// WaitContact waits until the contact passport satisfies cond.
func (cl *Client) WaitContact(ctx context.Context, passport string, cond func(Contact) bool) error {
	p := normPassport(passport)
	return cl.waitFor(ctx, "contact "+p, func() bool {
		c, ok := cl.contacts[p]
		return ok && cond(*c)
	})
}

// WaitPresence waits until the client sees passport with status (FLN:
// offline).
func (cl *Client) WaitPresence(ctx context.Context, passport, status string) error {
	return cl.WaitContact(ctx, passport, func(c Contact) bool { return c.Status == status })
}

// onNS handles unsolicited notification-server commands (reader goroutine).
func (cl *Client) onNS(cmd *command) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	switch cmd.Verb {
	case "ILN", "NLN":
		// ILN trid status passport [net] nick clientid; NLN without trid.
		a := cmd.Args
		if cmd.Verb == "ILN" && len(a) > 0 {
			a = a[1:]
		}
		if cl.ver.networkID() && len(a) >= 3 {
			a = append(a[:2:2], a[3:]...)
		}
		if len(a) < 3 {
			return
		}
		c := cl.contactLocked(normPassport(a[1]))
		c.Status = a[0]
		c.Nick = decodeNick(a[2])
		if len(a) > 3 {
			c.ClientID = a[3]
		}
	case "FLN":
		if len(cmd.Args) > 0 {
			cl.contactLocked(normPassport(cmd.Args[0])).Status = "FLN"
		}
	case "UBX":
		if len(cmd.Args) == 0 {
			return
		}
		var d struct {
			PSM string `xml:"PSM"`
		}
		if xml.Unmarshal(cmd.Payload, &d) == nil {
			cl.contactLocked(normPassport(cmd.Args[0])).PSM = d.PSM
		}
	case "LST":
		cl.lstGot++
		p, nick, lists := "", "", 0
		if cl.ver < 10 {
			// LST passport nick lists [groups]
			if len(cmd.Args) >= 3 {
				p, nick = cmd.Args[0], cmd.Args[1]
				lists, _ = strconv.Atoi(cmd.Args[2])
			}
		} else {
			for _, t := range cmd.Args {
				switch {
				case strings.HasPrefix(t, "N="):
					p = t[2:]
				case strings.HasPrefix(t, "F="):
					nick = t[2:]
				case !strings.Contains(t, "="):
					if n, err := strconv.Atoi(t); err == nil && lists == 0 {
						lists = n
					}
				}
			}
		}
		if p != "" {
			c := cl.contactLocked(normPassport(p))
			c.Nick = decodeNick(nick)
			c.Lists = lists
		}
	case "PRP":
		// PRP MFN nick, part of a MSNP10-12 SYN answer.
		if len(cmd.Args) == 2 && cmd.Args[0] == "MFN" {
			cl.nick = decodeNick(cmd.Args[1])
		}
	case "RNG":
		// RNG sessid address CKI cookie inviter nick [U domain [1]]
		if len(cmd.Args) >= 6 && cmd.Args[2] == "CKI" && !cl.closed {
			sess, addr, cookie := cmd.Args[0], cmd.Args[1], cmd.Args[3]
			cl.wg.Add(1)
			go func() {
				defer cl.wg.Done()
				if err := cl.answer(sess, addr, cookie); err != nil {
					cl.log.Debug("msnsim: answer invitation", "session", sess, "err", err)
				}
			}()
		}
	case "OUT":
		cl.log.Debug("msnsim: signed out by server", "reason", cmd.arg(0))
	}
	cl.notifyLocked()
}

// Chats returns the client's open chats.
func (cl *Client) Chats() []*Chat {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := make([]*Chat, 0, len(cl.chats))
	for _, ch := range cl.chats {
		out = append(out, ch)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// WaitChat waits until the client is in the switchboard session id (for an
// invited client: once its automatic ANS has succeeded).
func (cl *Client) WaitChat(ctx context.Context, id string) (*Chat, error) {
	var ch *Chat
	err := cl.waitFor(ctx, "chat "+id, func() bool {
		ch = cl.chats[id]
		return ch != nil
	})
	return ch, err
}

// deliver puts a message in the inbox without blocking.
func (cl *Client) deliver(m Message) {
	select {
	case cl.inbox <- m:
	default:
		cl.dropped.Add(1)
		cl.log.Warn("msnsim: inbox full, message dropped", "chat", m.Chat)
	}
}

// parseMIME splits an MSG payload into headers and body.
func parseMIME(raw []byte) (map[string]string, string) {
	s := string(raw)
	head, body, ok := strings.Cut(s, "\r\n\r\n")
	if !ok {
		head, body = s, ""
	}
	h := map[string]string{}
	for _, l := range strings.Split(head, "\r\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			h[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return h, body
}

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// kindOf classifies a MIME message per DESIGN.md "Event conventions".
func kindOf(h map[string]string) (string, string) {
	ct := header(h, "Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "text/plain":
		return mt, KindMessage
	case "text/x-msmsgscontrol":
		if header(h, "TypingUser") != "" {
			return mt, KindTyping
		}
	case "text/x-msmsgsinvite":
		return mt, KindFileInvite
	case "application/x-msnmsgrp2p":
		return mt, KindP2P
	}
	return mt, KindInfo
}
