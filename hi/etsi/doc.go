// Package etsi defines the ETSI handover records RCDS sends and receives,
// with BER encoding and decoding (package hi/ber):
//
//   - TS 102 232-1 PS-PDU, module LI-PS-PDU version33 (li-psDomainId
//     0.4.0.2.2.5.1.33): PSHeader, iRIPayloadSequence / cCPayloadSequence
//     with IRIPayload / CCPayload, and every TRIPayload (keep-alive and its
//     response, option negotiation with pDUAcknowledgement, PDU
//     acknowledgement request/response, integrity check, test, padding,
//     segment flags, cINReset, operatorLeaMessage).
//   - TS 102 232-2 MessagingIRI and MessagingCC, module EmailPDU version19
//     (messagingIRI [14] / messagingCC [14] in IRIContents / CCContents).
//   - TS 101 671 HI2Operations version18 IRIsContent (IRI-Begin/Continue/
//     End/Report records with IRI-Parameters), standalone and as
//     eTSI671IRI [5] inside a PS-PDU.
//
// # Coverage and rules
//
// All three modules use IMPLICIT TAGS; a tagged CHOICE is always explicit
// (X.680 31.2.7), so e.g. payload [2], iRIContents [2], category [3],
// party-identity [1], TimeStamp [3] and eTSI671IRI [5] wrap their
// alternative in a constructed tag. Every CHOICE is a sealed interface with
// one small type per alternative (miekg/dns style); alternatives RCDS does
// not model (iPIRI, uMTSCC, hI1-Operation, encryptionContainer, …) decode to
// *Unknown, which keeps the alternative's bytes and re-encodes them
// unchanged. Struct alternatives are used as pointers (*KeepAlive,
// *MessagingIRI), named non-struct ones as values (IRIPayloadSequence,
// BoxEvent, Subject).
//
// Constraints are checked on encode and on decode, with the same rules the
// independent validator applies: LIID UTF8String SIZE(1..25) (TS 103 280
// Common-Parameters), operatorIdentifier and networkElementIdentifier
// SIZE(1..16), country codes PrintableString SIZE(2), interceptionPointID
// SIZE(1..8), INTEGER ranges (sequence numbers and CINs 0..2^32-1,
// microSeconds 0..999999, MicroSecondTimeStamp.seconds up to 2^64-1),
// every OCTET STRING / SET OF SIZE, and undefined ENUMERATED values (also
// of extensible enumerations, like the validator). Components of a SEQUENCE
// must come in order, once; unknown context-tagged components (extension
// additions of later versions) are skipped. Not modelled, skipped when
// decoding and never written: cINExtension (3GPP CorrelationValues), the
// IRI-Parameters fields an IM interception has no use for (location, SMS,
// GPRS, call content links, supplementary services, …) and the
// callingPartyNumber / calledPartyNumber of PartyInformation. Off-spec
// records are rejected with ErrInvalid; malformed BER with the hi/ber
// sentinels.
//
// Times: GeneralizedTime is written in UTC as "YYYYMMDDhhmmss.fffZ"; the
// constructors also set microSecondTimeStamp and timeStampQualifier
// timeOfInterception(1). TS 101 671 TimeStamp is written as localTime
// {GeneralizedTime in UTC, winterSummerIndication notProvided(0)} because
// utcTime (UTCTime) only has seconds.
//
// Integrity checks (IntegrityCheck, NewIntegrityCheck, Verify): SHA-256
// (hashAlgorithm sHA-256(2), checkType hash(1), dataType iRI or cC) over the
// concatenation of the complete BER encodings of the PS-PDUs listed in
// includedSequenceNumbers, in that order.
//
// # API for the MDF and the LEMF
//
//   - AppendPSPDU(dst, header, KindIRI|KindCC, payloads...) splices the
//     IRIPayload/CCPayload elements an X2/X3 PDU carries into a PS-PDU
//     without decoding them; allocation-free with a reused dst.
//   - Marshal/Append/Unmarshal for a whole PS-PDU (TRI PDUs, the LEMF's
//     full decode); MarshalIRIPayload/UnmarshalIRIPayload and the CC
//     equivalents for X2/X3 payloads; MarshalIRIsContent/
//     UnmarshalIRIsContent for raw TS 101 671 records.
//   - NewRecordReader(conn, maxRecord) splits a TCP byte stream into
//     records (definite or indefinite length, bounded).
//   - To671 / AppendIRIPayload671 turn a messaging IRIPayload into the
//     TS 101 671 profile; MessagingFrom671 goes back, for a uniform view.
//
// # MSN → ETSI mapping
//
// The POI builds X2 payloads with these constructors (system-type
// unified-messaging(1) always; status operation-succeeded(3) unless stated;
// parties are MSN passports as email-address [2] one-element lists) and
// wraps them with NewIRIPayload(iRIType, time, contents) /
// NewCCPayload(direction, time, contents). The CIN is one NS login session
// or one switchboard session (the X2/X3 correlation ID, mapped to a CIN by
// the MDF).
//
//	MSNP / decoder event              constructor                       IRI type   category (trigger)                         parties (orig → term)          properties / CC
//	--------------------------------  --------------------------------  ---------  -----------------------------------------  -----------------------------  ------------------------------------------
//	NS USR … OK (login)               NewLoginIRI(user)                 Begin      message-box login(1) (user)                user                           –
//	NS OUT / NS closed (logout)       NewLogoutIRI(user, closed)        End        message-box logout(2) (user; system if     user                           –
//	                                                                               closed without OUT)
//	CHG (own presence)                NewPresenceIRI(owner, "", code)   Report     message-box activate(5), or deactivate(6)  owner                          subject = MSNP status code (NLN, BSY, IDL,
//	                                                                               for FLN/HDN (user)                                                        BRB, AWY, PHN, LUN, HDN, FLN) verbatim
//	ILN/NLN/FLN (contact presence)    NewPresenceIRI(owner, c, code)    Report     as above (system)                          contact → owner                subject = status code
//	ADD/ADC, each <c> of ADL          NewContactIRI(owner, c, list)     Report     message contact(7) (user)                  owner → contact                subject = list (FL, AL, BL, RL, PL) if known
//	REA, PRP MFN (nickname)           NewNicknameIRI(owner, nick)       Report     message-box greeting-change(10) (user)     owner                          greeting-type name(2), subject = nickname
//	                                                                                                                                                         (URL-decoded UTF-8)
//	UUX (personal message)            NewPersonalMessageIRI(owner, t)   Report     message-box greeting-change(10) (user)     owner                          greeting-type personal(3), subject = text
//	XFR SB / SB USR, ANS / RNG        NewSessionStartIRI(owner, mem)    Begin      message-box connect(17) (user)             owner → other members          –
//	(session_start)
//	JOI / IRO / CAL (session_join)    NewSessionJoinIRI(owner, who)     Continue   message-box additional-destination-add(25) owner → who                    –
//	BYE (session_leave of another)    NewSessionLeaveIRI(owner, who)    Continue   message-box additional-destination-        owner → who                    –
//	                                                                               remove(27)
//	SB OUT / SB closed (own leave)    NewSessionEndIRI(owner, closed)   End        message-box disconnect(16) (user/system)   owner                          –
//	every MSG (message, typing,       NewMessageIRI(id, from, to)       Continue   message deposit(1) (user)                  from → each of to              event-identifier = id; CC: NewMessagingCC(id,
//	file_invite, p2p)                 + NewMessagingCC(id, ct, body)                                                                                         content-type, content), same id, same CIN
//
// IRI types are what the POI should send; the constructors do not fix them.
// In the TS 101 671 profile the same information travels as described at
// IRIContentFromMessaging: passports in partyInformation alphanumeric, the
// category, status, trigger, event-identifier and properties as
// "key=value" national-Parameters (e.g. "category=message-box:login",
// "subject=NLN", "greeting-type=name").
package etsi
