package x1

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// decodedMessage is one x1RequestMessage of a request document.
type decodedMessage struct {
	rt   RequestType
	head Header  // what could be read of the header
	req  Request // nil when err is set
	err  error   // answered with an ErrorResponse (1010, 1020, 1080, 3000...)
}

// topLevelError is a document that is answered with an
// X1TopLevelErrorResponse: it cannot be parsed, or a message in it cannot
// be answered on its own (no usable x1TransactionId, unknown xsi:type).
type topLevelError struct {
	reason string
	head   Header // admfIdentifier / version salvaged for the answer
}

func (e *topLevelError) Error() string { return "x1: top-level error: " + e.reason }

// DecodeRequest parses an X1Request document into its messages. A message
// whose body is invalid is returned with a nil Request in the slice
// position and its error in errs (same index); a document that cannot be
// answered message by message yields an error wrapping ErrTopLevel.
func DecodeRequest(doc []byte) (reqs []Request, errs []error, err error) {
	msgs, top := decodeRequestDocument(doc)
	if top != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrTopLevel, top.reason)
	}
	for _, m := range msgs {
		reqs = append(reqs, m.req)
		errs = append(errs, m.err)
	}
	return reqs, errs, nil
}

func decodeRequestDocument(doc []byte) ([]decodedMessage, *topLevelError) {
	if len(doc) > MaxDocumentSize {
		return nil, &topLevelError{reason: fmt.Sprintf("document larger than %d bytes", MaxDocumentSize)}
	}
	root, err := parseTree(doc)
	if err != nil {
		return nil, &topLevelError{reason: err.Error()}
	}
	if !root.is(NamespaceX1, "X1Request") {
		return nil, &topLevelError{reason: fmt.Sprintf("root element is {%s}%s, not {%s}X1Request", clip(root.name.Space), clip(root.name.Local), NamespaceX1)}
	}
	s := newSeq(root, "X1Request")
	elems := s.many(NamespaceX1, "x1RequestMessage")
	if err := s.end(); err != nil {
		return nil, &topLevelError{reason: err.Error()}
	}
	if len(elems) == 0 {
		return nil, &topLevelError{reason: "X1Request holds no x1RequestMessage"}
	}
	if len(elems) > maxMessages {
		return nil, &topLevelError{reason: fmt.Sprintf("more than %d messages in one document", maxMessages)}
	}
	msgs := make([]decodedMessage, 0, len(elems))
	for i, e := range elems {
		m, top := decodeMessage(e)
		if top != nil {
			top.reason = fmt.Sprintf("message %d: %s", i+1, top.reason)
			return nil, top
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// decodeMessage decodes one x1RequestMessage.
func decodeMessage(e *node) (decodedMessage, *topLevelError) {
	var m decodedMessage
	salvaged := salvageHeader(e)
	if !e.hasType {
		return m, &topLevelError{reason: e.label() + " has no xsi:type", head: salvaged}
	}
	local, ok := strings.CutSuffix(e.xsiType.Local, "Request")
	if e.xsiType.Space != NamespaceX1 || !ok || !known(RequestType(local)) {
		return m, &topLevelError{reason: fmt.Sprintf("unknown xsi:type {%s}%s", clip(e.xsiType.Space), clip(e.xsiType.Local)), head: salvaged}
	}
	m.rt = RequestType(local)

	s := newSeq(e, string(m.rt)+"Request")
	head, herr := decodeHeader(s)
	if herr != nil {
		// The header is out of order or broken; answer the message on its
		// own if its transaction ID can still be found.
		if salvaged.TransactionID == "" {
			return m, &topLevelError{reason: herr.Error(), head: salvaged}
		}
		m.head = salvaged
		m.err = errorf(ErrSyntax, "%v", herr)
		return m, nil
	}
	m.head = head
	if !IsVersion(head.Version) {
		m.err = errorf(ErrUnsupportedVersion, "version %q is not v1.x.y; this NE implements %s", clip(head.Version), Version)
		return m, nil
	}
	if !supported(m.rt) {
		m.err = errorf(ErrUnsupportedRequest, "%s is not supported by this NE", m.rt)
		return m, nil
	}
	req := newRequest(m.rt)
	*req.Head() = head
	if err := decodeBody(s, req); err != nil {
		if !errors.Is(err, ErrInvalidTask) && !errors.Is(err, ErrInvalidDestination) && !errors.Is(err, ErrUnsupportedTarget) {
			err = errorf(ErrSyntax, "%v", err)
		}
		m.err = err
		return m, nil
	}
	m.req = req
	return m, nil
}

func decodeHeader(s *seq) (Header, error) {
	var h Header
	admf, err := leaf(s.one(NamespaceX1, "admfIdentifier"), "admfIdentifier")
	if err != nil {
		return h, errOr(s, err)
	}
	ne, err := leaf(s.one(NamespaceX1, "neIdentifier"), "neIdentifier")
	if err != nil {
		return h, errOr(s, err)
	}
	ts, err := leaf(s.one(NamespaceX1, "messageTimestamp"), "messageTimestamp")
	if err != nil {
		return h, errOr(s, err)
	}
	ver, err := leaf(s.one(NamespaceX1, "version"), "version")
	if err != nil {
		return h, errOr(s, err)
	}
	tid, err := leaf(s.one(NamespaceX1, "x1TransactionId"), "x1TransactionId")
	if err != nil {
		return h, errOr(s, err)
	}
	h.ADMFIdentifier, h.NEIdentifier, h.Version = collapse(admf), collapse(ne), ver
	if h.TransactionID, err = parseUUID(tid); err != nil {
		return h, fmt.Errorf("x1TransactionId: %w", err)
	}
	if h.Timestamp, err = parseTimestamp(ts); err != nil {
		return h, fmt.Errorf("messageTimestamp: %w", err)
	}
	return h, nil
}

// errOr prefers the sequence's own error (it names what was found).
func errOr(s *seq, err error) error {
	if s.err != nil {
		return s.err
	}
	return err
}

// salvageHeader finds the header fields of a message wherever they are, for
// answering a message whose header is out of order, and for the
// admfIdentifier and version of a top-level error response.
func salvageHeader(e *node) Header {
	var h Header
	for _, c := range e.children {
		if c.name.Space != NamespaceX1 || len(c.children) > 0 {
			continue
		}
		switch c.name.Local {
		case "admfIdentifier":
			if h.ADMFIdentifier == "" {
				h.ADMFIdentifier = collapse(c.text)
			}
		case "neIdentifier":
			if h.NEIdentifier == "" {
				h.NEIdentifier = collapse(c.text)
			}
		case "version":
			if h.Version == "" && IsVersion(c.text) {
				h.Version = c.text
			}
		case "x1TransactionId":
			if id, err := parseUUID(c.text); err == nil && h.TransactionID == "" {
				h.TransactionID = id
			}
		}
	}
	return h
}

func decodeBody(s *seq, req Request) error {
	var err error
	switch r := req.(type) {
	case *ActivateTaskRequest:
		r.Task, err = decodeTaskDetails(s.one(NamespaceX1, "taskDetails"), s)
	case *ModifyTaskRequest:
		r.Task, err = decodeTaskDetails(s.one(NamespaceX1, "taskDetails"), s)
	case *DeactivateTaskRequest:
		r.XID, err = uuidLeaf(s.one(NamespaceX1, "xId"), s, "xId")
	case *GetTaskDetailsRequest:
		r.XID, err = uuidLeaf(s.one(NamespaceX1, "xId"), s, "xId")
	case *RemoveDestinationRequest:
		r.DID, err = uuidLeaf(s.one(NamespaceX1, "dId"), s, "dId")
	case *GetDestinationDetailsRequest:
		r.DID, err = uuidLeaf(s.one(NamespaceX1, "dId"), s, "dId")
	case *CreateDestinationRequest:
		r.Destination, err = decodeDestinationDetails(s.one(NamespaceX1, "destinationDetails"), s)
	case *ModifyDestinationRequest:
		r.Destination, err = decodeDestinationDetails(s.one(NamespaceX1, "destinationDetails"), s)
	}
	if err != nil {
		return err
	}
	return s.end()
}

func uuidLeaf(n *node, s *seq, path string) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	v, err := leaf(n, path)
	if err != nil {
		return "", err
	}
	id, err := parseUUID(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}

// otherTarget reports whether kind is a TargetIdentifier alternative of
// the schema that RCDS does not intercept: it is read (its name is needed
// for the 3000 answer) and refused by the registry.
func otherTarget(kind string) bool {
	switch kind {
	case "e164Number", "imsi", "imei", "macAddress", "tcpPort", "tcpPortRange", "tcpPortList",
		"udpPort", "udpPortRange", "udpPortList", "internationalizedEmailAddress", "sipUri", "telUri",
		"h323Uri", "impu", "impi", "nai", "radiusAttribute", "gtpuTunnelId", "gtpcTunnelId",
		"callPartyRole", "nonLocalIdentifier", "supiimsi", "supinai", "suci", "peiImei",
		"peiImeiCheckDigit", "peiImeisv", "gpsiMsisdn", "gpsiNai", "eui64", "serviceAccessIdentifier",
		"hashedIdentifier", "targetIdentifierExtension", "vrf":
		return true
	}
	return false
}

// Bounds on list lengths inside one task, well above any real warrant.
const (
	maxTargets   = 1000
	maxDIDs      = 1000
	maxMediation = 100
)

func decodeTaskDetails(n *node, parent *seq) (Task, error) {
	var t Task
	if parent.err != nil {
		return t, parent.err
	}
	s := newSeq(n, "taskDetails")
	var err error
	if t.XID, err = uuidLeaf(s.one(NamespaceX1, "xId"), s, "taskDetails/xId"); err != nil {
		return t, err
	}
	if t.Targets, err = decodeTargets(s.one(NamespaceX1, "targetIdentifiers"), s); err != nil {
		return t, err
	}
	if t.DeliveryType, err = deliveryTypeLeaf(s.one(NamespaceX1, "deliveryType"), s, "taskDetails/deliveryType"); err != nil {
		return t, err
	}
	if t.DIDs, err = decodeDIDList(s.one(NamespaceX1, "listOfDIDs"), s, "taskDetails/listOfDIDs"); err != nil {
		return t, err
	}
	if t.DIDs == nil {
		t.DIDs = []string{}
	}
	if lm := s.opt(NamespaceX1, "listOfMediationDetails"); lm != nil {
		ms := newSeq(lm, "listOfMediationDetails")
		items := ms.many(NamespaceX1, "mediationDetails")
		if err := ms.end(); err != nil {
			return t, err
		}
		if len(items) > maxMediation {
			return t, errorf(ErrInvalidTask, "more than %d mediationDetails", maxMediation)
		}
		for _, it := range items {
			md, err := decodeMediationDetails(it)
			if err != nil {
				return t, err
			}
			t.Mediation = append(t.Mediation, md)
		}
	}
	if c := s.opt(NamespaceX1, "correlationID"); c != nil {
		v, err := leaf(c, "correlationID")
		if err != nil {
			return t, err
		}
		if t.CorrelationID, err = parseNonNegativeInteger(v); err != nil {
			return t, fmt.Errorf("correlationID: %w", err)
		}
	}
	if c := s.opt(NamespaceX1, "implicitDeactivationAllowed"); c != nil {
		v, err := leaf(c, "implicitDeactivationAllowed")
		if err != nil {
			return t, err
		}
		if t.ImplicitDeactivationAllowed, err = parseBool(v); err != nil {
			return t, fmt.Errorf("implicitDeactivationAllowed: %w", err)
		}
	}
	if c := s.opt(NamespaceX1, "productID"); c != nil {
		if t.ProductID, err = uuidLeaf(c, s, "productID"); err != nil {
			return t, err
		}
	}
	if c := s.opt(NamespaceX1, "listOfServiceTypes"); c != nil {
		if t.ServiceTypes, err = decodeServiceTypes(c); err != nil {
			return t, err
		}
	}
	s.many(NamespaceX1, "taskDetailsExtensions") // owner-specific; ignored
	if c := s.opt(NamespaceX1, "listOfTrafficPolicyReferences"); c != nil {
		if err := refuseTrafficPolicies(c); err != nil {
			return t, err
		}
	}
	return t, s.end()
}

func decodeTargets(n *node, parent *seq) ([]Target, error) {
	if parent.err != nil {
		return nil, parent.err
	}
	s := newSeq(n, "targetIdentifiers")
	items := s.many(NamespaceX1, "targetIdentifier")
	if err := s.end(); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errors.New("targetIdentifiers: at least one targetIdentifier is required")
	}
	if len(items) > maxTargets {
		return nil, errorf(ErrInvalidTask, "more than %d targetIdentifiers", maxTargets)
	}
	out := make([]Target, 0, len(items))
	for _, it := range items {
		t, err := decodeTarget(it)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// choice returns the single child of an element of a complex type with
// xs:choice content.
func choice(n *node, path string) (*node, error) {
	if n.mixed || strings.TrimSpace(n.text) != "" && len(n.children) == 0 {
		return nil, fmt.Errorf("%s: text is not allowed here", path)
	}
	if err := noForeignAttrs(n); err != nil {
		return nil, err
	}
	if len(n.children) != 1 {
		return nil, fmt.Errorf("%s: expected exactly one element, found %d", path, len(n.children))
	}
	return n.children[0], nil
}

func decodeTarget(n *node) (Target, error) {
	c, err := choice(n, "targetIdentifier")
	if err != nil {
		return Target{}, err
	}
	if c.name.Space != NamespaceX1 {
		return Target{}, fmt.Errorf("targetIdentifier: unexpected %s", c.label())
	}
	kind := c.name.Local
	path := "targetIdentifier/" + kind
	switch TargetKind(kind) {
	case TargetEmail:
		v, err := leaf(c, path)
		if err != nil {
			return Target{}, err
		}
		if _, err := parseEmail(v); err != nil {
			return Target{}, fmt.Errorf("%s: %w", path, err)
		}
		return Target{Kind: TargetEmail, Value: v}, nil
	case TargetIPv4:
		v, err := leaf(c, path)
		if err != nil {
			return Target{}, err
		}
		a, err := parseIPv4(v)
		if err != nil {
			return Target{}, fmt.Errorf("%s: %w", path, err)
		}
		return Target{Kind: TargetIPv4, Value: a.String()}, nil
	case TargetIPv6:
		v, err := leaf(c, path)
		if err != nil {
			return Target{}, err
		}
		a, err := parseIPv6(v)
		if err != nil {
			return Target{}, fmt.Errorf("%s: %w", path, err)
		}
		return Target{Kind: TargetIPv6, Value: a.String()}, nil
	case TargetIPv4CIDR:
		// etsi103280:IPCIDR is itself a choice of IPv4CIDR / IPv6CIDR.
		cc, err := choice(c, path)
		if err != nil {
			return Target{}, err
		}
		v, err := leaf(cc, path+"/"+cc.name.Local)
		if err != nil {
			return Target{}, err
		}
		switch {
		case cc.is(NamespaceCommon, "IPv4CIDR"):
			p, err := parsePrefix(v, false)
			if err != nil {
				return Target{}, fmt.Errorf("%s: %w", path, err)
			}
			return Target{Kind: TargetIPv4CIDR, Value: p.String()}, nil
		case cc.is(NamespaceCommon, "IPv6CIDR"):
			p, err := parsePrefix(v, true)
			if err != nil {
				return Target{}, fmt.Errorf("%s: %w", path, err)
			}
			return Target{Kind: TargetIPv6CIDR, Value: p.String()}, nil
		}
		return Target{}, fmt.Errorf("%s: unexpected %s", path, cc.label())
	case TargetIPv6CIDR:
		v, err := leaf(c, path)
		if err != nil {
			return Target{}, err
		}
		p, err := parsePrefix(v, true)
		if err != nil {
			return Target{}, fmt.Errorf("%s: %w", path, err)
		}
		return Target{Kind: TargetIPv6CIDR, Value: p.String()}, nil
	}
	if otherTarget(kind) {
		// Kept by name only: the registry answers 3000 naming the type.
		v := ""
		if len(c.children) == 0 {
			v = collapse(c.text)
		}
		return Target{Kind: TargetKind(kind), Value: clip(v)}, nil
	}
	return Target{}, fmt.Errorf("targetIdentifier: unknown alternative %s", c.label())
}

func deliveryTypeLeaf(n *node, s *seq, path string) (DeliveryType, error) {
	if s.err != nil {
		return "", s.err
	}
	v, err := leaf(n, path)
	if err != nil {
		return "", err
	}
	switch d := DeliveryType(v); d {
	case X2Only, X3Only, X2andX3:
		return d, nil
	}
	return "", fmt.Errorf("%s: %q is not X2Only, X3Only or X2andX3", path, clip(v))
}

// decodeDIDList reads a ListOfDids. Destination sets (dSId) are refused.
func decodeDIDList(n *node, parent *seq, path string) ([]string, error) {
	if parent != nil && parent.err != nil {
		return nil, parent.err
	}
	s := newSeq(n, path)
	ids := s.many(NamespaceX1, "dId")
	sets := s.many(NamespaceX1, "dSId")
	if err := s.end(); err != nil {
		return nil, err
	}
	if len(ids) > maxDIDs {
		return nil, errorf(ErrInvalidTask, "more than %d DIDs", maxDIDs)
	}
	var out []string
	for _, c := range ids {
		id, err := uuidLeaf(c, s, path+"/dId")
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	for _, c := range sets {
		if _, err := uuidLeaf(c, s, path+"/dSId"); err != nil {
			return nil, err
		}
	}
	if len(sets) > 0 {
		return nil, errorf(ErrInvalidTask, "destination sets (dSId) are not supported")
	}
	return out, nil
}

func decodeMediationDetails(n *node) (MediationDetails, error) {
	var m MediationDetails
	s := newSeq(n, "mediationDetails")
	v, err := leaf(s.one(NamespaceX1, "LIID"), "mediationDetails/LIID")
	if err != nil {
		return m, errOr(s, err)
	}
	if m.LIID, err = parseLIID(v); err != nil {
		return m, err
	}
	v, err = leaf(s.one(NamespaceX1, "deliveryType"), "mediationDetails/deliveryType")
	if err != nil {
		return m, errOr(s, err)
	}
	switch d := HIDeliveryType(v); d {
	case HI2Only, HI3Only, HI2andHI3:
		m.DeliveryType = d
	default:
		return m, fmt.Errorf("mediationDetails/deliveryType: %q is not HI2Only, HI3Only or HI2andHI3", clip(v))
	}
	if c := s.opt(NamespaceX1, "StartTime"); c != nil {
		v, err := leaf(c, "StartTime")
		if err != nil {
			return m, err
		}
		if m.StartTime, err = parseTimestamp(v); err != nil {
			return m, fmt.Errorf("mediationDetails/StartTime: %w", err)
		}
	}
	if c := s.opt(NamespaceX1, "EndTime"); c != nil {
		v, err := leaf(c, "EndTime")
		if err != nil {
			return m, err
		}
		if m.EndTime, err = parseTimestamp(v); err != nil {
			return m, fmt.Errorf("mediationDetails/EndTime: %w", err)
		}
	}
	if c := s.opt(NamespaceX1, "listOfDIDs"); c != nil {
		if m.DIDs, err = decodeDIDList(c, nil, "mediationDetails/listOfDIDs"); err != nil {
			return m, err
		}
	}
	s.many(NamespaceX1, "mediationDetailsExtensions") // owner-specific; ignored
	s.opt(NamespaceX1, "serviceScopingOptions")       // RCDS intercepts messaging only
	if c := s.opt(NamespaceX1, "listOfTrafficPolicyReferences"); c != nil {
		if err := refuseTrafficPolicies(c); err != nil {
			return m, err
		}
	}
	return m, s.end()
}

func decodeServiceTypes(n *node) ([]string, error) {
	s := newSeq(n, "listOfServiceTypes")
	items := s.many(NamespaceX1, "serviceType")
	if err := s.end(); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errors.New("listOfServiceTypes: at least one serviceType is required")
	}
	var out []string
	for _, it := range items {
		v, err := leaf(it, "serviceType")
		if err != nil {
			return nil, err
		}
		switch v {
		case "voice", "data", "messaging", "pushToTalk", "LALS", "RCS":
		default:
			return nil, fmt.Errorf("serviceType: %q is not a ServiceType", clip(v))
		}
		out = append(out, v)
	}
	return out, nil
}

func refuseTrafficPolicies(n *node) error {
	s := newSeq(n, "listOfTrafficPolicyReferences")
	refs := s.many(NamespaceX1, "trafficPolicyReference")
	if err := s.end(); err != nil {
		return err
	}
	for _, r := range refs {
		if _, err := uuidLeaf(r, s, "trafficPolicyReference"); err != nil {
			return err
		}
	}
	if len(refs) > 0 {
		return errorf(ErrInvalidTask, "traffic policies are not supported")
	}
	return nil
}

func decodeDestinationDetails(n *node, parent *seq) (Destination, error) {
	var d Destination
	if parent.err != nil {
		return d, parent.err
	}
	s := newSeq(n, "destinationDetails")
	var err error
	if d.DID, err = uuidLeaf(s.one(NamespaceX1, "dId"), s, "destinationDetails/dId"); err != nil {
		return d, err
	}
	if c := s.opt(NamespaceX1, "friendlyName"); c != nil {
		if d.FriendlyName, err = leaf(c, "friendlyName"); err != nil {
			return d, err
		}
	}
	if d.DeliveryType, err = deliveryTypeLeaf(s.one(NamespaceX1, "deliveryType"), s, "destinationDetails/deliveryType"); err != nil {
		return d, err
	}
	da := s.one(NamespaceX1, "deliveryAddress")
	if s.err != nil {
		return d, s.err
	}
	if d.Address, d.URI, err = decodeDeliveryAddress(da); err != nil {
		return d, err
	}
	s.many(NamespaceX1, "destinationDetailsExtensions") // owner-specific; ignored
	return d, s.end()
}

func decodeDeliveryAddress(n *node) (addr, uri string, err error) {
	c, err := choice(n, "deliveryAddress")
	if err != nil {
		return "", "", err
	}
	switch {
	case c.is(NamespaceX1, "ipAddressAndPort"):
		ap, err := decodeIPAddressPort(c)
		if err != nil {
			return "", "", err
		}
		return ap.String(), "", nil
	case c.is(NamespaceX1, "uri"):
		v, err := leaf(c, "deliveryAddress/uri")
		if err != nil {
			return "", "", err
		}
		v = collapse(v)
		a, err := parseTCPURI(v)
		if err != nil {
			return "", "", err
		}
		return a, v, nil
	case c.is(NamespaceX1, "e164Number"), c.is(NamespaceX1, "emailAddress"):
		return "", "", errorf(ErrInvalidDestination, "deliveryAddress %s is not supported (use ipAddressAndPort or a tcp:// uri)", c.name.Local)
	}
	return "", "", fmt.Errorf("deliveryAddress: unexpected %s", c.label())
}

// decodeIPAddressPort reads an etsi103280:IPAddressPort.
func decodeIPAddressPort(n *node) (netip.AddrPort, error) {
	s := newSeq(n, "ipAddressAndPort")
	an := s.one(NamespaceCommon, "address")
	pn := s.one(NamespaceCommon, "port")
	if err := s.end(); err != nil {
		return netip.AddrPort{}, err
	}
	ac, err := choice(an, "ipAddressAndPort/address")
	if err != nil {
		return netip.AddrPort{}, err
	}
	av, err := leaf(ac, "ipAddressAndPort/address/"+ac.name.Local)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var a netip.Addr
	switch {
	case ac.is(NamespaceCommon, "IPv4Address"):
		a, err = parseIPv4(av)
	case ac.is(NamespaceCommon, "IPv6Address"):
		a, err = parseIPv6(av)
	default:
		err = fmt.Errorf("unexpected %s", ac.label())
	}
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("ipAddressAndPort/address: %w", err)
	}
	pc, err := choice(pn, "ipAddressAndPort/port")
	if err != nil {
		return netip.AddrPort{}, err
	}
	pv, err := leaf(pc, "ipAddressAndPort/port/"+pc.name.Local)
	if err != nil {
		return netip.AddrPort{}, err
	}
	switch {
	case pc.is(NamespaceCommon, "TCPPort"):
		p, err := parseInteger(pv, 2, 65535) // etsi103280:TCPPort: minExclusive 1
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("ipAddressAndPort/port/TCPPort: %w", err)
		}
		return netip.AddrPortFrom(a, uint16(p)), nil
	case pc.is(NamespaceCommon, "UDPPort"):
		if _, err := parseInteger(pv, 0, 65535); err != nil {
			return netip.AddrPort{}, fmt.Errorf("ipAddressAndPort/port/UDPPort: %w", err)
		}
		return netip.AddrPort{}, errorf(ErrInvalidDestination, "UDP delivery is not supported (HI2/HI3 run over TCP)")
	}
	return netip.AddrPort{}, fmt.Errorf("ipAddressAndPort/port: unexpected %s", pc.label())
}

// parseTCPURI accepts "tcp://host:port" and returns "host:port".
func parseTCPURI(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "tcp" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", errorf(ErrInvalidDestination, "deliveryAddress uri %q is not tcp://host:port", clip(v))
	}
	host, port := u.Hostname(), u.Port()
	p, err := strconv.Atoi(port)
	if host == "" || err != nil || p < 1 || p > 65535 {
		return "", errorf(ErrInvalidDestination, "deliveryAddress uri %q is not tcp://host:port", clip(v))
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}
