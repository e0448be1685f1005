package x1

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Lexical checks of the simple types of TS_103_221_01.xsd and
// TS_103_280.xsd that RCDS reads. Types derived from xs:token are
// whitespace-collapsed before their pattern is checked (as a schema
// validator does); types derived from xs:string are taken as they are.

// Namespaces of schema 1.22.1.
const (
	NamespaceX1     = "http://uri.etsi.org/03221/X1/2017/10"
	NamespaceCommon = "http://uri.etsi.org/03280/common/2017/07"
	NamespaceXSI    = "http://www.w3.org/2001/XMLSchema-instance"
)

// Version is the X1 schema version RCDS implements; it answers with the
// request's version when that is a v1.x.y, and with this one otherwise.
const Version = "v1.22.1"

var (
	reUUID      = regexp.MustCompile(`^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$`)
	reVersion   = regexp.MustCompile(`^v1\.[0-9]+\.[0-9]+$`)
	reTimestamp = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}(Z|[+-][0-9]{2}:[0-9]{2})$`)
	reEmail     = regexp.MustCompile("^[a-zA-Z0-9.!#$%&'*+\\\\/=?^_`{|}~-]+@[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")
	reIPv4      = regexp.MustCompile(`^((25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])$`)
	reIPv6      = regexp.MustCompile(`^([0-9a-f]{4}:){7}([0-9a-f]{4})$`)
	reLIID      = regexp.MustCompile(`^[!-~]+$`)
	reInteger   = regexp.MustCompile(`^[+-]?[0-9]+$`)
)

// collapse applies the XSD whiteSpace="collapse" facet.
func collapse(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n'
	}), " ")
}

// IsUUID reports whether s is an etsi103280:UUID (lower-case hex, 8-4-4-4-12).
func IsUUID(s string) bool { return reUUID.MatchString(s) }

// IsVersion reports whether s matches the schema's Version pattern.
func IsVersion(s string) bool { return reVersion.MatchString(s) }

func parseUUID(raw string) (string, error) {
	s := collapse(raw)
	if !IsUUID(s) {
		return "", fmt.Errorf("%q is not a UUID (lower-case 8-4-4-4-12 hex)", clip(s))
	}
	return s, nil
}

// parseTimestamp reads an etsi103280:QualifiedMicrosecondDateTime.
func parseTimestamp(raw string) (time.Time, error) {
	s := collapse(raw)
	if !reTimestamp.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q is not a QualifiedMicrosecondDateTime (YYYY-MM-DDThh:mm:ss.ffffffZ)", clip(s))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a valid date and time", clip(s))
	}
	return t, nil
}

// FormatTimestamp writes t as a QualifiedMicrosecondDateTime in UTC.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

func parseBool(raw string) (bool, error) {
	switch collapse(raw) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", clip(raw))
}

// parseNonNegativeInteger returns the canonical decimal form.
func parseNonNegativeInteger(raw string) (string, error) {
	s := collapse(raw)
	if !reInteger.MatchString(s) || strings.HasPrefix(s, "-") && strings.Trim(s[1:], "0") != "" {
		return "", fmt.Errorf("%q is not a non-negative integer", clip(s))
	}
	s = strings.TrimLeft(strings.TrimLeft(s, "+-"), "0")
	if s == "" {
		s = "0"
	}
	return s, nil
}

func parseInteger(raw string, lo, hi int) (int, error) {
	s := collapse(raw)
	if !reInteger.MatchString(s) {
		return 0, fmt.Errorf("%q is not an integer", clip(s))
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is out of range %d..%d", clip(s), lo, hi)
	}
	return n, nil
}

// parseEmail checks an etsi103280:EmailAddress (xs:string based: no
// whitespace trimming).
func parseEmail(s string) (string, error) {
	if utf8.RuneCountInString(s) > 255 || !reEmail.MatchString(s) {
		return "", fmt.Errorf("%q is not an EmailAddress", clip(s))
	}
	return s, nil
}

// parseIPv4 checks an etsi103280:IPv4Address and returns its canonical form
// (the schema allows leading zeros, which are decimal).
func parseIPv4(raw string) (netip.Addr, error) {
	s := collapse(raw)
	if !reIPv4.MatchString(s) {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4Address", clip(s))
	}
	var b [4]byte
	for i, part := range strings.Split(s, ".") {
		n, _ := strconv.Atoi(part)
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b), nil
}

// parseIPv6 checks an etsi103280:IPv6Address. The schema wants the full
// lower-case form (eight groups of four digits); RCDS also accepts the
// compressed RFC 5952 forms, and always writes the full form.
func parseIPv6(raw string) (netip.Addr, error) {
	s := collapse(raw)
	if reIPv6.MatchString(s) {
		return netip.MustParseAddr(s), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" || a.Is4In6() && strings.Contains(s, ".") {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv6Address", clip(s))
	}
	return a, nil
}

func parsePrefix(raw string, v6 bool) (netip.Prefix, error) {
	s := collapse(raw)
	addr, bits, ok := strings.Cut(s, "/")
	if !ok {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR", clip(s))
	}
	var a netip.Addr
	var err error
	max := 32
	if v6 {
		a, err = parseIPv6(addr)
		max = 128
	} else {
		a, err = parseIPv4(addr)
	}
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: %w", clip(s), err)
	}
	lo := 0
	if v6 {
		lo = 1 // etsi103280:IPv6CIDR allows /1../128
	}
	n, err := parseInteger(bits, lo, max)
	if err != nil || bits != strconv.Itoa(n) {
		return netip.Prefix{}, fmt.Errorf("%q has a bad prefix length", clip(s))
	}
	return netip.PrefixFrom(a, n), nil
}

// expandIPv6 writes the schema's full form of a (eight groups of four).
func expandIPv6(a netip.Addr) string {
	b := a.As16()
	var sb strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x%02x", b[i], b[i+1])
	}
	return sb.String()
}

// parseLIID reads an etsi103280:LIID. The schema allows 1..25 printable
// ASCII characters or 26..50 lower-case hex digits; RCDS reads any run of
// printable ASCII here and the registry refuses more than 25 characters
// (3000/3001), which the BER LIID (OCTET STRING (SIZE(1..25))) cannot carry.
func parseLIID(raw string) (string, error) {
	// xs:normalizedString: tabs and newlines become spaces (and then fail).
	if !reLIID.MatchString(raw) {
		return "", fmt.Errorf("LIID %q is not printable ASCII without spaces", clip(raw))
	}
	return raw, nil
}

// clip shortens s for use in an error description.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}
