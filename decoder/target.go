package decoder

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrBadTarget is returned by ParseTarget for a string that is neither a
// passport (e-mail address) nor an IP address or prefix.
var ErrBadTarget = errors.New("decoder: target is neither a passport nor an IP address or prefix")

// Target is an interception target: a passport (e-mail address, compared
// case-insensitively) or an IPv4/IPv6 address or prefix. The zero Target
// matches nothing.
type Target struct {
	passport string       // lower case; empty for address targets
	prefix   netip.Prefix // valid for address targets
}

// ParseTarget parses "user@example.com", "192.0.2.7", "2001:db8::1",
// "192.0.2.0/24" or "2001:db8::/32". IPv4-mapped IPv6 addresses are taken
// as IPv4.
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Target{}, fmt.Errorf("decoder: parse target: empty: %w", ErrBadTarget)
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Target{}, fmt.Errorf("decoder: parse target %q: %w", s, ErrBadTarget)
		}
		a := p.Addr()
		bits := p.Bits()
		if a.Is4In6() && bits >= 96 {
			a, bits = a.Unmap(), bits-96
		}
		return Target{prefix: netip.PrefixFrom(a, bits).Masked()}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap().WithZone("")
		return Target{prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n,;<>\"") {
		return Target{}, fmt.Errorf("decoder: parse target %q: %w", s, ErrBadTarget)
	}
	return Target{passport: strings.ToLower(s)}, nil
}

// String returns the target as ParseTarget accepts it.
func (t Target) String() string {
	switch {
	case t.passport != "":
		return t.passport
	case !t.prefix.IsValid():
		return ""
	case t.prefix.IsSingleIP():
		return t.prefix.Addr().String()
	}
	return t.prefix.String()
}

// Passport returns the lower-case passport of a passport target, or "".
func (t Target) Passport() string { return t.passport }

// Prefix returns the address prefix of an address target (a single address
// is a /32 or /128).
func (t Target) Prefix() (netip.Prefix, bool) { return t.prefix, t.prefix.IsValid() }

// Involves reports whether the event concerns the target. A passport target
// is involved when it owns the connection (User), sent the event (From), is
// one of its recipients (To), or is the contact added by a contact_add. An
// address target is involved when the event's client or server address is
// in its prefix.
func (t Target) Involves(e *Event) bool {
	if t.passport != "" {
		if strings.EqualFold(e.User, t.passport) || strings.EqualFold(e.From, t.passport) {
			return true
		}
		for _, to := range e.To {
			if strings.EqualFold(to, t.passport) {
				return true
			}
		}
		return e.Kind == KindContactAdd && strings.EqualFold(e.Contact, t.passport)
	}
	if !t.prefix.IsValid() {
		return false
	}
	return inPrefix(t.prefix, e.Client.Addr()) || inPrefix(t.prefix, e.Server.Addr())
}

func inPrefix(p netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	return p.Contains(a.Unmap().WithZone(""))
}

// Targets is a set of targets; it involves an event when any member does.
type Targets []Target

// Involves reports whether any target is involved in e.
func (ts Targets) Involves(e *Event) bool {
	for _, t := range ts {
		if t.Involves(e) {
			return true
		}
	}
	return false
}
