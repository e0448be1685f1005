package demo

import (
	"bytes"
	"fmt"

	"rcds/decoder"
	"rcds/internal/msngen"
)

// The demo's people. Target is intercepted; Bob and Carol talk with her
// (and, once, with each other only); the generator's background users
// (user000@... in msngen's pool) never talk with her.
const (
	Target = "alice@example.com"
	Bob    = "bob@example.net"
	Carol  = "carol@example.org"
)

// PrivateText is what Bob tells Carol in a chat without the target: it must
// never reach the LEMF.
const PrivateText = "don't tell Alice about the surprise party"

// Script is the demo's scenario: the target logs in, chats with Bob and
// Carol (in UTF-8 Chinese and in GB2312, with a typing notification, a file
// invitation and a P2P invitation), changes her personal message and nick,
// adds a contact and logs out; Bob and Carol also talk without her.
func Script() *msngen.Script {
	return &msngen.Script{
		Users: []msngen.User{
			{Passport: Target, Nick: "Alice", Version: 15, Contacts: []string{"dave@example.com"}},
			{Passport: Bob, Nick: "Bob", Version: 8},
			{Passport: Carol, Nick: "Carol", Version: 11},
		},
		Actions: []msngen.Action{
			{Op: msngen.OpLogin, User: Target},
			{Op: msngen.OpLogin, User: Bob},
			{Op: msngen.OpLogin, User: Carol},
			{Op: msngen.OpPSM, User: Target, Text: "demo day"},
			{Op: msngen.OpOpenChat, User: Target, Chat: 1, With: []string{Bob}},
			{Op: msngen.OpTyping, User: Target, Chat: 1},
			{Op: msngen.OpSay, User: Target, Chat: 1, Text: "hi Bob, are we still on for tomorrow?"},
			{Op: msngen.OpSay, User: Bob, Chat: 1, Text: "yes, 10am at the station"},
			{Op: msngen.OpInvite, User: Target, Chat: 1, With: []string{Carol}},
			{Op: msngen.OpSay, User: Carol, Chat: 1, Text: "你好！我明天也来"},
			{Op: msngen.OpSay, User: Target, Chat: 1, Text: "太好了，我们明天见", Charset: "gb2312"},
			{Op: msngen.OpFileInvite, User: Bob, Chat: 1},
			{Op: msngen.OpP2P, User: Target, Chat: 1},
			{Op: msngen.OpLeave, User: Carol, Chat: 1},
			{Op: msngen.OpOpenChat, User: Bob, Chat: 2, With: []string{Carol}},
			{Op: msngen.OpSay, User: Bob, Chat: 2, Text: PrivateText},
			{Op: msngen.OpSay, User: Carol, Chat: 2, Text: "my lips are sealed"},
			{Op: msngen.OpLeave, User: Bob, Chat: 2},
			{Op: msngen.OpSay, User: Target, Chat: 1, Text: "see you 👋"},
			{Op: msngen.OpLeave, User: Target, Chat: 1},
			{Op: msngen.OpNick, User: Target, Text: "Alice (busy)"},
			{Op: msngen.OpAddContact, User: Target, Contact: "erin@example.com"},
			{Op: msngen.OpLogout, User: Target},
			{Op: msngen.OpLogout, User: Bob},
			{Op: msngen.OpLogout, User: Carol},
		},
	}
}

// CaptureOptions are the generator options of the demo capture: the script
// among Sessions login sessions of background users, with non-MSN noise
// and split and coalesced TCP segments. The same seed gives the same bytes.
func CaptureOptions(seed int64, sessions int) msngen.Options {
	if sessions <= 0 {
		sessions = 8
	}
	return msngen.Options{
		Seed:        seed,
		Users:       16,
		Sessions:    sessions,
		Concurrency: 4,
		Noise:       0.2,
		Seg:         msngen.Segmentation{Flags: msngen.Split | msngen.Coalesce},
		Script:      Script(),
	}
}

// Capture is a generated capture and what a decoder must find in it.
type Capture struct {
	Pcap   []byte
	Events []decoder.Event // every expected event, in order
	Result msngen.Result
}

// Generate writes the demo capture in memory.
func Generate(seed int64, sessions int) (*Capture, error) {
	var buf bytes.Buffer
	c := &Capture{}
	res, err := msngen.Generate(&buf, CaptureOptions(seed, sessions), func(e *decoder.Event) {
		ev := *e
		ev.To = append([]string(nil), e.To...)
		ev.Raw = nil
		c.Events = append(c.Events, ev)
	})
	if err != nil {
		return nil, fmt.Errorf("demo: generate the capture: %w", err)
	}
	c.Pcap, c.Result = buf.Bytes(), res
	return c, nil
}
