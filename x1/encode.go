package x1

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The encoder writes documents with fixed prefixes: x1 for the X1
// namespace, etsi103280 for TS 103 280 and xsi. Elements are written in
// schema order.

const (
	pX1 = "x1:"
	pC  = "etsi103280:"
)

type xw struct {
	b     bytes.Buffer
	depth int
}

func newXW(root string) *xw {
	w := &xw{}
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.b.WriteString("<" + pX1 + root + ` xmlns:x1="` + NamespaceX1 + `" xmlns:etsi103280="` + NamespaceCommon + `" xmlns:xsi="` + NamespaceXSI + `">` + "\n")
	w.depth = 1
	return w
}

func (w *xw) indent() {
	for i := 0; i < w.depth; i++ {
		w.b.WriteString("  ")
	}
}

func (w *xw) open(name string) {
	w.indent()
	w.b.WriteString("<" + name + ">\n")
	w.depth++
}

func (w *xw) openTyped(name, xsiType string) {
	w.indent()
	w.b.WriteString("<" + name + ` xsi:type="` + xsiType + `">` + "\n")
	w.depth++
}

func (w *xw) close(name string) {
	w.depth--
	w.indent()
	w.b.WriteString("</" + name + ">\n")
}

func (w *xw) empty(name string) {
	w.indent()
	w.b.WriteString("<" + name + "/>\n")
}

func (w *xw) leaf(name, value string) {
	w.indent()
	w.b.WriteString("<" + name + ">")
	_ = xml.EscapeText(&w.b, []byte(value)) // writes to a bytes.Buffer: cannot fail
	w.b.WriteString("</" + name + ">\n")
}

func (w *xw) finish(root string) []byte {
	w.b.WriteString("</" + pX1 + root + ">\n")
	return w.b.Bytes()
}

func (w *xw) header(h Header) {
	w.leaf(pX1+"admfIdentifier", h.ADMFIdentifier)
	w.leaf(pX1+"neIdentifier", h.NEIdentifier)
	w.leaf(pX1+"messageTimestamp", FormatTimestamp(h.Timestamp))
	w.leaf(pX1+"version", h.Version)
	if h.TransactionID != "" {
		w.leaf(pX1+"x1TransactionId", h.TransactionID)
	}
}

// EncodeRequest writes an X1Request document holding reqs, in order.
func EncodeRequest(reqs ...Request) ([]byte, error) {
	if len(reqs) == 0 {
		return nil, fmt.Errorf("x1: encode request: no messages")
	}
	w := newXW("X1Request")
	for _, r := range reqs {
		h := r.Head()
		if !IsUUID(h.TransactionID) {
			return nil, fmt.Errorf("x1: encode %s: x1TransactionId %q is not a UUID", r.Type(), h.TransactionID)
		}
		w.openTyped(pX1+"x1RequestMessage", pX1+string(r.Type())+"Request")
		w.header(*h)
		switch r := r.(type) {
		case *ActivateTaskRequest:
			w.taskDetails(r.Task)
		case *ModifyTaskRequest:
			w.taskDetails(r.Task)
		case *DeactivateTaskRequest:
			w.leaf(pX1+"xId", r.XID)
		case *GetTaskDetailsRequest:
			w.leaf(pX1+"xId", r.XID)
		case *CreateDestinationRequest:
			if err := w.destinationDetails(r.Destination); err != nil {
				return nil, fmt.Errorf("x1: encode %s: %w", r.Type(), err)
			}
		case *ModifyDestinationRequest:
			if err := w.destinationDetails(r.Destination); err != nil {
				return nil, fmt.Errorf("x1: encode %s: %w", r.Type(), err)
			}
		case *RemoveDestinationRequest:
			w.leaf(pX1+"dId", r.DID)
		case *GetDestinationDetailsRequest:
			w.leaf(pX1+"dId", r.DID)
		}
		w.close(pX1 + "x1RequestMessage")
	}
	return w.finish("X1Request"), nil
}

// EncodeResponse writes an X1Response document.
func EncodeResponse(msgs ...ResponseMessage) ([]byte, error) {
	if len(msgs) == 0 {
		return nil, fmt.Errorf("x1: encode response: no messages")
	}
	w := newXW("X1Response")
	for _, m := range msgs {
		if err := w.response(m); err != nil {
			return nil, fmt.Errorf("x1: encode %s: %w", m.Type, err)
		}
	}
	return w.finish("X1Response"), nil
}

// EncodeTopLevelError writes an X1TopLevelErrorResponse (no transaction id).
func EncodeTopLevelError(h Header) []byte {
	h.TransactionID = ""
	w := newXW("X1TopLevelErrorResponse")
	w.header(h)
	return w.finish("X1TopLevelErrorResponse")
}

func (w *xw) response(m ResponseMessage) error {
	w.openTyped(pX1+"x1ResponseMessage", pX1+m.Type)
	w.header(m.Header)
	switch m.Type {
	case "ErrorResponse":
		if m.Error == nil {
			return fmt.Errorf("no error information")
		}
		w.leaf(pX1+"requestMessageType", string(m.RequestType))
		w.open(pX1 + "errorInformation")
		w.leaf(pX1+"errorCode", strconv.Itoa(int(m.Error.Code)))
		w.leaf(pX1+"errorDescription", m.Error.Description)
		w.close(pX1 + "errorInformation")
	case "GetTaskDetailsResponse":
		if m.Task == nil {
			return fmt.Errorf("no task")
		}
		w.taskResponseDetails(*m.Task)
	case "GetDestinationDetailsResponse":
		if m.Destination == nil {
			return fmt.Errorf("no destination")
		}
		if err := w.destinationResponseDetails(*m.Destination); err != nil {
			return err
		}
	case "GetNEStatusResponse":
		w.neStatus(m.NEStatus)
	case "GetAllDetailsResponse":
		w.neStatus(m.NEStatus)
		if err := w.allDetails(m, true, true); err != nil {
			return err
		}
	case "GetAllTaskDetailsResponse":
		if err := w.allDetails(m, true, false); err != nil {
			return err
		}
	case "GetAllDestinationDetailsResponse":
		if err := w.allDetails(m, false, true); err != nil {
			return err
		}
	case "ListAllDetailsResponse":
		w.idList(pX1+"ListOfXIDs", pX1+"xId", m.XIDs)
		w.idList(pX1+"ListOfDIDs", pX1+"dId", m.DIDs)
	default:
		ok := m.OK
		if ok == "" {
			ok = OK
		}
		w.leaf(pX1+"oK", ok)
	}
	w.close(pX1 + "x1ResponseMessage")
	return nil
}

func (w *xw) neStatus(status string) {
	if status == "" {
		status = "OK"
	}
	w.open(pX1 + "neStatusDetails")
	w.leaf(pX1+"neStatus", status)
	w.empty(pX1 + "listOfFaults")
	w.close(pX1 + "neStatusDetails")
}

func (w *xw) allDetails(m ResponseMessage, tasks, dests bool) error {
	if tasks {
		w.open(pX1 + "listOfTaskResponseDetails")
		for _, t := range m.Tasks {
			w.taskResponseDetails(t)
		}
		w.close(pX1 + "listOfTaskResponseDetails")
	}
	if dests {
		w.open(pX1 + "listOfDestinationResponseDetails")
		for _, d := range m.Destinations {
			if err := w.destinationResponseDetails(d); err != nil {
				return err
			}
		}
		w.close(pX1 + "listOfDestinationResponseDetails")
	}
	return nil
}

func (w *xw) idList(list, item string, ids []string) {
	if len(ids) == 0 {
		w.empty(list)
		return
	}
	w.open(list)
	for _, id := range ids {
		w.leaf(item, id)
	}
	w.close(list)
}

func (w *xw) taskResponseDetails(t Task) {
	w.open(pX1 + "taskResponseDetails")
	w.taskDetails(t)
	w.open(pX1 + "taskStatus")
	w.leaf(pX1+"provisioningStatus", "complete")
	w.empty(pX1 + "listOfFaults")
	if !t.Modified.IsZero() {
		w.leaf(pX1+"timeOfLastModification", FormatTimestamp(t.Modified))
	}
	if t.Modifications > 0 {
		w.leaf(pX1+"numberOfModifications", strconv.Itoa(t.Modifications))
	}
	w.close(pX1 + "taskStatus")
	w.close(pX1 + "taskResponseDetails")
}

func (w *xw) taskDetails(t Task) {
	w.open(pX1 + "taskDetails")
	w.leaf(pX1+"xId", t.XID)
	w.open(pX1 + "targetIdentifiers")
	for _, tg := range t.Targets {
		w.open(pX1 + "targetIdentifier")
		w.target(tg)
		w.close(pX1 + "targetIdentifier")
	}
	w.close(pX1 + "targetIdentifiers")
	w.leaf(pX1+"deliveryType", string(t.DeliveryType))
	w.idList(pX1+"listOfDIDs", pX1+"dId", t.DIDs)
	if len(t.Mediation) > 0 {
		w.open(pX1 + "listOfMediationDetails")
		for _, m := range t.Mediation {
			w.open(pX1 + "mediationDetails")
			w.leaf(pX1+"LIID", m.LIID)
			w.leaf(pX1+"deliveryType", string(m.DeliveryType))
			if !m.StartTime.IsZero() {
				w.leaf(pX1+"StartTime", FormatTimestamp(m.StartTime))
			}
			if !m.EndTime.IsZero() {
				w.leaf(pX1+"EndTime", FormatTimestamp(m.EndTime))
			}
			if m.DIDs != nil {
				w.idList(pX1+"listOfDIDs", pX1+"dId", m.DIDs)
			}
			w.close(pX1 + "mediationDetails")
		}
		w.close(pX1 + "listOfMediationDetails")
	}
	if t.CorrelationID != "" {
		w.leaf(pX1+"correlationID", t.CorrelationID)
	}
	w.leaf(pX1+"implicitDeactivationAllowed", strconv.FormatBool(t.ImplicitDeactivationAllowed))
	if t.ProductID != "" {
		w.leaf(pX1+"productID", t.ProductID)
	}
	if len(t.ServiceTypes) > 0 {
		w.open(pX1 + "listOfServiceTypes")
		for _, s := range t.ServiceTypes {
			w.leaf(pX1+"serviceType", s)
		}
		w.close(pX1 + "listOfServiceTypes")
	}
	w.close(pX1 + "taskDetails")
}

// target writes one TargetIdentifier alternative; addresses in the
// schema's full form.
func (w *xw) target(t Target) {
	switch t.Kind {
	case TargetIPv6:
		if a, err := netip.ParseAddr(t.Value); err == nil {
			w.leaf(pX1+string(t.Kind), expandIPv6(a))
			return
		}
	case TargetIPv4CIDR:
		w.open(pX1 + "ipv4Cidr")
		w.leaf(pC+"IPv4CIDR", t.Value)
		w.close(pX1 + "ipv4Cidr")
		return
	case TargetIPv6CIDR:
		if p, err := netip.ParsePrefix(t.Value); err == nil {
			w.leaf(pX1+string(t.Kind), expandIPv6(p.Addr())+"/"+strconv.Itoa(p.Bits()))
			return
		}
	}
	w.leaf(pX1+string(t.Kind), t.Value)
}

func (w *xw) destinationResponseDetails(d Destination) error {
	w.open(pX1 + "destinationResponseDetails")
	if err := w.destinationDetails(d); err != nil {
		return err
	}
	w.open(pX1 + "destinationStatus")
	w.leaf(pX1+"destinationDeliveryStatus", "activeAndWorking")
	w.empty(pX1 + "listOfFaults")
	w.close(pX1 + "destinationStatus")
	w.close(pX1 + "destinationResponseDetails")
	return nil
}

// destinationDetails writes a DestinationDetails. An Address whose host is
// an IP address goes out as ipAddressAndPort, anything else as a tcp://
// uri (URI, when set, is written as received).
func (w *xw) destinationDetails(d Destination) error {
	w.open(pX1 + "destinationDetails")
	w.leaf(pX1+"dId", d.DID)
	if d.FriendlyName != "" {
		w.leaf(pX1+"friendlyName", d.FriendlyName)
	}
	w.leaf(pX1+"deliveryType", string(d.DeliveryType))
	w.open(pX1 + "deliveryAddress")
	switch ap, err := netip.ParseAddrPort(d.Address); {
	case d.URI != "":
		w.leaf(pX1+"uri", d.URI)
	case err == nil:
		w.open(pX1 + "ipAddressAndPort")
		w.open(pC + "address")
		if ap.Addr().Is4() || ap.Addr().Is4In6() {
			w.leaf(pC+"IPv4Address", ap.Addr().Unmap().String())
		} else {
			w.leaf(pC+"IPv6Address", expandIPv6(ap.Addr()))
		}
		w.close(pC + "address")
		w.open(pC + "port")
		w.leaf(pC+"TCPPort", strconv.Itoa(int(ap.Port())))
		w.close(pC + "port")
		w.close(pX1 + "ipAddressAndPort")
	default:
		host, port, err := net.SplitHostPort(d.Address)
		if err != nil || host == "" || strings.ContainsAny(host, "/?#@ ") {
			return fmt.Errorf("destination %s: address %q is not host:port", d.DID, d.Address)
		}
		w.leaf(pX1+"uri", "tcp://"+net.JoinHostPort(host, port))
	}
	w.close(pX1 + "deliveryAddress")
	w.close(pX1 + "destinationDetails")
	return nil
}
