package msnsim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// Chat is one switchboard session as seen by one client.
type Chat struct {
	cl   *Client
	m    *mconn
	trid atomic.Int64
	naks atomic.Uint64

	// guarded by cl.mu
	id      string
	members []string // the other participants, in join order
	closed  bool
}

// StartChat opens a switchboard session (XFR SB, USR), invites every
// passport in with (CAL) and waits until all of them have joined (JOI).
func (cl *Client) StartChat(ctx context.Context, with ...string) (*Chat, error) {
	if len(with) == 0 {
		return nil, errors.New("msnsim: start chat: nobody to invite")
	}
	ns, err := cl.nsConn("start chat")
	if err != nil {
		return nil, err
	}
	r, err := ns.request(ctx, "XFR", "SB")
	if err != nil {
		return nil, fmt.Errorf("msnsim: start chat: XFR: %w", err)
	}
	// XFR trid SB address CKI cookie [U domain [1]]
	if r.arg(1) != "SB" || r.arg(3) != "CKI" || r.arg(4) == "" {
		return nil, fmt.Errorf("msnsim: start chat: XFR answered %q: %w", r.String(), ErrProtocol)
	}
	ch := &Chat{cl: cl}
	m, err := cl.dialConn(ctx, r.arg(2), RoleSB, &ch.trid, ch.onSB, ch.onClose)
	if err != nil {
		return nil, fmt.Errorf("msnsim: start chat: %w", err)
	}
	ch.m = m
	fail := func(err error) (*Chat, error) {
		ch.Leave(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("msnsim: start chat: %w", err)
	}
	if _, err := m.request(ctx, "USR", cl.Passport(), r.arg(4)); err != nil {
		return fail(fmt.Errorf("USR: %w", err))
	}
	for _, w := range with {
		r, err := m.request(ctx, "CAL", normPassport(w))
		if err != nil {
			return fail(fmt.Errorf("CAL %s: %w", w, err))
		}
		cl.mu.Lock()
		if ch.id == "" && !ch.closed {
			ch.id = r.arg(2)
			cl.chats[ch.id] = ch
			cl.notifyLocked()
		}
		cl.mu.Unlock()
	}
	if err := ch.WaitMembers(ctx, with...); err != nil {
		return fail(err)
	}
	return ch, nil
}

// answer joins a switchboard session after an RNG (the automatic ANS).
func (cl *Client) answer(sess, addr, cookie string) error {
	ctx := context.Background()
	ch := &Chat{cl: cl, id: sess}
	m, err := cl.dialConn(ctx, addr, RoleSB, &ch.trid, ch.onSB, ch.onClose)
	if err != nil {
		return err
	}
	ch.m = m
	if _, err := m.request(ctx, "ANS", cl.Passport(), cookie, sess); err != nil {
		m.close()
		return fmt.Errorf("ANS: %w", err)
	}
	cl.mu.Lock()
	if !ch.closed {
		cl.chats[sess] = ch
		cl.notifyLocked()
	}
	cl.mu.Unlock()
	return nil
}

// ID returns the switchboard session ID ("" until the first CAL succeeded).
func (ch *Chat) ID() string {
	ch.cl.mu.Lock()
	defer ch.cl.mu.Unlock()
	return ch.id
}

// Members returns the other participants now in the session.
func (ch *Chat) Members() []string {
	ch.cl.mu.Lock()
	defer ch.cl.mu.Unlock()
	return slices.Clone(ch.members)
}

// Done is closed when the switchboard connection has ended.
func (ch *Chat) Done() <-chan struct{} { return ch.m.done }

// Naks counts NAKs received for messages sent without waiting (ack type N).
func (ch *Chat) Naks() uint64 { return ch.naks.Load() }

// WaitMembers waits until every passport given is in the session.
func (ch *Chat) WaitMembers(ctx context.Context, passports ...string) error {
	return ch.cl.waitFor(ctx, "members to join", func() bool {
		for _, p := range passports {
			if !slices.Contains(ch.members, normPassport(p)) {
				return false
			}
		}
		return true
	})
}

// WaitLeft waits until passport is no longer in the session (BYE).
func (ch *Chat) WaitLeft(ctx context.Context, passport string) error {
	p := normPassport(passport)
	return ch.cl.waitFor(ctx, p+" to leave", func() bool { return !slices.Contains(ch.members, p) })
}

// Invite calls one more user into the session (CAL) and waits for the JOI.
func (ch *Chat) Invite(ctx context.Context, passport string) error {
	if _, err := ch.m.request(ctx, "CAL", normPassport(passport)); err != nil {
		return fmt.Errorf("msnsim: invite: %w", err)
	}
	return ch.WaitMembers(ctx, passport)
}

// textMIME is a text/plain message as the client version's official client
// formats it.
func (ch *Chat) textMIME(text string) []byte {
	font := "FN=MS%20Sans%20Serif; EF=; CO=0; CS=0; PF=0"
	switch {
	case ch.cl.ver >= 13:
		font = "FN=Segoe%20UI; EF=; CO=0; CS=1; PF=0"
	case ch.cl.ver >= 10:
		font = "FN=Arial; EF=; CO=0; CS=0; PF=22"
	}
	return []byte("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: " + font + "\r\n\r\n" + text)
}

// Send sends a text message with ack type N (as MSN Messenger does: no ACK,
// a NAK only if it could not be delivered, counted by Naks). It returns the
// time just before the MSG was written to the socket.
func (ch *Chat) Send(ctx context.Context, text string) (time.Time, error) {
	return ch.SendMIME(ctx, 'N', ch.textMIME(text))
}

// SendAcked sends a text message with ack type A and waits for the ACK
// (ErrNAK if the switchboard answers NAK).
func (ch *Chat) SendAcked(ctx context.Context, text string) (time.Time, error) {
	return ch.SendMIME(ctx, 'A', ch.textMIME(text))
}

// SendTyping sends a typing notification (text/x-msmsgscontrol, ack U).
func (ch *Chat) SendTyping(ctx context.Context) (time.Time, error) {
	return ch.SendMIME(ctx, 'U', []byte("MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: "+
		ch.cl.Passport()+"\r\n\r\n\r\n"))
}

// SendMIME sends a raw MIME message with the given ack type (U, N, A or D);
// for A and D it waits for the ACK or NAK.
func (ch *Chat) SendMIME(ctx context.Context, ack byte, mime []byte) (time.Time, error) {
	switch ack {
	case 'U', 'N', 'A', 'D':
	default:
		return time.Time{}, fmt.Errorf("msnsim: send: invalid ack type %q", ack)
	}
	wait := ack == 'A' || ack == 'D'
	r, t, err := ch.m.roundTrip(ctx, "MSG", wait, func(trid string) []byte {
		return withPayload("MSG", mime, trid, string(ack))
	})
	if err != nil {
		return t, fmt.Errorf("msnsim: send: %w", err)
	}
	if wait && r.Verb != "ACK" {
		return t, fmt.Errorf("msnsim: send: %w", ErrNAK)
	}
	return t, nil
}

// Leave sends OUT, waits for the switchboard to hang up and forgets the chat.
func (ch *Chat) Leave(ctx context.Context) error {
	if isDone(ch.m) {
		return nil
	}
	if err := ch.m.closeGracefully(ctx); err != nil {
		return fmt.Errorf("msnsim: leave chat: %w", err)
	}
	return nil
}

func (ch *Chat) onClose() {
	cl := ch.cl
	cl.mu.Lock()
	defer cl.mu.Unlock()
	ch.closed = true
	ch.members = nil
	if ch.id != "" && cl.chats[ch.id] == ch {
		delete(cl.chats, ch.id)
	}
	cl.notifyLocked()
}

// onSB handles unsolicited switchboard commands (reader goroutine).
func (ch *Chat) onSB(cmd *command) {
	cl := ch.cl
	switch cmd.Verb {
	case "JOI", "IRO":
		// JOI passport nick [clientid]; IRO trid i n passport nick [clientid]
		a := cmd.Args
		if cmd.Verb == "IRO" {
			if len(a) < 4 {
				return
			}
			a = a[3:]
		}
		if len(a) < 1 {
			return
		}
		p := normPassport(a[0])
		cl.mu.Lock()
		if !slices.Contains(ch.members, p) {
			ch.members = append(ch.members, p)
		}
		cl.notifyLocked()
		cl.mu.Unlock()
	case "BYE":
		if len(cmd.Args) < 1 {
			return
		}
		p := normPassport(cmd.Args[0])
		cl.mu.Lock()
		if i := slices.Index(ch.members, p); i >= 0 {
			ch.members = slices.Delete(ch.members, i, i+1)
		}
		cl.notifyLocked()
		cl.mu.Unlock()
	case "MSG":
		h, body := parseMIME(cmd.Payload)
		ct, kind := kindOf(h)
		cl.mu.Lock()
		id := ch.id
		cl.mu.Unlock()
		cl.deliver(Message{
			Chat: id, To: cl.Passport(), From: normPassport(cmd.arg(0)), FromNick: decodeNick(cmd.arg(1)),
			ContentType: ct, Kind: kind, Headers: h, Body: body, Raw: cmd.Payload, Time: time.Now(),
		})
	case "NAK":
		ch.naks.Add(1)
	}
}
