// Package capture reads packets from pcap/pcapng files and live Linux
// interfaces, decodes the link, IP and TCP layers, reassembles IP fragments
// and TCP streams, and hands each connection's in-order bytes, in both
// directions and with packet timestamps, to a Handler.
//
// It knows nothing of MSNP or ETSI. Memory is bounded by Config; exceeding a
// bound drops data of one flow (reported as a Gap and counted in Stats),
// never the process.
//
// # Sources
//
// OpenFile and NewFileSource read pcap (micro- or nanosecond, either byte
// order) and pcapng (any number of interfaces and sections, each with its
// own link type), optionally gzip-compressed; the format is found from the
// first bytes, never from the name. OpenLive captures on Linux with
// AF_PACKET TPACKET_V3 (gopacket/afpacket, no libpcap); a short block
// timeout keeps the latency in milliseconds, and a kernel BPF program
// applies the snap length, drops the duplicate copy of loopback packets and
// pre-filters by LiveOptions.Filter.
//
// # Decoding
//
// Link types: Ethernet (with 802.1Q, 802.1ad and 0x9100/0x9200 VLAN tags),
// Linux cooked SLL and SLL2, raw IP (101, 228, 229 and DLT_RAW's 12 and 14)
// and BSD loopback (NULL and LOOP, address family in either byte order).
// IPv4 and IPv6 (extension headers skipped). The payload is cut at the IP
// length, so Ethernet trailers never become data. IPv4 and IPv6 fragments
// are reassembled within Config.MaxFragmentBytes (overlaps: the bytes
// received first win). Headers are decoded into preallocated structures:
// in-order segments of a known connection cost no allocation.
//
// # Reassembly
//
// TCP streams are reassembled by gopacket/reassembly, in both directions.
// A connection is opened by its first SYN or data segment; one that began
// before the capture is followed from the first segment seen. Client and
// server: the SYN sender is the client; without a SYN, the side of a
// well-known port (1863, 80, 443, 5222, ...), else of a port below 1024,
// else of the lower port, is the server. Out-of-order segments wait for the
// hole to fill for up to ReorderTimeout (packet time) and within the
// buffer bounds; retransmitted and overlapping bytes are delivered once
// (the bytes delivered first stand). A hole given up, or bytes cut by the
// snap length, is reported by Conn.Gap before the bytes that follow. Data
// carries the timestamp of the packet that completed it.
//
// A connection ends with a RST, when both sides (or the only side seen)
// sent a FIN, after IdleTimeout without packets, when evicted to respect
// MaxFlows (the least recently active goes first), when a SYN with another
// initial sequence number reuses its addresses and ports, or at the end of
// the capture. Segments arriving shortly after a FIN or RST close are counted
// as LateSegments, not taken for a new connection. Pure ACKs carry nothing to
// reassemble and are only counted (Stats.Ignored).
//
// # Logging
//
// Drops are logged with slog at Warn level, at the first occurrence of each
// reason and then at every power of two, with counts: never payload, never
// addresses.
package capture
