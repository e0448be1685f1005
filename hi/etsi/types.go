package etsi

import (
	"time"

	"rcds/hi/ber"
)

// Object identifiers of the implemented module versions. They are returned
// fresh on every call (no package-level mutable state).

// PSDomainID is li-psDomainId of LI-PS-PDU version33: 0.4.0.2.2.5.1.33.
func PSDomainID() ber.OID { return ber.OID{0, 4, 0, 2, 2, 5, 1, 33} }

// HI2OperationID is hi2OperationId of HI2Operations version18:
// 0.4.0.2.2.1.18, the value of IRI-Parameters.domainID.
func HI2OperationID() ber.OID { return ber.OID{0, 4, 0, 2, 2, 1, 18} }

// MessagingIRIObjID is messagingIRIObjId of EmailPDU version19, the
// RELATIVE-OID 5.2.19.3.
func MessagingIRIObjID() ber.OID { return ber.OID{5, 2, 19, 3} }

// MessagingCCObjID is messagingCCObjId of EmailPDU version19, the
// RELATIVE-OID 5.2.19.4.
func MessagingCCObjID() ber.OID { return ber.OID{5, 2, 19, 4} }

// Ptr returns a pointer to a copy of v, for the optional fields.
func Ptr[T any](v T) *T { return &v }

// ---------------------------------------------------------------------------
// TS 102 232-1 PS-PDU

// PSPDU is PS-PDU ::= SEQUENCE { pSHeader [1] PSHeader, payload [2] Payload }.
type PSPDU struct {
	Header  PSHeader
	Payload Payload
}

// PSHeader is the PS-PDU header. Optional fields: an empty string, a nil
// slice or pointer, or a zero time.Time means absent.
type PSHeader struct {
	// DomainID is li-psDomainId [0]; nil encodes PSDomainID().
	DomainID ber.OID
	// LIID is lawfulInterceptionIdentifier [1], UTF8String SIZE(1..25).
	LIID string
	// AuthorizationCountryCode [2], PrintableString SIZE(2), optional.
	AuthorizationCountryCode string
	// CommunicationIdentifier [3].
	CommunicationIdentifier CommunicationIdentifier
	// SequenceNumber [4], 0..4294967295.
	SequenceNumber uint32
	// TimeStamp [5] GeneralizedTime, optional (written as UTC with milliseconds).
	TimeStamp time.Time
	// InterceptionPointID [6], PrintableString SIZE(1..8), optional.
	InterceptionPointID string
	// MicroSecondTimeStamp [7], optional.
	MicroSecondTimeStamp *MicroSecondTimeStamp
	// TimeStampQualifier [8], optional.
	TimeStampQualifier *TimeStampQualifier
	// ExtendedInterceptionPointID [9], OCTET STRING SIZE(1..65535), optional.
	ExtendedInterceptionPointID []byte
	// NetworkFunctionIdentifier [10], OCTET STRING SIZE(1..65535), optional.
	NetworkFunctionIdentifier []byte
}

// CommunicationIdentifier is the PSHeader's communicationIdentifier.
type CommunicationIdentifier struct {
	// NetworkIdentifier [0].
	NetworkIdentifier NetworkIdentifier
	// CIN is communicationIdentityNumber [1], optional (mandatory for IRI
	// and CC records).
	CIN *uint32
	// DeliveryCountryCode [2], PrintableString SIZE(2), optional.
	DeliveryCountryCode string
	// cINExtension [3] (3GPP CorrelationValues) is not modelled; it is
	// skipped when decoding.
}

// NetworkIdentifier is { operatorIdentifier [0], networkElementIdentifier [1], ..., eTSI671NEID [2] }.
type NetworkIdentifier struct {
	// OperatorIdentifier [0], OCTET STRING SIZE(1..16).
	OperatorIdentifier string
	// NetworkElementIdentifier [1], OCTET STRING SIZE(1..16), optional.
	NetworkElementIdentifier string
	// ETSI671NEID [2] (HI2Operations Network-Element-Identifier), optional;
	// the module's comment asks for it or NetworkElementIdentifier, not
	// both (not enforced: it is not a constraint).
	ETSI671NEID NetworkElementID
}

// MicroSecondTimeStamp is { seconds [0] 0..2^64-1 (Unix time), microSeconds [1] 0..999999 }.
type MicroSecondTimeStamp struct {
	Seconds      uint64
	MicroSeconds uint32
}

// MicroTime returns the MicroSecondTimeStamp of t (t must not be before 1970).
func MicroTime(t time.Time) MicroSecondTimeStamp {
	s := t.Unix()
	if s < 0 {
		return MicroSecondTimeStamp{}
	}
	return MicroSecondTimeStamp{Seconds: uint64(s), MicroSeconds: uint32(t.Nanosecond() / 1000)}
}

// Time returns m as a time.Time in UTC (seconds beyond the int64 range saturate).
func (m MicroSecondTimeStamp) Time() time.Time {
	s := m.Seconds
	if s > 1<<62 {
		s = 1 << 62
	}
	return time.Unix(int64(s), int64(m.MicroSeconds)*1000).UTC()
}

// TimeStampQualifier is ENUMERATED { unknown(0), timeOfInterception(1), timeOfMediation(2), ..., timeOfAggregation(3) }.
type TimeStampQualifier int

const (
	TSQUnknown            TimeStampQualifier = 0
	TSQTimeOfInterception TimeStampQualifier = 1
	TSQTimeOfMediation    TimeStampQualifier = 2
	TSQTimeOfAggregation  TimeStampQualifier = 3
)

// Payload is the PS-PDU payload CHOICE. Alternatives:
//
//	iRIPayloadSequence [0]  IRIPayloadSequence
//	cCPayloadSequence  [1]  CCPayloadSequence
//	tRIPayload         [2]  any TRIPayload (*KeepAlive, *OptionRequest, ...)
//	others [3]..[7]         *Unknown (hI1-Operation, encryptionContainer, ...)
type Payload interface{ isPayload() }

// IRIPayloadSequence is iRIPayloadSequence [0] SEQUENCE OF IRIPayload.
type IRIPayloadSequence []IRIPayload

// CCPayloadSequence is cCPayloadSequence [1] SEQUENCE OF CCPayload.
type CCPayloadSequence []CCPayload

func (IRIPayloadSequence) isPayload() {}
func (CCPayloadSequence) isPayload()  {}

// Unknown is a CHOICE alternative RCDS does not model, kept as its complete
// encoding (identifier, length, contents) so it can be re-sent unchanged. It
// implements every CHOICE interface of this package.
type Unknown struct {
	Raw []byte
}

// Tag returns the tag number of the alternative (or 0 if Raw is not BER).
func (u *Unknown) Tag() uint32 {
	e, _, err := ber.Parse(u.Raw)
	if err != nil {
		return 0
	}
	return e.Tag
}

func (*Unknown) isPayload()          {}
func (*Unknown) isTRIPayload()       {}
func (*Unknown) isOption()           {}
func (*Unknown) isIRIContents()      {}
func (*Unknown) isCCContents()       {}
func (*Unknown) isEventCategory()    {}
func (*Unknown) isPartyIdentity()    {}
func (*Unknown) isProperty()         {}
func (*Unknown) isNetworkElementID() {}
func (*Unknown) isIRIsContent()      {}

// ---------------------------------------------------------------------------
// TRI payloads (TS 102 232-1 clause 6.3 / 7)

// TRIPayload is the tRIPayload [2] CHOICE; every alternative is also a
// Payload, so it can be put in PSPDU.Payload directly.
type TRIPayload interface {
	Payload
	isTRIPayload()
}

// IntegrityCheck is integrityCheck [0].
type IntegrityCheck struct {
	// IncludedSequenceNumbers [0]: the PDUs covered, in processing order.
	IncludedSequenceNumbers []uint32
	// CheckType [1]: hash(1) or signature(2).
	CheckType CheckType
	// DataType [2]: iRI(1), cC(2), iLHI(3); optional in the module,
	// mandatory for hashes since version5.
	DataType *DataType
	// CheckValue [3]: the hash or signature.
	CheckValue []byte
	// HashAlgorithm [4], optional; RCDS always sends sHA-256(2).
	HashAlgorithm *HashAlgorithm
}

// CheckType is ENUMERATED { hash(1), signature(2), ... }.
type CheckType int

const (
	CheckHash      CheckType = 1
	CheckSignature CheckType = 2
)

// DataType is ENUMERATED { iRI(1), cC(2), ..., iLHI(3) }.
type DataType int

const (
	DataIRI  DataType = 1
	DataCC   DataType = 2
	DataILHI DataType = 3
)

// HashAlgorithm is ENUMERATED { sHA-1(1), sHA-256(2), sHA-384(3), sHA-512(4), ... }.
type HashAlgorithm int

const (
	HashSHA1   HashAlgorithm = 1
	HashSHA256 HashAlgorithm = 2
	HashSHA384 HashAlgorithm = 3
	HashSHA512 HashAlgorithm = 4
)

// TestPDU is testPDU [1] NULL.
type TestPDU struct{}

// PaddingPDU is paddingPDU [2] OCTET STRING (discarded by the receiver).
type PaddingPDU []byte

// KeepAlive is keep-alive [3] NULL.
type KeepAlive struct{}

// KeepAliveResponse is keep-aliveResponse [4] NULL.
type KeepAliveResponse struct{}

// FirstSegmentFlag is firstSegmentFlag [5] NULL.
type FirstSegmentFlag struct{}

// LastSegmentFlag is lastSegmentFlag [6] NULL.
type LastSegmentFlag struct{}

// CINReset is cINReset [7] NULL.
type CINReset struct{}

// OperatorLeaMessage is operatorLeaMessage [8].
type OperatorLeaMessage struct {
	Priority OperatorLeaMessagePriority // [0] error(1), informational(2)
	Message  []byte                     // [1] SIZE(1..255)
}

// OperatorLeaMessagePriority is ENUMERATED { error(1), informational(2), ... }.
type OperatorLeaMessagePriority int

const (
	PriorityError         OperatorLeaMessagePriority = 1
	PriorityInformational OperatorLeaMessagePriority = 2
)

// OptionRequest is optionRequest [9] { requestedOptions [0] SEQUENCE OF Option }.
type OptionRequest struct {
	RequestedOptions []Option
}

// OptionResponse is optionResponse [10] { acceptedOptions [0], declinedOptions [1] }.
type OptionResponse struct {
	AcceptedOptions []Option
	DeclinedOptions []Option
}

// OptionComplete is optionComplete [11] NULL.
type OptionComplete struct{}

// PDUAcknowledgementRequest is pDUAcknowledgementRequest [12] NULL: the
// receiver answers with a PDUAcknowledgementResponse carrying the same
// PSHeader sequence number.
type PDUAcknowledgementRequest struct{}

// PDUAcknowledgementResponse is pDUAcknowledgementResponse [13] NULL.
type PDUAcknowledgementResponse struct{}

func (*IntegrityCheck) isPayload()                {}
func (*IntegrityCheck) isTRIPayload()             {}
func (*TestPDU) isPayload()                       {}
func (*TestPDU) isTRIPayload()                    {}
func (PaddingPDU) isPayload()                     {}
func (PaddingPDU) isTRIPayload()                  {}
func (*KeepAlive) isPayload()                     {}
func (*KeepAlive) isTRIPayload()                  {}
func (*KeepAliveResponse) isPayload()             {}
func (*KeepAliveResponse) isTRIPayload()          {}
func (*FirstSegmentFlag) isPayload()              {}
func (*FirstSegmentFlag) isTRIPayload()           {}
func (*LastSegmentFlag) isPayload()               {}
func (*LastSegmentFlag) isTRIPayload()            {}
func (*CINReset) isPayload()                      {}
func (*CINReset) isTRIPayload()                   {}
func (*OperatorLeaMessage) isPayload()            {}
func (*OperatorLeaMessage) isTRIPayload()         {}
func (*OptionRequest) isPayload()                 {}
func (*OptionRequest) isTRIPayload()              {}
func (*OptionResponse) isPayload()                {}
func (*OptionResponse) isTRIPayload()             {}
func (*OptionComplete) isPayload()                {}
func (*OptionComplete) isTRIPayload()             {}
func (*PDUAcknowledgementRequest) isPayload()     {}
func (*PDUAcknowledgementRequest) isTRIPayload()  {}
func (*PDUAcknowledgementResponse) isPayload()    {}
func (*PDUAcknowledgementResponse) isTRIPayload() {}

// Option is the Option CHOICE { pDUAcknowledgement [0] NULL, ... }.
type Option interface{ isOption() }

// PDUAcknowledgement is the pDUAcknowledgement [0] option.
type PDUAcknowledgement struct{}

func (*PDUAcknowledgement) isOption() {}

// ---------------------------------------------------------------------------
// IRI and CC payloads

// IRIType is ENUMERATED { iRI-Begin(1), iRI-End(2), iRI-Continue(3), iRI-Report(4) }.
// The zero value means absent.
type IRIType int

const (
	IRIBegin    IRIType = 1
	IRIEnd      IRIType = 2
	IRIContinue IRIType = 3
	IRIReport   IRIType = 4
)

// PayloadDirection is ENUMERATED { fromTarget(0), toTarget(1), ...,
// indeterminate(2), combined(3), notapplicable(4) }.
type PayloadDirection int

const (
	FromTarget    PayloadDirection = 0
	ToTarget      PayloadDirection = 1
	Indeterminate PayloadDirection = 2
	Combined      PayloadDirection = 3
	NotApplicable PayloadDirection = 4
)

// IRIPayload is the TS 102 232-1 IRIPayload (what an X2 PDU carries).
type IRIPayload struct {
	IRIType              IRIType               // [0], zero = absent
	TimeStamp            time.Time             // [1], zero = absent
	Contents             IRIContents           // [2], mandatory
	MicroSecondTimeStamp *MicroSecondTimeStamp // [3]
	TimeStampQualifier   *TimeStampQualifier   // [4]
	SessionDirection     *PayloadDirection     // [5]
	PayloadDirection     *PayloadDirection     // [6]
}

// IRIContents is the iRIContents CHOICE. Alternatives:
//
//	eTSI671IRI   [5]  *ETSI671IRI (TS 101 671 HI2Operations)
//	messagingIRI [14] *MessagingIRI (TS 102 232-2)
//	others            *Unknown (iPIRI, uMTSIRI, ...)
type IRIContents interface{ isIRIContents() }

// CCPayload is the TS 102 232-1 CCPayload (what an X3 PDU carries).
type CCPayload struct {
	PayloadDirection     *PayloadDirection     // [0]
	TimeStamp            time.Time             // [1], zero = absent
	Contents             CCContents            // [2], mandatory
	MicroSecondTimeStamp *MicroSecondTimeStamp // [3]
	TimeStampQualifier   *TimeStampQualifier   // [4]
}

// CCContents is the cCContents CHOICE. Alternatives:
//
//	messagingCC [14] *MessagingCC (TS 102 232-2)
//	others           *Unknown (iPCC, uMTSCC, ...)
type CCContents interface{ isCCContents() }

// ETSI671IRI is the eTSI671IRI [5] alternative, itself a CHOICE of
// iRI-Parameters [0] and iRIsContent [1]: exactly one field is set. RCDS
// sends IRIsContent (it names the record type: begin, continue, end, report).
type ETSI671IRI struct {
	IRIsContent   IRIsContent    // iRIsContent [1]
	IRIParameters *IRIParameters // iRI-Parameters [0]
}

func (*ETSI671IRI) isIRIContents() {}

// ---------------------------------------------------------------------------
// TS 102 232-2 messaging (EmailPDU version19)

// MessagingIRI is the TS 102 232-2 MessagingIRI.
type MessagingIRI struct {
	// ObjID is messaging-iri-obj-id [0]; nil encodes MessagingIRIObjID().
	ObjID ber.OID
	// SystemType [1]; zero encodes unified-messaging(1), the only value defined.
	SystemType MessagingSystemType
	// SystemIdentifier [2], optional.
	SystemIdentifier []byte
	// Category [3], optional: MessageEvent, BoxEvent, NotificationEvent or CallEvent.
	Category EventCategory
	// Status [4].
	Status MessagingStatus
	// Parties [5] SET OF Messaging-Party-Information; nil = absent.
	Parties []PartyInformation
	// Trigger [6].
	Trigger MessagingTrigger
	// Properties [7] SEQUENCE OF Messaging-Property; nil = absent.
	Properties []Property
	// EventIdentifier [8] correlates with MessagingCC.EventIdentifier within a CIN.
	EventIdentifier *uint32
	// OriginalMessage [9], optional.
	OriginalMessage []byte
	// BoxIdentifier [10], optional.
	BoxIdentifier []byte
}

// MessagingCC is the TS 102 232-2 MessagingCC.
type MessagingCC struct {
	// ObjID is messaging-cc-obj-id [0]; nil encodes MessagingCCObjID().
	ObjID ber.OID
	// EventIdentifier [1] correlates with MessagingIRI.EventIdentifier.
	EventIdentifier uint32
	// ContentIdentifier [2], optional.
	ContentIdentifier *uint32
	// SequenceNumber [3], optional.
	SequenceNumber *uint32
	// EndOfSequence [4] BOOLEAN DEFAULT FALSE (written only when true).
	EndOfSequence bool
	// ContentType [5], the MIME content type.
	ContentType string
	// Content [6].
	Content []byte
	// ContentTransferEncoding [7], optional ("" = absent).
	ContentTransferEncoding string
}

func (*MessagingIRI) isIRIContents() {}
func (*MessagingCC) isCCContents()   {}

// MessagingSystemType is ENUMERATED { unified-messaging(1), ... }.
type MessagingSystemType int

const UnifiedMessaging MessagingSystemType = 1

// MessagingStatus is Messaging-Status.
type MessagingStatus int

const (
	StatusUnknown       MessagingStatus = 0
	StatusNotApplicable MessagingStatus = 1
	StatusFailed        MessagingStatus = 2 // operation-failed
	StatusSucceeded     MessagingStatus = 3 // operation-succeeded
	StatusCancelled     MessagingStatus = 4 // operation-cancelled
	StatusStarted       MessagingStatus = 5 // operation-started
	StatusLost          MessagingStatus = 6 // operation-lost
)

// MessagingTrigger is Messaging-Trigger.
type MessagingTrigger int

const (
	TriggerUnknown        MessagingTrigger = 0
	TriggerUser           MessagingTrigger = 1
	TriggerUserAgent      MessagingTrigger = 2
	TriggerSystem         MessagingTrigger = 3
	TriggerSystemOperator MessagingTrigger = 4
)

// EventCategory is the Messaging-Event-Category CHOICE: message [0]
// MessageEvent, message-box [1] BoxEvent, message-notification [2]
// NotificationEvent, call [3] CallEvent, or *Unknown.
type EventCategory interface{ isEventCategory() }

// MessageEvent is Messaging-Event (category message [0]).
type MessageEvent int

const (
	MsgDeposit  MessageEvent = 1
	MsgRetrieve MessageEvent = 2
	MsgDelete   MessageEvent = 3
	MsgSave     MessageEvent = 4
	MsgSlamdown MessageEvent = 5
	MsgCalendar MessageEvent = 6
	MsgContact  MessageEvent = 7
)

// BoxEvent is Messaging-Box-Event (category message-box [1]).
type BoxEvent int

const (
	BoxUnknown                     BoxEvent = 0
	BoxLogin                       BoxEvent = 1
	BoxLogout                      BoxEvent = 2
	BoxLock                        BoxEvent = 3
	BoxUnlock                      BoxEvent = 4
	BoxActivate                    BoxEvent = 5
	BoxDeactivate                  BoxEvent = 6
	BoxDelete                      BoxEvent = 7
	BoxPinChange                   BoxEvent = 8
	BoxGreetingRecord              BoxEvent = 9
	BoxGreetingChange              BoxEvent = 10
	BoxGreetingDelete              BoxEvent = 11
	BoxGreetingEnable              BoxEvent = 12
	BoxGreetingDisable             BoxEvent = 13
	BoxNotificationEnable          BoxEvent = 14
	BoxNotificationDisable         BoxEvent = 15
	BoxDisconnect                  BoxEvent = 16
	BoxConnect                     BoxEvent = 17
	BoxGreetingPlay                BoxEvent = 18
	BoxLanguageChange              BoxEvent = 19
	BoxPinSecurityEnable           BoxEvent = 20
	BoxPinSecurityDisable          BoxEvent = 21
	BoxPersonalOperatorAdd         BoxEvent = 22
	BoxPersonalOperatorChange      BoxEvent = 23
	BoxPersonalOperatorRemove      BoxEvent = 24
	BoxAdditionalDestinationAdd    BoxEvent = 25
	BoxAdditionalDestinationChange BoxEvent = 26
	BoxAdditionalDestinationRemove BoxEvent = 27
	BoxAutoPlayEnable              BoxEvent = 28
	BoxAutoPlayDisable             BoxEvent = 29
	BoxHeaderPlayEnable            BoxEvent = 30
	BoxHeaderPlayDisable           BoxEvent = 31
)

// NotificationEvent is Messaging-Notification-Event (category message-notification [2]).
type NotificationEvent int

const (
	NotifySMS            NotificationEvent = 1
	NotifySMSDeposit     NotificationEvent = 2
	NotifySMSSlamdown    NotificationEvent = 3
	NotifySMSPinReminder NotificationEvent = 4
	NotifyEmail          NotificationEvent = 5
	NotifyFaxToEmail     NotificationEvent = 6
	NotifyMMS            NotificationEvent = 7
	NotifyGeneric        NotificationEvent = 8
)

// CallEvent is Messaging-Call-Event (category call [3]).
type CallEvent int

const CallOut CallEvent = 1

func (MessageEvent) isEventCategory()      {}
func (BoxEvent) isEventCategory()          {}
func (NotificationEvent) isEventCategory() {}
func (CallEvent) isEventCategory()         {}

// PartyInformation is Messaging-Party-Information.
type PartyInformation struct {
	Qualifier     PartyQualifier // [0]
	Identity      PartyIdentity  // [1]
	Validity      *PartyValidity // [2], optional
	CopyQualifier *CopyQualifier // [3], optional
}

// PartyQualifier is Messaging-Party-Qualifier.
type PartyQualifier int

const (
	UnknownParty     PartyQualifier = 0
	OriginatingParty PartyQualifier = 1
	TerminatingParty PartyQualifier = 2
	AssociatedParty  PartyQualifier = 3
)

// PartyValidity is Messaging-Party-Validity { unknown(0), trusted(1), untrusted(2), ... }.
type PartyValidity int

const (
	ValidityUnknown   PartyValidity = 0
	ValidityTrusted   PartyValidity = 1
	ValidityUntrusted PartyValidity = 2
)

// CopyQualifier is Messaging-Copy-Qualifier { unknown(0), none(1), cc(2), bcc(3), ... }.
type CopyQualifier int

const (
	CopyUnknown CopyQualifier = 0
	CopyNone    CopyQualifier = 1
	CopyCC      CopyQualifier = 2
	CopyBCC     CopyQualifier = 3
)

// PartyIdentity is the Messaging-Party-Identity CHOICE. Alternatives:
//
//	email-address       [2]  EmailAddresses (an MSN passport is one e-mail address)
//	ip-address          [3]  *IPAddress
//	alphanumeric        [4]  Alphanumeric
//	ip-address-and-port [5]  *IPAddressAndPort
//	msisdn [0], e164-format [1], imsi [6], imei [7], fax-url [8], tel-url [9],
//	modem-url [10], sip-uri [11], sips-uri [12], nai [13]   *OctetIdentity
//	others                   *Unknown
type PartyIdentity interface{ isPartyIdentity() }

// EmailAddresses is email-address [2] E-mail-Address-List: SIZE(0..1023),
// each UTF8String SIZE(0..255).
type EmailAddresses []string

// Alphanumeric is alphanumeric [4] UTF8String.
type Alphanumeric string

// OctetIdentity is one of the OCTET STRING alternatives of
// Messaging-Party-Identity; Tag names which (msisdn 0, e164-format 1, imsi 6,
// imei 7, fax-url 8, tel-url 9, modem-url 10, sip-uri 11, sips-uri 12, nai 13).
type OctetIdentity struct {
	Tag   uint32
	Value []byte
}

// IPAddressAndPort is ip-address-and-port [5] { ip-address [0], port-number [1] }.
type IPAddressAndPort struct {
	Address IPAddress
	Port    int64
}

func (EmailAddresses) isPartyIdentity()    {}
func (Alphanumeric) isPartyIdentity()      {}
func (*OctetIdentity) isPartyIdentity()    {}
func (*IPAddress) isPartyIdentity()        {}
func (*IPAddressAndPort) isPartyIdentity() {}

// IPAddress is the IPAddress SEQUENCE shared by LI-PS-PDU and HI2Operations.
type IPAddress struct {
	// Type [1]: iPV4(0) or iPV6(1).
	Type IPType
	// Value [2] IP-value CHOICE: exactly one of Binary (iPBinaryAddress [1],
	// SIZE(4..16)) and Text (iPTextAddress [2], IA5String SIZE(7..45)).
	Binary []byte
	Text   string
	// Assignment [3], optional: static(1), dynamic(2), notKnown(3).
	Assignment *IPAssignment
	// PrefixLength [4] (1..128), optional.
	PrefixLength *uint8
	// SubnetMask [5] OCTET STRING SIZE(4), optional.
	SubnetMask []byte
}

// IPType is ENUMERATED { iPV4(0), iPV6(1), ... }.
type IPType int

const (
	IPv4 IPType = 0
	IPv6 IPType = 1
)

// IPAssignment is ENUMERATED { static(1), dynamic(2), notKnown(3), ... }.
type IPAssignment int

const (
	AssignStatic   IPAssignment = 1
	AssignDynamic  IPAssignment = 2
	AssignNotKnown IPAssignment = 3
)

// Property is the Messaging-Property CHOICE. Alternatives: Pincode [0],
// Priority [1], GreetingType [2], NotificationType [3], Language [4],
// MessageIdentifier [5], Subject [6], UserAgent [7], Password [8],
// MessageStatus [9], RequestedReports [10], Expires [11], MessageDate [12],
// or *Unknown.
type Property interface{ isProperty() }

// Pincode is pincode [0] OCTET STRING SIZE(1..32).
type Pincode []byte

// Priority is priority [1] { low(1), medium(2), high(3), private(4), ... }.
type Priority int

const (
	PriorityLow     Priority = 1
	PriorityMedium  Priority = 2
	PriorityHigh    Priority = 3
	PriorityPrivate Priority = 4
)

// GreetingType is greeting-type [2] { general(1), name(2), personal(3), absence(4), number(5), ... }.
type GreetingType int

const (
	GreetingGeneral  GreetingType = 1
	GreetingName     GreetingType = 2
	GreetingPersonal GreetingType = 3
	GreetingAbsence  GreetingType = 4
	GreetingNumber   GreetingType = 5
)

// NotificationType is notification-type [3] (Messaging-Property-Notification-Type, 1..12).
type NotificationType int

// Language is language [4] OCTET STRING (RFC 4646 tag).
type Language string

// MessageIdentifier is message-identifier [5] OCTET STRING.
type MessageIdentifier []byte

// Subject is subject [6] UTF8String.
type Subject string

// UserAgent is user-agent [7] UTF8String.
type UserAgent string

// Password is password [8] OCTET STRING.
type Password []byte

// MessageStatus is message-status [9] (Messaging-Property-Message-Status, 0..10).
type MessageStatus int

// RequestedReports is requested-reports [10] { none(0), delivery(1), read(2), delivery-and-read(3), ... }.
type RequestedReports int

// Expires is expires [11] GeneralizedTime.
type Expires time.Time

// MessageDate is message-date [12] GeneralizedTime.
type MessageDate time.Time

func (Pincode) isProperty()           {}
func (Priority) isProperty()          {}
func (GreetingType) isProperty()      {}
func (NotificationType) isProperty()  {}
func (Language) isProperty()          {}
func (MessageIdentifier) isProperty() {}
func (Subject) isProperty()           {}
func (UserAgent) isProperty()         {}
func (Password) isProperty()          {}
func (MessageStatus) isProperty()     {}
func (RequestedReports) isProperty()  {}
func (Expires) isProperty()           {}
func (MessageDate) isProperty()       {}

// ---------------------------------------------------------------------------
// TS 101 671 HI2Operations (version18)

// IRIsContent is the HI2Operations IRIsContent CHOICE: *IRIContent
// (iRIContent, one record) or IRISequence (iRISequence, several).
type IRIsContent interface{ isIRIsContent() }

// IRIContent is the IRIContent CHOICE. Its four alternatives share the type
// IRI-Parameters and differ only in the tag, so it is one struct whose
// Record names the alternative.
type IRIContent struct {
	Record IRIRecord
	Params IRIParameters
}

// IRISequence is iRISequence, SEQUENCE OF IRIContent.
type IRISequence []IRIContent

func (*IRIContent) isIRIsContent() {}
func (IRISequence) isIRIsContent() {}

// IRIRecord names the IRIContent alternative: iRI-Begin-record [1],
// iRI-End-record [2], iRI-Continue-record [3], iRI-Report-record [4]. The
// values equal the IRIType values of TS 102 232-1.
type IRIRecord int

const (
	RecordBegin    IRIRecord = 1
	RecordEnd      IRIRecord = 2
	RecordContinue IRIRecord = 3
	RecordReport   IRIRecord = 4
)

// IRIParameters is IRI-Parameters, restricted to the fields an IM
// interception uses; the other fields (location, SMS, GPRS, call content
// links, ...) are skipped when decoding and never written.
type IRIParameters struct {
	// DomainID [0]: hi2OperationId; nil = absent (RCDS always sends it).
	DomainID ber.OID
	// IRIVersion [23]: RCDS sends lastVersion(8) as the module recommends.
	IRIVersion *IRIVersion
	// LIID is lawfulInterceptionIdentifier [1], OCTET STRING SIZE(1..25).
	LIID string
	// CommunicationIdentifier [2].
	CommunicationIdentifier CommunicationIdentifier671
	// TimeStamp [3].
	TimeStamp TimeStamp671
	// InterceptedCallDirect [4]: not-Available(0), originating-Target(1), terminating-Target(2).
	InterceptedCallDirect *CallDirection
	// PartyInformation [9] SET SIZE(1..10) OF PartyInformation; nil = absent.
	PartyInformation []PartyInformation671
	// NationalParameters [16] SET SIZE(1..40) OF OCTET STRING SIZE(1..256); nil = absent.
	NationalParameters [][]byte
	// NationalHI2ASN1Parameters [255], optional.
	NationalHI2ASN1Parameters *NationalHI2ASN1Parameters
}

// IRIVersion is the iRIversion ENUMERATED (version2(2) .. lastVersion(8)).
type IRIVersion int

const IRIVersionLast IRIVersion = 8

// CallDirection is the intercepted-Call-Direct ENUMERATED.
type CallDirection int

const (
	DirectionNotAvailable      CallDirection = 0
	DirectionOriginatingTarget CallDirection = 1
	DirectionTerminatingTarget CallDirection = 2
)

// CommunicationIdentifier671 is HI2Operations CommunicationIdentifier.
type CommunicationIdentifier671 struct {
	// CIN is communication-Identity-Number [0], OCTET STRING SIZE(1..8): the
	// digits in ASCII; "" = absent.
	CIN string
	// NetworkIdentifier is network-Identifier [1].
	NetworkIdentifier NetworkIdentifier671
}

// NetworkIdentifier671 is HI2Operations Network-Identifier.
type NetworkIdentifier671 struct {
	// OperatorIdentifier [0], OCTET STRING SIZE(1..5).
	OperatorIdentifier string
	// NetworkElementIdentifier [1], optional.
	NetworkElementIdentifier NetworkElementID
}

// NetworkElementID is the Network-Element-Identifier CHOICE: *NEID for
// e164-Format [1], x25-Format [2], iP-Format [3], dNS-Format [4] (each
// OCTET STRING SIZE(1..25)), *IPAddress for iP-Address [5], or *Unknown.
type NetworkElementID interface{ isNetworkElementID() }

// NEID is one of the OCTET STRING alternatives of Network-Element-Identifier.
type NEID struct {
	Format NEIDFormat
	Value  []byte
}

// NEIDFormat is the tag of a Network-Element-Identifier alternative.
type NEIDFormat uint32

const (
	NEIDE164 NEIDFormat = 1
	NEIDX25  NEIDFormat = 2
	NEIDIP   NEIDFormat = 3
	NEIDDNS  NEIDFormat = 4
)

func (*NEID) isNetworkElementID()      {}
func (*IPAddress) isNetworkElementID() {}

// TimeStamp671 is the HI2Operations TimeStamp CHOICE: localTime [0]
// LocalTimeStamp { generalizedTime, winterSummerIndication } or utcTime [1]
// UTCTime. RCDS writes localTime with a UTC GeneralizedTime ("...Z",
// millisecond resolution) and winterSummerIndication notProvided(0).
type TimeStamp671 struct {
	Time time.Time
	// UTC selects the utcTime [1] alternative (second resolution).
	UTC bool
	// WinterSummer is winterSummerIndication for localTime.
	WinterSummer WinterSummerIndication
}

// WinterSummerIndication is ENUMERATED { notProvided(0), winterTime(1), summerTime(2), ... }.
type WinterSummerIndication int

const (
	NotProvided WinterSummerIndication = 0
	WinterTime  WinterSummerIndication = 1
	SummerTime  WinterSummerIndication = 2
)

// PartyInformation671 is HI2Operations PartyInformation (party-Qualifier and
// the partyIdentity fields an IM interception uses).
type PartyInformation671 struct {
	Qualifier PartyQualifier671
	Identity  PartyIdentity671
}

// PartyQualifier671 is the party-Qualifier ENUMERATED.
type PartyQualifier671 int

const (
	OriginatingParty671 PartyQualifier671 = 0
	TerminatingParty671 PartyQualifier671 = 1
	ForwardedToParty671 PartyQualifier671 = 2
	GPRSTarget671       PartyQualifier671 = 3
)

// PartyIdentity671 is the partyIdentity SEQUENCE; empty fields are absent.
// RCDS puts an MSN passport in Alphanumeric.
type PartyIdentity671 struct {
	IMEI         []byte // [1] SIZE(8)
	TEI          []byte // [2] SIZE(1..15)
	IMSI         []byte // [3] SIZE(3..8)
	MSISDN       []byte // [6] SIZE(1..9)
	E164         []byte // [7] SIZE(1..25)
	SIPURI       []byte // [8]
	TelURL       []byte // [9]
	Validity     *PartyValidity671
	Alphanumeric string // [11] UTF8String
}

// PartyValidity671 is party-Validity { trusted(0), untrusted(1), operator-added(2), ... }.
type PartyValidity671 int

// NationalHI2ASN1Parameters is national-HI2-ASN1parameters [255] { countryCode [1] PrintableString SIZE(2), ... }.
type NationalHI2ASN1Parameters struct {
	CountryCode string
}
