package x2x3

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"rcds/decoder"
	"rcds/hi/etsi"
	"rcds/x1"
)

var t0 = time.Date(2006, 3, 14, 12, 0, 0, 0, time.UTC)

// conn is a made-up connection: owner, client and server endpoints.
type conn struct {
	owner          string
	client, server netip.AddrPort
	comm           uint64
	role           decoder.Role
}

func newConn(owner, client, server string, comm uint64, role decoder.Role) conn {
	return conn{owner: owner, client: netip.MustParseAddrPort(client), server: netip.MustParseAddrPort(server), comm: comm, role: role}
}

// ev is an event on c.
func (c conn) ev(kind decoder.Kind, ms int, fromClient bool) *decoder.Event {
	return &decoder.Event{Kind: kind, Time: t0.Add(time.Duration(ms) * time.Millisecond), Proto: "msnp",
		Flow: c.client.String() + "-" + c.server.String(), Role: c.role, Comm: c.comm, FromClient: fromClient,
		User: c.owner, Client: c.client, Server: c.server}
}

// msg is a text MSG on c from sender to the others.
func (c conn) msg(ms int, from, text string, to ...string) *decoder.Event {
	e := c.ev(decoder.KindMessage, ms, strings.EqualFold(from, c.owner))
	e.From, e.To = from, to
	e.ContentType, e.Charset = "text/plain", "UTF-8"
	e.Raw = []byte("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + text)
	e.Body = text
	return e
}

func (c conn) join(ms int, who string, to ...string) *decoder.Event {
	e := c.ev(decoder.KindSessionJoin, ms, false)
	e.From, e.Contact, e.To = who, who, to
	return e
}

func (c conn) start(ms int, to ...string) *decoder.Event {
	e := c.ev(decoder.KindSessionStart, ms, true)
	e.To = to
	return e
}

const (
	alice = "alice@example.com"
	bob   = "bob@example.net"
	carol = "carol@example.org"
	dave  = "dave@example.org"
)

// poiWith returns a POI with the given tasks and its sink.
func poiWith(t *testing.T, cfg POIConfig, tasks ...x1.Task) (*POI, *memSink, *x1.Registry) {
	t.Helper()
	reg := newTestRegistry(t)
	for _, tk := range tasks {
		activate(t, reg, tk)
	}
	sink := &memSink{}
	p := NewPOI(cfg, reg, sink, nil)
	t.Cleanup(func() { p.Close() })
	return p, sink, reg
}

func TestPOIMatching(t *testing.T) {
	ns := newConn(alice, "10.0.0.1:50000", "192.0.2.10:1863", 1, decoder.RoleNotification)
	sbA := newConn(alice, "10.0.0.1:50001", "198.51.100.7:1863", 2, decoder.RoleSwitchboard)
	sbB := newConn(bob, "10.0.0.2:50001", "198.51.100.7:1863", 3, decoder.RoleSwitchboard)
	sb6 := newConn(carol, "[2001:db8::5]:50001", "[2001:db8:6::7]:1863", 4, decoder.RoleSwitchboard)

	contact := func(c conn, who string) *decoder.Event {
		e := c.ev(decoder.KindContactAdd, 0, true)
		e.Contact = who
		return e
	}
	presence := func(c conn, who string) *decoder.Event {
		e := c.ev(decoder.KindPresence, 0, false)
		e.Contact, e.Status = who, "NLN"
		return e
	}
	bobNS := newConn(bob, "10.0.0.2:50000", "192.0.2.10:1863", 5, decoder.RoleNotification)
	info := ns.ev(decoder.KindInfo, 0, false)
	info.From = "Hotmail"
	errEv := sbA.ev(decoder.KindError, 0, false)

	cases := []struct {
		name   string
		target string // task target
		dt     x1.DeliveryType
		e      *decoder.Event
		x2, x3 int
		dir    Direction
	}{
		{"owner login", alice, x1.X2andX3, ns.ev(decoder.KindLogin, 0, false), 1, 0, DirToTarget},
		{"owner, other case", "ALICE@Example.COM", x1.X2andX3, ns.ev(decoder.KindLogout, 0, true), 1, 0, DirFromTarget},
		{"sender", bob, x1.X2andX3, sbA.msg(0, bob, "hi", alice), 1, 1, DirFromTarget},
		{"recipient", carol, x1.X2andX3, sbA.msg(0, alice, "hi", bob, carol), 1, 1, DirToTarget},
		{"own message", alice, x1.X2andX3, sbA.msg(0, alice, "hi", bob), 1, 1, DirFromTarget},
		{"stranger", dave, x1.X2andX3, sbA.msg(0, alice, "hi", bob), 0, 0, 0},
		{"contact added by someone", carol, x1.X2Only, contact(bobNS, carol), 1, 0, DirToTarget},
		{"contact presence is the owner's", carol, x1.X2andX3, presence(bobNS, carol), 0, 0, 0},
		{"joiner", carol, x1.X2andX3, sbA.join(0, carol, alice), 1, 0, DirFromTarget},
		{"X2 only", alice, x1.X2Only, sbA.msg(0, alice, "hi", bob), 1, 0, DirFromTarget},
		{"X3 only", alice, x1.X3Only, sbA.msg(0, alice, "hi", bob), 0, 1, DirFromTarget},
		{"X3 only, no content", alice, x1.X3Only, ns.ev(decoder.KindLogin, 0, false), 0, 0, 0},
		{"info never", alice, x1.X2andX3, info, 0, 0, 0},
		{"error never", alice, x1.X2andX3, errEv, 0, 0, 0},
		{"client address", "10.0.0.2", x1.X2andX3, sbB.msg(0, alice, "hi", bob), 1, 1, DirToTarget},
		{"client address sends", "10.0.0.2", x1.X2andX3, sbB.msg(0, bob, "hi", alice), 1, 1, DirFromTarget},
		{"server prefix", "198.51.100.0/24", x1.X2Only, sbB.msg(0, bob, "hi", alice), 1, 0, DirToTarget},
		{"other address", "10.0.0.3", x1.X2andX3, sbB.msg(0, bob, "hi", alice), 0, 0, 0},
		{"IPv6 client", "2001:db8::5", x1.X2andX3, sb6.msg(0, carol, "hi", alice), 1, 1, DirFromTarget},
		{"IPv6 prefix", "2001:db8::/64", x1.X2andX3, sb6.start(0), 1, 0, DirFromTarget},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			xid := fmt.Sprintf("a4000000-0000-4000-8000-%012d", i)
			p, sink, _ := poiWith(t, POIConfig{}, newTask(xid, c.dt, []string{c.target}))
			p.Emit(c.e)
			var x2, x3 int
			for _, pdu := range sink.all() {
				if pdu.Type == TypeX2 {
					x2++
				} else {
					x3++
				}
				if pdu.Direction != c.dir {
					t.Errorf("direction %d, want %d", pdu.Direction, c.dir)
				}
				if pdu.Attrs.MatchedTarget != c.target {
					t.Errorf("matched target %q, want %q", pdu.Attrs.MatchedTarget, c.target)
				}
				wantSrc := c.e.Client
				if !c.e.FromClient {
					wantSrc = c.e.Server
				}
				if pdu.Attrs.Src != wantSrc || pdu.Attrs.IPProtocol != 6 || pdu.CorrelationID != c.e.Comm {
					t.Errorf("attributes %+v, correlation %d", pdu.Attrs, pdu.CorrelationID)
				}
			}
			if x2 != c.x2 || x3 != c.x3 {
				t.Errorf("%d X2 and %d X3, want %d and %d", x2, x3, c.x2, c.x3)
			}
		})
	}
}

// TestPOITwoTargetsOneTask: a task with two targets both in an event
// sends one set of PDUs, naming the first in attribute 17 and the other in
// attribute 18; two tasks on one target each get their own.
func TestPOITwoTargetsOneTask(t *testing.T) {
	sbA := newConn(alice, "10.0.0.1:50001", "198.51.100.7:1863", 2, decoder.RoleSwitchboard)
	p, sink, _ := poiWith(t, POIConfig{},
		newTask("a5000000-0000-4000-8000-000000000001", x1.X2andX3, []string{alice, bob}),
		newTask("a5000000-0000-4000-8000-000000000002", x1.X2Only, []string{bob}))
	p.Emit(sbA.msg(0, alice, "hi", bob))
	pdus := sink.all()
	if len(pdus) != 3 {
		t.Fatalf("%d PDUs, want X2+X3 for the first task and X2 for the second", len(pdus))
	}
	if pdus[0].Attrs.MatchedTarget != alice || len(pdus[0].Attrs.OtherTarget) != 1 || pdus[0].Attrs.OtherTarget[0] != bob {
		t.Errorf("attributes 17/18: %q %q", pdus[0].Attrs.MatchedTarget, pdus[0].Attrs.OtherTarget)
	}
	if pdus[2].Attrs.MatchedTarget != bob || *pdus[2].Attrs.SeqNo != 0 || *pdus[1].Attrs.SeqNo != 1 {
		t.Errorf("second task's PDU: %+v", pdus[2].Attrs)
	}
}

// TestPOIDuplicateRule plays copies of messages as a tap sees them on
// several connections and counts what one task receives.
func TestPOIDuplicateRule(t *testing.T) {
	// One switchboard: alice, bob and carol each on their own connection.
	sbA := newConn(alice, "10.0.0.1:50001", "198.51.100.7:1863", 11, decoder.RoleSwitchboard)
	sbB := newConn(bob, "10.0.0.2:50001", "198.51.100.7:1863", 12, decoder.RoleSwitchboard)
	sbC := newConn(carol, "10.0.0.3:50001", "198.51.100.7:1863", 13, decoder.RoleSwitchboard)
	// Another switchboard of alice and bob, on another server.
	sbA2 := newConn(alice, "10.0.0.1:50002", "198.51.100.9:1863", 21, decoder.RoleSwitchboard)
	sbB2 := newConn(bob, "10.0.0.2:50002", "198.51.100.9:1863", 22, decoder.RoleSwitchboard)
	// The same switchboard as sbA reached over IPv6 by dave.
	sbD6 := newConn(dave, "[2001:db8::4]:50001", "[2001:db8:6::7]:1863", 14, decoder.RoleSwitchboard)

	type want struct {
		comm uint64
		ms   int
	}
	cases := []struct {
		name   string
		target string
		events []*decoder.Event
		want   []want // the X2 deposits delivered: connection and time
	}{
		{"sender's copy first, recipients' dropped", alice, []*decoder.Event{
			sbA.msg(0, alice, "ok", bob, carol), sbB.msg(3, alice, "ok", bob, carol), sbC.msg(4, alice, "ok", bob, carol),
		}, []want{{11, 0}}},
		{"recipient: own copy preferred over the sender's", bob, []*decoder.Event{
			sbB.start(-100), sbB.join(-90, alice, bob),
			sbA.msg(0, alice, "ok", bob), sbB.msg(3, alice, "ok", bob),
		}, []want{{12, 3}}},
		{"recipient without own connection: first copy", carol, []*decoder.Event{
			sbA.msg(0, alice, "ok", bob, carol), sbB.msg(3, alice, "ok", bob, carol),
		}, []want{{11, 0}}},
		{"same text twice on one connection", alice, []*decoder.Event{
			sbA.msg(0, alice, "ok", bob), sbB.msg(2, alice, "ok", bob),
			sbA.msg(500, alice, "ok", bob), sbB.msg(502, alice, "ok", bob),
		}, []want{{11, 0}, {11, 500}}},
		{"same text in two switchboards of the same people", bob, []*decoder.Event{
			sbB.msg(0, alice, "typing", bob), sbB2.msg(1, alice, "typing", bob),
		}, []want{{12, 0}, {22, 1}}},
		{"a sender's copy after a relayed one is a new message", alice, []*decoder.Event{
			sbB.msg(0, bob, "ok", alice), sbA2.msg(5, alice, "ok", bob),
			sbA.msg(10, alice, "ok", bob), sbB.msg(12, alice, "ok", bob),
		}, []want{{12, 0}, {21, 5}, {11, 10}}},
		{"different server over the same IP version: not a copy", carol, []*decoder.Event{
			sbA.msg(0, alice, "ok", bob, carol), sbB2.msg(3, alice, "ok", bob, carol),
		}, []want{{11, 0}, {22, 3}}},
		{"IPv4 and IPv6 copies of one message", dave, []*decoder.Event{
			sbD6.start(-100), sbD6.join(-90, alice, dave),
			sbA.msg(0, alice, "ok", bob, dave), sbD6.msg(3, alice, "ok", bob, dave),
		}, []want{{14, 3}}},
		{"own connection not known: first copy", dave, []*decoder.Event{
			sbA.msg(0, alice, "ok", bob, dave), sbD6.msg(3, alice, "ok", bob, dave),
		}, []want{{11, 0}}},
		{"own copy never comes: the held copy is delivered", bob, []*decoder.Event{
			sbB.start(-100), sbB.join(-90, alice, bob),
			// alice talks to bob in a switchboard whose bob side is not captured
			sbA2.msg(0, alice, "elsewhere", bob),
			sbB.msg(3000, carol, "later", bob), // packet time moves on
		}, []want{{21, 0}, {12, 3000}}},
		{"outside the dedup window: a new message", carol, []*decoder.Event{
			sbA.msg(0, alice, "ok", bob, carol), sbB.msg(6000, alice, "ok", bob, carol),
		}, []want{{11, 0}, {12, 6000}}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			xid := fmt.Sprintf("a6000000-0000-4000-8000-%012d", i)
			p, sink, _ := poiWith(t, POIConfig{DedupWindow: 5 * time.Second, OwnCopyWait: 2 * time.Second},
				newTask(xid, x1.X2andX3, []string{c.target}))
			for _, e := range c.events {
				p.Emit(e)
			}
			if err := p.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			var got []want
			ds, _ := decodeStream(t, sink.all())
			for _, d := range ds {
				if d.mi != nil && d.mi.Category == etsi.EventCategory(etsi.MsgDeposit) {
					got = append(got, want{d.p.CorrelationID, int(d.p.Attrs.Timestamp.Sub(t0) / time.Millisecond)})
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("delivered %v, want %v", got, c.want)
			}
		})
	}
}

// TestPOIDeactivationWaitsForInflight: when DeactivateTask returns, an
// event being matched concurrently has finished and no PDU follows.
func TestPOIDeactivationWaitsForInflight(t *testing.T) {
	sbA := newConn(alice, "10.0.0.1:50001", "198.51.100.7:1863", 2, decoder.RoleSwitchboard)
	const xid = "a7000000-0000-4000-8000-000000000001"
	reg := newTestRegistry(t)
	activate(t, reg, newTask(xid, x1.X2Only, []string{alice}))
	sink := &memSink{entered: make(chan struct{}), block: make(chan struct{})}
	p := NewPOI(POIConfig{}, reg, sink, nil)
	defer p.Close()

	emitted := make(chan struct{})
	go func() { defer close(emitted); p.Emit(sbA.msg(0, alice, "hi", bob)) }()
	<-sink.entered // Emit is inside Send
	deactivated := make(chan struct{})
	epoch := p.gate.epoch.Load()
	go func() { defer close(deactivated); deactivate(t, reg, xid) }()
	for p.gate.epoch.Load() == epoch { // the change is published and waits
		time.Sleep(time.Millisecond)
	}
	select {
	case <-deactivated:
		t.Fatal("DeactivateTask returned while a PDU of the task was being handed over")
	default:
	}
	close(sink.block)
	<-emitted
	<-deactivated
	sink.block = nil
	p.Emit(sbA.msg(10, alice, "after", bob))
	if n := len(sink.all()); n != 1 {
		t.Fatalf("%d PDUs, want the one in flight only", n)
	}
}

// TestPOIModifyAndBadTargets: ModifyTask changes the targets from the next
// event; a target that cannot be parsed is counted and ignored.
func TestPOIModifyAndBadTargets(t *testing.T) {
	ns := newConn(alice, "10.0.0.1:50000", "192.0.2.10:1863", 1, decoder.RoleNotification)
	nsB := newConn(bob, "10.0.0.2:50000", "192.0.2.10:1863", 5, decoder.RoleNotification)
	const xid = "a8000000-0000-4000-8000-000000000001"
	p, sink, reg := poiWith(t, POIConfig{}, newTask(xid, x1.X2andX3, []string{alice}))
	p.Emit(ns.ev(decoder.KindLogin, 0, false))
	if m := reg.Apply(context.Background(), "test", &x1.ModifyTaskRequest{Task: newTask(xid, x1.X2andX3, []string{bob})}); m.Error != nil {
		t.Fatalf("modify: %+v", m.Error)
	}
	p.Emit(ns.ev(decoder.KindLogout, 10, true))
	p.Emit(nsB.ev(decoder.KindLogin, 20, false))
	pdus := sink.all()
	if len(pdus) != 2 || pdus[0].CorrelationID != 1 || pdus[1].CorrelationID != 5 || *pdus[1].Attrs.SeqNo != 1 {
		t.Fatalf("PDUs %v: want alice's login, then bob's, sequence numbers going on", pdus)
	}

	// A task whose target is not of its declared kind.
	bad := newTask("a8000000-0000-4000-8000-000000000002", x1.X2andX3, []string{"10.0.0.1"})
	bad.Targets[0].Kind = x1.TargetIPv6
	activate(t, reg, bad)
	if st := p.Stats(); st.BadTargets == 0 || st.Tasks != 1 {
		t.Errorf("stats %+v: the IPv4 address given as ipv6Address must be ignored and counted", st)
	}
}

func TestParseXID(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		{"a8000000-0000-4000-8000-000000000001", true},
		{"A8000000-0000-4000-8000-00000000000F", true},
		{"a8000000-0000-4000-8000-00000000000g", false},
		{"a80000000000-4000-8000-000000000001", false},
		{"", false},
	}
	for _, c := range cases {
		x, ok := parseXID(c.in)
		if ok != c.ok {
			t.Errorf("parseXID(%q) ok=%v", c.in, ok)
		}
		if ok && fmt.Sprintf("%x", x) != strings.ToLower(strings.ReplaceAll(c.in, "-", "")) {
			t.Errorf("parseXID(%q) = %x", c.in, x)
		}
	}
}

// TestPOIPayloadSanitising: identities and texts BER cannot carry as they
// are (invalid UTF-8, passports above 255 bytes) are made fit, not dropped.
func TestPOIPayloadSanitising(t *testing.T) {
	long := strings.Repeat("x", 300) + "@example.com"
	ns := newConn(alice, "10.0.0.1:50000", "192.0.2.10:1863", 1, decoder.RoleNotification)
	p, sink, _ := poiWith(t, POIConfig{}, newTask("a9000000-0000-4000-8000-000000000001", x1.X2Only, []string{alice}))
	e := ns.ev(decoder.KindNickname, 0, true)
	e.Nick = "bad \xff utf-8"
	p.Emit(e)
	e = ns.ev(decoder.KindContactAdd, 1, true)
	e.Contact = long
	p.Emit(e)
	ds, _ := decodeStream(t, sink.all())
	if len(ds) != 2 || p.Stats().EncodeErrors != 0 {
		t.Fatalf("%d PDUs, stats %+v", len(ds), p.Stats())
	}
	if s := subjects(ds[0].mi); len(s) != 1 || s[0] != "bad \uFFFD utf-8" {
		t.Errorf("nickname subject %q", s)
	}
	_, term := partyNames(t, ds[1].mi)
	if len(term) != 1 || len(term[0]) != 255 || !strings.HasPrefix(long, term[0]) {
		t.Errorf("long contact became %q", term)
	}
}
