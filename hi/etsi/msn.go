package etsi

import "time"

// MSN → TS 102 232-2 MessagingIRI constructors. They encode the mapping
// documented in doc.go; the POI builds its X2/X3 payloads with them, so
// every RCDS component agrees on one encoding. Every constructor sets
// system-type unified-messaging(1); the caller wraps the result with
// NewIRIPayload (IRI type and time) and, for content, NewCCPayload.

// Passport returns a Messaging-Party-Information naming an MSN passport as
// email-address [2] (a one-element E-mail-Address-List).
func Passport(q PartyQualifier, passport string) PartyInformation {
	return PartyInformation{Qualifier: q, Identity: EmailAddresses{passport}}
}

func newBoxIRI(ev BoxEvent, trigger MessagingTrigger, parties []PartyInformation, props []Property) *MessagingIRI {
	return &MessagingIRI{
		SystemType: UnifiedMessaging,
		Category:   ev,
		Status:     StatusSucceeded,
		Parties:    parties,
		Trigger:    trigger,
		Properties: props,
	}
}

// NewLoginIRI maps a notification-server `USR … OK`: message-box login(1),
// the user as originating party, status operation-succeeded(3), trigger user(1).
func NewLoginIRI(user string) *MessagingIRI {
	return newBoxIRI(BoxLogin, TriggerUser, []PartyInformation{Passport(OriginatingParty, user)}, nil)
}

// NewLogoutIRI maps a notification-server `OUT` (trigger user(1)) or, with
// closed set, the NS connection closing without one (trigger system(3)):
// message-box logout(2).
func NewLogoutIRI(user string, closed bool) *MessagingIRI {
	t := TriggerUser
	if closed {
		t = TriggerSystem
	}
	return newBoxIRI(BoxLogout, t, []PartyInformation{Passport(OriginatingParty, user)}, nil)
}

// PresenceOffline reports whether an MSNP status code means the user is not
// visible to others (FLN offline, HDN appear-offline).
func PresenceOffline(status string) bool { return status == "FLN" || status == "HDN" }

// NewPresenceIRI maps `CHG`/`ILN`/`NLN`/`FLN`: message-box activate(5) when
// the status makes the user available (NLN, BSY, IDL, BRB, AWY, PHN, LUN, …)
// and deactivate(6) for FLN and HDN; the MSNP status code itself goes in a
// subject property, verbatim. With contact == "" it is the owner's own
// change (owner = originating party, trigger user(1)); otherwise it is a
// contact's presence the owner's client was told about (contact =
// originating party, owner = terminating party, trigger system(3)).
func NewPresenceIRI(owner, contact, status string) *MessagingIRI {
	ev := BoxActivate
	if PresenceOffline(status) {
		ev = BoxDeactivate
	}
	parties := []PartyInformation{Passport(OriginatingParty, owner)}
	trigger := TriggerUser
	if contact != "" && contact != owner {
		parties = []PartyInformation{Passport(OriginatingParty, contact), Passport(TerminatingParty, owner)}
		trigger = TriggerSystem
	}
	return newBoxIRI(ev, trigger, parties, []Property{Subject(status)})
}

// NewContactIRI maps `ADD`/`ADC` and each `<c>` of an `ADL`: message
// contact(7), owner originating, contact terminating; list, when known (FL,
// AL, BL, RL, PL), goes in a subject property.
func NewContactIRI(owner, contact, list string) *MessagingIRI {
	m := &MessagingIRI{
		SystemType: UnifiedMessaging,
		Category:   MsgContact,
		Status:     StatusSucceeded,
		Parties:    []PartyInformation{Passport(OriginatingParty, owner), Passport(TerminatingParty, contact)},
		Trigger:    TriggerUser,
	}
	if list != "" {
		m.Properties = []Property{Subject(list)}
	}
	return m
}

// NewNicknameIRI maps `REA` / `PRP MFN`: message-box greeting-change(10)
// with properties greeting-type name(2) and subject = the new nickname
// (URL-decoded UTF-8).
func NewNicknameIRI(owner, nick string) *MessagingIRI {
	return newBoxIRI(BoxGreetingChange, TriggerUser, []PartyInformation{Passport(OriginatingParty, owner)},
		[]Property{GreetingName, Subject(nick)})
}

// NewPersonalMessageIRI maps a `UUX` personal message: message-box
// greeting-change(10) with greeting-type personal(3) and subject = the
// personal message text.
func NewPersonalMessageIRI(owner, text string) *MessagingIRI {
	return newBoxIRI(BoxGreetingChange, TriggerUser, []PartyInformation{Passport(OriginatingParty, owner)},
		[]Property{GreetingPersonal, Subject(text)})
}

func memberParties(owner string, members []string) []PartyInformation {
	ps := []PartyInformation{Passport(OriginatingParty, owner)}
	for _, m := range members {
		if m != "" && m != owner {
			ps = append(ps, Passport(TerminatingParty, m))
		}
	}
	return ps
}

// NewSessionStartIRI maps the start of a switchboard session (`XFR SB`,
// `USR`/`ANS` on a switchboard, `RNG`): message-box connect(17), the owner
// originating, the other members terminating. Send it as IRI-Begin of the
// session's CIN.
func NewSessionStartIRI(owner string, members []string) *MessagingIRI {
	return newBoxIRI(BoxConnect, TriggerUser, memberParties(owner, members), nil)
}

// NewSessionJoinIRI maps `JOI`/`IRO`/`CAL` (someone joins the session):
// message-box additional-destination-add(25), owner originating, who
// terminating. Send it as IRI-Continue.
func NewSessionJoinIRI(owner, who string) *MessagingIRI {
	return newBoxIRI(BoxAdditionalDestinationAdd, TriggerUser, memberParties(owner, []string{who}), nil)
}

// NewSessionLeaveIRI maps `BYE` (someone leaves the session):
// message-box additional-destination-remove(27). Send it as IRI-Continue.
func NewSessionLeaveIRI(owner, who string) *MessagingIRI {
	return newBoxIRI(BoxAdditionalDestinationRemove, TriggerUser, memberParties(owner, []string{who}), nil)
}

// NewSessionEndIRI maps the end of the owner's switchboard session (its
// `OUT` or the connection closing; closed selects trigger system(3)):
// message-box disconnect(16). Send it as IRI-End.
func NewSessionEndIRI(owner string, closed bool) *MessagingIRI {
	t := TriggerUser
	if closed {
		t = TriggerSystem
	}
	return newBoxIRI(BoxDisconnect, t, memberParties(owner, nil), nil)
}

// NewMessageIRI maps every `MSG` the target sends or receives (text,
// typing, invitation, P2P): message deposit(1), from originating, each of
// to terminating, status operation-succeeded(3), trigger user(1), and
// event-identifier eventID, which the matching MessagingCC carries too.
func NewMessageIRI(eventID uint32, from string, to []string) *MessagingIRI {
	ps := []PartyInformation{Passport(OriginatingParty, from)}
	for _, t := range to {
		if t != "" {
			ps = append(ps, Passport(TerminatingParty, t))
		}
	}
	return &MessagingIRI{
		SystemType:      UnifiedMessaging,
		Category:        MsgDeposit,
		Status:          StatusSucceeded,
		Parties:         ps,
		Trigger:         TriggerUser,
		EventIdentifier: &eventID,
	}
}

// NewMessagingCC returns the content of one MSG: the MIME content type
// (e.g. "text/plain; charset=UTF-8", "text/x-msmsgscontrol") and the bytes
// as defined by the event conventions (the MIME body, or the whole MIME
// message where the POI sends that), with the event-identifier of its IRI.
func NewMessagingCC(eventID uint32, contentType string, content []byte) *MessagingCC {
	return &MessagingCC{EventIdentifier: eventID, ContentType: contentType, Content: content}
}

// NewIRIPayload wraps IRI contents with its type and time: timeStamp
// (GeneralizedTime, milliseconds), microSecondTimeStamp and
// timeStampQualifier timeOfInterception(1).
func NewIRIPayload(t IRIType, ts time.Time, c IRIContents) *IRIPayload {
	m := MicroTime(ts)
	q := TSQTimeOfInterception
	return &IRIPayload{IRIType: t, TimeStamp: ts.UTC(), Contents: c, MicroSecondTimeStamp: &m, TimeStampQualifier: &q}
}

// NewCCPayload wraps CC contents with its direction and time, like
// NewIRIPayload.
func NewCCPayload(dir PayloadDirection, ts time.Time, c CCContents) *CCPayload {
	m := MicroTime(ts)
	q := TSQTimeOfInterception
	return &CCPayload{PayloadDirection: &dir, TimeStamp: ts.UTC(), Contents: c, MicroSecondTimeStamp: &m, TimeStampQualifier: &q}
}
