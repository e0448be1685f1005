package msngen

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"rcds/decoder"
)

// Conversation turns actions (a Script's, or random ones) into the MSNP
// transcript: Steps over TCP connections, each command with the events a
// decoder must report for it. It is independent of pcap and TCP
// segmentation, so that a live simulator can replay the same transcript
// over real sockets (see the package documentation).
type Conversation struct {
	r     *rng
	net   *network
	src   actionSource
	users map[string]*userState // captured users by lower-case passport
	chats map[int]*chatState
	queue []Step
	qi    int
	conns int
	err   error
	wind  bool // winding down: no new actions, close everything
	ended bool

	logins, switchboards int
}

type actionSource interface {
	next(cv *Conversation, a *Action) bool
}

type scriptSource struct {
	actions []Action
	i       int
}

func (s *scriptSource) next(_ *Conversation, a *Action) bool {
	if s.i >= len(s.actions) {
		return false
	}
	*a = s.actions[s.i]
	s.i++
	return true
}

// NewConversation returns the transcript of s. seed drives the details
// the script leaves open (addresses, ports, cookies, fonts). Connections
// use the generator's documentation address ranges (clients in 10.0.0.0/8,
// servers in 192.0.2.0/24 and 198.51.100.0/24); a replay over sockets maps
// them to its own.
func NewConversation(s *Script, seed int64) (*Conversation, error) {
	if s == nil {
		return nil, fmt.Errorf("msngen: new conversation: nil script: %w", ErrBadOption)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	r := newRNG(seed)
	return newConversation(r, newNetwork(r, 0), s.Users, &scriptSource{actions: s.Actions}), nil
}

func newConversation(r *rng, n *network, users []User, src actionSource) *Conversation {
	cv := &Conversation{r: r, net: n, src: src, users: map[string]*userState{}, chats: map[int]*chatState{}}
	for _, u := range users {
		cv.addUser(u)
	}
	return cv
}

// Next returns the next step; false at the end of the transcript (then
// Err tells whether the script was invalid). Every connection opened is
// closed by the end: users still in a switchboard leave it and users still
// logged in log out.
func (cv *Conversation) Next() (Step, bool) {
	for cv.qi >= len(cv.queue) {
		if cv.ended {
			return Step{}, false
		}
		if cap(cv.queue) > 16 {
			cv.queue = nil // a login's many steps: do not keep their room
		} else {
			cv.queue = cv.queue[:0]
		}
		cv.qi = 0
		cv.advance()
	}
	st := cv.queue[cv.qi]
	cv.queue[cv.qi] = Step{}
	cv.qi++
	if st.Kind == StepSend && cv.qi < len(cv.queue) {
		n := cv.queue[cv.qi]
		st.Reply = n.Kind == StepSend && n.Conn == st.Conn && n.FromClient != st.FromClient
	}
	return st, true
}

// Err reports the first script error met (an action by a user who is not
// logged in, in a chat that does not exist, ...). The transcript stops at
// it, after closing what was open.
func (cv *Conversation) Err() error { return cv.err }

// Logins and Switchboards count the NS logins and switchboard sessions so
// far.
func (cv *Conversation) Logins() int       { return cv.logins }
func (cv *Conversation) Switchboards() int { return cv.switchboards }

// windDown stops taking actions; what is open is closed.
func (cv *Conversation) windDown() { cv.wind = true }

func (cv *Conversation) advance() {
	if !cv.wind && cv.err == nil {
		var a Action
		if cv.src.next(cv, &a) {
			if err := cv.do(&a); err != nil {
				cv.err = err
				cv.wind = true
			}
			return
		}
	}
	// Close what is open: leave chats, then log out.
	for _, id := range sortedKeys(cv.chats) {
		ch := cv.chats[id]
		for _, m := range slices.Clone(ch.members) {
			if m.conn != nil {
				cv.leave(ch, m.passport)
			}
		}
		delete(cv.chats, id)
	}
	for _, u := range cv.userList() {
		if u.ns != nil {
			cv.logout(u)
		}
	}
	cv.ended = true
}

func sortedKeys[V any](m map[int]V) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

type userState struct {
	passport  string
	nick      string
	version   int
	guid      string
	clientID  string
	host      *host
	v6        bool
	ns        *Conn
	status    string // "" until the first CHG
	announced bool
	contacts  []string
	offline   map[string]bool
	sb        map[int]*Conn
	idx       int
}

type chatState struct {
	id      int
	sb4     netip.AddrPort
	sb6     netip.AddrPort
	sessID  string
	members []member // in the order of joining
}

type member struct {
	passport string
	conn     *Conn // nil: not captured
}

func (cv *Conversation) addUser(u User) *userState {
	key := strings.ToLower(u.Passport)
	if us, ok := cv.users[key]; ok {
		return us
	}
	v := u.Version
	if v == 0 {
		v = 15
	}
	nick := u.Nick
	if nick == "" {
		nick = nickOf(u.Passport)
	}
	us := &userState{
		passport: u.Passport, nick: nick, version: v, guid: cv.guid(),
		clientID: clientID(v), sb: map[int]*Conn{}, idx: len(cv.users),
		offline: map[string]bool{},
	}
	us.contacts = append(us.contacts, u.Contacts...)
	for _, o := range u.Offline {
		us.offline[strings.ToLower(o)] = true
	}
	cv.users[key] = us
	return us
}

func (cv *Conversation) userList() []*userState {
	out := make([]*userState, 0, len(cv.users))
	for _, u := range cv.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *userState) int { return a.idx - b.idx })
	return out
}

func (cv *Conversation) user(p string) *userState { return cv.users[strings.ToLower(p)] }

func (cv *Conversation) guid() string {
	a, b := cv.r.u64(), cv.r.u64()
	return fmt.Sprintf("{%08X-%04X-%04X-%04X-%012X}", uint32(a), uint16(a>>32), uint16(a>>48), uint16(b), b>>16&0xffffffffffff)
}

func clientID(v int) string {
	switch {
	case v < 8:
		return ""
	case v < 10:
		return "268435492"
	case v < 13:
		return "1342177316"
	case v < 18:
		return "1986658340"
	}
	return "2789003324:48"
}

// nickOfPassport is the current nick of a captured user, or the
// generated one of an outside contact.
func (cv *Conversation) nickOf(p string) string {
	if u := cv.user(p); u != nil {
		return u.nick
	}
	return nickOf(p)
}

func (cv *Conversation) guidOf(p string) string {
	if u := cv.user(p); u != nil {
		return u.guid
	}
	h := uint64(1469598103934665603)
	for i := 0; i < len(p); i++ {
		h ^= uint64(p[i])
		h *= 1099511628211
	}
	return fmt.Sprintf("{%08X-%04X-%04X-%04X-%012X}", uint32(h), uint16(h>>32), uint16(h>>48), uint16(h>>8), h>>12&0xffffffffffff)
}

// endpoint is the passport as a switchboard of version v names it.
func (cv *Conversation) endpoint(p string, v int) string {
	if v >= 18 {
		return p + ";" + cv.guidOf(p)
	}
	return p
}

// ---- connections and steps ----

func (cv *Conversation) open(u *userState, server netip.AddrPort, role decoder.Role) *Conn {
	client := netip.AddrPortFrom(u.host.addr, u.host.nextPort())
	c := &Conn{ID: cv.conns, Client: client, Server: server, Role: role, Owner: u.passport, Version: u.version}
	c.Flow = client.String() + "-" + server.String()
	cv.conns++
	if role == decoder.RoleDispatch {
		c.Owner = ""
	}
	cv.queue = append(cv.queue, Step{Kind: StepOpen, Conn: c, FromClient: true})
	return c
}

func (cv *Conversation) close(c *Conn, clientFirst bool) {
	cv.queue = append(cv.queue, Step{Kind: StepClose, Conn: c, FromClient: clientFirst})
}

// send queues one command; consecutive commands of one side of one
// connection form one burst.
func (cv *Conversation) send(c *Conn, fromClient bool, data []byte, evs ...decoder.Event) {
	cmd := Command{Data: data}
	if len(evs) > 0 {
		cmd.Events = evs
	}
	if n := len(cv.queue); n > cv.qi {
		last := &cv.queue[n-1]
		if last.Kind == StepSend && last.Conn == c && last.FromClient == fromClient {
			last.Commands = append(last.Commands, cmd)
			return
		}
	}
	cv.queue = append(cv.queue, Step{Kind: StepSend, Conn: c, FromClient: fromClient, Commands: []Command{cmd}})
}

func (cv *Conversation) c2s(c *Conn, line string, evs ...decoder.Event) {
	cv.send(c, true, []byte(line+"\r\n"), evs...)
}

func (cv *Conversation) s2c(c *Conn, line string, evs ...decoder.Event) {
	cv.send(c, false, []byte(line+"\r\n"), evs...)
}

// payload builds "head len\r\n" + body.
func payload(head string, body []byte) []byte {
	b := make([]byte, 0, len(head)+12+len(body))
	b = append(b, head...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, '\r', '\n')
	return append(b, body...)
}

func (cv *Conversation) ev(c *Conn, fromClient bool, k decoder.Kind) decoder.Event {
	return decoder.Event{
		Kind: k, Proto: "msnp", Flow: c.Flow, Role: c.Role, FromClient: fromClient,
		User: c.Owner, Client: c.Client, Server: c.Server,
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// ---- actions ----

func (cv *Conversation) do(a *Action) error {
	u := cv.user(a.User)
	needLogin := func() error {
		if u == nil || u.ns == nil {
			return fmt.Errorf("msngen: %s by %s: not a logged-in script user: %w", a.Op, a.User, ErrBadOption)
		}
		return nil
	}
	switch a.Op {
	case OpLogin:
		if u == nil {
			return fmt.Errorf("msngen: login of %s: not a script user: %w", a.User, ErrBadOption)
		}
		if u.ns != nil {
			return fmt.Errorf("msngen: login of %s: already logged in: %w", a.User, ErrBadOption)
		}
		cv.login(u)
	case OpLogout:
		if err := needLogin(); err != nil {
			return err
		}
		cv.logout(u)
	case OpStatus:
		if err := needLogin(); err != nil {
			return err
		}
		if !validStatus(a.Text) {
			return fmt.Errorf("msngen: status %q: %w", a.Text, ErrBadOption)
		}
		cv.status(u, a.Text)
	case OpAddContact:
		if err := needLogin(); err != nil {
			return err
		}
		cv.addContact(u, a.Contact)
	case OpNick:
		if err := needLogin(); err != nil {
			return err
		}
		if a.Text == "" {
			return fmt.Errorf("msngen: empty nick: %w", ErrBadOption)
		}
		cv.setNick(u, a.Text)
	case OpPSM:
		if err := needLogin(); err != nil {
			return err
		}
		if u.version < 11 {
			return fmt.Errorf("msngen: psm of %s: MSNP%d has no UUX: %w", a.User, u.version, ErrBadOption)
		}
		cv.setPSM(u, a.Text)
	case OpContactPresence:
		if err := needLogin(); err != nil {
			return err
		}
		if !validStatus(a.Text) && a.Text != "FLN" {
			return fmt.Errorf("msngen: status %q: %w", a.Text, ErrBadOption)
		}
		cv.presenceTo(u, a.Contact, a.Text)
	case OpContactPSM:
		if err := needLogin(); err != nil {
			return err
		}
		if u.version < 11 {
			return fmt.Errorf("msngen: contact psm to %s: MSNP%d has no UBX: %w", a.User, u.version, ErrBadOption)
		}
		cv.ubx(u, a.Contact, a.Text)
	case OpPing:
		if err := needLogin(); err != nil {
			return err
		}
		cv.c2s(u.ns, "PNG")
		cv.s2c(u.ns, "QNG "+itoa(cv.r.between(30, 60)))
	case OpOpenChat:
		if err := needLogin(); err != nil {
			return err
		}
		if _, ok := cv.chats[a.Chat]; ok {
			return fmt.Errorf("msngen: open chat %d: already open: %w", a.Chat, ErrBadOption)
		}
		ch := cv.openChat(u, a.Chat)
		for _, w := range a.With {
			if err := cv.invite(ch, u, w); err != nil {
				return err
			}
		}
	case OpInvite:
		ch, err := cv.chatOf(a, u, true)
		if err != nil {
			return err
		}
		for _, w := range a.With {
			if err := cv.invite(ch, u, w); err != nil {
				return err
			}
		}
	case OpSay, OpTyping, OpFileInvite, OpP2P, OpCaps:
		ch, err := cv.chatOf(a, u, false)
		if err != nil {
			return err
		}
		return cv.say(ch, a)
	case OpLeave:
		ch, err := cv.chatOf(a, u, false)
		if err != nil {
			return err
		}
		cv.leave(ch, a.User)
	default:
		return fmt.Errorf("msngen: unknown op %d: %w", a.Op, ErrBadOption)
	}
	return nil
}

func validStatus(s string) bool {
	switch s {
	case "NLN", "BSY", "IDL", "BRB", "AWY", "PHN", "LUN", "HDN":
		return true
	}
	return false
}

func (cv *Conversation) chatOf(a *Action, u *userState, captured bool) (*chatState, error) {
	ch, ok := cv.chats[a.Chat]
	if !ok {
		return nil, fmt.Errorf("msngen: %s in chat %d: no such chat: %w", a.Op, a.Chat, ErrBadOption)
	}
	i := ch.index(a.User)
	if i < 0 {
		return nil, fmt.Errorf("msngen: %s in chat %d: %s is not a member: %w", a.Op, a.Chat, a.User, ErrBadOption)
	}
	if captured && (u == nil || ch.members[i].conn == nil) {
		return nil, fmt.Errorf("msngen: %s in chat %d: %s is not captured: %w", a.Op, a.Chat, a.User, ErrBadOption)
	}
	return ch, nil
}

func (ch *chatState) index(p string) int {
	for i, m := range ch.members {
		if strings.EqualFold(m.passport, p) {
			return i
		}
	}
	return -1
}

// ---- login, lists, presence ----

func (cv *Conversation) verLine(trid string, v int) (string, string) {
	var b strings.Builder
	b.WriteString("VER ")
	b.WriteString(trid)
	for i := v; i >= 2 && i > v-3; i-- {
		b.WriteString(" MSNP")
		b.WriteString(itoa(i))
	}
	b.WriteString(" CVR0")
	return b.String(), "VER " + trid + " MSNP" + itoa(v) + " CVR0"
}

func clientVersion(v int) string {
	switch {
	case v < 10:
		return "6.2.0208"
	case v < 13:
		return "7.5.0324"
	case v < 16:
		return "8.5.1302"
	}
	return "14.0.8117"
}

func (cv *Conversation) handshake(c *Conn, u *userState) {
	v := u.version
	t := c.nextTrid()
	req, resp := cv.verLine(t, v)
	cv.c2s(c, req)
	cv.s2c(c, resp)
	if v < 8 {
		t = c.nextTrid()
		cv.c2s(c, "INF "+t)
		cv.s2c(c, "INF "+t+" MD5")
		return
	}
	t = c.nextTrid()
	cv.c2s(c, "CVR "+t+" 0x0409 winnt 5.1 i386 MSNMSGR "+clientVersion(v)+" msmsgs "+u.passport)
	cv.s2c(c, "CVR "+t+" "+clientVersion(v)+" "+clientVersion(v)+" 6.0.0602 http://download.example.com/msn.exe http://messenger.example.com")
}

func authName(v int) string {
	switch {
	case v < 8:
		return "MD5"
	case v < 13:
		return "TWN"
	}
	return "SSO"
}

func (cv *Conversation) login(u *userState) {
	if u.host == nil {
		u.v6 = cv.net.isV6()
		u.host = cv.net.newHost(u.v6)
	}
	v := u.version
	ns := cv.net.ns(u.v6)
	// Dispatch: redirected to the NS.
	d := cv.open(u, cv.net.dispatch(u.v6), decoder.RoleDispatch)
	cv.handshake(d, u)
	t := d.nextTrid()
	cv.c2s(d, "USR "+t+" "+authName(v)+" I "+u.passport)
	switch {
	case v < 8:
		cv.s2c(d, "XFR "+t+" NS "+ns.String()+" 0")
	case v < 13:
		cv.s2c(d, "XFR "+t+" NS "+ns.String()+" 0 "+cv.net.dispatch(u.v6).String())
	default:
		cv.s2c(d, "XFR "+t+" NS "+ns.String()+" U D")
	}
	cv.close(d, true)

	c := cv.open(u, ns, decoder.RoleNotification)
	u.ns = c
	cv.logins++
	cv.handshake(c, u)
	t = c.nextTrid()
	cv.c2s(c, "USR "+t+" "+authName(v)+" I "+u.passport)
	switch {
	case v < 8:
		cv.s2c(c, "USR "+t+" MD5 S "+itoa(cv.r.between(1000000000, 1999999999))+"."+itoa(cv.r.between(100000000, 999999999)))
		t = c.nextTrid()
		cv.c2s(c, "USR "+t+" MD5 S "+cv.hex(32))
	case v < 13:
		cv.s2c(c, "USR "+t+" TWN S lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Eexample%2Ecom,ct="+
			itoa(cv.r.between(1100000000, 1199999999))+",kpp=1,kv=5,ver=2.1.0173.1,tpf="+cv.hex(32))
		t = c.nextTrid()
		cv.c2s(c, "USR "+t+" TWN S t=53*1hAu8ADuD3TEwdXoOMi08sD*2!"+cv.hex(40)+"$$&p=5eKBBC!yBH6ex5mftp!"+cv.hex(60)+"$$")
	default:
		if v >= 15 {
			pol := []byte(`<?xml version="1.0" encoding="utf-8" ?><Policies><Policy type="SHIELDS"><config><shield><cli maj="7" min="0" minbld="0" maxbld="9999" deny=" " /></shield><block></block></config></Policy><Policy type="ABCH"><policy><set id="push" service="ABCH" priority="200"><r id="pushstorage" threshold="180000" /></set></policy></Policy></Policies>`)
			cv.send(c, false, payload("GCF 0", pol))
		}
		cv.s2c(c, "USR "+t+" SSO S MBI_KEY_OLD "+cv.b64(64))
		t = c.nextTrid()
		line := "USR " + t + " SSO S t=EwCoARAnAAAU" + cv.b64(120) + " " + cv.b64(96)
		if v >= 16 {
			line += " " + u.guid
		}
		cv.c2s(c, line)
	}
	ok := "USR " + t + " OK " + u.passport
	switch {
	case v < 8:
		ok += " " + urlEncode(u.nick)
	case v < 10:
		ok += " " + urlEncode(u.nick) + " 1 0"
	default:
		ok += " 1 0"
	}
	cv.s2c(c, ok, cv.ev(c, false, decoder.KindLogin))
	if v >= 13 {
		cv.s2c(c, "SBS 0 null")
	}
	cv.infoMSG(c, profileMIME(cv.r, 1142337600+int64(cv.r.intn(1000000))))
	if cv.r.chance(0.5) {
		cv.infoMSG(c, emailMIME(cv.r))
	}

	// Contact list: the script contacts and the other captured users.
	for _, o := range cv.userList() {
		if o != u && !containsFold(u.contacts, o.passport) {
			u.contacts = append(u.contacts, o.passport)
		}
	}
	cv.lists(u)
	if v >= 13 {
		t = c.nextTrid()
		nick := urlEncode(u.nick)
		e := cv.ev(c, true, decoder.KindNickname)
		e.Nick = u.nick
		cv.c2s(c, "PRP "+t+" MFN "+nick, e)
		cv.s2c(c, "PRP "+t+" MFN "+nick)
	}
	// Initial presence.
	cv.status(u, "NLN")
	if v >= 11 {
		cv.s2c(c, "CHL 0 "+cv.digits(20))
		t = c.nextTrid()
		prod := "PROD0090YUAUV{2B"
		if v >= 18 {
			prod = "PROD0120PW!CCV9@"
		}
		cv.send(c, true, payload("QRY "+t+" "+prod, []byte(cv.hex(32))))
		cv.s2c(c, "QRY "+t)
	}
}

func containsFold(s []string, p string) bool {
	for _, x := range s {
		if strings.EqualFold(x, p) {
			return true
		}
	}
	return false
}

func (cv *Conversation) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[cv.r.intn(16)]
	}
	return string(b)
}

func (cv *Conversation) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + cv.r.intn(10))
	}
	return string(b)
}

func (cv *Conversation) b64(n int) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[cv.r.intn(64)]
	}
	return string(b)
}

func (cv *Conversation) infoMSG(c *Conn, m mime) {
	e := cv.ev(c, false, decoder.KindInfo)
	e.From = "Hotmail"
	e.ContentType = m.contentType
	e.Charset = m.charset
	e.Body = m.body
	e.Raw = m.raw
	cv.send(c, false, payload("MSG Hotmail Hotmail", m.raw), e)
}

// lists sends the contact list: SYN/LST before MSNP13, BLP and ADL after.
func (cv *Conversation) lists(u *userState) {
	c := u.ns
	v := u.version
	n := len(u.contacts)
	t := c.nextTrid()
	switch {
	case v < 8:
		cv.c2s(c, "SYN "+t+" 0")
		cv.s2c(c, "SYN "+t+" 12")
		cv.s2c(c, "GTC "+t+" 12 A")
		cv.s2c(c, "BLP "+t+" 12 AL")
		if n == 0 {
			cv.s2c(c, "LST "+t+" FL 12 0 0")
		}
		for i, p := range u.contacts {
			cv.s2c(c, "LST "+t+" FL 12 "+itoa(i+1)+" "+itoa(n)+" "+p+" "+urlEncode(cv.nickOf(p))+" 0")
		}
	case v < 10:
		cv.c2s(c, "SYN "+t+" 0")
		cv.s2c(c, "SYN "+t+" 12 "+itoa(n)+" 1")
		cv.s2c(c, "GTC A")
		cv.s2c(c, "BLP AL")
		cv.s2c(c, "LSG 0 Other%20Contacts 0")
		for _, p := range u.contacts {
			cv.s2c(c, "LST "+p+" "+urlEncode(cv.nickOf(p))+" 11 0")
		}
	case v < 13:
		cv.c2s(c, "SYN "+t+" 0 0")
		cv.s2c(c, "SYN "+t+" 2006-03-14T11:59:00.0000000-08:00 2006-03-14T11:59:00.0000000-08:00 "+itoa(n)+" 1")
		cv.s2c(c, "GTC A")
		cv.s2c(c, "BLP AL")
		g := cv.guid()
		g = g[1 : len(g)-1]
		cv.s2c(c, "LSG Friends "+g)
		for _, p := range u.contacts {
			cg := cv.guid()
			cv.s2c(c, "LST N="+p+" F="+urlEncode(cv.nickOf(p))+" C="+cg[1:len(cg)-1]+" 11 "+g)
		}
	default:
		cv.c2s(c, "BLP "+t+" BL")
		cv.s2c(c, "BLP "+t+" BL")
		if n > 0 {
			cv.adl(u, u.contacts, 3)
		}
	}
}

// adl sends an ADL of contacts grouped by domain; one contact_add each,
// in document order.
func (cv *Conversation) adl(u *userState, contacts []string, lists int) {
	c := u.ns
	t := c.nextTrid()
	var doms []string
	byDom := map[string][]string{}
	for _, p := range contacts {
		at := strings.LastIndexByte(p, '@')
		d := p[at+1:]
		if _, ok := byDom[d]; !ok {
			doms = append(doms, d)
		}
		byDom[d] = append(byDom[d], p[:at])
	}
	var b strings.Builder
	b.WriteString(`<ml l="1">`)
	var evs []decoder.Event
	for _, d := range doms {
		b.WriteString(`<d n="` + d + `">`)
		for _, local := range byDom[d] {
			b.WriteString(`<c n="` + local + `" l="` + itoa(lists) + `" t="1" />`)
			e := cv.ev(c, true, decoder.KindContactAdd)
			e.Contact = local + "@" + d
			evs = append(evs, e)
		}
		b.WriteString(`</d>`)
	}
	b.WriteString(`</ml>`)
	cv.send(c, true, payload("ADL "+t, []byte(b.String())), evs...)
	cv.s2c(c, "ADL "+t+" OK")
}

// presenceLine formats NLN/ILN (status, passport, nick) for version v.
func (cv *Conversation) presenceLine(cmd, trid string, v int, status, p string) string {
	nick := urlEncode(cv.nickOf(p))
	cid := ""
	if o := cv.user(p); o != nil {
		cid = clientID(o.version)
	} else {
		cid = clientID(v)
	}
	head := cmd + " "
	if trid != "" {
		head += trid + " "
	}
	switch {
	case v < 8:
		return head + status + " " + p + " " + nick
	case v < 13:
		return head + status + " " + p + " " + nick + " " + cid
	case v < 18:
		return head + status + " " + p + " 1 " + nick + " " + cid
	}
	return head + status + " 1:" + p + " " + nick + " " + cid
}

func flnLine(v int, p string) string {
	switch {
	case v < 13:
		return "FLN " + p
	case v < 18:
		return "FLN " + p + " 1"
	}
	return "FLN 1:" + p
}

func (cv *Conversation) presenceEvent(c *Conn, p, status string) decoder.Event {
	e := cv.ev(c, false, decoder.KindPresence)
	e.Contact = p
	e.Status = status
	if status != "FLN" {
		e.Nick = cv.nickOf(p)
	}
	return e
}

// onlineStatus is the status a captured user's contacts see ("" if none).
func (u *userState) visible() string {
	if u.ns == nil || u.status == "HDN" || !u.announced {
		return ""
	}
	return u.status
}

func (cv *Conversation) status(u *userState, st string) {
	c := u.ns
	t := c.nextTrid()
	line := "CHG " + t + " " + st
	if cid := clientID(u.version); cid != "" {
		line += " " + cid
	}
	first := !u.announced
	e := cv.ev(c, true, decoder.KindPresence)
	e.Status = st
	before := u.visible()
	cv.c2s(c, line, e)
	cv.s2c(c, line)
	u.status = st
	if first {
		u.announced = true
		// ILN: the online contacts.
		for _, p := range u.contacts {
			s := cv.contactStatus(u, p)
			if s == "" {
				continue
			}
			cv.s2c(c, cv.presenceLine("ILN", t, u.version, s, p), cv.presenceEvent(c, p, s))
		}
		if u.version >= 11 {
			for _, p := range u.contacts {
				if cv.user(p) == nil && cv.contactStatus(u, p) != "" && cv.r.chance(0.3) {
					cv.ubx(u, p, pick(cv.r, psmBank[:]))
				}
			}
		}
	}
	// The other captured users who have u as a contact.
	after := u.visible()
	if before == after {
		return
	}
	for _, o := range cv.userList() {
		if o == u || o.ns == nil || !containsFold(o.contacts, u.passport) {
			continue
		}
		if after == "" {
			cv.s2c(o.ns, flnLine(o.version, u.passport), cv.presenceEvent(o.ns, u.passport, "FLN"))
		} else {
			cv.s2c(o.ns, cv.presenceLine("NLN", "", o.version, after, u.passport), cv.presenceEvent(o.ns, u.passport, after))
		}
	}
}

// contactStatus is p's status as u sees it at login ("" offline).
func (cv *Conversation) contactStatus(u *userState, p string) string {
	if o := cv.user(p); o != nil {
		return o.visible()
	}
	if u.offline[strings.ToLower(p)] {
		return ""
	}
	return "NLN"
}

var psmBank = [...]string{"at work", "在上海出差", "Слушаю музыку", "❤ weekend ❤", "back at 5 <really>", "exams & stuff"}

func (cv *Conversation) psmXML(u *userState, text string) []byte {
	s := "<Data><PSM>" + xmlEscape(text) + "</PSM><CurrentMedia></CurrentMedia>"
	if u != nil && u.version >= 13 {
		s += "<MachineGuid>" + u.guid + "</MachineGuid>"
	}
	return []byte(s + "</Data>")
}

func (cv *Conversation) setPSM(u *userState, text string) {
	c := u.ns
	t := c.nextTrid()
	e := cv.ev(c, true, decoder.KindPersonalMessage)
	e.Body = text
	cv.send(c, true, payload("UUX "+t, cv.psmXML(u, text)), e)
	cv.s2c(c, "UUX "+t+" 0")
}

func (cv *Conversation) ubx(u *userState, p, text string) {
	c := u.ns
	e := cv.ev(c, false, decoder.KindPersonalMessage)
	e.Contact = p
	e.Body = text
	head := "UBX " + p
	switch {
	case u.version >= 18:
		head = "UBX 1:" + p
	case u.version >= 13:
		head = "UBX " + p + " 1"
	}
	cv.send(c, false, payload(head, cv.psmXML(nil, text)), e)
}

func (cv *Conversation) presenceTo(u *userState, p, st string) {
	if st == "FLN" {
		u.offline[strings.ToLower(p)] = true
		cv.s2c(u.ns, flnLine(u.version, p), cv.presenceEvent(u.ns, p, "FLN"))
		return
	}
	delete(u.offline, strings.ToLower(p))
	cv.s2c(u.ns, cv.presenceLine("NLN", "", u.version, st, p), cv.presenceEvent(u.ns, p, st))
}

func (cv *Conversation) addContact(u *userState, p string) {
	c := u.ns
	v := u.version
	if !containsFold(u.contacts, p) {
		u.contacts = append(u.contacts, p)
	}
	if v >= 13 {
		cv.adl(u, []string{p}, 1)
		return
	}
	t := c.nextTrid()
	e := cv.ev(c, true, decoder.KindContactAdd)
	e.Contact = p
	nick := urlEncode(cv.nickOf(p))
	switch {
	case v < 10:
		cv.c2s(c, "ADD "+t+" FL "+p+" "+nick, e)
		line := "ADD " + t + " FL " + itoa(cv.r.between(13, 999)) + " " + p + " " + nick
		if v >= 8 {
			line += " 0"
		}
		cv.s2c(c, line)
	default:
		cv.c2s(c, "ADC "+t+" FL N="+p+" F="+nick, e)
		g := cv.guid()
		cv.s2c(c, "ADC "+t+" FL N="+p+" F="+nick+" C="+g[1:len(g)-1])
	}
}

func (cv *Conversation) setNick(u *userState, nick string) {
	c := u.ns
	t := c.nextTrid()
	e := cv.ev(c, true, decoder.KindNickname)
	e.Nick = nick
	enc := urlEncode(nick)
	if u.version < 10 {
		cv.c2s(c, "REA "+t+" "+u.passport+" "+enc, e)
		cv.s2c(c, "REA "+t+" "+itoa(cv.r.between(13, 999))+" "+u.passport+" "+enc)
	} else {
		cv.c2s(c, "PRP "+t+" MFN "+enc, e)
		cv.s2c(c, "PRP "+t+" MFN "+enc)
	}
	u.nick = nick
}

func (cv *Conversation) logout(u *userState) {
	c := u.ns
	for _, id := range sortedKeys(u.sb) {
		if ch := cv.chats[id]; ch != nil {
			cv.leave(ch, u.passport)
		}
	}
	wasVisible := u.visible()
	cv.c2s(c, "OUT", cv.ev(c, true, decoder.KindLogout))
	cv.close(c, false)
	u.ns = nil
	u.status = ""
	u.announced = false
	if wasVisible == "" {
		return
	}
	for _, o := range cv.userList() {
		if o == u || o.ns == nil || !containsFold(o.contacts, u.passport) {
			continue
		}
		cv.s2c(o.ns, flnLine(o.version, u.passport), cv.presenceEvent(o.ns, u.passport, "FLN"))
	}
}

// ---- switchboards ----

func (cv *Conversation) openChat(u *userState, id int) *chatState {
	c := u.ns
	v := u.version
	ch := &chatState{id: id, sb4: cv.net.sb(false), sb6: cv.net.sb(true), sessID: itoa(cv.r.between(10000000, 99999999))}
	cv.chats[id] = ch
	cv.switchboards++
	sb := ch.sb4
	if u.v6 {
		sb = ch.sb6
	}
	t := c.nextTrid()
	cookie := itoa(cv.r.between(10000000, 99999999)) + "." + itoa(cv.r.between(1000000000, 1999999999)) + "." + itoa(cv.r.between(10000, 99999))
	cv.c2s(c, "XFR "+t+" SB")
	line := "XFR " + t + " SB " + sb.String() + " CKI " + cookie
	if v >= 13 {
		line += " U messenger.example.com 1"
	}
	cv.s2c(c, line)

	s := cv.open(u, sb, decoder.RoleSwitchboard)
	u.sb[id] = s
	s.view = append(s.view, u.passport)
	ch.members = append(ch.members, member{passport: u.passport, conn: s})
	t = s.nextTrid()
	ep := cv.endpoint(u.passport, v)
	cv.c2s(s, "USR "+t+" "+ep+" "+cookie, cv.ev(s, true, decoder.KindSessionStart))
	cv.s2c(s, "USR "+t+" OK "+ep+" "+urlEncode(u.nick))
	return ch
}

// joinEvent is the session_join of p on c, whose view already has p.
func (cv *Conversation) joinEvent(c *Conn, p string) decoder.Event {
	e := cv.ev(c, false, decoder.KindSessionJoin)
	e.From = p
	e.Contact = p
	e.To = others(c.view, p)
	return e
}

func (cv *Conversation) invite(ch *chatState, from *userState, w string) error {
	if ch.index(w) >= 0 {
		return fmt.Errorf("msngen: invite %s into chat %d: already a member: %w", w, ch.id, ErrBadOption)
	}
	fc := from.sb[ch.id]
	t := fc.nextTrid()
	cv.c2s(fc, "CAL "+t+" "+w)
	cv.s2c(fc, "CAL "+t+" RINGING "+ch.sessID)

	var wc *Conn
	if o := cv.user(w); o != nil && o.ns != nil {
		// A captured, logged-in user: RNG on its NS, then its own
		// switchboard connection.
		sb := ch.sb4
		if o.v6 {
			sb = ch.sb6
		}
		cookie := itoa(cv.r.between(100000000, 999999999)) + "." + itoa(cv.r.between(100000000, 999999999))
		line := "RNG " + ch.sessID + " " + sb.String() + " CKI " + cookie + " " + from.passport + " " + urlEncode(from.nick)
		if o.version >= 13 {
			line += " U messenger.example.com 1"
		}
		cv.s2c(o.ns, line)
		wc = cv.open(o, sb, decoder.RoleSwitchboard)
		o.sb[ch.id] = wc
		// The answering side learns of the owner (ANS), then of the
		// members already there (IRO, in their order of joining).
		wc.view = append(wc.view, o.passport)
		t := wc.nextTrid()
		cv.c2s(wc, "ANS "+t+" "+cv.endpoint(o.passport, o.version)+" "+cookie+" "+ch.sessID, cv.ev(wc, true, decoder.KindSessionStart))
		n := len(ch.members)
		for i, m := range ch.members {
			line := "IRO " + t + " " + itoa(i+1) + " " + itoa(n) + " " + cv.endpoint(m.passport, o.version) + " " + urlEncode(cv.nickOf(m.passport))
			if o.version >= 12 {
				line += " " + cv.clientIDOf(m.passport, o.version)
			}
			wc.view = append(wc.view, m.passport)
			cv.s2c(wc, line, cv.joinEvent(wc, m.passport))
		}
		cv.s2c(wc, "ANS "+t+" OK")
	}
	for _, m := range ch.members {
		if m.conn == nil {
			continue
		}
		v := m.conn.Version
		line := "JOI " + cv.endpoint(w, v) + " " + urlEncode(cv.nickOf(w))
		if v >= 12 {
			line += " " + cv.clientIDOf(w, v)
		}
		m.conn.view = append(m.conn.view, w)
		cv.s2c(m.conn, line, cv.joinEvent(m.conn, w))
	}
	ch.members = append(ch.members, member{passport: w, conn: wc})
	return nil
}

func (cv *Conversation) clientIDOf(p string, v int) string {
	if o := cv.user(p); o != nil {
		return clientID(o.version)
	}
	return clientID(v)
}

// others is view without p, in order (a new slice).
func others(view []string, p string) []string {
	var out []string
	for _, x := range view {
		if !strings.EqualFold(x, p) {
			out = append(out, x)
		}
	}
	return out
}

func (cv *Conversation) say(ch *chatState, a *Action) error {
	sender := ch.members[ch.index(a.User)].passport
	var m mime
	var kind decoder.Kind
	ack := "A"
	switch a.Op {
	case OpSay:
		var err error
		m, err = textMIME(cv.r, a.Text, strings.EqualFold(a.Charset, "gb2312"))
		if err != nil {
			return err
		}
		kind = decoder.KindMessage
	case OpTyping:
		m, kind, ack = typingMIME(sender), decoder.KindTyping, "U"
	case OpFileInvite:
		m, kind, ack = inviteMIME(cv.r), decoder.KindFileInvite, "N"
	case OpP2P:
		to := sender
		for _, x := range ch.members {
			if !strings.EqualFold(x.passport, sender) {
				to = x.passport
				break
			}
		}
		m, kind, ack = p2pMIME(cv.r, sender, to), decoder.KindP2P, "D"
	case OpCaps:
		m, kind, ack = capsMIME(), decoder.KindInfo, "U"
	}
	mk := func(c *Conn, fromClient bool) decoder.Event {
		e := cv.ev(c, fromClient, kind)
		e.From = sender
		e.To = others(c.view, sender)
		e.Body = m.body
		e.ContentType = m.contentType
		e.Charset = m.charset
		if m.format != nil {
			e.Format = &decoder.Format{Font: m.format.font, Effects: m.format.effects, Color: m.format.color, Charset: m.format.charset, Pitch: m.format.pitch}
		}
		e.Raw = m.raw
		return e
	}
	for _, mb := range ch.members {
		if mb.conn == nil {
			continue
		}
		c := mb.conn
		if strings.EqualFold(mb.passport, sender) {
			t := c.nextTrid()
			cv.send(c, true, payload("MSG "+t+" "+ack, m.raw), mk(c, true))
			if ack == "A" || ack == "D" {
				cv.s2c(c, "ACK "+t)
			}
			continue
		}
	}
	for _, mb := range ch.members {
		if mb.conn == nil || strings.EqualFold(mb.passport, sender) {
			continue
		}
		cv.send(mb.conn, false, payload("MSG "+sender+" "+urlEncode(cv.nickOf(sender)), m.raw), mk(mb.conn, false))
	}
	return nil
}

func (cv *Conversation) leave(ch *chatState, p string) {
	i := ch.index(p)
	if i < 0 {
		return
	}
	m := ch.members[i]
	ch.members = slices.Delete(ch.members, i, i+1)
	if m.conn != nil {
		e := cv.ev(m.conn, true, decoder.KindSessionLeave)
		e.From = m.passport
		e.Contact = m.passport
		e.To = others(m.conn.view, m.passport)
		cv.c2s(m.conn, "OUT", e)
		cv.close(m.conn, false)
		if u := cv.user(m.passport); u != nil {
			delete(u.sb, ch.id)
		}
	}
	for _, o := range ch.members {
		if o.conn == nil {
			continue
		}
		o.conn.view = others(o.conn.view, m.passport)
		e := cv.ev(o.conn, false, decoder.KindSessionLeave)
		e.From = m.passport
		e.Contact = m.passport
		e.To = others(o.conn.view, m.passport)
		cv.s2c(o.conn, "BYE "+cv.endpoint(m.passport, o.conn.Version), e)
	}
	captured := false
	for _, o := range ch.members {
		if o.conn != nil {
			captured = true
		}
	}
	if !captured {
		delete(cv.chats, ch.id)
	}
}
