package msnsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
)

// User is one scenario participant.
type User struct {
	Passport string
	Nick     string
	Version  int    // MSNP version (default 15)
	Status   string // presence at login (default NLN)
}

// Op is what a scenario step does.
type Op string

const (
	OpLogin      Op = "login"       // User signs in (dialling on first use)
	OpLogout     Op = "logout"      // User leaves its chats (OUT on each) and signs out (OUT)
	OpPresence   Op = "presence"    // User sets status Text (CHG)
	OpAddContact Op = "add_contact" // User adds every passport in With
	OpNick       Op = "nick"        // User sets friendly name Text
	OpPSM        Op = "psm"         // User sets personal message Text (MSNP11+)
	OpChat       Op = "chat"        // User opens chat Chat with everyone in With
	OpInvite     Op = "invite"      // User calls everyone in With into chat Chat
	OpSend       Op = "send"        // User sends Text in Chat, Count times, Interval apart
	OpTyping     Op = "typing"      // User sends a typing notification in Chat
	OpLeave      Op = "leave"       // User leaves Chat (OUT)
	OpPause      Op = "pause"       // nothing happens for Interval
)

// Step is one action of a scenario. Chat is a label chosen by the script;
// the switchboard session ID it stands for is in the Transcript.
type Step struct {
	Op       Op
	User     string // actor's passport
	Chat     string
	With     []string
	Text     string
	Count    int           // OpSend: number of messages (default 1)
	Interval time.Duration // OpSend: spacing; OpPause: duration
}

// Scenario is a script: the users and the steps, played in order. Each step
// waits for its effects (replies, joins, deliveries to every recipient's
// inbox, leaves) before the next one starts, so what the traffic contains
// is deterministic apart from timing.
type Scenario struct {
	Users []User
	Steps []Step
	// Dispatch overrides the dispatch address (default: srv's).
	Dispatch string
	// Dial and WrapConn are passed to every client (see ClientConfig).
	Dial     func(ctx context.Context, network, address string) (net.Conn, error)
	WrapConn func(net.Conn) net.Conn
	// Timeout bounds each request and wait (default 10 s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Hooks are called around each step; an error stops the scenario. A test
// activates an X1 task in BeforeStep to start interception mid-session.
type Hooks struct {
	BeforeStep func(ctx context.Context, i int, s Step) error
	AfterStep  func(ctx context.Context, i int, s Step) error
}

// Record is one thing a scenario did. Kind is the closest decoder event kind
// (message, typing, login, logout, presence, contact_add, nickname,
// personal_message, session_start, session_join, session_leave); it says
// what the user did, not a prediction of every event a decoder derives
// (a decoder also sees, e.g., each relayed MSG on the recipients'
// connections).
type Record struct {
	Step    int
	Kind    string
	User    string   // the actor
	To      []string // message/typing: the other members at that moment; chat: the invited; invite: the called
	Contact string   // contact_add
	Nick    string   // nickname
	Status  string   // presence
	Body    string   // message body, personal message text
	Chat    string   // chat label
	Session string   // switchboard session ID
	// Time: for message and typing, taken just before the MSG was written to
	// the socket; otherwise when the step started.
	Time time.Time
}

// Transcript is what RunScenario did.
type Transcript struct {
	Records []Record
	// Received holds every switchboard message each user received, in order.
	Received map[string][]Message
	// Sessions maps chat labels to switchboard session IDs.
	Sessions map[string]string
	// Steps holds when each step started and ended.
	Steps []StepTime
}

// StepTime is when a step ran.
type StepTime struct{ Start, End time.Time }

// runner is the state of one RunScenario call.
type runner struct {
	sc      Scenario
	addr    string
	users   map[string]User
	clients map[string]*Client
	chats   map[string]map[string]*Chat // label → user → chat
	tr      *Transcript

	wg       sync.WaitGroup
	mu       sync.Mutex
	changed  chan struct{}
	received map[string]int // recipient|session|from|kind|body → count
	expected map[string]int
}

// RunScenario plays sc against the server srv (or sc.Dispatch). All clients
// are closed when it returns (without OUT: add logout steps for clean
// endings). On error the transcript holds what was done until then.
func RunScenario(ctx context.Context, srv *Server, sc Scenario, hooks Hooks) (*Transcript, error) {
	r := &runner{
		sc:       sc,
		users:    make(map[string]User),
		clients:  make(map[string]*Client),
		chats:    make(map[string]map[string]*Chat),
		tr:       &Transcript{Received: make(map[string][]Message), Sessions: make(map[string]string)},
		changed:  make(chan struct{}),
		received: make(map[string]int),
		expected: make(map[string]int),
	}
	r.addr = sc.Dispatch
	if r.addr == "" && srv != nil {
		r.addr = srv.Addrs().Dispatch.String()
	}
	if r.addr == "" {
		return r.tr, errors.New("msnsim: scenario: no server address")
	}
	if r.sc.Timeout <= 0 {
		r.sc.Timeout = 10 * time.Second
	}
	if r.sc.Logger == nil {
		r.sc.Logger = slog.New(slog.DiscardHandler)
	}
	for _, u := range sc.Users {
		p := normPassport(u.Passport)
		if !validPassport(p) {
			return r.tr, fmt.Errorf("msnsim: scenario: invalid passport %q", u.Passport)
		}
		if _, dup := r.users[p]; dup {
			return r.tr, fmt.Errorf("msnsim: scenario: user %s listed twice", p)
		}
		r.users[p] = u
	}
	cctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		for _, cl := range r.clients {
			cl.Close()
		}
		r.wg.Wait()
	}()
	for i, s := range sc.Steps {
		if hooks.BeforeStep != nil {
			if err := hooks.BeforeStep(ctx, i, s); err != nil {
				return r.tr, fmt.Errorf("msnsim: scenario step %d: before hook: %w", i, err)
			}
		}
		st := StepTime{Start: time.Now()}
		if err := r.step(cctx, i, s); err != nil {
			return r.tr, fmt.Errorf("msnsim: scenario step %d (%s %s): %w", i, s.Op, s.User, err)
		}
		st.End = time.Now()
		r.tr.Steps = append(r.tr.Steps, st)
		if hooks.AfterStep != nil {
			if err := hooks.AfterStep(ctx, i, s); err != nil {
				return r.tr, fmt.Errorf("msnsim: scenario step %d: after hook: %w", i, err)
			}
		}
	}
	return r.tr, nil
}

func (r *runner) client(p string) (*Client, error) {
	cl := r.clients[p]
	if cl == nil {
		return nil, fmt.Errorf("%s has not logged in", p)
	}
	return cl, nil
}

func (r *runner) chat(label, p string) (*Chat, error) {
	ch := r.chats[label][p]
	if ch == nil {
		return nil, fmt.Errorf("%s is not in chat %q", p, label)
	}
	return ch, nil
}

func (r *runner) add(rec Record) { r.tr.Records = append(r.tr.Records, rec) }

func (r *runner) step(ctx context.Context, i int, s Step) error {
	p := normPassport(s.User)
	now := time.Now()
	base := Record{Step: i, User: p, Chat: s.Chat, Time: now}
	if s.Op != OpPause {
		if _, ok := r.users[p]; !ok {
			return fmt.Errorf("unknown user %q", s.User)
		}
	}
	switch s.Op {
	case OpPause:
		t := time.NewTimer(s.Interval)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	case OpLogin:
		cl := r.clients[p]
		if cl == nil {
			u := r.users[p]
			var err error
			cl, err = Dial(ctx, ClientConfig{Dispatch: r.addr, Passport: p, Nick: u.Nick, Version: u.Version,
				Status: u.Status, Dial: r.sc.Dial, WrapConn: r.sc.WrapConn, Logger: r.sc.Logger, Timeout: r.sc.Timeout})
			if err != nil {
				return err
			}
			r.clients[p] = cl
			r.wg.Add(1)
			go r.collect(ctx, cl)
		}
		if err := cl.Login(ctx); err != nil {
			return err
		}
		base.Kind = KindLogin
		r.add(base)
		return nil
	}
	cl, err := r.client(p)
	if err != nil {
		return err
	}
	switch s.Op {
	case OpLogout:
		// Logout leaves every chat first (OUT on each switchboard).
		labels := r.labelsOf(p)
		var leaves []Record
		for _, l := range labels {
			ch := r.chats[l][p]
			rec := base
			rec.Kind, rec.Chat, rec.Session, rec.To = KindSessionLeave, l, ch.ID(), ch.Members()
			leaves = append(leaves, rec)
		}
		if err := cl.Logout(ctx); err != nil {
			return err
		}
		for _, l := range labels {
			r.forget(l, p)
			if err := r.waitLeft(ctx, l, p); err != nil {
				return err
			}
		}
		for _, rec := range leaves {
			r.add(rec)
		}
		base.Kind = KindLogout
		r.add(base)
	case OpPresence:
		if err := cl.SetPresence(ctx, s.Text); err != nil {
			return err
		}
		base.Kind, base.Status = KindPresence, s.Text
		r.add(base)
	case OpAddContact:
		for _, w := range s.With {
			if err := cl.AddContact(ctx, w); err != nil {
				return err
			}
			rec := base
			rec.Kind, rec.Contact = KindContactAdd, normPassport(w)
			r.add(rec)
		}
	case OpNick:
		if err := cl.SetNick(ctx, s.Text); err != nil {
			return err
		}
		base.Kind, base.Nick = KindNickname, s.Text
		r.add(base)
	case OpPSM:
		if err := cl.SetPSM(ctx, s.Text); err != nil {
			return err
		}
		base.Kind, base.Body = KindPersonalMessage, s.Text
		r.add(base)
	case OpChat:
		if r.chats[s.Chat] != nil {
			return fmt.Errorf("chat %q already open", s.Chat)
		}
		ch, err := cl.StartChat(ctx, s.With...)
		if err != nil {
			return err
		}
		r.chats[s.Chat] = map[string]*Chat{p: ch}
		r.tr.Sessions[s.Chat] = ch.ID()
		if err := r.joinInvited(ctx, s.Chat, ch.ID(), s.With); err != nil {
			return err
		}
		base.Kind, base.Session, base.To = KindSessionStart, ch.ID(), normAll(s.With)
		r.add(base)
	case OpInvite:
		ch, err := r.chat(s.Chat, p)
		if err != nil {
			return err
		}
		for _, w := range s.With {
			if err := ch.Invite(ctx, w); err != nil {
				return err
			}
		}
		if err := r.joinInvited(ctx, s.Chat, ch.ID(), s.With); err != nil {
			return err
		}
		base.Kind, base.Session, base.To = KindSessionJoin, ch.ID(), normAll(s.With)
		r.add(base)
	case OpSend, OpTyping:
		ch, err := r.chat(s.Chat, p)
		if err != nil {
			return err
		}
		n := s.Count
		if n <= 0 || s.Op == OpTyping {
			n = 1
		}
		start := time.Now()
		for k := 0; k < n; k++ {
			if k > 0 && s.Interval > 0 {
				if err := sleepUntil(ctx, start.Add(time.Duration(k)*s.Interval)); err != nil {
					return err
				}
			}
			rec := base
			rec.Session, rec.To = ch.ID(), ch.Members()
			var t time.Time
			if s.Op == OpTyping {
				rec.Kind, rec.Body = KindTyping, "\r\n"
				t, err = ch.SendTyping(ctx)
			} else {
				rec.Kind, rec.Body = KindMessage, s.Text
				if n > 1 {
					rec.Body = fmt.Sprintf("%s #%d", s.Text, k+1)
				}
				t, err = ch.Send(ctx, rec.Body)
			}
			if err != nil {
				return err
			}
			rec.Time = t
			r.expect(rec)
			r.add(rec)
		}
		return r.waitDelivered(ctx)
	case OpLeave:
		ch, err := r.chat(s.Chat, p)
		if err != nil {
			return err
		}
		base.Session, base.To = ch.ID(), ch.Members()
		if err := ch.Leave(ctx); err != nil {
			return err
		}
		r.forget(s.Chat, p)
		if err := r.waitLeft(ctx, s.Chat, p); err != nil {
			return err
		}
		base.Kind = KindSessionLeave
		r.add(base)
	default:
		return fmt.Errorf("unknown op %q", s.Op)
	}
	return nil
}

func normAll(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = normPassport(p)
	}
	return out
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// joinInvited registers the invited users' side of chat label (their
// automatic ANS) and waits until every member sees every other.
func (r *runner) joinInvited(ctx context.Context, label, id string, with []string) error {
	for _, w := range with {
		w = normPassport(w)
		wc, err := r.client(w)
		if err != nil {
			return err
		}
		ch, err := wc.WaitChat(ctx, id)
		if err != nil {
			return err
		}
		r.chats[label][w] = ch
	}
	for p, ch := range r.chats[label] {
		var others []string
		for q := range r.chats[label] {
			if q != p {
				others = append(others, q)
			}
		}
		if err := ch.WaitMembers(ctx, others...); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) labelsOf(p string) []string {
	var out []string
	for l, m := range r.chats {
		if m[p] != nil {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

func (r *runner) forget(label, p string) {
	delete(r.chats[label], p)
	if len(r.chats[label]) == 0 {
		delete(r.chats, label)
	}
}

// waitLeft waits until the remaining members of label saw p leave.
func (r *runner) waitLeft(ctx context.Context, label, p string) error {
	for _, ch := range r.chats[label] {
		if err := ch.WaitLeft(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func deliveryKey(to, session, from, kind, body string) string {
	return to + "\x00" + session + "\x00" + from + "\x00" + kind + "\x00" + body
}

// expect notes that every member in rec.To must receive rec.
func (r *runner) expect(rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, to := range rec.To {
		r.expected[deliveryKey(to, rec.Session, rec.User, rec.Kind, rec.Body)]++
	}
}

// collect drains a client's inbox into the transcript.
func (r *runner) collect(ctx context.Context, cl *Client) {
	defer r.wg.Done()
	for {
		select {
		case m := <-cl.Inbox():
			r.mu.Lock()
			r.tr.Received[cl.Passport()] = append(r.tr.Received[cl.Passport()], m)
			r.received[deliveryKey(m.To, m.Chat, m.From, m.Kind, m.Body)]++
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

// waitDelivered waits until every expected message has been received.
func (r *runner) waitDelivered(ctx context.Context) error {
	timer := time.NewTimer(r.sc.Timeout)
	defer timer.Stop()
	for {
		r.mu.Lock()
		missing := ""
		for k, n := range r.expected {
			if r.received[k] < n {
				missing = k
				break
			}
		}
		ch := r.changed
		r.mu.Unlock()
		if missing == "" {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return fmt.Errorf("message not delivered: %q: %w", missing, context.DeadlineExceeded)
		}
	}
}
