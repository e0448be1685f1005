package x2x3

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"rcds/decoder"
	"rcds/hi/etsi"
)

// What the POI puts in X2 and X3 payloads (README.md, "IRI types"): each
// delivered event kind maps to one MessagingIRI constructor of hi/etsi and
// one IRI type.

// iriType returns the IRI type of an event of kind k: BEGIN and END frame a
// communication (an NS login session or a switchboard session, the
// correlation ID), CONTINUE is within one, REPORT is for what is not part
// of a communication's flow (presence, contacts, nickname and personal
// message changes).
func iriType(e *decoder.Event) etsi.IRIType {
	switch e.Kind {
	case decoder.KindLogin, decoder.KindSessionStart:
		return etsi.IRIBegin
	case decoder.KindLogout:
		return etsi.IRIEnd
	case decoder.KindSessionLeave:
		if ownLeave(e) {
			return etsi.IRIEnd
		}
		return etsi.IRIContinue
	case decoder.KindSessionJoin, decoder.KindMessage, decoder.KindTyping, decoder.KindFileInvite, decoder.KindP2P:
		return etsi.IRIContinue
	}
	return etsi.IRIReport
}

// ownLeave reports whether a session_leave is the connection owner's own
// (its OUT): the end of its switchboard session.
func ownLeave(e *decoder.Event) bool {
	return e.From == "" || strings.EqualFold(e.From, e.User)
}

// messagingIRI builds the TS 102 232-2 MessagingIRI of e.
func messagingIRI(e *decoder.Event, eventID uint32) (*etsi.MessagingIRI, error) {
	owner := party(e.User)
	switch e.Kind {
	case decoder.KindLogin:
		return etsi.NewLoginIRI(owner), nil
	case decoder.KindLogout:
		// A logout the server sent (OUT OTH, ...) is system-triggered.
		return etsi.NewLogoutIRI(owner, !e.FromClient), nil
	case decoder.KindPresence:
		return etsi.NewPresenceIRI(owner, party(e.Contact), text(e.Status)), nil
	case decoder.KindContactAdd:
		return etsi.NewContactIRI(owner, party(e.Contact), ""), nil
	case decoder.KindNickname:
		m := etsi.NewNicknameIRI(owner, text(e.Nick))
		if c := party(e.Contact); c != "" && c != owner {
			m.Parties = append(m.Parties, etsi.Passport(etsi.TerminatingParty, c))
		}
		return m, nil
	case decoder.KindPersonalMessage:
		if c := party(e.Contact); c != "" && c != owner {
			// A contact's personal message the owner's client was told
			// about (UBX): contact originating, owner terminating, like
			// a contact's presence.
			m := etsi.NewPersonalMessageIRI(c, text(e.Body))
			m.Parties = append(m.Parties, etsi.Passport(etsi.TerminatingParty, owner))
			m.Trigger = etsi.TriggerSystem
			return m, nil
		}
		return etsi.NewPersonalMessageIRI(owner, text(e.Body)), nil
	case decoder.KindSessionStart:
		return etsi.NewSessionStartIRI(owner, parties(e.To)), nil
	case decoder.KindSessionJoin:
		return etsi.NewSessionJoinIRI(owner, party(e.From)), nil
	case decoder.KindSessionLeave:
		if ownLeave(e) {
			return etsi.NewSessionEndIRI(owner, false), nil
		}
		return etsi.NewSessionLeaveIRI(owner, party(e.From)), nil
	case decoder.KindMessage, decoder.KindTyping, decoder.KindFileInvite, decoder.KindP2P:
		return etsi.NewMessageIRI(eventID, party(e.From), parties(e.To)), nil
	}
	return nil, fmt.Errorf("x2x3: poi: no IRI for event kind %q", e.Kind)
}

// iriPayload encodes the X2 payload of e: a BER IRIPayload.
func iriPayload(e *decoder.Event, eventID uint32) ([]byte, error) {
	m, err := messagingIRI(e, eventID)
	if err != nil {
		return nil, err
	}
	return etsi.MarshalIRIPayload(etsi.NewIRIPayload(iriType(e), e.Time, m))
}

// ccPayload encodes the X3 payload of a MSG: a BER CCPayload whose
// MessagingCC carries the MIME body as it was on the wire and its content
// type.
func ccPayload(e *decoder.Event, eventID uint32, dir Direction, ct string) ([]byte, error) {
	body, ok := mimeBody(e.Raw)
	if !ok {
		body = []byte(e.Body)
	}
	pd := etsi.FromTarget
	if dir == DirToTarget {
		pd = etsi.ToTarget
	}
	return etsi.MarshalCCPayload(etsi.NewCCPayload(pd, e.Time, etsi.NewMessagingCC(eventID, ct, body)))
}

// contentType is the MIME content type of a MSG's content: the media type
// and, when the message named one, its charset (the content is sent in
// that charset, as on the wire). A body the decoder could not split from
// its headers is sent as the decoder's UTF-8 text.
func contentType(e *decoder.Event) string {
	ct := e.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if _, ok := mimeBody(e.Raw); !ok {
		if strings.HasPrefix(ct, "text/") {
			return ct + "; charset=UTF-8"
		}
		return ct
	}
	if e.Charset != "" && isToken(e.Charset) {
		return ct + "; charset=" + e.Charset
	}
	return ct
}

// isToken reports whether s is a MIME token (a charset name as written).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// maxPassport is the SIZE of an email-address in TS 102 232-2.
const maxPassport = 255

// party returns a passport fit for an E-mail-Address (valid UTF-8, at most
// 255 bytes); the decoder bounds lines, not identities.
func party(s string) string {
	if len(s) <= maxPassport && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	for len(s) > maxPassport {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

func parties(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != "" {
			out = append(out, party(s))
		}
	}
	return out
}

// text returns s as valid UTF-8 (subject properties are UTF8String).
func text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
