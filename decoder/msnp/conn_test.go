package msnp

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"rcds/capture"
	"rcds/decoder"
)

// want is the part of an event a table row checks.
type want struct {
	kind    decoder.Kind
	user    string
	from    string
	to      []string
	body    string
	ct      string
	status  string
	contact string
	nick    string
	detail  string // substring
	fc      *bool
}

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

func check(t *testing.T, got []decoder.Event, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		for _, e := range got {
			t.Logf("got %s", decoder.AppendText(nil, &e))
		}
		t.Fatalf("%d events, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		e := got[i]
		var to []string
		if len(e.To) > 0 {
			to = e.To
		}
		ok := e.Kind == w.kind && e.User == w.user && e.From == w.from && reflect.DeepEqual(to, w.to) &&
			e.Body == w.body && e.ContentType == w.ct && e.Status == w.status && e.Contact == w.contact &&
			e.Nick == w.nick && strings.Contains(e.Detail, w.detail) && (w.fc == nil || *w.fc == e.FromClient)
		if w.detail == "" && e.Detail != "" && e.Kind != decoder.KindInfo {
			ok = false
		}
		if !ok {
			t.Errorf("event %d:\n got %s\nwant %+v", i, decoder.AppendText(nil, &e), w)
		}
		if e.Proto != "msnp" || e.Flow != "192.0.2.10:40001-198.51.100.20:1863" || e.Comm != decoder.CommID(clientAP, serverAP, t0) {
			t.Errorf("event %d identity: proto %q flow %q comm %d", i, e.Proto, e.Flow, e.Comm)
		}
		if e.Time.IsZero() || e.Time.Location() != time.UTC {
			t.Errorf("event %d time %v", i, e.Time)
		}
	}
}

const (
	alice = "alice@example.com"
	bob   = "bob@example.net"
	carol = "carol@example.org"
)

func TestSessions(t *testing.T) {
	tests := []struct {
		name   string
		steps  []step
		reason capture.CloseReason
		want   []want
	}{
		{
			name: "ns-login-twn-msnp8",
			steps: []step{
				C("VER 1 MSNP8 CVR0\n"), S("VER 1 MSNP8\n"),
				C("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS " + alice + "\n"),
				S("CVR 2 6.0.0602 6.0.0602 6.0.0268 http://example.com http://example.com\n"),
				C("USR 3 TWN I " + alice + "\n"), S("USR 3 TWN S lc=1033,id=507\n"),
				C("USR 4 TWN S t=ticket\n"), S("USR 4 OK " + alice + " Alice%20A 1 0\n"),
				C("CHG 5 NLN 0\n"), S("CHG 5 NLN 0\n"),
				S("ILN 5 AWY " + bob + " Bob%20%E2%9C%93 268435492\n"),
				S("NLN BSY " + carol + " Carol 0\n"),
				S("FLN " + carol + "\n"),
				C("REA 6 " + alice + " New%20Nick\n"), S("REA 6 12 " + alice + " New%20Nick\n"),
				C("ADD 7 FL " + carol + " Carol\n"), S("ADD 7 FL 13 " + carol + " Carol\n"),
				S("ADD 0 RL 14 " + bob + " Bob\n"),
				C("PNG\n"), S("QNG 50\n"),
				C("OUT\n"),
			},
			reason: capture.CloseFIN,
			want: []want{
				{kind: "login", user: alice, fc: no},
				{kind: "presence", user: alice, status: "NLN", fc: yes},
				{kind: "presence", user: alice, status: "AWY", contact: bob, nick: "Bob ✓", fc: no},
				{kind: "presence", user: alice, status: "BSY", contact: carol, nick: "Carol"},
				{kind: "presence", user: alice, status: "FLN", contact: carol},
				{kind: "nickname", user: alice, nick: "New Nick", fc: yes},
				{kind: "contact_add", user: alice, contact: carol, fc: yes},
				{kind: "contact_add", user: alice, contact: bob, fc: no},
				{kind: "logout", user: alice, fc: yes},
			},
		},
		{
			name: "ns-close-without-out-is-logout",
			steps: []step{
				C("USR 3 MD5 I " + alice + "\n"), S("USR 3 MD5 S 1013928519.693957190\n"),
				C("USR 4 MD5 S 23f8a6e0e7f8c0d0\n"), S("USR 4 OK " + alice + " Alice\n"),
			},
			reason: capture.CloseRST,
			want: []want{
				{kind: "login", user: alice},
				{kind: "logout", user: alice},
			},
		},
		{
			name: "ns-eof-is-not-logout",
			steps: []step{
				C("USR 3 SSO I " + alice + "\n"), S("USR 3 SSO S MBI_KEY_OLD 8CLhG/xfgYZ7TyRQ/jIAWyDmd/w4R4GF2yKLS6tYrnjzi4cFag/Nr+hxsfg5zvxS\n"),
				C("USR 4 SSO S t=ticket abc {7A3A8B0C-1D2E-4F50-8A6B-1C2D3E4F5A6B}\n"), S("USR 4 OK " + alice + " 1 0\n"),
			},
			reason: capture.CloseEOF,
			want:   []want{{kind: "login", user: alice}},
		},
		{
			name: "msnp15-adl-uux-prp",
			steps: []step{
				C("VER 1 MSNP15 CVR0\n"), S("VER 1 MSNP15\n"),
				C("USR 3 SSO I " + alice + "\n"), S("USR 3 OK " + alice + " 1 0\n"),
				C(payloadCmd("ADL 4", `<ml l="1"><d n="example.net"><c n="bob" l="3" t="1"/><c n="dave" l="1" t="1"/></d><d n="example.org"><c n="carol" l="1" t="1"/></d></ml>`)),
				S("ADL 4 OK\n"),
				C("PRP 5 MFN Alice%20%E4%B8%AD\n"), S("PRP 5 MFN Alice%20%E4%B8%AD\n"),
				S("PRP MFN Alice%20Sync\n"),
				C(payloadCmd("UUX 6", "<Data><PSM>feeling &amp; fine 中文</PSM><CurrentMedia></CurrentMedia></Data>")),
				S("UUX 6 0\n"),
				S("NLN NLN " + bob + " 1 Bob 2788999228 %3Cmsnobj%2F%3E\n"),
				S(payloadCmd("UBX "+bob+" 1", "<Data><PSM>bob&apos;s psm</PSM><CurrentMedia></CurrentMedia></Data>")),
				S(payloadCmd("NOT", "<NOTIFICATION id=\"1\"></NOTIFICATION>")),
				S(payloadCmd("GCF 7 Shields.xml", "<config></config>")),
			},
			reason: capture.CloseEOF,
			want: []want{
				{kind: "login", user: alice},
				{kind: "contact_add", user: alice, contact: "bob@example.net"},
				{kind: "contact_add", user: alice, contact: "dave@example.net"},
				{kind: "contact_add", user: alice, contact: "carol@example.org"},
				{kind: "nickname", user: alice, nick: "Alice 中"},
				{kind: "nickname", user: alice, nick: "Alice Sync"},
				{kind: "personal_message", user: alice, body: "feeling & fine 中文"},
				{kind: "presence", user: alice, status: "NLN", contact: bob, nick: "Bob"},
				{kind: "personal_message", user: alice, contact: bob, body: "bob's psm"},
			},
		},
		{
			name: "msnp10-adc",
			steps: []step{
				C("USR 3 TWN I " + alice + "\n"), S("USR 3 OK " + alice + " 1 0\n"),
				C("ADC 8 FL N=" + carol + " F=Carol%20C\n"), S("ADC 8 FL N=" + carol + " F=Carol%20C C=0b7d7c4c-0000-0000-0000-000000000000\n"),
				C("ADC 9 FL C=0b7d7c4c-0000-0000-0000-000000000000 1a2b\n"),
			},
			reason: capture.CloseEOF,
			want: []want{
				{kind: "login", user: alice},
				{kind: "contact_add", user: alice, contact: carol},
			},
		},
		{
			name: "ns-server-messages-are-info",
			steps: []step{
				S("USR 4 OK " + alice + " Alice 1 0\n"),
				S(msg("MSG Hotmail Hotmail", "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\nLoginTime: 1\r\n\r\n")),
				S(msg("MSG Hotmail Hotmail", "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialemailnotification; charset=UTF-8\r\n\r\nInbox-Unread: 1\r\n")),
				S("715 12\n"),
			},
			reason: capture.CloseEOF,
			want: []want{
				{kind: "login", user: alice},
				{kind: "info", user: alice, from: "Hotmail", ct: "text/x-msmsgsprofile"},
				{kind: "info", user: alice, from: "Hotmail", ct: "text/x-msmsgsinitialemailnotification", body: "Inbox-Unread: 1\r\n"},
				{kind: "info", user: alice, detail: "server error 715"},
			},
		},
		{
			name: "dispatch-xfr-ns-no-events",
			steps: []step{
				C("VER 1 MSNP9 CVR0\n"), S("VER 1 MSNP9\n"),
				C("USR 3 TWN I " + alice + "\n"), S("XFR 3 NS 198.51.100.30:1863 0 198.51.100.20:1863\n"),
			},
			reason: capture.CloseFIN,
			want:   nil,
		},
		{
			name: "sb-usr-cal-joi-messages",
			steps: []step{
				C("USR 1 " + alice + " 123.456.789\n"), S("USR 1 OK " + alice + " Alice\n"),
				C("CAL 2 " + bob + "\n"), S("CAL 2 RINGING 11752013\n"),
				S("JOI " + bob + " Bob%20B\n"),
				C(msg("MSG 3 U", typing(alice))),
				C(msg("MSG 4 N", mimeText+"hello bob")),
				S(msg("MSG "+bob+" Bob", typing(bob))),
				S(msg("MSG "+bob+" Bob", mimeText+"hi alice\r\nsecond line")),
				C("CAL 5 " + carol + "\n"), S("CAL 5 RINGING 11752013\n"),
				S("JOI " + carol + " Carol\n"),
				S(msg("MSG "+carol+" Carol", mimeText+"hi all")),
				S("BYE " + bob + "\n"),
				C(msg("MSG 6 A", mimeText+"bye")),
				C("OUT\n"),
			},
			reason: capture.CloseFIN,
			want: []want{
				{kind: "session_start", user: alice, fc: yes},
				{kind: "session_join", user: alice, from: bob, to: []string{alice}, contact: bob},
				{kind: "typing", user: alice, from: alice, to: []string{bob}, ct: "text/x-msmsgscontrol", body: "\r\n", fc: yes},
				{kind: "message", user: alice, from: alice, to: []string{bob}, ct: "text/plain", body: "hello bob", fc: yes},
				{kind: "typing", user: alice, from: bob, to: []string{alice}, ct: "text/x-msmsgscontrol", body: "\r\n", fc: no},
				{kind: "message", user: alice, from: bob, to: []string{alice}, ct: "text/plain", body: "hi alice\r\nsecond line", fc: no},
				{kind: "session_join", user: alice, from: carol, to: []string{alice, bob}, contact: carol},
				{kind: "message", user: alice, from: carol, to: []string{alice, bob}, ct: "text/plain", body: "hi all"},
				{kind: "session_leave", user: alice, from: bob, to: []string{alice, carol}, contact: bob},
				{kind: "message", user: alice, from: alice, to: []string{carol}, ct: "text/plain", body: "bye"},
				{kind: "session_leave", user: alice, from: alice, contact: alice, to: []string{carol}, fc: yes},
			},
		},
		{
			name: "sb-ans-iro",
			steps: []step{
				C("ANS 1 " + alice + " 849102291.520491113 11752013\n"),
				S("IRO 1 1 2 " + bob + " Bob\n"),
				S("IRO 1 2 2 " + carol + " Carol\n"),
				S("ANS 1 OK\n"),
				S(msg("MSG "+bob+" Bob", mimeText+"welcome")),
				S(msg("MSG "+carol+" Carol", "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\nApplication-Name: File Transfer\r\nInvitation-Command: INVITE\r\n")),
				S(msg("MSG "+carol+" Carol", "MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: "+alice+"\r\n\r\n\x00\x01\x02\xff binary")),
				S(msg("MSG "+carol+" Carol", "MIME-Version: 1.0\r\nContent-Type: text/x-clientcaps\r\n\r\nClient-Name: X\r\n")),
				S(msg("MSG "+carol+" Carol", "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\n\r\n\r\n")),
			},
			reason: capture.CloseEOF,
			want: []want{
				{kind: "session_start", user: alice, fc: yes},
				{kind: "session_join", user: alice, from: bob, contact: bob, to: []string{alice}, fc: no},
				{kind: "session_join", user: alice, from: carol, contact: carol, to: []string{alice, bob}},
				{kind: "message", user: alice, from: bob, to: []string{alice, carol}, ct: "text/plain", body: "welcome"},
				{kind: "file_invite", user: alice, from: carol, to: []string{alice, bob}, ct: "text/x-msmsgsinvite", body: "Application-Name: File Transfer\r\nInvitation-Command: INVITE\r\n"},
				{kind: "p2p", user: alice, from: carol, to: []string{alice, bob}, ct: "application/x-msnmsgrp2p", body: "\x00\x01\x02\uFFFD binary"},
				{kind: "info", user: alice, from: carol, to: []string{alice, bob}, ct: "text/x-clientcaps", body: "Client-Name: X\r\n"},
				{kind: "info", user: alice, from: carol, to: []string{alice, bob}, ct: "text/x-msmsgscontrol", body: "\r\n"},
			},
		},
		{
			name: "sb-mid-session-server-first",
			steps: []step{
				S(msg("MSG "+bob+" Bob", mimeText+"one")),
				C(msg("MSG 10 N", mimeText+"two")),
				S("JOI " + carol + " Carol\n"),
				S("BYE " + bob + "\n"),
				S("BYE " + bob + "\n"),
			},
			reason: capture.CloseEOF,
			want: []want{
				{kind: "session_start"},
				{kind: "message", from: bob, body: "one", ct: "text/plain"},
				{kind: "message", to: []string{bob}, body: "two", ct: "text/plain"},
				{kind: "session_join", from: carol, contact: carol, to: []string{bob}},
				{kind: "session_leave", from: bob, contact: bob, to: []string{carol}},
				{kind: "session_leave", from: bob, contact: bob, to: []string{carol}},
			},
		},
		{
			name: "sb-one-way-client-typing-names-owner",
			steps: []step{
				C(msg("MSG 77 U", typing(alice))),
				C(msg("MSG 78 N", mimeText+"anyone?")),
				C("OUT\n"),
			},
			reason: capture.CloseEOF,
			want: []want{
				{kind: "session_start", user: alice},
				{kind: "typing", user: alice, from: alice, ct: "text/x-msmsgscontrol", body: "\r\n"},
				{kind: "message", user: alice, from: alice, ct: "text/plain", body: "anyone?"},
				{kind: "session_leave", user: alice, from: alice, contact: alice},
			},
		},
		{
			name: "msnp18-epid-and-network-prefix",
			steps: []step{
				C("USR 1 " + alice + ";{11111111-2222-3333-4444-555555555555} 123.456\n"),
				S("USR 1 OK " + alice + ";{11111111-2222-3333-4444-555555555555} Alice\n"),
				C("CAL 2 " + bob + "\n"), S("CAL 2 RINGING 1\n"),
				S("JOI " + bob + ";{aaaaaaaa-2222-3333-4444-555555555555} Bob 2789003324:48\n"),
				S("JOI " + bob + " Bob 2789003324:48\n"),
				S(msg("MSG "+bob+" Bob", mimeText+"x")),
			},
			reason: capture.CloseEOF,
			want: []want{
				{kind: "session_start", user: alice},
				{kind: "session_join", user: alice, from: bob, contact: bob, to: []string{alice}},
				{kind: "message", user: alice, from: bob, to: []string{alice}, ct: "text/plain", body: "x"},
			},
		},
		{
			name: "lf-only-line-endings",
			steps: []step{
				{capture.ClientToServer, "USR 1 " + alice + " 1.2\n"},
				{capture.ServerToClient, "USR 1 OK " + alice + " A\nJOI " + bob + " B\n"},
				{capture.ClientToServer, "MSG 2 N 49\nMIME-Version: 1.0\nContent-Type: text/plain\n\nline\n"},
			},
			reason: capture.CloseEOF,
			want: []want{
				{kind: "session_start", user: alice},
				{kind: "session_join", user: alice, from: bob, contact: bob, to: []string{alice}},
				{kind: "message", user: alice, from: alice, to: []string{bob}, ct: "text/plain", body: "line\n"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := feed(t, newTestProtocol(), testID, tt.steps, tt.reason)
			check(t, r.events, tt.want)
		})
	}
}

func TestMessageFieldsAndRaw(t *testing.T) {
	mime := mimeText + "hello"
	r := feed(t, newTestProtocol(), testID, []step{
		C("USR 1 " + alice + " 1.2\n"), S("USR 1 OK " + alice + " A\n"),
		C(msg("MSG 2 N", mime)),
	}, capture.CloseEOF)
	m := r.ofKind(decoder.KindMessage)
	if len(m) != 1 {
		t.Fatalf("%d messages", len(m))
	}
	e := m[0]
	if string(e.Raw) != mime {
		t.Errorf("Raw = %q", e.Raw)
	}
	if e.Charset != "UTF-8" || e.Role != decoder.RoleSwitchboard {
		t.Errorf("charset %q role %q", e.Charset, e.Role)
	}
	wantF := decoder.Format{Font: "MS Shell Dlg", Effects: "B", Color: "ff0000", Charset: "0", Pitch: "22"}
	if e.Format == nil || *e.Format != wantF {
		t.Errorf("format %+v", e.Format)
	}
	if e.Client != clientAP || e.Server != serverAP {
		t.Errorf("endpoints %v %v", e.Client, e.Server)
	}
	if want := t0.Add(3 * time.Second); !e.Time.Equal(want) {
		t.Errorf("time %v want %v", e.Time, want)
	}
}

// TestOrientationFlip: the capture guessed the roles backwards (no SYN,
// server on the higher port); the decoder swaps them.
func TestOrientationFlip(t *testing.T) {
	swapped := capture.ConnID{Client: serverAP, Server: clientAP, Start: t0}
	r := feed(t, newTestProtocol(), swapped, []step{
		// The real client's bytes arrive as ServerToClient.
		{capture.ServerToClient, crlf("USR 1 " + alice + " 1.2\n")},
		{capture.ClientToServer, crlf("USR 1 OK " + alice + " A\n")},
		{capture.ClientToServer, crlf("JOI " + bob + " B\n")},
		{capture.ServerToClient, crlf(msg("MSG 2 N", mimeText+"hi"))},
	}, capture.CloseEOF)
	check(t, r.events, []want{
		{kind: "session_start", user: alice, fc: yes},
		{kind: "session_join", user: alice, from: bob, contact: bob, to: []string{alice}, fc: no},
		{kind: "message", user: alice, from: alice, to: []string{bob}, ct: "text/plain", body: "hi", fc: yes},
	})
}

// TestCrossConnectionLinks: an NS seen mid-session learns its owner from the
// switchboards its RNG and XFR cookies lead to.
func TestCrossConnectionLinks(t *testing.T) {
	p := newTestProtocol()
	nsID := testID
	r := &recorder{}
	ns := p.NewConn(nsID, r)
	ts := t0
	data := func(c decoder.ConnDecoder, s step) {
		ts = ts.Add(time.Second)
		c.Data(s.dir, []byte(s.data), ts)
	}
	data(ns, C("PNG\n"))
	data(ns, S("QNG 45\n"))
	data(ns, S("NLN NLN "+bob+" Bob 0\n"))
	data(ns, S("RNG 55555555 198.51.100.40:1863 CKI 1234567890.12345 "+bob+" Bob\n"))

	sbID := capture.ConnID{Client: netip.MustParseAddrPort("192.0.2.10:40002"), Server: netip.MustParseAddrPort("198.51.100.40:1863"), Start: ts}
	sr := &recorder{}
	sb := p.NewConn(sbID, sr)
	data(sb, C("ANS 9 "+alice+" 1234567890.12345 55555555\n"))
	// The IRO and ANS OK were not captured: the RNG caller is a member.
	data(sb, C(msg("MSG 10 N", mimeText+"hi bob")))

	data(ns, S("NLN IDL "+bob+" Bob 0\n"))
	data(ns, C("XFR 11 SB\n"))
	data(ns, S("XFR 11 SB 198.51.100.41:1863 CKI 777777.1234500000.40404\n"))
	sb2ID := capture.ConnID{Client: netip.MustParseAddrPort("192.0.2.10:40003"), Server: netip.MustParseAddrPort("198.51.100.41:1863"), Start: ts}
	sr2 := &recorder{}
	sb2 := p.NewConn(sb2ID, sr2)
	data(sb2, C("USR 12 "+alice+" 777777.1234500000.40404\n"))
	data(sb2, S("USR 12 OK "+alice+" Alice\n"))
	ns.Close(capture.CloseEOF, ts)
	sb.Close(capture.CloseEOF, ts)
	sb2.Close(capture.CloseEOF, ts)

	pres := r.ofKind(decoder.KindPresence)
	if len(pres) != 2 || pres[0].User != "" || pres[1].User != alice {
		t.Fatalf("presence users: %+v", pres)
	}
	msgs := sr.ofKind(decoder.KindMessage)
	if len(msgs) != 1 || msgs[0].From != alice || !reflect.DeepEqual(msgs[0].To, []string{bob}) {
		t.Fatalf("sb message: %+v", msgs)
	}
	if len(sr2.ofKind(decoder.KindSessionStart)) != 1 {
		t.Fatalf("sb2 events: %v", sr2.kinds())
	}
}

func TestCharsets(t *testing.T) {
	gb := "\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7" // 你好，世界 in GB2312
	big5 := "\xa7\x41\xa6\x6e"                       // 你好 in Big5
	latin1 := "caf\xe9"
	tests := []struct {
		charset, body, want string
	}{
		{"gb2312", gb, "你好，世界"},
		{"GB2312", gb, "你好，世界"},
		{"big5", big5, "你好"},
		{"iso-8859-1", latin1, "café"},
		{"UTF-8", "caf\xc3\xa9 \xff", "café \uFFFD"},
		{"", "plain", "plain"},
		{"x-unknown-charset", "abc\xff", "abc\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.charset, func(t *testing.T) {
			ct := "text/plain"
			if tt.charset != "" {
				ct += "; charset=" + tt.charset
			}
			r := feed(t, newTestProtocol(), testID, []step{
				S(msg("MSG "+bob+" Bob", "MIME-Version: 1.0\r\nContent-Type: "+ct+"\r\n\r\n"+tt.body)),
			}, capture.CloseEOF)
			m := r.ofKind(decoder.KindMessage)
			if len(m) != 1 || m[0].Body != tt.want {
				t.Fatalf("events %v body %q want %q", r.kinds(), bodyOf(m), tt.want)
			}
		})
	}
}

func bodyOf(m []decoder.Event) string {
	if len(m) == 0 {
		return ""
	}
	return m[0].Body
}

// TestXFRLinkAndBound: an NS seen mid-session learns its owner from the
// switchboard its XFR cookie leads to; the link table is bounded.
func TestXFRLinkAndBound(t *testing.T) {
	p := New(nil, Options{MaxSwitchboards: 2})
	r := &recorder{}
	ns := p.NewConn(testID, r)
	ns.Data(capture.ServerToClient, []byte("XFR 7 SB 198.51.100.41:1863 CKI 111.222\r\n"), t0)
	ns.Data(capture.ServerToClient, []byte("XFR 8 SB 198.51.100.41:1863 CKI 333.444\r\n"), t0)
	ns.Data(capture.ServerToClient, []byte("XFR 9 SB 198.51.100.41:1863 CKI 555.666\r\n"), t0)
	if s := p.Stats(); s.LinksEvicted != 1 {
		t.Fatalf("evicted %d", s.LinksEvicted)
	}
	if _, ok := p.lookupLink([]byte("111.222")); ok {
		t.Fatal("oldest link kept beyond the bound")
	}
	sbID := capture.ConnID{Client: netip.MustParseAddrPort("192.0.2.10:40009"), Server: netip.MustParseAddrPort("198.51.100.41:1863"), Start: t0}
	sb := p.NewConn(sbID, &recorder{})
	sb.Data(capture.ClientToServer, []byte("USR 1 "+alice+" 555.666\r\n"), t0)
	ns.Data(capture.ServerToClient, []byte("NLN NLN "+bob+" Bob 0\r\n"), t0)
	ns.Close(capture.CloseFIN, t0)
	got := r.ofKind(decoder.KindPresence)
	if len(got) != 1 || got[0].User != alice {
		t.Fatalf("presence %+v", got)
	}
	// The NS owner was inferred, so its close is a logout.
	if l := r.ofKind(decoder.KindLogout); len(l) != 1 || l[0].User != alice {
		t.Fatalf("logout %+v", l)
	}
}

// TestMembersBounded: a switchboard never tracks more than MaxMembers.
func TestMembersBounded(t *testing.T) {
	p := New(nil, Options{MaxMembers: 3})
	var steps []step
	steps = append(steps, C("USR 1 "+alice+" 1.2\n"))
	for i := 0; i < 50; i++ {
		steps = append(steps, S("JOI user"+itoa(i)+"@example.com U\n"))
	}
	c := p.NewConn(testID, &recorder{}).(*conn)
	for _, s := range steps {
		c.Data(s.dir, []byte(s.data), t0)
	}
	if len(c.members) != 3 {
		t.Fatalf("%d members", len(c.members))
	}
}

// A switchboard connection that closes without the owner's OUT: FIN or RST
// is the owner leaving (one session_leave, as OUT gives, at the close
// time); the end of a capture file, an idle timeout or an eviction is not.
func TestSwitchboardCloseWithoutOUT(t *testing.T) {
	chat := []step{
		C("USR 1 " + alice + " 123.456.789\n"), S("USR 1 OK " + alice + " Alice\n"),
		C("CAL 2 " + bob + "\n"), S("CAL 2 RINGING 11752013\n"),
		S("JOI " + bob + " Bob\n"),
		S("JOI " + carol + " Carol\n"),
		C(msg("MSG 3 N", mimeText+"hello")),
	}
	start := []want{
		{kind: "session_start", user: alice, fc: yes},
		{kind: "session_join", user: alice, from: bob, contact: bob, to: []string{alice}},
		{kind: "session_join", user: alice, from: carol, contact: carol, to: []string{alice, bob}},
		{kind: "message", user: alice, from: alice, to: []string{bob, carol}, ct: "text/plain", body: "hello", fc: yes},
	}
	closed := want{kind: "session_leave", user: alice, from: alice, contact: alice, to: []string{bob, carol}, detail: "connection closed without OUT", fc: yes}
	with := func(steps ...step) []step { return append(append([]step{}, chat...), steps...) }
	plus := func(w ...want) []want { return append(append([]want{}, start...), w...) }
	tests := []struct {
		name      string
		steps     []step
		reason    capture.CloseReason
		want      []want
		closeTime bool // the last event has the close time
	}{
		{name: "fin-without-out", steps: chat, reason: capture.CloseFIN, want: plus(closed), closeTime: true},
		{name: "rst-without-out", steps: chat, reason: capture.CloseRST, want: plus(closed), closeTime: true},
		{name: "eof-without-out", steps: chat, reason: capture.CloseEOF, want: start},
		{name: "idle-without-out", steps: chat, reason: capture.CloseIdle, want: start},
		{name: "evicted-without-out", steps: chat, reason: capture.CloseEvicted, want: start},
		{
			name: "out-then-fin", steps: with(C("OUT\n")), reason: capture.CloseFIN,
			want: plus(want{kind: "session_leave", user: alice, from: alice, contact: alice, to: []string{bob, carol}, fc: yes}),
		},
		{
			name: "out-then-rst", steps: with(C("OUT\n")), reason: capture.CloseRST,
			want: plus(want{kind: "session_leave", user: alice, from: alice, contact: alice, to: []string{bob, carol}, fc: yes}),
		},
		{
			name: "bye-naming-owner-then-fin", steps: with(S("BYE " + alice + "\n")), reason: capture.CloseFIN,
			want: plus(want{kind: "session_leave", user: alice, from: alice, contact: alice, to: []string{bob, carol}, fc: no}),
		},
		{
			name: "others-left-then-fin", steps: with(S("BYE "+bob+"\n"), S("BYE "+carol+"\n")), reason: capture.CloseFIN,
			want: plus(
				want{kind: "session_leave", user: alice, from: bob, contact: bob, to: []string{alice, carol}, fc: no},
				want{kind: "session_leave", user: alice, from: carol, contact: carol, to: []string{alice}, fc: no},
				want{kind: "session_leave", user: alice, from: alice, contact: alice, detail: "connection closed without OUT", fc: yes},
			),
			closeTime: true,
		},
		{
			name:   "owner-unknown-fin",
			steps:  []step{S(msg("MSG "+bob+" Bob", mimeText+"one")), C(msg("MSG 10 N", mimeText+"two"))},
			reason: capture.CloseFIN,
			want: []want{
				{kind: "session_start"},
				{kind: "message", from: bob, body: "one", ct: "text/plain"},
				{kind: "message", to: []string{bob}, body: "two", ct: "text/plain"},
			},
		},
		{
			name:   "usr-not-answered-fin",
			steps:  []step{C("USR 1 " + alice + " 123.456.789\n")},
			reason: capture.CloseRST,
			want: []want{
				{kind: "session_start", user: alice, fc: yes},
				{kind: "session_leave", user: alice, from: alice, contact: alice, detail: "connection closed without OUT", fc: yes},
			},
			closeTime: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := feed(t, newTestProtocol(), testID, tt.steps, tt.reason)
			check(t, r.events, tt.want)
			if tt.closeTime {
				// feed closes one second after the last step.
				closeAt := t0.Add(time.Duration(len(tt.steps)+1) * time.Second)
				if got := r.events[len(r.events)-1].Time; !got.Equal(closeAt) {
					t.Errorf("session_leave time %v, want the close time %v", got, closeAt)
				}
			}
			for _, e := range r.events {
				if e.Kind == decoder.KindSessionLeave && (e.Body != "" || e.Raw != nil) {
					t.Errorf("session_leave carries content: %q", e.Body)
				}
			}
		})
	}
}
