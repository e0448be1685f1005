package capture

import (
	"fmt"
	"net/netip"
	"time"
)

// Dir is the direction of bytes within a TCP connection.
type Dir uint8

const (
	// ClientToServer: from the endpoint that opened the connection (sent the SYN),
	// or, for a connection first seen mid-stream, the endpoint heuristically judged
	// to be the client (the other side has a well-known port such as 1863, else
	// a port below 1024, else the lower port; ties: the sender of the first
	// segment seen).
	ClientToServer Dir = iota
	// ServerToClient is the reverse direction.
	ServerToClient
)

func (d Dir) String() string {
	if d == ClientToServer {
		return "c2s"
	}
	return "s2c"
}

// ConnID identifies one TCP connection.
type ConnID struct {
	Client netip.AddrPort
	Server netip.AddrPort
	// Start is the packet time of the first segment seen of this connection.
	Start time.Time
}

// Flow renders the connection as "clientip:port-serverip:port" (the DESIGN.md flow string).
func (c ConnID) Flow() string {
	return fmt.Sprintf("%s-%s", c.Client, c.Server)
}

// CloseReason says why a connection ended.
type CloseReason uint8

const (
	CloseFIN     CloseReason = iota // both sides (or the only seen side) sent FIN
	CloseRST                        // a RST was seen
	CloseIdle                       // no packet for the idle timeout
	CloseEOF                        // the capture ended (file sources)
	CloseEvicted                    // dropped to respect a memory or flow bound
	CloseReused                     // a SYN opened a new connection on the same addresses and ports
)

func (r CloseReason) String() string {
	switch r {
	case CloseFIN:
		return "fin"
	case CloseRST:
		return "rst"
	case CloseIdle:
		return "idle"
	case CloseEOF:
		return "eof"
	case CloseEvicted:
		return "evicted"
	case CloseReused:
		return "reused"
	}
	return "unknown"
}

// Handler receives the reassembled TCP connections of a capture.
// All calls for all connections are made from one goroutine, in packet order.
type Handler interface {
	// Open is called once for each new connection, before any of its data.
	Open(id ConnID) Conn
}

// Conn receives the in-order bytes of one TCP connection in both directions.
type Conn interface {
	// Data delivers bytes in stream order. ts is the time of the packet that
	// completed them. data is only valid during the call.
	Data(dir Dir, data []byte, ts time.Time)
	// Gap reports that n bytes (n < 0: an unknown number) are missing in dir
	// before the next Data call for that direction (lost, dropped by a bound,
	// or cut by snaplen).
	Gap(dir Dir, n int, ts time.Time)
	// Close ends the connection; no call follows it.
	Close(reason CloseReason, ts time.Time)
}
