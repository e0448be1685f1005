package msngen

import (
	"fmt"
	"net/netip"
	"strings"

	"rcds/decoder"
)

// User is a person whose client traffic is captured in a Script.
type User struct {
	Passport string
	// Nick is the friendly name; "" gives a generated one.
	Nick string
	// Version is the MSNP version the user's client speaks (2 to 18);
	// 0 means 15.
	Version int
	// Contacts is the contact list (sent at login with ADL for MSNP13+,
	// received with SYN/LST before). The other Users of the script are
	// added to it, so that they see each other's presence.
	Contacts []string
	// Offline lists the contacts that are offline at login (no ILN).
	Offline []string
}

// Op is what an Action does.
type Op uint8

const (
	// OpLogin: User connects to the dispatch server, is sent to an NS,
	// logs in with its version's authentication, gets its contact list
	// and goes online (CHG NLN, ILN of its online contacts).
	OpLogin Op = iota + 1
	// OpLogout: NS OUT, the server closes the connection.
	OpLogout
	// OpStatus: CHG to status Text (NLN, BSY, IDL, BRB, AWY, PHN, LUN, HDN).
	OpStatus
	// OpAddContact: ADD (MSNP<10), ADC (10-12) or ADL (13+) of Contact.
	OpAddContact
	// OpNick: REA (MSNP<10) or PRP MFN (10+) to friendly name Text.
	OpNick
	// OpPSM: UUX with personal message Text (MSNP11+).
	OpPSM
	// OpContactPresence: a contact outside the script changes status: the
	// NS sends NLN (or FLN when Text is FLN) about Contact to User.
	OpContactPresence
	// OpContactPSM: the NS sends UBX with Contact's personal message Text
	// to User (MSNP11+).
	OpContactPSM
	// OpPing: PNG / QNG on User's NS connection.
	OpPing
	// OpOpenChat: User asks the NS for a switchboard (XFR SB), connects to
	// it (USR) and invites each of With (CAL). Chat numbers it.
	OpOpenChat
	// OpInvite: User invites each of With into Chat.
	OpInvite
	// OpSay: User sends text message Text in Chat (Charset "gb2312" sends
	// the body in that charset).
	OpSay
	// OpTyping: User's typing notification in Chat.
	OpTyping
	// OpFileInvite: User's file-transfer invitation in Chat.
	OpFileInvite
	// OpP2P: User's first P2P (MSNSLP INVITE) message in Chat.
	OpP2P
	// OpCaps: User's text/x-clientcaps message in Chat.
	OpCaps
	// OpLeave: User leaves Chat (SB OUT if captured; BYE to the others).
	OpLeave
)

var opNames = [...]string{"", "login", "logout", "status", "add_contact", "nick", "psm",
	"contact_presence", "contact_psm", "ping", "open_chat", "invite", "say", "typing",
	"file_invite", "p2p", "caps", "leave"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", o)
}

// Action is one step of a Script.
type Action struct {
	Op   Op
	User string // who acts; for chat lines any member of the chat
	Chat int    // switchboard number (OpOpenChat names it)
	// With are the passports invited (OpOpenChat, OpInvite). Those that
	// are logged-in Users answer on their own, captured, switchboard
	// connection; the others only appear in JOI lines.
	With    []string
	Text    string // message text, nick, personal message or status
	Charset string // OpSay: "" (UTF-8) or "gb2312"
	Contact string // OpAddContact, OpContactPresence, OpContactPSM
}

// Script is an explicit conversation: the captured users and what they
// do, in order. Generate plays it (Options.Script); NewConversation turns
// it into the MSNP transcript for any other player.
type Script struct {
	Users   []User
	Actions []Action
}

func (s *Script) validate() error {
	seen := map[string]bool{}
	for _, u := range s.Users {
		if !validPassport(u.Passport) {
			return fmt.Errorf("msngen: script user %q is not a passport: %w", u.Passport, ErrBadOption)
		}
		if seen[strings.ToLower(u.Passport)] {
			return fmt.Errorf("msngen: script user %q twice: %w", u.Passport, ErrBadOption)
		}
		seen[strings.ToLower(u.Passport)] = true
		if u.Version != 0 && (u.Version < 2 || u.Version > 18) {
			return fmt.Errorf("msngen: script user %q: version %d: %w", u.Passport, u.Version, ErrBadOption)
		}
	}
	for i, a := range s.Actions {
		if a.Op == 0 || int(a.Op) >= len(opNames) {
			return fmt.Errorf("msngen: script action %d: unknown op %d: %w", i, a.Op, ErrBadOption)
		}
		if !validPassport(a.User) {
			return fmt.Errorf("msngen: script action %d (%s): user %q: %w", i, a.Op, a.User, ErrBadOption)
		}
		for _, w := range a.With {
			if !validPassport(w) {
				return fmt.Errorf("msngen: script action %d (%s): invitee %q: %w", i, a.Op, w, ErrBadOption)
			}
		}
		if a.Contact != "" && !validPassport(a.Contact) {
			return fmt.Errorf("msngen: script action %d (%s): contact %q: %w", i, a.Op, a.Contact, ErrBadOption)
		}
		if a.Charset != "" && !strings.EqualFold(a.Charset, "gb2312") {
			return fmt.Errorf("msngen: script action %d: charset %q (only gb2312): %w", i, a.Charset, ErrBadOption)
		}
	}
	return nil
}

func validPassport(p string) bool {
	at := strings.IndexByte(p, '@')
	return at > 0 && at < len(p)-1 && !strings.ContainsAny(p, " \t\r\n;%<>\"&'")
}

// StepKind is what a Step does to its connection.
type StepKind uint8

const (
	// StepOpen opens the connection (the client connects).
	StepOpen StepKind = iota
	// StepSend sends Commands in one direction.
	StepSend
	// StepClose closes the connection; FromClient tells who closes first.
	StepClose
)

// Step is one unit of a transcript: a connection opens, one side sends a
// burst of commands, or the connection closes. Steps are causally ordered:
// replaying them in order over real sockets gives a valid MSNP exchange.
type Step struct {
	Kind       StepKind
	Conn       *Conn
	FromClient bool
	Commands   []Command
	// Reply is true when the next step is the other side of the same
	// connection answering at once (its segment carries the ACK).
	Reply bool
}

// Command is one MSNP command as sent (line and payload) with the events
// a decoder must report when its last byte arrives. The events are
// complete except Time and Comm, which depend on the packets (a replay
// over sockets sets them from its own clock and connection start; the
// pcap writer from the packet that completes the command).
type Command struct {
	Data   []byte
	Events []decoder.Event
}

// Conn is one TCP connection of a transcript.
type Conn struct {
	ID      int // 0, 1, 2... in order of opening within a Conversation
	Client  netip.AddrPort
	Server  netip.AddrPort
	Role    decoder.Role
	Owner   string // passport of the client
	Version int
	// Flow is the DESIGN.md flow string "clientip:port-serverip:port".
	Flow string

	trid int
	view []string // SB: members in the order this connection learned of them
	tcp  *tcpConn // writer state (pcap writer only)
}

func (c *Conn) nextTrid() string {
	c.trid++
	return itoa(c.trid)
}
