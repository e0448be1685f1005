package x1

import (
	"errors"
	"fmt"
)

// ErrorCode is a TS 103 221-1 errorCode (ErrorInformation).
type ErrorCode int

// The error codes RCDS uses (DESIGN.md, "X1 semantics").
const (
	CodeGeneric              ErrorCode = 1000 // generic error
	CodeSyntax               ErrorCode = 1010 // syntax or schema error in the request
	CodeUnsupportedVersion   ErrorCode = 1020 // version is not v1.x.y
	CodeUnsupportedRequest   ErrorCode = 1080 // request type not supported by this NE
	CodeXIDExists            ErrorCode = 2010
	CodeXIDNotFound          ErrorCode = 2020
	CodeDIDExists            ErrorCode = 2030
	CodeDIDNotFound          ErrorCode = 2040
	CodeActivateFailed       ErrorCode = 3000 // generic ActivateTask failure (also unsupported target type)
	CodeModifyFailed         ErrorCode = 3001 // generic ModifyTask failure
	CodeInvalidDeliveryCombo ErrorCode = 3040 // deliveryType / destinations do not fit
	CodeDestinationInUse     ErrorCode = 7010
)

// Descriptions longer than this are cut (they echo request content).
const maxErrorDescription = 1024

// Sentinel errors of the registry; callers branch with errors.Is. Each maps
// to an ETSI error code (see CodeFor).
var (
	ErrXIDExists          = errors.New("x1: XID already exists")
	ErrXIDNotFound        = errors.New("x1: XID does not exist")
	ErrDIDExists          = errors.New("x1: DID already exists")
	ErrDIDNotFound        = errors.New("x1: DID does not exist")
	ErrDestinationInUse   = errors.New("x1: destination in use")
	ErrUnsupportedTarget  = errors.New("x1: unsupported target identifier type")
	ErrDeliveryCombo      = errors.New("x1: delivery type not covered by the destinations")
	ErrInvalidTask        = errors.New("x1: invalid task")
	ErrInvalidDestination = errors.New("x1: invalid destination")
	ErrSyntax             = errors.New("x1: syntax or schema error")
	ErrUnsupportedVersion = errors.New("x1: unsupported version")
	ErrUnsupportedRequest = errors.New("x1: unsupported request")
	// ErrTopLevel is returned by the client when the server answered with
	// an X1TopLevelErrorResponse.
	ErrTopLevel = errors.New("x1: top-level error response")
)

// codedError carries the ETSI description that goes on the wire (for the
// ID errors the bare XID or DID, as the sipgate fixtures check) next to
// the sentinel it wraps.
type codedError struct {
	sentinel error
	desc     string
}

func (e *codedError) Error() string { return e.sentinel.Error() + ": " + e.desc }
func (e *codedError) Unwrap() error { return e.sentinel }

func errorf(sentinel error, format string, args ...any) error {
	return &codedError{sentinel: sentinel, desc: fmt.Sprintf(format, args...)}
}

// CodeFor returns the ETSI error code for err when it answers a request of
// type rt (3000 vs 3001 depend on the request) and the description to put
// on the wire.
func CodeFor(rt RequestType, err error) (ErrorCode, string) {
	desc := err.Error()
	var ce *codedError
	if errors.As(err, &ce) {
		desc = ce.desc
	}
	generic := CodeGeneric
	switch rt {
	case ReqActivateTask:
		generic = CodeActivateFailed
	case ReqModifyTask:
		generic = CodeModifyFailed
	}
	var code ErrorCode
	switch {
	case errors.Is(err, ErrXIDExists):
		code = CodeXIDExists
	case errors.Is(err, ErrXIDNotFound):
		code = CodeXIDNotFound
	case errors.Is(err, ErrDIDExists):
		code = CodeDIDExists
	case errors.Is(err, ErrDIDNotFound):
		code = CodeDIDNotFound
	case errors.Is(err, ErrDestinationInUse):
		code = CodeDestinationInUse
	case errors.Is(err, ErrDeliveryCombo):
		code = CodeInvalidDeliveryCombo
	case errors.Is(err, ErrSyntax):
		code = CodeSyntax
	case errors.Is(err, ErrUnsupportedVersion):
		code = CodeUnsupportedVersion
	case errors.Is(err, ErrUnsupportedRequest):
		code = CodeUnsupportedRequest
	case errors.Is(err, ErrUnsupportedTarget), errors.Is(err, ErrInvalidTask):
		code = generic
	default:
		code = CodeGeneric
	}
	return code, truncate(desc)
}

func truncate(s string) string {
	if len(s) <= maxErrorDescription {
		return s
	}
	cut := maxErrorDescription - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "..."
}

// ResponseError is returned by the client when the server answered a
// request with an ErrorResponse.
type ResponseError struct {
	RequestType RequestType
	Code        ErrorCode
	Description string
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("x1: %s refused: error %d: %s", e.RequestType, e.Code, e.Description)
}

// Is lets errors.Is(err, ErrXIDExists) work on a client-side error too.
func (e *ResponseError) Is(target error) bool {
	switch e.Code {
	case CodeXIDExists:
		return target == ErrXIDExists
	case CodeXIDNotFound:
		return target == ErrXIDNotFound
	case CodeDIDExists:
		return target == ErrDIDExists
	case CodeDIDNotFound:
		return target == ErrDIDNotFound
	case CodeDestinationInUse:
		return target == ErrDestinationInUse
	case CodeInvalidDeliveryCombo:
		return target == ErrDeliveryCombo
	case CodeSyntax:
		return target == ErrSyntax
	case CodeUnsupportedVersion:
		return target == ErrUnsupportedVersion
	case CodeUnsupportedRequest:
		return target == ErrUnsupportedRequest
	}
	return false
}
