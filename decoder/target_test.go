package decoder

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"net/netip"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{in: "Alice@Example.COM", want: "alice@example.com"},
		{in: "  bob@example.net ", want: "bob@example.net"},
		{in: "192.0.2.7", want: "192.0.2.7"},
		{in: "::ffff:192.0.2.7", want: "192.0.2.7"},
		{in: "2001:db8::1", want: "2001:db8::1"},
		{in: "192.0.2.77/24", want: "192.0.2.0/24"},
		{in: "2001:db8::/32", want: "2001:db8::/32"},
		{in: "::ffff:192.0.2.0/120", want: "192.0.2.0/24"},
		{in: "", err: true},
		{in: "alice", err: true},
		{in: "@example.com", err: true},
		{in: "alice@", err: true},
		{in: "a b@example.com", err: true},
		{in: "192.0.2.0/33", err: true},
		{in: "300.1.1.1", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if tt.err {
				if !errors.Is(err, ErrBadTarget) {
					t.Fatalf("error %v, want ErrBadTarget", err)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("got %q, %v; want %q", got.String(), err, tt.want)
			}
		})
	}
}

func TestTargetInvolves(t *testing.T) {
	client := netip.MustParseAddrPort("192.0.2.10:40000")
	server := netip.MustParseAddrPort("[2001:db8::5]:1863")
	msg := &Event{Kind: KindMessage, User: "owner@example.com", From: "sender@example.com",
		To: []string{"first@example.com", "Second@Example.com"}, Client: client, Server: server}
	presence := &Event{Kind: KindPresence, User: "owner@example.com", Contact: "contact@example.com"}
	add := &Event{Kind: KindContactAdd, User: "owner@example.com", From: "owner@example.com", Contact: "added@example.com"}
	mapped := &Event{Kind: KindLogin, Client: netip.MustParseAddrPort("[::ffff:192.0.2.10]:1")}
	tests := []struct {
		target string
		e      *Event
		want   bool
	}{
		{"owner@example.com", msg, true},
		{"SENDER@example.com", msg, true},
		{"second@example.com", msg, true},
		{"first@example.com", msg, true},
		{"other@example.com", msg, false},
		{"contact@example.com", presence, false}, // a contact's presence is the owner's traffic
		{"owner@example.com", presence, true},
		{"added@example.com", add, true},
		{"192.0.2.10", msg, true},
		{"192.0.2.0/24", msg, true},
		{"192.0.3.0/24", msg, false},
		{"2001:db8::/64", msg, true},
		{"2001:db8::5", msg, true},
		{"2001:db9::/32", msg, false},
		{"192.0.2.10", presence, false}, // no endpoints
		{"192.0.2.10", mapped, true},
	}
	for _, tt := range tests {
		tg, err := ParseTarget(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		if got := tg.Involves(tt.e); got != tt.want {
			t.Errorf("%s involves %s event: %v, want %v", tt.target, tt.e.Kind, got, tt.want)
		}
	}
	if (Target{}).Involves(msg) {
		t.Error("zero Target matches")
	}
	a, _ := ParseTarget("nobody@example.com")
	b, _ := ParseTarget("192.0.2.0/24")
	if !(Targets{a, b}).Involves(msg) || (Targets{a}).Involves(msg) || (Targets{}).Involves(msg) {
		t.Error("Targets.Involves")
	}
}

func TestCommID(t *testing.T) {
	c := netip.MustParseAddrPort("192.0.2.10:40000")
	s := netip.MustParseAddrPort("[2001:db8::1]:1863")
	start := time.Date(2005, 5, 6, 7, 8, 9, 123, time.UTC)
	// The documented construction, computed with hash/fnv.
	h := fnv.New64a()
	c16, s16 := c.Addr().As16(), s.Addr().As16()
	h.Write(c16[:])
	h.Write([]byte{byte(c.Port() >> 8), byte(c.Port())})
	h.Write(s16[:])
	h.Write([]byte{byte(s.Port() >> 8), byte(s.Port())})
	var ns [8]byte
	binary.BigEndian.PutUint64(ns[:], uint64(start.UnixNano()))
	h.Write(ns[:])
	if got, want := CommID(c, s, start), h.Sum64(); got != want {
		t.Fatalf("CommID %d, want %d", got, want)
	}
	if CommID(c, s, start) == CommID(s, c, start) || CommID(c, s, start) == CommID(c, s, start.Add(1)) {
		t.Fatal("collision on swapped endpoints or another start")
	}
	if CommID(c, s, time.Time{}) != CommID(c, s, time.Unix(0, 0)) {
		t.Fatal("zero start time is not 0 ns")
	}
}
