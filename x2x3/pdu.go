package x2x3

import (
	"context"
	"net/netip"
	"time"
)

// PDUType is the TS 103 221-2 PDU type.
type PDUType uint16

const (
	TypeX2           PDUType = 1
	TypeX3           PDUType = 2
	TypeKeepalive    PDUType = 3
	TypeKeepaliveAck PDUType = 4
)

// PayloadFormat is the TS 103 221-2 payload format (Table 5.3.3-1).
type PayloadFormat uint16

const (
	FormatReserved   PayloadFormat = 0 // reserved; used by keep-alives and their acks
	FormatETSI102232 PayloadFormat = 1 // ETSI TS 102 232-1 defined payload (IRIPayload / CCPayload)
	FormatMIME       PayloadFormat = 15
)

// Direction is the TS 103 221-2 payload direction.
type Direction uint16

const (
	DirReserved      Direction = 0 // reserved; used by keep-alives and their acks
	DirUnknown       Direction = 1 // direction unknown
	DirToTarget      Direction = 2 // sent to the target
	DirFromTarget    Direction = 3 // sent from the target
	DirMultiple      Direction = 4 // more than one direction
	DirNotApplicable Direction = 5
)

// PDU is one decoded or to-be-encoded X2/X3 PDU.
type PDU struct {
	Version       uint16 // 5 when written; any value is accepted on input
	Type          PDUType
	Format        PayloadFormat
	Direction     Direction
	XID           [16]byte // the task's XID (UUID bytes)
	CorrelationID uint64
	Attrs         Attributes
	Payload       []byte
}

// Attributes are the conditional attributes of a PDU header. Zero values
// are not written.
type Attributes struct {
	SeqNo         *uint32        // 8
	Timestamp     time.Time      // 9 (seconds + nanoseconds)
	Src, Dst      netip.AddrPort // 10-15: addresses (IPv4 or IPv6) and ports
	IPProtocol    uint8          // 16 (6 = TCP)
	MatchedTarget string         // 17
	OtherTarget   []string       // 18, one attribute each
	MIMEType      string         // 19
	MIMEEncoding  string         // 20
	Unknown       []RawAttr      // any other type, kept as read
}

// RawAttr is an attribute whose type this codec does not interpret.
type RawAttr struct {
	Type  uint16
	Value []byte
}

// Sink receives the PDUs a POI produces: a TCP sender to an MDF, a file
// writer, or an MDF in the same process.
type Sink interface {
	// Send hands over one X2 or X3 PDU; the Sink owns it afterwards. An error
	// means the PDU was refused (closed sink, overflow) and is counted by the caller.
	Send(ctx context.Context, p *PDU) error
	// Flush blocks until every PDU sent before it is durably accepted
	// (written to disk, or confirmed by the receiver).
	Flush(ctx context.Context) error
}
