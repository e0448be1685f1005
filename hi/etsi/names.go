package etsi

import (
	"fmt"
	"strings"
)

// ASN.1 identifiers of the enumerations, comma-separated, indexed from lo.
// Constants, so nothing here is mutable.
const (
	namesIRIType       = "iRI-Begin,iRI-End,iRI-Continue,iRI-Report"                    // from 1
	namesDirection     = "fromTarget,toTarget,indeterminate,combined,notapplicable"     // from 0
	namesTSQ           = "unknown,timeOfInterception,timeOfMediation,timeOfAggregation" // from 0
	namesStatus        = "unknown,not-applicable,operation-failed,operation-succeeded,operation-cancelled,operation-started,operation-lost"
	namesTrigger       = "unknown,user,user-agent,system,system-operator"                               // from 0
	namesMessageEvent  = "deposit,retrieve,delete,save,slamdown,calendar,contact"                       // from 1
	namesNotification  = "sms,sms-deposit,sms-slamdown,sms-pin-reminder,email,fax-to-email,mms,generic" // from 1
	namesCallEvent     = "callout"                                                                      // from 1
	namesPartyQual     = "unknown-party,originating-party,terminating-party,associated-party"           // from 0
	namesValidity      = "unknown,trusted,untrusted"                                                    // from 0
	namesCopy          = "unknown,none,cc,bcc"                                                          // from 0
	namesPriority      = "low,medium,high,private"                                                      // from 1
	namesGreeting      = "general,name,personal,absence,number"                                         // from 1
	namesNotifType     = "empty-call,lost-call,message-to-email,read-report,delivery-report,allow-delivery-report,deny-delivery-report,message-wait-indication,voice-to-text,new-message-sms,new-message-outcall,new-message-reminder"
	namesMsgStatus     = "indeterminate,expired,retrieved,rejected,deferred,forwarded,unrecognized,unreachable,read,deleted-without-being-read,delivery-condition-not-met"
	namesReports       = "none,delivery,read,delivery-and-read"
	namesRecord        = "iRI-Begin-record,iRI-End-record,iRI-Continue-record,iRI-Report-record" // from 1
	namesPartyQual671  = "originating-Party,terminating-Party,forwarded-to-Party,gPRS-Target"
	namesCallDirection = "not-Available,originating-Target,terminating-Target"
	namesBoxEvent      = "unknown,login,logout,lock,unlock,activate,deactivate,delete,pin-change," +
		"greeting-record,greeting-change,greeting-delete,greeting-enable,greeting-disable," +
		"notification-enable,notification-disable,disconnect,connect,greeting-play,language-change," +
		"pin-security-enable,pin-security-disable,personal-operator-add,personal-operator-change," +
		"personal-operator-remove,additional-destination-add,additional-destination-change," +
		"additional-destination-remove,auto-play-enable,auto-play-disable,header-play-enable,header-play-disable"
)

// nameOf returns the i-th (from lo) name of a list, or "" if out of range.
func nameOf(list string, lo, v int) string {
	i := v - lo
	if i < 0 {
		return ""
	}
	for {
		j := strings.IndexByte(list, ',')
		if i == 0 {
			if j < 0 {
				return list
			}
			return list[:j]
		}
		if j < 0 {
			return ""
		}
		list = list[j+1:]
		i--
	}
}

// valueOf is the inverse of nameOf.
func valueOf(list string, lo int, name string) (int, bool) {
	for i := 0; ; i++ {
		n := nameOf(list, lo, lo+i)
		if n == "" {
			return 0, false
		}
		if n == name {
			return lo + i, true
		}
	}
}

func enumString(list string, lo, v int, typ string) string {
	if n := nameOf(list, lo, v); n != "" {
		return n
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

func (v IRIType) String() string { return enumString(namesIRIType, 1, int(v), "IRIType") }
func (v PayloadDirection) String() string {
	return enumString(namesDirection, 0, int(v), "PayloadDirection")
}
func (v TimeStampQualifier) String() string {
	return enumString(namesTSQ, 0, int(v), "TimeStampQualifier")
}
func (v MessagingStatus) String() string {
	return enumString(namesStatus, 0, int(v), "MessagingStatus")
}
func (v MessagingTrigger) String() string {
	return enumString(namesTrigger, 0, int(v), "MessagingTrigger")
}
func (v MessageEvent) String() string {
	return enumString(namesMessageEvent, 1, int(v), "MessageEvent")
}
func (v BoxEvent) String() string { return enumString(namesBoxEvent, 0, int(v), "BoxEvent") }
func (v NotificationEvent) String() string {
	return enumString(namesNotification, 1, int(v), "NotificationEvent")
}
func (v CallEvent) String() string { return enumString(namesCallEvent, 1, int(v), "CallEvent") }
func (v PartyQualifier) String() string {
	return enumString(namesPartyQual, 0, int(v), "PartyQualifier")
}
func (v PartyValidity) String() string { return enumString(namesValidity, 0, int(v), "PartyValidity") }
func (v CopyQualifier) String() string { return enumString(namesCopy, 0, int(v), "CopyQualifier") }
func (v Priority) String() string      { return enumString(namesPriority, 1, int(v), "Priority") }
func (v GreetingType) String() string  { return enumString(namesGreeting, 1, int(v), "GreetingType") }
func (v NotificationType) String() string {
	return enumString(namesNotifType, 1, int(v), "NotificationType")
}
func (v MessageStatus) String() string { return enumString(namesMsgStatus, 0, int(v), "MessageStatus") }
func (v RequestedReports) String() string {
	return enumString(namesReports, 0, int(v), "RequestedReports")
}
func (v IRIRecord) String() string { return enumString(namesRecord, 1, int(v), "IRIRecord") }
func (v PartyQualifier671) String() string {
	return enumString(namesPartyQual671, 0, int(v), "PartyQualifier671")
}
func (v CallDirection) String() string {
	return enumString(namesCallDirection, 0, int(v), "CallDirection")
}

// CategoryString renders a Messaging-Event-Category as "alternative:value"
// with the ASN.1 identifiers, e.g. "message-box:login", "message:deposit";
// "" for nil. The LEMF's `category` output uses it.
func CategoryString(c EventCategory) string {
	switch v := c.(type) {
	case MessageEvent:
		return "message:" + v.String()
	case BoxEvent:
		return "message-box:" + v.String()
	case NotificationEvent:
		return "message-notification:" + v.String()
	case CallEvent:
		return "call:" + v.String()
	case *Unknown:
		return fmt.Sprintf("unknown:[%d]", v.Tag())
	}
	return ""
}

// ParseCategory is the inverse of CategoryString.
func ParseCategory(s string) (EventCategory, error) {
	alt, val, ok := strings.Cut(s, ":")
	if ok {
		switch alt {
		case "message":
			if v, ok := valueOf(namesMessageEvent, 1, val); ok {
				return MessageEvent(v), nil
			}
		case "message-box":
			if v, ok := valueOf(namesBoxEvent, 0, val); ok {
				return BoxEvent(v), nil
			}
		case "message-notification":
			if v, ok := valueOf(namesNotification, 1, val); ok {
				return NotificationEvent(v), nil
			}
		case "call":
			if v, ok := valueOf(namesCallEvent, 1, val); ok {
				return CallEvent(v), nil
			}
		}
	}
	return nil, fmt.Errorf("etsi: parse category %q: %w", s, ErrInvalid)
}

// KindOf names a payload the way the LEMF's `kind` output does: "iri",
// "cc", "keepalive", "keepalive-response", "option-request",
// "option-response", "option-complete", "ack-request", "ack-response",
// "integrity-check", "test", "padding", "first-segment", "last-segment",
// "cin-reset", "operator-message", or "unknown".
func KindOf(p Payload) string {
	switch p.(type) {
	case IRIPayloadSequence:
		return "iri"
	case CCPayloadSequence:
		return "cc"
	case *KeepAlive:
		return "keepalive"
	case *KeepAliveResponse:
		return "keepalive-response"
	case *OptionRequest:
		return "option-request"
	case *OptionResponse:
		return "option-response"
	case *OptionComplete:
		return "option-complete"
	case *PDUAcknowledgementRequest:
		return "ack-request"
	case *PDUAcknowledgementResponse:
		return "ack-response"
	case *IntegrityCheck:
		return "integrity-check"
	case *TestPDU:
		return "test"
	case PaddingPDU:
		return "padding"
	case *FirstSegmentFlag:
		return "first-segment"
	case *LastSegmentFlag:
		return "last-segment"
	case *CINReset:
		return "cin-reset"
	case *OperatorLeaMessage:
		return "operator-message"
	}
	return "unknown"
}
