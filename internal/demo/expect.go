package demo

import (
	"sort"
	"strings"

	"rcds/decoder"
)

// Expectation is what the LEMF must and must not receive for a target,
// derived from the generator's expected events.
type Expectation struct {
	// TargetEvents counts the events that involve the target.
	TargetEvents int
	// Kinds counts them per event kind.
	Kinds map[decoder.Kind]int
	// Messages are the distinct text message bodies the target sent or
	// received (kind message), in order of first appearance.
	Messages []string
	// Outsiders are the passports seen in the capture that never appear in
	// an event involving the target: nothing may name them.
	Outsiders []string
	// Private are the bodies of text messages between other people that are
	// not also a message of the target's: none may arrive.
	Private []string
}

// Expect derives the Expectation for target from the expected events.
func Expect(events []decoder.Event, target string) Expectation {
	tg, err := decoder.ParseTarget(target)
	x := Expectation{Kinds: map[decoder.Kind]int{}}
	if err != nil {
		return x
	}
	inTarget := map[string]bool{}
	all := map[string]bool{}
	seenMsg := map[string]bool{}
	var other []string
	for i := range events {
		e := &events[i]
		names := identities(e)
		for _, n := range names {
			all[n] = true
		}
		if !tg.Involves(e) {
			if e.Kind == decoder.KindMessage && e.Body != "" {
				other = append(other, e.Body)
			}
			continue
		}
		x.TargetEvents++
		x.Kinds[e.Kind]++
		for _, n := range names {
			inTarget[n] = true
		}
		if e.Kind == decoder.KindMessage && !seenMsg[e.Body] {
			seenMsg[e.Body] = true
			x.Messages = append(x.Messages, e.Body)
		}
	}
	for n := range all {
		if !inTarget[n] {
			x.Outsiders = append(x.Outsiders, n)
		}
	}
	sort.Strings(x.Outsiders)
	seenPriv := map[string]bool{}
	for _, b := range other {
		if !seenMsg[b] && !seenPriv[b] {
			seenPriv[b] = true
			x.Private = append(x.Private, b)
		}
	}
	return x
}

// identities lists the lower-case passports an event names.
func identities(e *decoder.Event) []string {
	var out []string
	for _, p := range e.Parties() {
		if strings.Contains(p, "@") {
			out = append(out, strings.ToLower(p))
		}
	}
	return out
}
