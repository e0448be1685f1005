package msnsim

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch with errors.Is.
var (
	// ErrClosed: the connection (or the client, or the chat) is closed.
	ErrClosed = errors.New("msnsim: closed")
	// ErrLineTooLong: a command line exceeds the configured maximum.
	ErrLineTooLong = errors.New("msnsim: command line too long")
	// ErrPayloadTooLarge: a payload length exceeds the configured maximum.
	ErrPayloadTooLarge = errors.New("msnsim: payload too large")
	// ErrProtocol: the peer sent something that is not valid MSNP here.
	ErrProtocol = errors.New("msnsim: protocol violation")
	// ErrUnsupported: the operation does not exist in the negotiated
	// protocol version (e.g. a personal message in MSNP8).
	ErrUnsupported = errors.New("msnsim: unsupported by this protocol version")
	// ErrNotLoggedIn: the client has no notification-server session.
	ErrNotLoggedIn = errors.New("msnsim: not logged in")
	// ErrNAK: the switchboard refused to deliver a message (NAK).
	ErrNAK = errors.New("msnsim: message not delivered (NAK)")
	// ErrServer matches every *ServerError.
	ErrServer = errors.New("msnsim: server error")
)

// ServerError is a numeric MSNP error reply (e.g. "217 12": the invited user
// is not online).
type ServerError struct {
	Code int
	// Command is the request that was refused.
	Command string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("msnsim: %s refused with error %d (%s)", e.Command, e.Code, errorText(e.Code))
}

// Is makes errors.Is(err, ErrServer) true for every ServerError.
func (e *ServerError) Is(target error) bool { return target == ErrServer }

// MSNP error codes the server uses.
const (
	codeSyntax       = 200 // syntax error / unknown command
	codeInvalidParam = 201 // invalid parameter
	codeInvalidName  = 208 // invalid principal name
	codeListFull     = 210 // list full
	codeAlreadyIn    = 215 // already in the list / in the session
	codeNotOnline    = 217 // principal not online
	codeServerBusy   = 500 // internal server error (tables full)
	codeSessionFull  = 713 // switchboard full
	codeNotExpected  = 715 // not expected in this state
	codeAuthFailed   = 911 // authentication failed
	codeHidden       = 913 // not allowed when offline or hidden
)

func errorText(code int) string {
	switch code {
	case codeSyntax:
		return "syntax error"
	case codeInvalidParam:
		return "invalid parameter"
	case codeInvalidName:
		return "invalid name"
	case codeListFull:
		return "list full"
	case codeAlreadyIn:
		return "already there"
	case codeNotOnline:
		return "user not online"
	case codeServerBusy:
		return "server error"
	case codeSessionFull:
		return "session full"
	case codeNotExpected:
		return "not expected"
	case codeAuthFailed:
		return "authentication failed"
	case codeHidden:
		return "not allowed when hidden"
	}
	return "error"
}
