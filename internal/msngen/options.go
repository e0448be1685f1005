package msngen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Options say what to generate. The zero value of each field has a sensible
// default (see Generate); the same Options always produce the same bytes.
type Options struct {
	// Seed drives every random choice, including packet times.
	Seed int64
	// Users is the number of distinct passports drawn from (Passport(0) to
	// Passport(Users-1)). 0: 50.
	Users int
	// Sessions is the number of NS login sessions to generate. When both
	// Sessions and TargetBytes are 0, 10 sessions are generated.
	Sessions int
	// TargetBytes stops the generation after about this many bytes of
	// capture: no session starts after it is reached and the open ones are
	// wound down (leave their switchboards, log out, close). It takes
	// precedence over Sessions when both are set.
	TargetBytes int64
	// Concurrency is the number of NS sessions interleaved at once: new
	// session groups start while the captured users of the groups in
	// progress are fewer. 0: 4. 10,000 works; memory grows with it, not
	// with the capture size. With a small Users pool, one passport may be
	// logged in from several places at once.
	Concurrency int
	// Versions are the MSNP versions drawn from for each logged-in user
	// (2-18: MD5 logins below 8, TWN from 8 to 12, SSO from 13). nil: 8, 9,
	// 11, 12, 15, 18.
	Versions []int
	// MessagesPerSwitchboard is the mean number of chat lines (text,
	// typing, invitations) per switchboard session. 0: 8.
	MessagesPerSwitchboard int
	// Noise is the fraction (0 to 0.95) of packets that are not MSNP:
	// HTTP, DNS over UDP, SMTP, IRC on 6667 and random TCP.
	Noise float64
	// Seg controls the TCP segmentation.
	Seg Segmentation
	// Format is "pcap" (the default; microsecond timestamps) or "pcapng".
	Format string
	// Link is the link-layer framing. Default: Ethernet.
	Link LinkType
	// IPv6 is the fraction (0 to 1) of connections carried over IPv6.
	IPv6 float64
	// Start is the time of the first packet. Default: 2006-03-14T12:00:00Z.
	Start time.Time
	// Spacing is the mean gap between consecutive packets of the capture.
	// Default 200µs. Times have microsecond resolution.
	Spacing time.Duration
	// Targets are passports that must appear: each logs in and chats in
	// the first sessions (their sessions count in Sessions). They may be
	// outside the Users pool.
	Targets []string
	// Script is an explicit scenario, played as one more session group
	// interleaved with the random ones (if Sessions or TargetBytes ask
	// for any; with Script set, Sessions 0 and TargetBytes 0 mean the
	// script alone).
	Script *Script
}

// SegFlags is a set of TCP segmentation pathologies.
type SegFlags uint16

const (
	// Split cuts commands at random offsets into several segments.
	Split SegFlags = 1 << iota
	// Coalesce packs several consecutive commands of one side into one
	// segment (without it each command starts a new segment).
	Coalesce
	// Reorder sends two adjacent segments of a burst in swapped order.
	Reorder
	// Retransmit sends a segment again (same sequence numbers and bytes).
	Retransmit
	// Overlap sends a segment that begins inside the previous one (the
	// overlapping bytes are identical).
	Overlap
	// NoHandshake leaves out the SYN, SYN-ACK and ACK: connections begin
	// with their first data segment. The MSNP sessions themselves are
	// complete (they begin with VER or the switchboard USR/ANS).
	NoHandshake
)

// AllSeg is every pathology.
const AllSeg = Split | Coalesce | Reorder | Retransmit | Overlap | NoHandshake

var segNames = []struct {
	f    SegFlags
	name string
}{
	{Split, "split"}, {Coalesce, "coalesce"}, {Reorder, "reorder"},
	{Retransmit, "retransmit"}, {Overlap, "overlap"}, {NoHandshake, "nohandshake"},
}

// String lists the flags comma-separated ("" for none).
func (f SegFlags) String() string {
	var parts []string
	for _, n := range segNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, ",")
}

// ErrBadOption is wrapped by every error about invalid Options or flags.
var ErrBadOption = errors.New("invalid option")

// ParseSegFlags parses a comma-separated list of split, coalesce, reorder,
// retransmit, overlap, nohandshake, all or none.
func ParseSegFlags(s string) (SegFlags, error) {
	var f SegFlags
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch p {
		case "", "none":
			continue
		case "all":
			f |= AllSeg
			continue
		}
		found := false
		for _, n := range segNames {
			if n.name == p {
				f |= n.f
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("msngen: segmentation %q: %w", p, ErrBadOption)
		}
	}
	return f, nil
}

// Segmentation controls how the byte streams are cut into TCP segments.
type Segmentation struct {
	Flags SegFlags
	// MSS is the largest TCP payload of a segment. 0: 1460. Longer
	// commands are always split, whatever the flags.
	MSS int
	// Chance is the probability that an enabled pathology is applied to
	// one burst of commands. 0: 0.5.
	Chance float64
}

// LinkType is the link-layer framing of the written packets.
type LinkType uint8

const (
	// Ethernet II frames (pcap link type 1).
	Ethernet LinkType = iota
	// EthernetVLAN is Ethernet with one 802.1Q tag (VLAN 100) on every frame.
	EthernetVLAN
	// SLL is the Linux cooked capture header (pcap link type 113).
	SLL
)

// ParseLinkType parses "ethernet", "vlan" or "sll".
func ParseLinkType(s string) (LinkType, error) {
	switch strings.ToLower(s) {
	case "", "ethernet", "eth", "en10mb":
		return Ethernet, nil
	case "vlan", "dot1q", "802.1q":
		return EthernetVLAN, nil
	case "sll", "linux_sll", "cooked":
		return SLL, nil
	}
	return 0, fmt.Errorf("msngen: link type %q: %w", s, ErrBadOption)
}

// Result counts what Generate wrote.
type Result struct {
	Packets      int64 // packets written
	Bytes        int64 // bytes of capture file written (headers included)
	Sessions     int   // NS login sessions
	Switchboards int   // switchboard sessions (one per XFR SB, however many connections)
	Events       int   // expected events reported
}

// DefaultStart is the time of the first packet when Options.Start is zero:
// 2006-03-14T12:00:00Z.
func DefaultStart() time.Time { return time.Date(2006, 3, 14, 12, 0, 0, 0, time.UTC) }

// withDefaults returns o completed and validated.
func (o Options) withDefaults() (Options, error) {
	if o.Users <= 0 {
		o.Users = 50
	}
	if o.Users > 999999 {
		return o, fmt.Errorf("msngen: users %d: at most 999999: %w", o.Users, ErrBadOption)
	}
	if o.Sessions < 0 || o.TargetBytes < 0 {
		return o, fmt.Errorf("msngen: negative sessions or size: %w", ErrBadOption)
	}
	if o.Sessions == 0 && o.TargetBytes == 0 && o.Script == nil {
		o.Sessions = 10
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Concurrency > 1_000_000 {
		return o, fmt.Errorf("msngen: concurrency %d: at most 1000000: %w", o.Concurrency, ErrBadOption)
	}
	if len(o.Versions) == 0 {
		o.Versions = []int{8, 9, 11, 12, 15, 18}
	}
	for _, v := range o.Versions {
		if v < 2 || v > 18 {
			return o, fmt.Errorf("msngen: MSNP version %d: not in 2..18: %w", v, ErrBadOption)
		}
	}
	if o.MessagesPerSwitchboard <= 0 {
		o.MessagesPerSwitchboard = 8
	}
	if o.Noise < 0 || o.Noise > 0.95 {
		return o, fmt.Errorf("msngen: noise %v: not in [0, 0.95]: %w", o.Noise, ErrBadOption)
	}
	if o.IPv6 < 0 || o.IPv6 > 1 {
		return o, fmt.Errorf("msngen: ipv6 fraction %v: not in [0, 1]: %w", o.IPv6, ErrBadOption)
	}
	if o.Seg.MSS == 0 {
		o.Seg.MSS = 1460
	}
	if o.Seg.MSS < 8 || o.Seg.MSS > 65000 {
		return o, fmt.Errorf("msngen: MSS %d: not in [8, 65000]: %w", o.Seg.MSS, ErrBadOption)
	}
	if o.Seg.Chance == 0 {
		o.Seg.Chance = 0.5
	}
	if o.Seg.Chance < 0 || o.Seg.Chance > 1 {
		return o, fmt.Errorf("msngen: segmentation chance %v: %w", o.Seg.Chance, ErrBadOption)
	}
	switch o.Format {
	case "":
		o.Format = "pcap"
	case "pcap", "pcapng":
	default:
		return o, fmt.Errorf("msngen: format %q: not pcap or pcapng: %w", o.Format, ErrBadOption)
	}
	if o.Link > SLL {
		return o, fmt.Errorf("msngen: link type %d: %w", o.Link, ErrBadOption)
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart()
	}
	if o.Spacing <= 0 {
		o.Spacing = 200 * time.Microsecond
	}
	for _, t := range o.Targets {
		if !strings.Contains(t, "@") || strings.ContainsAny(t, " \r\n;") {
			return o, fmt.Errorf("msngen: target %q is not a passport: %w", t, ErrBadOption)
		}
	}
	if o.Script != nil {
		if err := o.Script.validate(); err != nil {
			return o, err
		}
	}
	return o, nil
}

// ParseSize parses a byte size: a number with an optional unit B, K, KB,
// KiB, M, MB, MiB, G, GB, GiB (K, M and G are binary, as are KiB...; KB,
// MB and GB are decimal), e.g. "100MiB", "1GiB", "5000000".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("msngen: size %q: no number: %w", s, ErrBadOption)
	}
	var mult float64
	switch unit {
	case "", "b":
		mult = 1
	case "k", "kib":
		mult = 1 << 10
	case "kb":
		mult = 1e3
	case "m", "mib":
		mult = 1 << 20
	case "mb":
		mult = 1e6
	case "g", "gib":
		mult = 1 << 30
	case "gb":
		mult = 1e9
	default:
		return 0, fmt.Errorf("msngen: size %q: unknown unit %q: %w", s, unit, ErrBadOption)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v*mult > 1<<50 {
		return 0, fmt.Errorf("msngen: size %q: %w", s, ErrBadOption)
	}
	return int64(v * mult), nil
}
