package hi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"rcds/hi/etsi"
)

var iriTypeNames = map[etsi.IRIType]string{
	etsi.IRIBegin: "begin", etsi.IRIEnd: "end", etsi.IRIContinue: "continue", etsi.IRIReport: "report",
}

// fillIRI copies the readable fields of an IRIPayload into r. Both
// profiles give the same view: TS 101 671 records are mapped back to a
// MessagingIRI with etsi.MessagingFrom671.
func fillIRI(r *LEMFRecord, p *etsi.IRIPayload) {
	r.IRIType = iriTypeNames[p.IRIType]
	if p.PayloadDirection != nil {
		r.Direction = p.PayloadDirection.String()
	}
	var m *etsi.MessagingIRI
	switch c := p.Contents.(type) {
	case *etsi.MessagingIRI:
		m = c
	case *etsi.ETSI671IRI:
		r.Profile = string(Profile101671)
		if ic, ok := c.IRIsContent.(*etsi.IRIContent); ok {
			mi, typ, _, err := etsi.MessagingFrom671(ic)
			if err != nil {
				r.Error = err.Error()
				return
			}
			m = mi
			if r.IRIType == "" {
				r.IRIType = iriTypeNames[typ]
			}
		} else {
			r.Error = fmt.Sprintf("eTSI671IRI %T not shown", c.IRIsContent)
			return
		}
	default:
		r.Error = fmt.Sprintf("IRI contents %T not shown", p.Contents)
		return
	}
	r.Category = etsi.CategoryString(m.Category)
	r.Status = m.Status.String()
	r.EventID = m.EventIdentifier
	for _, pi := range m.Parties {
		ids := identities(pi.Identity)
		r.Parties = append(r.Parties, ids...)
		switch pi.Qualifier {
		case etsi.OriginatingParty:
			if r.From == "" && len(ids) > 0 {
				r.From = ids[0]
			}
		case etsi.TerminatingParty:
			r.To = append(r.To, ids...)
		}
	}
	for _, prop := range m.Properties {
		if s, ok := prop.(etsi.Subject); ok {
			r.Subject = string(s)
		}
	}
}

func identities(id etsi.PartyIdentity) []string {
	switch v := id.(type) {
	case etsi.EmailAddresses:
		return []string(v)
	case etsi.Alphanumeric:
		return []string{string(v)}
	case *etsi.OctetIdentity:
		return []string{string(v.Value)}
	case *etsi.IPAddress:
		return []string{ipString(v)}
	case *etsi.IPAddressAndPort:
		return []string{fmt.Sprintf("%s:%d", ipString(&v.Address), v.Port)}
	}
	return nil
}

func ipString(a *etsi.IPAddress) string {
	if a.Text != "" {
		return a.Text
	}
	if ip, ok := netip.AddrFromSlice(a.Binary); ok {
		return ip.String()
	}
	return fmt.Sprintf("%x", a.Binary)
}

func fillCC(r *LEMFRecord, p *etsi.CCPayload) {
	if p.PayloadDirection != nil {
		r.Direction = p.PayloadDirection.String()
	}
	cc, ok := p.Contents.(*etsi.MessagingCC)
	if !ok {
		r.Error = fmt.Sprintf("CC contents %T not shown", p.Contents)
		return
	}
	ev := cc.EventIdentifier
	r.EventID = &ev
	r.ContentType = cc.ContentType
	r.Content = cc.Content
}

func writeJSONLine(w *bufio.Writer, r *LEMFRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// viewLine is the live view: time, LIID, CIN, kind, parties, text.
func viewLine(r *LEMFRecord) string {
	var b strings.Builder
	t := r.Time
	if t.IsZero() {
		t = time.Now().UTC()
	}
	b.WriteString(t.UTC().Format("2006-01-02 15:04:05.000"))
	fmt.Fprintf(&b, " %s#%d", r.HI, r.Conn)
	if r.LIID != "" {
		fmt.Fprintf(&b, " liid=%s", r.LIID)
	}
	if r.CIN != nil {
		fmt.Fprintf(&b, " cin=%d", *r.CIN)
	}
	fmt.Fprintf(&b, " seq=%d %s", r.Seq, strings.ToUpper(r.Kind))
	if r.IRIType != "" {
		b.WriteString(" " + r.IRIType)
	}
	if r.Category != "" {
		b.WriteString(" " + r.Category)
	}
	if len(r.To) > 0 {
		fmt.Fprintf(&b, " %s -> %s", r.From, strings.Join(r.To, ","))
	} else if r.From != "" {
		b.WriteString(" " + r.From)
	} else if len(r.Parties) > 0 {
		b.WriteString(" " + strings.Join(r.Parties, ","))
	}
	if r.Subject != "" {
		fmt.Fprintf(&b, " %q", Printable(r.Subject, 80))
	}
	if r.EventID != nil {
		fmt.Fprintf(&b, " event=%d", *r.EventID)
	}
	if r.ContentType != "" {
		fmt.Fprintf(&b, " [%s] %d bytes", r.ContentType, len(r.Content))
		if strings.HasPrefix(r.ContentType, "text/plain") && utf8.Valid(r.Content) {
			fmt.Fprintf(&b, " %q", Printable(string(r.Content), 120))
		}
	}
	if r.Integrity != "" {
		b.WriteString(" integrity=" + r.Integrity)
	}
	if r.Duplicate {
		b.WriteString(" (duplicate)")
	}
	if r.Conflict {
		b.WriteString(" (CONFLICT: same seq, different bytes)")
	}
	if r.Error != "" {
		b.WriteString(" error: " + r.Error)
	}
	b.WriteByte('\n')
	return b.String()
}

// Printable shortens s to n runes and replaces control characters, so a
// record cannot garble the terminal.
func Printable(s string, n int) string {
	var b strings.Builder
	i := 0
	for _, r := range s {
		if i == n {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) {
			r = ' '
		}
		b.WriteRune(r)
		i++
	}
	return b.String()
}
