package decoder

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// CommID is the Comm of an event: the 64-bit FNV-1a hash of the
// connection's client endpoint, server endpoint and start time, so that it
// is stable across runs over the same capture and the same for every event
// of one connection (one NS login session or one switchboard session).
//
// The hashed bytes are, in order: the client address as 16 bytes (IPv4 in
// its IPv4-mapped IPv6 form), the client port (2 bytes, big endian), the
// server address (16 bytes), the server port (2 bytes, big endian) and the
// start time as Unix nanoseconds (8 bytes, big endian, two's complement).
// A zero start time hashes as 0 nanoseconds.
func CommID(client, server netip.AddrPort, start time.Time) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	var b [44]byte
	c16 := client.Addr().As16()
	s16 := server.Addr().As16()
	copy(b[0:16], c16[:])
	binary.BigEndian.PutUint16(b[16:18], client.Port())
	copy(b[18:34], s16[:])
	binary.BigEndian.PutUint16(b[34:36], server.Port())
	var ns int64
	if !start.IsZero() {
		ns = start.UnixNano()
	}
	binary.BigEndian.PutUint64(b[36:44], uint64(ns))
	h := uint64(offset64)
	for _, c := range b {
		h ^= uint64(c)
		h *= prime64
	}
	return h
}
