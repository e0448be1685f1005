package x1

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DecodeResponse parses a response document (X1Response or
// X1TopLevelErrorResponse) as the client receives it. It reads the header
// fields, the response type, oK and errorInformation wherever they are
// (some deployed NEs write them out of schema order), and task and
// destination details strictly. Parts it cannot read are reported in the
// returned error, which may come with a partly filled Document.
func DecodeResponse(doc []byte) (Document, error) {
	var d Document
	if len(doc) > MaxDocumentSize {
		return d, fmt.Errorf("x1: decode response: document larger than %d bytes", MaxDocumentSize)
	}
	root, err := parseTree(doc)
	if err != nil {
		return d, fmt.Errorf("x1: decode response: %w", err)
	}
	switch {
	case root.is(NamespaceX1, "X1TopLevelErrorResponse"):
		h := looseHeader(root)
		d.TopLevelError = &h
		return d, nil
	case root.is(NamespaceX1, "X1Response"):
	default:
		return d, fmt.Errorf("x1: decode response: root element is {%s}%s", clip(root.name.Space), clip(root.name.Local))
	}
	var errs []error
	for _, c := range root.children {
		if !c.is(NamespaceX1, "x1ResponseMessage") {
			errs = append(errs, fmt.Errorf("unexpected %s", c.label()))
			continue
		}
		m, err := decodeResponseMessage(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.label(), err))
		}
		d.Responses = append(d.Responses, m)
	}
	if len(d.Responses) == 0 {
		errs = append(errs, errors.New("X1Response holds no x1ResponseMessage"))
	}
	if err := errors.Join(errs...); err != nil {
		return d, fmt.Errorf("x1: decode response: %w", err)
	}
	return d, nil
}

// find returns the first child {X1}local (or {common}local) of n.
func find(n *node, local string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if (c.name.Space == NamespaceX1 || c.name.Space == NamespaceCommon) && c.name.Local == local {
			return c
		}
	}
	return nil
}

func findAll(n *node, local string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.children {
		if c.name.Space == NamespaceX1 && c.name.Local == local {
			out = append(out, c)
		}
	}
	return out
}

func text(n *node) string {
	if n == nil {
		return ""
	}
	return collapse(n.text)
}

func looseHeader(n *node) Header {
	h := Header{
		ADMFIdentifier: text(find(n, "admfIdentifier")),
		NEIdentifier:   text(find(n, "neIdentifier")),
		Version:        text(find(n, "version")),
		TransactionID:  text(find(n, "x1TransactionId")),
	}
	h.Timestamp, _ = parseTimestamp(text(find(n, "messageTimestamp")))
	return h
}

func decodeResponseMessage(n *node) (ResponseMessage, error) {
	m := ResponseMessage{Header: looseHeader(n)}
	if !n.hasType || n.xsiType.Space != NamespaceX1 {
		return m, errors.New("no xsi:type in the X1 namespace")
	}
	m.Type = n.xsiType.Local
	var errs []error
	if m.TransactionID == "" {
		errs = append(errs, errors.New("no x1TransactionId"))
	}
	switch m.Type {
	case "ErrorResponse":
		m.RequestType = RequestType(text(find(n, "requestMessageType")))
		ei := find(n, "errorInformation")
		code, err := strconv.Atoi(text(find(ei, "errorCode")))
		if ei == nil || err != nil {
			errs = append(errs, errors.New("errorInformation/errorCode missing or not an integer"))
		}
		m.Error = &ErrorInfo{Code: ErrorCode(code), Description: find2text(ei, "errorDescription")}
		if find(ei, "errorDescription") == nil {
			errs = append(errs, errors.New("errorInformation/errorDescription missing"))
		}
	case "GetTaskDetailsResponse":
		t, err := decodeTaskResponseDetails(find(n, "taskResponseDetails"))
		if err != nil {
			errs = append(errs, err)
		} else {
			m.Task = &t
		}
	case "GetDestinationDetailsResponse":
		dd, err := decodeDestinationResponseDetails(find(n, "destinationResponseDetails"))
		if err != nil {
			errs = append(errs, err)
		} else {
			m.Destination = &dd
		}
	case "GetNEStatusResponse":
		m.NEStatus = text(find(find(n, "neStatusDetails"), "neStatus"))
	case "GetAllDetailsResponse", "GetAllTaskDetailsResponse", "GetAllDestinationDetailsResponse":
		m.NEStatus = text(find(find(n, "neStatusDetails"), "neStatus"))
		for _, c := range findAll(find(n, "listOfTaskResponseDetails"), "taskResponseDetails") {
			t, err := decodeTaskResponseDetails(c)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			m.Tasks = append(m.Tasks, t)
		}
		for _, c := range findAll(find(n, "listOfDestinationResponseDetails"), "destinationResponseDetails") {
			dd, err := decodeDestinationResponseDetails(c)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			m.Destinations = append(m.Destinations, dd)
		}
	case "ListAllDetailsResponse":
		for _, c := range findAll(find(n, "ListOfXIDs"), "xId") {
			m.XIDs = append(m.XIDs, text(c))
		}
		for _, c := range findAll(find(n, "ListOfDIDs"), "dId") {
			m.DIDs = append(m.DIDs, text(c))
		}
		if find(n, "ListOfXIDs") == nil || find(n, "ListOfDIDs") == nil {
			errs = append(errs, errors.New("ListOfXIDs or ListOfDIDs missing"))
		}
	default:
		if !strings.HasSuffix(m.Type, "Response") {
			errs = append(errs, fmt.Errorf("xsi:type %q is not a response", clip(m.Type)))
		}
		m.OK = text(find(n, "oK"))
		if m.OK == "" {
			errs = append(errs, errors.New("no oK"))
		}
	}
	return m, errors.Join(errs...)
}

func find2text(n *node, local string) string {
	if c := find(n, local); c != nil {
		return c.text
	}
	return ""
}

func decodeTaskResponseDetails(n *node) (Task, error) {
	if n == nil {
		return Task{}, errors.New("taskResponseDetails missing")
	}
	td := find(n, "taskDetails")
	if td == nil {
		return Task{}, errors.New("taskDetails missing")
	}
	t, err := decodeTaskDetails(td, &seq{})
	if err != nil {
		return t, err
	}
	st := find(n, "taskStatus")
	if ts := find(st, "timeOfLastModification"); ts != nil {
		t.Modified, _ = parseTimestamp(ts.text)
	}
	if nm := find(st, "numberOfModifications"); nm != nil {
		t.Modifications, _ = strconv.Atoi(text(nm))
	}
	return t, nil
}

func decodeDestinationResponseDetails(n *node) (Destination, error) {
	if n == nil {
		return Destination{}, errors.New("destinationResponseDetails missing")
	}
	dd := find(n, "destinationDetails")
	if dd == nil {
		return Destination{}, errors.New("destinationDetails missing")
	}
	return decodeDestinationDetails(dd, &seq{})
}
