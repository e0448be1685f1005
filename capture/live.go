package capture

import "time"

// LiveOptions configures OpenLive.
type LiveOptions struct {
	// BlockTimeout is how long the kernel fills a TPACKET_V3 block before
	// handing it over even if not full: the latency bound. Default 10 ms.
	BlockTimeout time.Duration
	// PollTimeout is how long ReadPacket waits before returning ErrTimeout,
	// which lets Run check its context and flush idle connections.
	// Default 100 ms.
	PollTimeout time.Duration
	// SnapLen is the most bytes kept of each packet. Default 262144.
	SnapLen int
	// Promisc puts the interface in promiscuous mode while capturing.
	Promisc bool
	// Filter is installed as a kernel BPF pre-filter where it can be
	// expressed (the Engine's Config.Filter remains the authority: set both).
	Filter Filter
	// BlockSize and NumBlocks size the ring (defaults 1 MiB and 64).
	BlockSize int
	NumBlocks int
}

func (o LiveOptions) withDefaults() LiveOptions {
	if o.BlockTimeout <= 0 {
		o.BlockTimeout = 10 * time.Millisecond
	}
	if o.BlockTimeout < time.Millisecond {
		o.BlockTimeout = time.Millisecond
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 100 * time.Millisecond
	}
	if o.SnapLen <= 0 {
		o.SnapLen = 262144
	}
	if o.BlockSize <= 0 {
		o.BlockSize = 1 << 20
	}
	if o.NumBlocks <= 0 {
		o.NumBlocks = 64
	}
	return o
}
