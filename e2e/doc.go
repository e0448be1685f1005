// Package e2e holds the live end-to-end tests of RCDS: real MSNP traffic
// from internal/msnsim through the kernel, captured live with AF_PACKET
// (capture.OpenLive) on loopback or on a veth pair into a network
// namespace the test creates, decoded and matched by the POI, mediated by
// the MDF and delivered over HI2/HI3 to the reference LEMF, with the task
// provisioned over X1 by the real client over mutual TLS in the middle of
// the session.
//
// The tests need root (CAP_NET_RAW for the capture, CAP_SYS_ADMIN and
// CAP_NET_ADMIN for the namespace); without it they skip with a message.
// TestLatency measures the packet-to-LEMF latency at a steady message
// rate; it runs only when RCDS_LATENCY_SECONDS is set (bench/latency.sh).
package e2e
