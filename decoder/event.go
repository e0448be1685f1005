package decoder

import (
	"net/netip"
	"time"
)

// Kind names what happened. The values are the `kind` strings of `rcds decode`.
type Kind string

const (
	KindLogin           Kind = "login"
	KindLogout          Kind = "logout"
	KindPresence        Kind = "presence"
	KindContactAdd      Kind = "contact_add"
	KindNickname        Kind = "nickname"
	KindPersonalMessage Kind = "personal_message"
	KindSessionStart    Kind = "session_start"
	KindSessionJoin     Kind = "session_join"
	KindSessionLeave    Kind = "session_leave"
	KindMessage         Kind = "message"
	KindTyping          Kind = "typing"
	KindFileInvite      Kind = "file_invite"
	KindP2P             Kind = "p2p"
	KindInfo            Kind = "info"
	KindError           Kind = "error"
)

// Role is the part a connection plays in its protocol (MSNP: dispatch
// server, notification server or switchboard).
type Role string

const (
	RoleUnknown      Role = ""
	RoleDispatch     Role = "dispatch"
	RoleNotification Role = "ns"
	RoleSwitchboard  Role = "sb"
)

// Event is one protocol-independent thing a user did or received. The JSON
// field names are the `rcds decode --format jsonl` schema (DESIGN.md,
// Contracts, "Event conventions").
type Event struct {
	Kind  Kind      `json:"kind"`
	Time  time.Time `json:"time"`
	Proto string    `json:"proto"`          // "msnp"
	Flow  string    `json:"flow"`           // "clientip:port-serverip:port"
	Role  Role      `json:"role,omitempty"` // ns, sb, dispatch
	// Comm identifies the communication the event belongs to: one NS login
	// session or one switchboard session (one TCP connection). It is a hash of
	// the connection's endpoints and first packet time, so it is stable across
	// runs over the same capture. X2/X3 uses it as the correlation ID.
	Comm uint64 `json:"comm"`
	// FromClient is true when the bytes that produced the event travelled
	// from the client to the server.
	FromClient bool `json:"from_client"`

	User        string   `json:"user,omitempty"` // owner of the connection, when known
	From        string   `json:"from,omitempty"`
	To          []string `json:"to,omitempty"`
	Body        string   `json:"body,omitempty"` // MIME body, UTF-8, byte-exact
	ContentType string   `json:"content_type,omitempty"`
	Charset     string   `json:"charset,omitempty"` // charset named by Content-Type, if any
	Status      string   `json:"status,omitempty"`  // presence code (NLN, BSY, FLN, ...)
	Contact     string   `json:"contact,omitempty"`
	Nick        string   `json:"nick,omitempty"` // URL-decoded
	Format      *Format  `json:"format,omitempty"`
	// Detail is free text for info and error events (never chat text).
	Detail string `json:"detail,omitempty"`

	// Client and Server are the connection's endpoints (Flow, structured).
	Client netip.AddrPort `json:"-"`
	Server netip.AddrPort `json:"-"`
	// Raw is the complete MIME message (headers, blank line, body) of a MSG
	// as sent on the wire, for X3 content. Nil for other events.
	Raw []byte `json:"-"`
}

// Format is the X-MMS-IM-Format header of a text message.
type Format struct {
	Font    string `json:"font,omitempty"`    // FN, URL-decoded
	Effects string `json:"effects,omitempty"` // EF
	Color   string `json:"color,omitempty"`   // CO
	Charset string `json:"charset,omitempty"` // CS
	Pitch   string `json:"pitch,omitempty"`   // PF
}

// Parties returns every identity the event names: the owner, the sender,
// the recipients and the contact, without duplicates or empty strings.
func (e *Event) Parties() []string {
	seen := make(map[string]struct{}, 4+len(e.To))
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		if _, ok := seen[s]; ok {
			return
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}
	add(e.User)
	add(e.From)
	for _, t := range e.To {
		add(t)
	}
	add(e.Contact)
	return out
}

// Emitter receives events. Implementations must not keep e after the call
// returns unless they copy it (decoders may reuse the To slice and Raw).
// Format may be shared by several events and must not be modified.
type Emitter interface {
	Emit(e *Event)
}

// EmitterFunc adapts a function to Emitter.
type EmitterFunc func(e *Event)

// Emit calls f(e).
func (f EmitterFunc) Emit(e *Event) { f(e) }
