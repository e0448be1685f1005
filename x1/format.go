package x1

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// ParseTarget reads a target as written on a command line: KIND:VALUE with
// KIND one of email, ipv4, ipv6, ipv4cidr, ipv6cidr (or the X1 element
// names), or a bare value whose kind is guessed (an address with "@" is an
// email address, then IP addresses and prefixes).
func ParseTarget(s string) (Target, error) {
	kind, value, ok := strings.Cut(s, ":")
	k := map[string]TargetKind{
		"email": TargetEmail, "emailaddress": TargetEmail,
		"ipv4": TargetIPv4, "ipv4address": TargetIPv4,
		"ipv6": TargetIPv6, "ipv6address": TargetIPv6,
		"ipv4cidr": TargetIPv4CIDR, "ipv6cidr": TargetIPv6CIDR,
	}[strings.ToLower(kind)]
	if !ok || k == "" {
		value = s
		switch {
		case strings.Contains(s, "@"):
			k = TargetEmail
		case strings.Contains(s, "/"):
			if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() {
				k = TargetIPv4CIDR
			} else {
				k = TargetIPv6CIDR
			}
		default:
			if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
				k = TargetIPv4
			} else {
				k = TargetIPv6
			}
		}
	}
	switch k {
	case TargetEmail:
		if _, err := parseEmail(value); err != nil {
			return Target{}, fmt.Errorf("x1: target: %w", err)
		}
		return Target{Kind: k, Value: value}, nil
	case TargetIPv4:
		a, err := parseIPv4(value)
		if err != nil {
			return Target{}, fmt.Errorf("x1: target: %w", err)
		}
		return Target{Kind: k, Value: a.String()}, nil
	case TargetIPv6:
		a, err := parseIPv6(value)
		if err != nil {
			return Target{}, fmt.Errorf("x1: target: %w", err)
		}
		return Target{Kind: k, Value: a.String()}, nil
	default:
		p, err := parsePrefix(value, k == TargetIPv6CIDR)
		if err != nil {
			return Target{}, fmt.Errorf("x1: target: %w", err)
		}
		return Target{Kind: k, Value: p.String()}, nil
	}
}

// WriteText prints a response message for people.
func WriteText(w io.Writer, m ResponseMessage) {
	switch {
	case m.Error != nil:
		fmt.Fprintf(w, "%s refused: error %d: %s\n", m.RequestType, m.Error.Code, m.Error.Description)
	case m.Task != nil:
		writeTask(w, *m.Task, "")
	case m.Destination != nil:
		writeDestination(w, *m.Destination, "")
	case m.Type == "ListAllDetailsResponse":
		fmt.Fprintf(w, "tasks: %d\n", len(m.XIDs))
		for _, x := range m.XIDs {
			fmt.Fprintf(w, "  %s\n", x)
		}
		fmt.Fprintf(w, "destinations: %d\n", len(m.DIDs))
		for _, d := range m.DIDs {
			fmt.Fprintf(w, "  %s\n", d)
		}
	case strings.HasPrefix(m.Type, "GetAll"):
		if m.NEStatus != "" {
			fmt.Fprintf(w, "NE status: %s\n", m.NEStatus)
		}
		fmt.Fprintf(w, "tasks: %d\n", len(m.Tasks))
		for _, t := range m.Tasks {
			writeTask(w, t, "  ")
		}
		fmt.Fprintf(w, "destinations: %d\n", len(m.Destinations))
		for _, d := range m.Destinations {
			writeDestination(w, d, "  ")
		}
	case m.NEStatus != "":
		fmt.Fprintf(w, "NE status: %s\n", m.NEStatus)
	default:
		fmt.Fprintf(w, "%s: %s\n", m.Type, m.OK)
	}
}

func writeTask(w io.Writer, t Task, in string) {
	fmt.Fprintf(w, "%stask %s\n", in, t.XID)
	for _, tg := range t.Targets {
		fmt.Fprintf(w, "%s  target:        %s %s\n", in, tg.Kind, tg.Value)
	}
	fmt.Fprintf(w, "%s  delivery:      %s to %s\n", in, t.DeliveryType, list(t.DIDs))
	for _, m := range t.Mediation {
		fmt.Fprintf(w, "%s  LIID %s: %s to %s, %s\n", in, m.LIID, m.DeliveryType, list(m.DIDs), window(m))
	}
	if t.CorrelationID != "" {
		fmt.Fprintf(w, "%s  correlationID: %s\n", in, t.CorrelationID)
	}
	fmt.Fprintf(w, "%s  implicit deactivation allowed: %v\n", in, t.ImplicitDeactivationAllowed)
	if t.Modifications > 0 {
		fmt.Fprintf(w, "%s  modified %d times, last %s\n", in, t.Modifications, t.Modified.UTC().Format(time.RFC3339))
	}
}

func writeDestination(w io.Writer, d Destination, in string) {
	fmt.Fprintf(w, "%sdestination %s\n", in, d.DID)
	if d.FriendlyName != "" {
		fmt.Fprintf(w, "%s  name:     %s\n", in, d.FriendlyName)
	}
	fmt.Fprintf(w, "%s  delivery: %s\n", in, d.DeliveryType)
	addr := d.Address
	if d.URI != "" {
		addr = d.URI
	}
	fmt.Fprintf(w, "%s  address:  %s\n", in, addr)
}

func list(ids []string) string {
	if len(ids) == 0 {
		return "(no destinations)"
	}
	return strings.Join(ids, ", ")
}

func window(m MediationDetails) string {
	f := func(t time.Time, open string) string {
		if t.IsZero() {
			return open
		}
		return t.UTC().Format(time.RFC3339)
	}
	return "from " + f(m.StartTime, "the start") + " until " + f(m.EndTime, "deactivated")
}
