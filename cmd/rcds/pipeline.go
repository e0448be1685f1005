package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/spf13/pflag"

	"rcds/capture"
	"rcds/decoder"
	"rcds/decoder/msnp"
)

// captureOptions are the packet-source flags shared by `rcds poi`, `serve`
// and `demo`: a capture file or a live interface, and a filter.
type captureOptions struct {
	pcap        string
	iface       string
	filterPorts []uint
	filterHosts []string
	promisc     bool
}

// AddFlags registers the packet-source flags on fs.
func (o *captureOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.pcap, "pcap", "", "read packets from this pcap/pcapng file (optionally gzip-compressed)")
	fs.StringVar(&o.iface, "iface", "", `capture live on this interface ("any": all; needs CAP_NET_RAW)`)
	fs.UintSliceVar(&o.filterPorts, "filter-port", nil, "keep only TCP traffic to or from this port (repeatable; MSN: 1863)")
	fs.StringArrayVar(&o.filterHosts, "filter-host", nil, "keep only traffic to or from this address or CIDR prefix (repeatable)")
	fs.BoolVar(&o.promisc, "promisc", false, "put the --iface interface in promiscuous mode")
}

// source checks the flags and returns the pipeline's source configuration.
func (o *captureOptions) source() (pipelineConfig, error) {
	var c pipelineConfig
	switch {
	case o.pcap == "" && o.iface == "":
		return c, errors.New("one of --pcap FILE or --iface IF is required")
	case o.pcap != "" && o.iface != "":
		return c, errors.New("--pcap and --iface exclude each other")
	}
	c.pcap, c.iface, c.promisc = o.pcap, o.iface, o.promisc
	for _, p := range o.filterPorts {
		if p == 0 || p > 65535 {
			return c, fmt.Errorf("--filter-port: %d is not a port", p)
		}
		c.filter.Ports = append(c.filter.Ports, uint16(p))
	}
	for _, h := range o.filterHosts {
		pfx, err := parseHostPrefix(h)
		if err != nil {
			return c, fmt.Errorf("--filter-host %q: %w", h, err)
		}
		c.filter.Hosts = append(c.filter.Hosts, pfx)
	}
	return c, nil
}

func parseHostPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// pipelineConfig says where a pipeline's packets come from.
type pipelineConfig struct {
	pcap    string         // capture file, or
	iface   string         // live interface
	promisc bool           // live: promiscuous mode
	filter  capture.Filter // applied by the engine (and the kernel, live)
	// engine overrides the capture engine's bounds and timeouts (zero
	// fields: capture.DefaultConfig).
	engine capture.Config
	// live overrides the live source's ring and timeouts (Filter and
	// Promisc come from the fields above).
	live capture.LiveOptions
	msnp msnp.Options
	// onPacket, when set, is called with each packet's number (from 1) and
	// capture info before the engine sees the packet, on the pipeline's
	// goroutine (tests use it to change tasks at a packet position).
	onPacket func(n uint64, ci gopacket.CaptureInfo)
}

// pipeline is capture → TCP reassembly → decoder mux → MSNP → an Emitter
// (the POI, or anything else that takes events).
type pipeline struct {
	src  capture.Source
	eng  *capture.Engine
	mux  *decoder.Mux
	msnp *msnp.Protocol
	live bool
}

// pipelineStats are the counters of a pipeline's stages.
type pipelineStats struct {
	Capture capture.Stats
	Decoder decoder.MuxStats
	MSNP    msnp.Stats
}

// newPipeline opens the source and wires the stages to emit.
func newPipeline(cfg pipelineConfig, emit decoder.Emitter, logger *slog.Logger) (*pipeline, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var (
		src capture.Source
		err error
	)
	switch {
	case cfg.pcap != "" && cfg.iface != "":
		return nil, errors.New("pipeline: a file and an interface at once")
	case cfg.pcap != "":
		src, err = capture.OpenFile(cfg.pcap)
	case cfg.iface != "":
		lo := cfg.live
		lo.Filter, lo.Promisc = cfg.filter, cfg.promisc
		src, err = capture.OpenLive(cfg.iface, lo)
	default:
		return nil, errors.New("pipeline: no packet source")
	}
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if cfg.onPacket != nil {
		src = &hookSource{Source: src, fn: cfg.onPacket}
	}
	ecfg := cfg.engine
	ecfg.Filter = cfg.filter
	if ecfg.Logger == nil {
		ecfg.Logger = logger
	}
	proto := msnp.New(logger, cfg.msnp)
	mux := decoder.NewMux(logger, emit, proto)
	return &pipeline{
		src:  src,
		eng:  capture.NewEngine(ecfg, mux),
		mux:  mux,
		msnp: proto,
		live: cfg.iface != "",
	}, nil
}

// Run feeds the source through the stages: a file until its end (every
// connection is then closed, so the last events are out), a live interface
// until ctx is done. It returns nil at the end of a file and when ctx ends
// a live capture.
func (p *pipeline) Run(ctx context.Context) error {
	err := p.eng.Run(ctx, p.src)
	if p.live && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		p.eng.CloseAll(time.Now()) // live: packet time is wall-clock time
		return nil
	}
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	return nil
}

// Stats returns the counters of every stage; safe from any goroutine.
func (p *pipeline) Stats() pipelineStats {
	return pipelineStats{Capture: p.eng.Stats(), Decoder: p.mux.Stats(), MSNP: p.msnp.Stats()}
}

// Close releases the source.
func (p *pipeline) Close() error { return p.src.Close() }

// hookSource calls fn before handing out each packet.
type hookSource struct {
	capture.Source
	fn func(n uint64, ci gopacket.CaptureInfo)
	n  uint64
}

func (h *hookSource) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := h.Source.ReadPacket()
	if err == nil {
		h.n++
		h.fn(h.n, ci)
	}
	return data, ci, err
}

func (h *hookSource) LinkType() layers.LinkType { return h.Source.LinkType() }
