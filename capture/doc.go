// Package capture reads packets from pcap/pcapng files and live Linux
// interfaces, decodes the link, IP and TCP layers, reassembles IPv4
// fragments and TCP streams, and hands each connection's in-order bytes,
// in both directions and with packet timestamps, to a Handler.
//
// It knows nothing of MSNP or ETSI. Memory is bounded by Config; exceeding a
// bound drops data of one flow (reported as a Gap and counted in Stats),
// never the process.
package capture
