package etsi

import (
	"reflect"
	"testing"
	"time"
)

func partiesOf(m *MessagingIRI) []string {
	var out []string
	for _, p := range m.Parties {
		for _, a := range p.Identity.(EmailAddresses) {
			out = append(out, p.Qualifier.String()+" "+a)
		}
	}
	return out
}

func TestMSNMapping(t *testing.T) {
	tests := []struct {
		name     string
		m        *MessagingIRI
		category string
		trigger  MessagingTrigger
		parties  []string
		props    []Property
	}{
		{"login", NewLoginIRI(alice), "message-box:login", TriggerUser, []string{"originating-party " + alice}, nil},
		{"logout", NewLogoutIRI(alice, false), "message-box:logout", TriggerUser, []string{"originating-party " + alice}, nil},
		{"logout closed", NewLogoutIRI(alice, true), "message-box:logout", TriggerSystem, []string{"originating-party " + alice}, nil},
		{"presence own", NewPresenceIRI(alice, "", "IDL"), "message-box:activate", TriggerUser, []string{"originating-party " + alice}, []Property{Subject("IDL")}},
		{"presence hidden", NewPresenceIRI(alice, "", "HDN"), "message-box:deactivate", TriggerUser, []string{"originating-party " + alice}, []Property{Subject("HDN")}},
		{"presence contact", NewPresenceIRI(alice, bob, "FLN"), "message-box:deactivate", TriggerSystem, []string{"originating-party " + bob, "terminating-party " + alice}, []Property{Subject("FLN")}},
		{"contact", NewContactIRI(alice, bob, "FL"), "message:contact", TriggerUser, []string{"originating-party " + alice, "terminating-party " + bob}, []Property{Subject("FL")}},
		{"contact no list", NewContactIRI(alice, bob, ""), "message:contact", TriggerUser, []string{"originating-party " + alice, "terminating-party " + bob}, nil},
		{"nickname", NewNicknameIRI(alice, "Al"), "message-box:greeting-change", TriggerUser, []string{"originating-party " + alice}, []Property{GreetingName, Subject("Al")}},
		{"personal message", NewPersonalMessageIRI(alice, "pm"), "message-box:greeting-change", TriggerUser, []string{"originating-party " + alice}, []Property{GreetingPersonal, Subject("pm")}},
		{"session start", NewSessionStartIRI(alice, []string{bob, alice, "", carol}), "message-box:connect", TriggerUser, []string{"originating-party " + alice, "terminating-party " + bob, "terminating-party " + carol}, nil},
		{"session join", NewSessionJoinIRI(alice, bob), "message-box:additional-destination-add", TriggerUser, []string{"originating-party " + alice, "terminating-party " + bob}, nil},
		{"session join self", NewSessionJoinIRI(alice, alice), "message-box:additional-destination-add", TriggerUser, []string{"originating-party " + alice}, nil},
		{"session leave", NewSessionLeaveIRI(alice, bob), "message-box:additional-destination-remove", TriggerUser, []string{"originating-party " + alice, "terminating-party " + bob}, nil},
		{"session end", NewSessionEndIRI(alice, true), "message-box:disconnect", TriggerSystem, []string{"originating-party " + alice}, nil},
		{"message", NewMessageIRI(5, bob, []string{alice, carol}), "message:deposit", TriggerUser, []string{"originating-party " + bob, "terminating-party " + alice, "terminating-party " + carol}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CategoryString(tc.m.Category); got != tc.category {
				t.Errorf("category %q, want %q", got, tc.category)
			}
			if tc.m.Trigger != tc.trigger || tc.m.Status != StatusSucceeded || tc.m.SystemType != UnifiedMessaging {
				t.Errorf("trigger %v status %v system %v", tc.m.Trigger, tc.m.Status, tc.m.SystemType)
			}
			if got := partiesOf(tc.m); !reflect.DeepEqual(got, tc.parties) {
				t.Errorf("parties %q, want %q", got, tc.parties)
			}
			if !reflect.DeepEqual(tc.m.Properties, tc.props) {
				t.Errorf("properties %#v, want %#v", tc.m.Properties, tc.props)
			}
			c, err := ParseCategory(tc.category)
			if err != nil || c != tc.m.Category {
				t.Errorf("ParseCategory(%q) = %v, %v", tc.category, c, err)
			}
		})
	}
	m := NewMessageIRI(5, bob, nil)
	if m.EventIdentifier == nil || *m.EventIdentifier != 5 {
		t.Fatal("event identifier")
	}
	cc := NewMessagingCC(5, "text/plain", []byte("x"))
	if cc.EventIdentifier != 5 {
		t.Fatal("CC event identifier")
	}
}

func TestPayloadWrappers(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 678901234, time.FixedZone("CET", 3600))
	p := NewIRIPayload(IRIBegin, ts, NewLoginIRI(alice))
	if p.TimeStamp.Location() != time.UTC || !p.TimeStamp.Equal(ts) {
		t.Fatal("timeStamp")
	}
	if p.MicroSecondTimeStamp.Seconds != uint64(ts.Unix()) || p.MicroSecondTimeStamp.MicroSeconds != 678901 {
		t.Fatalf("micro %+v", p.MicroSecondTimeStamp)
	}
	if !p.MicroSecondTimeStamp.Time().Equal(ts.Truncate(time.Microsecond)) {
		t.Fatal("MicroSecondTimeStamp.Time")
	}
	c := NewCCPayload(ToTarget, ts, NewMessagingCC(1, "text/plain", nil))
	if *c.PayloadDirection != ToTarget || *c.TimeStampQualifier != TSQTimeOfInterception {
		t.Fatal("CC wrapper")
	}
	if MicroTime(time.Unix(-5, 0)) != (MicroSecondTimeStamp{}) {
		t.Fatal("times before 1970 must not wrap around")
	}
}

func TestEnumStrings(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{IRIBegin.String(), "iRI-Begin"},
		{IRIType(9).String(), "IRIType(9)"},
		{BoxHeaderPlayDisable.String(), "header-play-disable"},
		{BoxUnknown.String(), "unknown"},
		{StatusLost.String(), "operation-lost"},
		{RecordReport.String(), "iRI-Report-record"},
		{CategoryString(NotificationEvent(NotifyMMS)), "message-notification:mms"},
		{CategoryString(CallOut), "call:callout"},
		{CategoryString(nil), ""},
		{KindCC.String(), "cc"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
	if _, err := ParseCategory("message-box:nope"); err == nil {
		t.Error("ParseCategory accepted an unknown value")
	}
}

func TestKindOf(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range corpus() {
		k := KindOf(n.pdu.Payload)
		if k == "unknown" {
			t.Errorf("%s: kind unknown", n.name)
		}
		seen[k] = true
	}
	if len(seen) != 16 {
		t.Errorf("corpus covers %d kinds, want all 16: %v", len(seen), seen)
	}
	if KindOf(&Unknown{}) != "unknown" {
		t.Error("Unknown")
	}
}
