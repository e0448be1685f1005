package msnsim

// Role is the part a connection plays: the values match decoder.Role.
type Role string

const (
	RoleDispatch Role = "dispatch"
	RoleNS       Role = "ns"
	RoleSB       Role = "sb"
)

// Event kinds used in Message.Kind and Record.Kind. The values are those of
// decoder.Kind (DESIGN.md "Event conventions"); msnsim does not import the
// decoder so that the traffic source stays independent of what it tests.
const (
	KindLogin           = "login"
	KindLogout          = "logout"
	KindPresence        = "presence"
	KindContactAdd      = "contact_add"
	KindNickname        = "nickname"
	KindPersonalMessage = "personal_message"
	KindSessionStart    = "session_start"
	KindSessionJoin     = "session_join"
	KindSessionLeave    = "session_leave"
	KindMessage         = "message"
	KindTyping          = "typing"
	KindFileInvite      = "file_invite"
	KindP2P             = "p2p"
	KindInfo            = "info"
)
