package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"rcds/decoder"
	"rcds/internal/demo"
)

// demoExpect computes, from the generator's expected events, the numbers
// the demo's summary must show.
type demoExpect struct {
	cc, messages  int
	login, logout int
}

func expectDemo(t *testing.T, seed int64, sessions int) demoExpect {
	t.Helper()
	c, err := demo.Generate(seed, sessions)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := decoder.ParseTarget(demo.Target)
	if err != nil {
		t.Fatal(err)
	}
	x := demo.Expect(c.Events, demo.Target)
	var e demoExpect
	// One CC per distinct MSG of the target's conversations: the copy seen
	// on the other party's captured connection is the same message.
	seen := map[string]bool{}
	for i := range c.Events {
		ev := &c.Events[i]
		if !tg.Involves(ev) {
			continue
		}
		switch ev.Kind {
		case decoder.KindMessage, decoder.KindTyping, decoder.KindFileInvite, decoder.KindP2P:
			k := ev.From + "\x00" + ev.ContentType + "\x00" + ev.Body
			if !seen[k] {
				seen[k] = true
				e.cc++
			}
		}
	}
	e.messages = len(x.Messages)
	e.login, e.logout = x.Kinds[decoder.KindLogin], x.Kinds[decoder.KindLogout]
	return e
}

var (
	reLEMF     = regexp.MustCompile(`LEMF\s+(\d+) records: (\d+) IRI on HI2, (\d+) CC on HI3 \(0 duplicates, 0 errors\)`)
	reMessages = regexp.MustCompile(`messages\s+(\d+) of (\d+) of the target's text messages delivered`)
	reCategory = regexp.MustCompile(`(?m)^\s+IRI (\S+)\s+(\d+)$`)
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDemoCommand runs `rcds demo` through the cobra root and checks its
// summary against the generator's expected events for the target.
func TestDemoCommand(t *testing.T) {
	want := expectDemo(t, 1, 8)
	if want.cc < 8 || want.messages != 5 || want.login != 1 || want.logout != 1 {
		t.Fatalf("the demo script changed: %+v", want)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the demo's own temporary directory goes here
	out, logs, err := execRoot(t.Context(), "demo")
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, logs)
	}
	m := reLEMF.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no LEMF summary line:\n%s", out)
	}
	records, iri, cc := atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3])
	if cc != want.cc || records != iri+cc {
		t.Errorf("LEMF: %d records, %d IRI, %d CC; want %d CC", records, iri, cc, want.cc)
	}
	cats := map[string]int{}
	for _, c := range reCategory.FindAllStringSubmatch(out, -1) {
		cats[c[1]] = atoi(t, c[2])
	}
	if cats["message:deposit"] != want.cc || cats["message-box:login"] != want.login || cats["message-box:logout"] != want.logout {
		t.Errorf("IRI per category %v; want %d deposits, %d login, %d logout", cats, want.cc, want.login, want.logout)
	}
	sum := 0
	for _, n := range cats {
		sum += n
	}
	if sum != iri {
		t.Errorf("categories add up to %d, IRI %d", sum, iri)
	}
	if m := reMessages.FindStringSubmatch(out); m == nil || atoi(t, m[1]) != want.messages || atoi(t, m[2]) != want.messages {
		t.Errorf("messages line %q; want %d of %d", m, want.messages, want.messages)
	}
	if !strings.Contains(out, "leaked: none (") || !strings.Contains(out, "RESULT: OK") {
		t.Errorf("no clean leak check:\n%s", out)
	}
	// The conversation is shown, including the Chinese lines, and the
	// private chat between two non-targets is not.
	for _, s := range []string{`"你好！我明天也来"`, `"太好了，我们明天见" (gb2312)`, `"see you 👋"`, "LIID", demo.LIID} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %s", s)
		}
	}
	if strings.Contains(out, demo.PrivateText) {
		t.Error("output shows the private chat")
	}
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Errorf("temporary directory not removed: %v %v", ents, err)
	}
}

// TestDemoKeep keeps the working directory when asked.
func TestDemoKeep(t *testing.T) {
	dir := t.TempDir() + "/work"
	out, _, err := execRoot(t.Context(), "demo", "--dir", dir, "--sessions", "2", "--seed", "3")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range []string{"demo.pcap", "pki/ca.pem", "pki/client-key.pem", "data/rcds.db", "lemf/hi2-1.ber", "lemf/hi3-1.ber"} {
		if _, err := os.Stat(dir + "/" + f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !strings.Contains(out, "files kept in "+dir) {
		t.Errorf("output does not say where the files are:\n%s", out)
	}
}
