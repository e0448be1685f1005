package x2x3

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"rcds/decoder"
	"rcds/x1"
)

// snapshot is an immutable compiled view of the tasks in force.
type snapshot struct {
	tasks    []*ctask
	byXID    map[[16]byte]*ctask
	passport map[string][]ptarget // lower-case passport -> the tasks naming it
	prefixes []atarget            // address targets
	closed   bool                 // the POI was closed
}

// ctask is one compiled task.
type ctask struct {
	xid       [16]byte
	xidString string
	x2, x3    bool
	windows   []window // empty: no mediationDetails, always in force
	state     *xidState
}

type window struct{ start, end time.Time }

// ptarget and atarget are one target identifier of a task.
type ptarget struct {
	task  *ctask
	value string // as provisioned (attribute 17)
}

type atarget struct {
	prefix netip.Prefix
	task   *ctask
	value  string
}

// inWindow reports whether packet time ts is inside some warrant window of
// the task (any of its mediationDetails).
func (t *ctask) inWindow(ts time.Time) bool {
	if len(t.windows) == 0 {
		return true
	}
	for _, w := range t.windows {
		if (w.start.IsZero() || !ts.Before(w.start)) && (w.end.IsZero() || ts.Before(w.end)) {
			return true
		}
	}
	return false
}

// compile builds a snapshot of tasks; state returns the counters of an
// XID. It returns the number of target identifiers it could not parse.
func compile(tasks map[string]x1.Task, state func([16]byte) *xidState) (*snapshot, int) {
	s := &snapshot{passport: make(map[string][]ptarget), byXID: make(map[[16]byte]*ctask)}
	bad := 0
	xids := make([]string, 0, len(tasks))
	for xid := range tasks {
		xids = append(xids, xid)
	}
	slices.Sort(xids) // deterministic order of PDUs when several tasks match
	for _, xs := range xids {
		t := tasks[xs]
		xid, ok := parseXID(t.XID)
		if !ok {
			bad += len(t.Targets)
			continue
		}
		ct := &ctask{
			xid:       xid,
			xidString: strings.ToLower(t.XID),
			x2:        t.DeliveryType.HasX2(),
			x3:        t.DeliveryType.HasX3(),
			state:     state(xid),
		}
		for _, m := range t.Mediation {
			ct.windows = append(ct.windows, window{m.StartTime, m.EndTime})
		}
		n := 0
		for _, tg := range t.Targets {
			pt, err := decoder.ParseTarget(tg.Value)
			if err != nil || !kindFits(tg.Kind, pt) {
				bad++
				continue
			}
			n++
			if pp := pt.Passport(); pp != "" {
				s.passport[pp] = append(s.passport[pp], ptarget{task: ct, value: tg.Value})
				continue
			}
			pfx, _ := pt.Prefix()
			s.prefixes = append(s.prefixes, atarget{prefix: pfx, task: ct, value: tg.Value})
		}
		if n > 0 {
			s.tasks = append(s.tasks, ct)
			s.byXID[xid] = ct
		}
	}
	return s, bad
}

// kindFits checks that a parsed target is of the X1 kind it was given as.
func kindFits(k x1.TargetKind, t decoder.Target) bool {
	pfx, isAddr := t.Prefix()
	switch k {
	case x1.TargetEmail:
		return t.Passport() != ""
	case x1.TargetIPv4:
		return isAddr && pfx.Addr().Is4() && pfx.IsSingleIP()
	case x1.TargetIPv6:
		return isAddr && pfx.Addr().Is6() && pfx.IsSingleIP()
	case x1.TargetIPv4CIDR:
		return isAddr && pfx.Addr().Is4()
	case x1.TargetIPv6CIDR:
		return isAddr && pfx.Addr().Is6()
	}
	return false
}

// parseXID parses a UUID in its 36-character text form.
func parseXID(s string) ([16]byte, bool) {
	var x [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return x, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return x, false
		}
		x[j] = hi<<4 | lo
		j++
		i += 2
	}
	return x, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hit is one task an event involves.
type hit struct {
	task *ctask
	// target is the first target identifier of the task that matched
	// (attribute 17); others are the other ones that matched (attribute 18).
	target string
	others []string
	// own: the connection belongs to a target of the task (a passport
	// target owns it, or an address target is one of its endpoints).
	own bool
	// addr: the first match was an address target; prefix is its prefix.
	addr   bool
	prefix netip.Prefix
	// passport: the first match was a passport target (lower case).
	passport string
	// passports are the lower-case passport targets of the task the event
	// involves, for the duplicate rule.
	passports []string
}

// match appends a hit for every task e involves, in XID order.
func (s *snapshot) match(e *decoder.Event, hits []hit) []hit {
	if len(s.passport) > 0 {
		hits = s.matchPassport(e, e.User, true, hits)
		hits = s.matchPassport(e, e.From, false, hits)
		for _, to := range e.To {
			hits = s.matchPassport(e, to, false, hits)
		}
		if e.Kind == decoder.KindContactAdd {
			hits = s.matchPassport(e, e.Contact, false, hits)
		}
	}
	for i := range s.prefixes {
		a := &s.prefixes[i]
		if inPrefix(a.prefix, e.Client.Addr()) || inPrefix(a.prefix, e.Server.Addr()) {
			h := find(hits, a.task)
			if h == nil {
				hits = append(hits, hit{task: a.task, target: a.value, own: true, addr: true, prefix: a.prefix})
				continue
			}
			h.own = true
			if h.target != a.value && !slices.Contains(h.others, a.value) {
				h.others = append(h.others, a.value)
			}
		}
	}
	if len(hits) > 1 {
		slices.SortStableFunc(hits, func(a, b hit) int { return strings.Compare(a.task.xidString, b.task.xidString) })
	}
	return hits
}

// matchPassport records the tasks naming identity id (a passport of e);
// owner says id is the connection's owner.
func (s *snapshot) matchPassport(e *decoder.Event, id string, owner bool, hits []hit) []hit {
	if id == "" {
		return hits
	}
	key := lowerASCII(id)
	ts, ok := s.passport[key]
	if !ok {
		return hits
	}
	for _, pt := range ts {
		h := find(hits, pt.task)
		if h == nil {
			hits = append(hits, hit{task: pt.task, target: pt.value, own: owner, passport: key, passports: []string{key}})
			continue
		}
		h.own = h.own || owner
		if !slices.Contains(h.passports, key) {
			h.passports = append(h.passports, key)
		}
		if h.target != pt.value && !slices.Contains(h.others, pt.value) {
			h.others = append(h.others, pt.value)
		}
	}
	return hits
}

func find(hits []hit, t *ctask) *hit {
	for i := range hits {
		if hits[i].task == t {
			return &hits[i]
		}
	}
	return nil
}

func inPrefix(p netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	return p.Contains(a.Unmap().WithZone(""))
}

// direction is the payload direction of e as seen from the matched target.
func (h *hit) direction(e *decoder.Event) Direction {
	if h.addr {
		clientSide := inPrefix(h.prefix, e.Client.Addr())
		if clientSide == e.FromClient {
			return DirFromTarget
		}
		return DirToTarget
	}
	t := h.passport
	switch {
	case e.From != "":
		if equalFoldASCII(e.From, t) {
			return DirFromTarget
		}
		return DirToTarget
	case equalFoldASCII(e.User, t):
		if e.FromClient {
			return DirFromTarget
		}
		return DirToTarget
	}
	return DirToTarget
}

// lowerASCII returns strings.ToLower(s) (the form decoder.ParseTarget
// keeps passports in), without allocating when s is lower-case ASCII.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return strings.EqualFold(a, b)
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return strings.EqualFold(a, b)
		}
	}
	return true
}
