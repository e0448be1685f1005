package capture

import "errors"

// Sentinel errors, for errors.Is.
var (
	// ErrUnknownFormat: the input is neither pcap nor pcapng (nor a gzip of
	// one of them).
	ErrUnknownFormat = errors.New("not a pcap or pcapng capture")
	// ErrNotSupported: live capture is not available on this system.
	ErrNotSupported = errors.New("live capture not supported on this system")
	// ErrTimeout is returned by a live Source's ReadPacket when no packet
	// arrived within its poll timeout; reading can go on. Run handles it.
	ErrTimeout = errors.New("no packet before the poll timeout")
	// ErrBadFilter: a filter expression could not be parsed.
	ErrBadFilter = errors.New("bad filter")
)
