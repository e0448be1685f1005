package decoder

import (
	"time"

	"rcds/capture"
)

// Verdict is a Protocol's answer to "is this connection yours?".
type Verdict uint8

const (
	NeedMore Verdict = iota // not enough bytes yet to tell
	No                      // certainly not this protocol
	Yes                     // this protocol
)

// Protocol is one application protocol decoder (msnp today; ymsg, xmpp or
// smtp may follow as sibling packages with the same shape). A Protocol may
// keep state across connections (MSNP links switchboards to logins).
type Protocol interface {
	// Name is the short protocol name used in events ("msnp").
	Name() string
	// Detect looks at the first bytes of one direction of a new connection.
	Detect(dir capture.Dir, first []byte) Verdict
	// NewConn returns the decoder of one connection; events go to emit.
	NewConn(id capture.ConnID, emit Emitter) ConnDecoder
}

// ConnDecoder decodes one connection. It has the same shape as capture.Conn.
type ConnDecoder interface {
	Data(dir capture.Dir, data []byte, ts time.Time)
	Gap(dir capture.Dir, n int, ts time.Time)
	Close(reason capture.CloseReason, ts time.Time)
}
