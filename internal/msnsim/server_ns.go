package msnsim

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Every handler runs with srv.mu held.

func (c *sconn) handleVER(cmd *command) bool {
	best := 0
	for _, v := range parseVersions(cmd.Args) {
		if v >= minVersion && v <= maxVersion && v > best {
			best = v
		}
	}
	if best == 0 {
		c.reply("VER", cmd.trid(), "0")
		c.closeAfterFlush()
		return false
	}
	c.ver, c.hasVer = proto(best), true
	c.reply("VER", cmd.trid(), c.ver.String(), "CVR0")
	return true
}

func (c *sconn) handleCVR(cmd *command) {
	if !c.hasVer {
		c.fail(codeNotExpected, cmd.trid())
		return
	}
	c.reply("CVR", cmd.trid(), "8.5.1288", "8.5.1288", "8.1.0178",
		"http://msnsim.invalid/download", "http://msnsim.invalid/info")
}

// authPackage is the USR security package of the negotiated version.
func (c *sconn) authPackage() string {
	if c.ver.sso() {
		return "SSO"
	}
	return "TWN"
}

func (c *sconn) handleDispatch(cmd *command) {
	switch cmd.Verb {
	case "VER":
		c.handleVER(cmd)
	case "CVR":
		c.handleCVR(cmd)
	case "USR":
		if !c.hasVer {
			c.fail(codeNotExpected, cmd.trid())
			return
		}
		if len(cmd.Args) < 4 || cmd.Args[1] != c.authPackage() || cmd.Args[2] != "I" {
			c.fail(codeAuthFailed, cmd.trid())
			return
		}
		if !validPassport(cmd.Args[3]) {
			c.fail(codeInvalidName, cmd.trid())
			return
		}
		ns := c.srv.adv[1]
		if c.ver.u() {
			c.reply("XFR", cmd.trid(), "NS", ns, "U", "D")
		} else {
			c.reply("XFR", cmd.trid(), "NS", ns, "0", c.srv.adv[0])
		}
		c.closeAfterFlush()
	case "PNG":
		c.reply("QNG")
	case "OUT":
		c.closeAfterFlush()
	default:
		c.fail(codeSyntax, cmd.trid())
	}
}

func (c *sconn) handleNS(cmd *command) {
	s := c.srv
	trid := cmd.trid()
	switch cmd.Verb {
	case "VER":
		c.handleVER(cmd)
		return
	case "CVR":
		c.handleCVR(cmd)
		return
	case "PNG":
		if c.ver >= 9 {
			c.reply("QNG", "50")
		} else {
			c.reply("QNG")
		}
		return
	case "OUT":
		c.goOffline()
		c.closeAfterFlush()
		return
	case "USR":
		c.handleUSR(cmd)
		return
	}
	if _, known := nsVerbs[cmd.Verb]; !known {
		c.fail(codeSyntax, trid)
		return
	}
	if c.authed != 2 {
		c.fail(codeNotExpected, trid)
		return
	}
	a := c.acct
	switch cmd.Verb {
	case "SYN":
		if !c.ver.syn() {
			c.fail(codeSyntax, trid)
			return
		}
		c.handleSYN(cmd)
	case "GTC":
		if !c.ver.syn() || (cmd.arg(1) != "A" && cmd.arg(1) != "N") {
			c.fail(codeSyntax, trid)
			return
		}
		a.gtc = cmd.arg(1)
		if c.ver.listVersions() {
			a.listVer++
			c.reply("GTC", trid, strconv.Itoa(a.listVer), a.gtc)
		} else {
			c.reply("GTC", trid, a.gtc)
		}
	case "BLP":
		if cmd.arg(1) != "AL" && cmd.arg(1) != "BL" {
			c.fail(codeInvalidParam, trid)
			return
		}
		a.blp = cmd.arg(1)
		if c.ver.listVersions() {
			a.listVer++
			c.reply("BLP", trid, strconv.Itoa(a.listVer), a.blp)
		} else {
			c.reply("BLP", trid, a.blp)
		}
	case "CHG":
		c.handleCHG(cmd)
	case "ADD", "ADC", "ADL":
		if cmd.Verb != c.ver.addVerb() {
			c.fail(codeSyntax, trid)
			return
		}
		c.handleAdd(cmd)
	case "REA":
		if c.ver.prp() || len(cmd.Args) < 3 {
			c.fail(codeSyntax, trid)
			return
		}
		if normPassport(cmd.Args[1]) != c.passport {
			// Renaming a contact locally: acknowledged, not propagated.
			a.listVer++
			c.reply("REA", trid, strconv.Itoa(a.listVer), cmd.Args[1], cmd.Args[2])
			return
		}
		if !c.setNick(cmd.Args[2], trid) {
			return
		}
		a.listVer++
		c.reply("REA", trid, strconv.Itoa(a.listVer), c.passport, encodeNick(a.nick))
		c.notifyPresence()
	case "PRP":
		if !c.ver.prp() || len(cmd.Args) < 2 {
			c.fail(codeSyntax, trid)
			return
		}
		if cmd.Args[1] != "MFN" {
			// Phone numbers and the like: echoed, not stored.
			c.reply("PRP", cmd.Args...)
			return
		}
		if len(cmd.Args) < 3 || !c.setNick(cmd.Args[2], trid) {
			if len(cmd.Args) < 3 {
				c.fail(codeInvalidParam, trid)
			}
			return
		}
		c.reply("PRP", trid, "MFN", encodeNick(a.nick))
		c.notifyPresence()
	case "UUX":
		if !c.ver.uux() {
			c.fail(codeSyntax, trid)
			return
		}
		a.psm = slices.Clone(cmd.Payload)
		c.reply("UUX", trid, "0")
		if visible(c.status) {
			for _, w := range s.watchers(c) {
				w.sendUBX(c)
			}
		}
	case "XFR":
		if cmd.arg(1) != "SB" {
			c.fail(codeInvalidParam, trid)
			return
		}
		if !visible(c.status) {
			c.fail(codeHidden, trid)
			return
		}
		cookie := s.newTicket(&ticket{passport: c.passport, nick: a.nick, clientID: c.clientID, ver: c.ver})
		if cookie == "" {
			c.fail(codeServerBusy, trid)
			return
		}
		args := []string{trid, "SB", s.adv[2], "CKI", cookie}
		if c.ver.u() {
			args = append(args, "U", "messenger.msn.com")
		}
		if c.ver.networkID() {
			args = append(args, "1")
		}
		c.reply("XFR", args...)
	}
}

// nsVerbs are the NS commands handled after login.
var nsVerbs = map[string]struct{}{
	"SYN": {}, "GTC": {}, "BLP": {}, "CHG": {}, "ADD": {}, "ADC": {}, "ADL": {},
	"REA": {}, "PRP": {}, "UUX": {}, "XFR": {},
}

// setNick validates and stores an encoded friendly name; on error it
// answers the request and returns false.
func (c *sconn) setNick(enc, trid string) bool {
	if len(enc) > 387 {
		c.fail(codeInvalidParam, trid)
		return false
	}
	nick := decodeNick(enc)
	if nick == "" {
		c.fail(codeInvalidParam, trid)
		return false
	}
	c.acct.nick = nick
	return true
}

func (c *sconn) handleUSR(cmd *command) {
	s := c.srv
	trid := cmd.trid()
	if !c.hasVer || c.authed == 2 {
		c.fail(codeNotExpected, trid)
		return
	}
	if len(cmd.Args) < 4 || cmd.Args[1] != c.authPackage() {
		c.fail(codeAuthFailed, trid)
		return
	}
	switch cmd.Args[2] {
	case "I":
		if !validPassport(cmd.Args[3]) {
			c.fail(codeInvalidName, trid)
			return
		}
		c.passport = normPassport(cmd.Args[3])
		c.authed = 1
		if c.ver.sso() {
			nonce := make([]byte, 48)
			copy(nonce, randomHex(24))
			c.reply("USR", trid, "SSO", "S", "MBI_KEY_OLD", base64.StdEncoding.EncodeToString(nonce))
		} else {
			c.reply("USR", trid, "TWN", "S", "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct="+
				strconv.FormatInt(time.Now().Unix(), 10)+",kpp=1,kv=5,ver=2.1.0173.1,tpf="+randomHex(16))
		}
	case "S":
		// Any ticket (TWN) or token and response (SSO) is accepted.
		if c.authed != 1 || (c.ver.sso() && len(cmd.Args) < 5) {
			c.fail(codeAuthFailed, trid)
			return
		}
		a := s.accounts[c.passport]
		if a == nil && len(s.accounts) >= s.cfg.MaxAccounts {
			c.fail(codeServerBusy, trid)
			return
		}
		if old := s.online[c.passport]; old != nil && old != c {
			old.reply("OUT", "OTH")
			old.goOffline()
			old.closeAfterFlush()
		}
		if a == nil {
			a = &account{passport: c.passport, nick: c.passport, fl: map[string]bool{}, al: map[string]bool{},
				bl: map[string]bool{}, gtc: "A", blp: "AL"}
			s.accounts[c.passport] = a
		}
		c.acct = a
		c.authed = 2
		c.status = ""
		s.online[c.passport] = c
		s.logins.Add(1)
		if c.ver.nickInUSR() {
			c.reply("USR", trid, "OK", c.passport, encodeNick(a.nick), "1", "0")
		} else {
			c.reply("USR", trid, "OK", c.passport, "1", "0")
		}
		if c.ver.sbs() {
			c.reply("SBS", "0", "null")
		}
		c.send(withPayload("MSG", c.profile(), "Hotmail", "Hotmail"))
	default:
		c.fail(codeAuthFailed, trid)
	}
}

// profile is the initial text/x-msmsgsprofile message after login.
func (c *sconn) profile() []byte {
	ip, port := "127.0.0.1", "0"
	if h, p, err := net.SplitHostPort(c.nc.RemoteAddr().String()); err == nil {
		ip, port = h, p
	}
	var b strings.Builder
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\n")
	fmt.Fprintf(&b, "LoginTime: %d\r\n", time.Now().Unix())
	b.WriteString("EmailEnabled: 0\r\nMemberIdHigh: 0\r\n")
	fmt.Fprintf(&b, "MemberIdLow: %d\r\n", c.id)
	b.WriteString("lang_preference: 1033\r\npreferredEmail: \r\ncountry: \r\nPostalCode: \r\nGender: \r\nKid: 0\r\nAge: \r\n")
	b.WriteString("BDayPre: \r\nBirthday: \r\nWallet: \r\nFlags: 1027\r\nsid: 507\r\nkv: 5\r\n")
	fmt.Fprintf(&b, "MSPAuth: %s\r\nClientIP: %s\r\nClientPort: %s\r\n\r\n", randomHex(16), ip, port)
	return []byte(b.String())
}

func (c *sconn) handleSYN(cmd *command) {
	a := c.acct
	trid := cmd.trid()
	contacts := c.srv.listMembers(a)
	if c.ver.listVersions() {
		if cmd.arg(1) == strconv.Itoa(a.listVer) {
			c.reply("SYN", trid, strconv.Itoa(a.listVer))
			return
		}
		c.reply("SYN", trid, strconv.Itoa(a.listVer), strconv.Itoa(len(contacts)), "1")
		c.reply("GTC", a.gtc)
		c.reply("BLP", a.blp)
		c.reply("LSG", "0", "Other%20Contacts", "0")
		for _, m := range contacts {
			args := []string{m.passport, encodeNick(m.nick), strconv.Itoa(m.lists)}
			if m.lists&1 != 0 {
				args = append(args, "0")
			}
			c.reply("LST", args...)
		}
		return
	}
	ts1, ts2 := cmd.arg(1), cmd.arg(2)
	if ts1 == "" || ts1 == "0" {
		ts1 = time.Now().UTC().Format("2006-01-02T15:04:05.0000000-07:00")
	}
	if ts2 == "" || ts2 == "0" {
		ts2 = ts1
	}
	c.reply("SYN", trid, ts1, ts2, strconv.Itoa(len(contacts)), "0")
	c.reply("GTC", a.gtc)
	c.reply("BLP", a.blp)
	c.reply("PRP", "MFN", encodeNick(a.nick))
	for _, m := range contacts {
		args := []string{"N=" + m.passport, "F=" + encodeNick(m.nick)}
		if m.lists&1 != 0 {
			args = append(args, "C="+contactGUID(m.passport))
		}
		args = append(args, strconv.Itoa(m.lists))
		c.reply("LST", args...)
	}
}

type listMember struct {
	passport, nick string
	lists          int // FL 1, AL 2, BL 4, RL 8
}

// listMembers returns a's contacts with their list bits, sorted.
func (s *Server) listMembers(a *account) []listMember {
	bits := map[string]int{}
	for p := range a.fl {
		bits[p] |= 1
	}
	for p := range a.al {
		bits[p] |= 2
	}
	for p := range a.bl {
		bits[p] |= 4
	}
	for p, o := range s.accounts {
		if o.fl[a.passport] {
			bits[p] |= 8
		}
	}
	out := make([]listMember, 0, len(bits))
	for p, b := range bits {
		nick := p
		if o := s.accounts[p]; o != nil {
			nick = o.nick
		}
		out = append(out, listMember{passport: p, nick: nick, lists: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].passport < out[j].passport })
	return out
}

// contactGUID is a stable contact ID for ADC/LST C= in MSNP10-12.
func contactGUID(passport string) string {
	h := md5.Sum([]byte(passport))
	x := hex.EncodeToString(h[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func (c *sconn) handleCHG(cmd *command) {
	s := c.srv
	trid := cmd.trid()
	status := cmd.arg(1)
	if !validStatus(status) {
		c.fail(codeInvalidParam, trid)
		return
	}
	old := c.status
	c.status = status
	c.clientID = "0"
	if len(cmd.Args) > 2 {
		c.clientID = cmd.Args[2]
	}
	c.reply("CHG", cmd.Args...)
	switch {
	case visible(status) && !visible(old):
		// Coming online: the contacts already online, then tell the watchers.
		for _, p := range sortedKeys(c.acct.fl) {
			if o := s.online[p]; o != nil && visible(o.status) {
				c.sendPresence(o, trid)
			}
		}
		c.notifyPresence()
	case visible(status):
		c.notifyPresence()
	case visible(old):
		s.notifyOffline(c)
	}
}

// handleAdd adds contacts with ADD (MSNP8/9), ADC (10-12) or ADL (13+).
func (c *sconn) handleAdd(cmd *command) {
	s := c.srv
	a := c.acct
	trid := cmd.trid()
	var added []string
	add := func(list, p string) int {
		if !validPassport(p) {
			return codeInvalidName
		}
		p = normPassport(p)
		var m map[string]bool
		switch list {
		case "FL":
			m = a.fl
		case "AL":
			m = a.al
		case "BL":
			m = a.bl
		default:
			return codeInvalidParam
		}
		if m[p] {
			return codeAlreadyIn
		}
		if len(m) >= s.cfg.MaxContacts {
			return codeListFull
		}
		m[p] = true
		if list == "FL" {
			added = append(added, p)
		}
		return 0
	}
	switch cmd.Verb {
	case "ADD":
		// ADD trid list passport nick [group]
		if len(cmd.Args) < 4 {
			c.fail(codeSyntax, trid)
			return
		}
		if code := add(cmd.Args[1], cmd.Args[2]); code != 0 {
			c.fail(code, trid)
			return
		}
		a.listVer++
		args := []string{trid, cmd.Args[1], strconv.Itoa(a.listVer), normPassport(cmd.Args[2]), cmd.Args[3]}
		if cmd.Args[1] == "FL" {
			g := "0"
			if len(cmd.Args) > 4 {
				g = cmd.Args[4]
			}
			args = append(args, g)
		}
		c.reply("ADD", args...)
	case "ADC":
		// ADC trid list N=passport [F=nick]
		var p, f string
		for _, t := range cmd.Args[min(1, len(cmd.Args)):] {
			switch {
			case strings.HasPrefix(t, "N="):
				p = t[2:]
			case strings.HasPrefix(t, "F="):
				f = t[2:]
			}
		}
		list := cmd.arg(1)
		if p == "" {
			c.fail(codeSyntax, trid)
			return
		}
		if code := add(list, p); code != 0 {
			c.fail(code, trid)
			return
		}
		p = normPassport(p)
		if list == "FL" {
			if f == "" {
				f = p
			}
			c.reply("ADC", trid, list, "N="+p, "F="+f, "C="+contactGUID(p))
		} else {
			c.reply("ADC", trid, list, "N="+p)
		}
	case "ADL":
		var doc adlDoc
		if err := xml.Unmarshal(cmd.Payload, &doc); err != nil || doc.XMLName.Local != "ml" {
			c.fail(codeInvalidParam, trid)
			return
		}
		for _, d := range doc.Domains {
			for _, ct := range d.Contacts {
				l, err := strconv.Atoi(ct.L)
				if err != nil || l <= 0 {
					c.fail(codeInvalidParam, trid)
					return
				}
				p := ct.N + "@" + d.N
				for _, bl := range [...]struct {
					bit  int
					list string
				}{{1, "FL"}, {2, "AL"}, {4, "BL"}} {
					bit, list := bl.bit, bl.list
					if l&bit == 0 {
						continue
					}
					// ADL is idempotent: re-adding a contact is not an error.
					if code := add(list, p); code != 0 && code != codeAlreadyIn {
						c.fail(code, trid)
						return
					}
				}
			}
		}
		c.reply("ADL", trid, "OK")
	}
	if visible(c.status) {
		for _, p := range added {
			if o := s.online[p]; o != nil && visible(o.status) {
				if c.ver.u() {
					c.sendPresence(o, "")
				} else {
					c.sendPresence(o, trid)
				}
			}
		}
	}
}

// adlDoc is an ADL payload: <ml l="1"><d n="domain"><c n="user" l="3" t="1"/></d></ml>.
type adlDoc struct {
	XMLName xml.Name `xml:"ml"`
	Domains []struct {
		N        string `xml:"n,attr"`
		Contacts []struct {
			N string `xml:"n,attr"`
			L string `xml:"l,attr"`
			T string `xml:"t,attr"`
		} `xml:"c"`
	} `xml:"d"`
}

// watchers are the visible-or-hidden online users (other than c) who have
// c in their forward list and are signed in with a status.
func (s *Server) watchers(c *sconn) []*sconn {
	var out []*sconn
	for _, p := range sortedKeys(s.online) {
		w := s.online[p]
		if w == c || w.status == "" || w.acct == nil || !w.acct.fl[c.passport] {
			continue
		}
		out = append(out, w)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// notifyPresence sends c's current status (NLN) to its watchers, if visible.
func (c *sconn) notifyPresence() {
	if !visible(c.status) {
		return
	}
	for _, w := range c.srv.watchers(c) {
		w.sendPresence(c, "")
	}
}

func (s *Server) notifyOffline(c *sconn) {
	for _, w := range s.watchers(c) {
		if w.ver.networkID() {
			w.reply("FLN", c.passport, "1")
		} else {
			w.reply("FLN", c.passport)
		}
	}
}

// sendPresence tells w about o: ILN (with trid) or NLN, in w's version.
func (w *sconn) sendPresence(o *sconn, trid string) {
	var args []string
	verb := "NLN"
	if trid != "" {
		verb = "ILN"
		args = append(args, trid)
	}
	args = append(args, o.status, o.passport)
	if w.ver.networkID() {
		args = append(args, "1")
	}
	args = append(args, encodeNick(o.acct.nick), o.clientID)
	w.reply(verb, args...)
	if w.ver.uux() && len(o.acct.psm) > 0 {
		w.sendUBX(o)
	}
}

func (w *sconn) sendUBX(o *sconn) {
	if !w.ver.uux() {
		return
	}
	if w.ver.networkID() {
		w.send(withPayload("UBX", o.acct.psm, o.passport, "1"))
	} else {
		w.send(withPayload("UBX", o.acct.psm, o.passport))
	}
}
