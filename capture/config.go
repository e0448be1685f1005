package capture

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// Config bounds the memory and sets the timeouts of an Engine. Zero fields
// take the value of DefaultConfig.
type Config struct {
	// MaxFlows is the number of TCP connections tracked at once. A new
	// connection beyond it evicts the least recently active one
	// (CloseEvicted, counted in Stats.FlowsEvicted).
	MaxFlows int
	// MaxBufferedPagesPerConn is the number of out-of-order pages (about
	// 1.9 KB each) buffered for one connection. Beyond it the oldest hole is
	// given up: a Gap, counted in Stats.PageDrops.
	MaxBufferedPagesPerConn int
	// MaxBufferedPagesTotal bounds the out-of-order pages of all connections
	// together, with the same consequence.
	MaxBufferedPagesTotal int
	// MaxFragmentBytes bounds the bytes held for IP fragment reassembly.
	// Beyond it the oldest incomplete datagrams are dropped
	// (Stats.FragmentDrops).
	MaxFragmentBytes int
	// IdleTimeout closes a connection without packets for that long
	// (CloseIdle). Measured in packet time for files.
	IdleTimeout time.Duration
	// ReorderTimeout is how long a hole in a stream is waited for before the
	// bytes after it are delivered behind a Gap. Packet time for files.
	ReorderTimeout time.Duration
	// FragmentTimeout drops incomplete IP datagrams older than that.
	FragmentTimeout time.Duration
	// FlushInterval is how often Run applies the timeouts above (packet time,
	// and wall-clock time for live sources).
	FlushInterval time.Duration
	// Filter keeps only the packets it matches (the zero Filter keeps all).
	Filter Filter
	// Logger receives counted drops and other notable conditions (never
	// payload, never addresses). Nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults: 65,536 flows, 256 buffered pages per
// connection and 16,384 in total (about 31 MB), 4 MiB of fragments, a
// 10-minute idle timeout, 3 s for reordering and 30 s for fragments.
func DefaultConfig() Config {
	return Config{
		MaxFlows:                65536,
		MaxBufferedPagesPerConn: 256,
		MaxBufferedPagesTotal:   16384,
		MaxFragmentBytes:        4 << 20,
		IdleTimeout:             10 * time.Minute,
		ReorderTimeout:          3 * time.Second,
		FragmentTimeout:         30 * time.Second,
		FlushInterval:           time.Second,
	}
}

// withDefaults fills the zero fields of c from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxFlows <= 0 {
		c.MaxFlows = d.MaxFlows
	}
	if c.MaxBufferedPagesPerConn <= 0 {
		c.MaxBufferedPagesPerConn = d.MaxBufferedPagesPerConn
	}
	if c.MaxBufferedPagesTotal <= 0 {
		c.MaxBufferedPagesTotal = d.MaxBufferedPagesTotal
	}
	if c.MaxFragmentBytes <= 0 {
		c.MaxFragmentBytes = d.MaxFragmentBytes
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.ReorderTimeout <= 0 {
		c.ReorderTimeout = d.ReorderTimeout
	}
	if c.FragmentTimeout <= 0 {
		c.FragmentTimeout = d.FragmentTimeout
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = d.FlushInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Stats are the counters of an Engine. A packet that does not reach a
// connection is counted under the reason: UnknownLink, NonTCP, Filtered,
// Truncated (headers cut), DecodeErrors, Ignored, FlowDrops or
// LateSegments; a fragment waits for its datagram (Fragments) or is lost
// with it (FragmentDrops).
type Stats struct {
	Packets uint64 // packets given to the Engine
	Bytes   uint64 // their captured bytes

	UnknownLink  uint64 // link type not supported
	NonTCP       uint64 // not IPv4/IPv6, or not TCP
	Filtered     uint64 // rejected by Config.Filter
	Truncated    uint64 // packets cut by the snap length (headers cut: dropped; payload cut: a Gap)
	DecodeErrors uint64 // malformed link, IP or TCP headers (dropped)
	Ignored      uint64 // TCP segments with nothing to reassemble: pure ACKs, FIN/RST of untracked connections

	Fragments            uint64 // IP fragments received
	FragmentsReassembled uint64 // datagrams completed from fragments
	FragmentDrops        uint64 // incomplete datagrams dropped (timeout, bound, inconsistent)
	FragmentOverlaps     uint64 // fragments overlapping earlier ones (first received wins)

	Flows        uint64 // TCP connections opened
	FlowsOpen    uint64 // connections open now
	FlowsEvicted uint64 // connections closed to respect MaxFlows
	FlowDrops    uint64 // packets dropped because no flow could be created
	LateSegments uint64 // segments of a connection already closed by FIN or RST (dropped)

	OutOfOrder   uint64 // segments buffered because an earlier one was missing
	OverlapBytes uint64 // bytes received again (retransmitted or overlapping)
	PageDrops    uint64 // holes given up because a buffer bound was reached
	Gaps         uint64 // Gap calls made
	GapBytes     uint64 // bytes reported missing by Gap calls (unknown sizes not counted)
	StreamBytes  uint64 // bytes delivered by Data calls
}

// counters is the atomic backing of Stats.
type counters struct {
	packets, bytes                                                atomic.Uint64
	unknownLink, nonTCP, filtered, truncated, decodeErr           atomic.Uint64
	ignored                                                       atomic.Uint64
	fragments, fragReassembled, fragDrops, fragOverlaps           atomic.Uint64
	flows, flowsClosed, flowsEvicted, flowDrops, lateSegments     atomic.Uint64
	outOfOrder, overlapBytes, pageDrops, gaps, gapBytes, bytesOut atomic.Uint64
}

func (c *counters) snapshot() Stats {
	flows, closed := c.flows.Load(), c.flowsClosed.Load()
	open := uint64(0)
	if flows > closed {
		open = flows - closed
	}
	return Stats{
		Packets:              c.packets.Load(),
		Bytes:                c.bytes.Load(),
		UnknownLink:          c.unknownLink.Load(),
		NonTCP:               c.nonTCP.Load(),
		Filtered:             c.filtered.Load(),
		Truncated:            c.truncated.Load(),
		DecodeErrors:         c.decodeErr.Load(),
		Ignored:              c.ignored.Load(),
		Fragments:            c.fragments.Load(),
		FragmentsReassembled: c.fragReassembled.Load(),
		FragmentDrops:        c.fragDrops.Load(),
		FragmentOverlaps:     c.fragOverlaps.Load(),
		Flows:                flows,
		FlowsOpen:            open,
		FlowsEvicted:         c.flowsEvicted.Load(),
		FlowDrops:            c.flowDrops.Load(),
		LateSegments:         c.lateSegments.Load(),
		OutOfOrder:           c.outOfOrder.Load(),
		OverlapBytes:         c.overlapBytes.Load(),
		PageDrops:            c.pageDrops.Load(),
		Gaps:                 c.gaps.Load(),
		GapBytes:             c.gapBytes.Load(),
		StreamBytes:          c.bytesOut.Load(),
	}
}
