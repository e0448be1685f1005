package x2x3

import "errors"

// Errors of the codec and the stream reader. They are wrapped with the
// operation and the details ("x2x3: read PDU at offset 120: header length
// out of range: 12 < 40"); test for them with errors.Is. Every one of the
// decoding errors means the byte stream cannot be trusted any more: a
// receiver drops the connection.
var (
	// ErrShortHeader: fewer than the 40 bytes of the fixed header.
	ErrShortHeader = errors.New("short header")
	// ErrHeaderLength: the header length is below 40, above MaxHeaderLen,
	// or larger than the PDU that holds it.
	ErrHeaderLength = errors.New("header length out of range")
	// ErrAttrOverrun: a conditional attribute (its 4-byte type and length,
	// or its value) runs past the end of the header.
	ErrAttrOverrun = errors.New("attribute overruns header")
	// ErrPayloadTooLarge: the payload length is above the reader's limit
	// (MaxPayload, 16 MiB, unless a smaller one was given).
	ErrPayloadTooLarge = errors.New("payload too large")
	// ErrTruncated: the input ends inside a PDU. From a Reader it also
	// matches io.ErrUnexpectedEOF.
	ErrTruncated = errors.New("truncated PDU")
	// ErrTrailingData: Unmarshal was given bytes after the end of the PDU.
	ErrTrailingData = errors.New("trailing data after PDU")
	// ErrPDUType: a PDU type other than 1 (X2), 2 (X3), 3 (keep-alive) or
	// 4 (keep-alive acknowledgement).
	ErrPDUType = errors.New("unknown PDU type")
	// ErrKeepalivePayload: a keep-alive or keep-alive acknowledgement with a
	// payload (TS 103 221-2 gives them none).
	ErrKeepalivePayload = errors.New("keep-alive with payload")

	// ErrAttrTooLong: on encoding, an attribute value longer than 65535
	// bytes (the TLV length field is 16 bits).
	ErrAttrTooLong = errors.New("attribute value too long")
	// ErrTimestamp: on encoding, a timestamp before 1970 or after 2106
	// (the attribute holds 32-bit seconds).
	ErrTimestamp = errors.New("timestamp out of range")

	// ErrBufferFull: the Sender's buffer (PDU count or bytes) is full; the
	// PDU was refused and counted in SenderStats.Dropped.
	ErrBufferFull = errors.New("send buffer full")
	// ErrClosed: the Sender or FileSink was closed.
	ErrClosed = errors.New("closed")
	// ErrAckTimeout: a keep-alive was not acknowledged in time; the Sender
	// drops the connection and reconnects.
	ErrAckTimeout = errors.New("keep-alive not acknowledged")
	// ErrRunning: Run was called while another Run of the same Sender is active.
	ErrRunning = errors.New("already running")
)

// malformed reports whether err says the byte stream itself is broken (as
// opposed to an I/O error or a clean end).
func malformed(err error) bool {
	for _, e := range [...]error{ErrShortHeader, ErrHeaderLength, ErrAttrOverrun,
		ErrPayloadTooLarge, ErrTruncated, ErrTrailingData, ErrPDUType, ErrKeepalivePayload} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
