package msngen

import "strings"

// planner makes up the actions of one random session group: a few captured
// users log in, change status, add contacts, chat with each other and with
// outside contacts in one to three switchboards, and log out. It produces
// actions lazily so that memory stays small with many concurrent groups.
type planner struct {
	r        *rng
	mps      int
	users    []string // captured
	outside  []string // contacts who are not captured
	pool     func() string
	queue    []Action
	qi       int
	phase    int
	idx      int
	chats    int
	chatID   int
	lines    int
	mustSay  string
	saidOnce bool
}

const (
	phaseLogin = iota
	phaseBetween
	phaseChat
	phaseEnd
	phaseDone
)

func (p *planner) next(cv *Conversation, a *Action) bool {
	for p.qi >= len(p.queue) {
		p.queue = p.queue[:0]
		p.qi = 0
		if !p.plan(cv) {
			return false
		}
	}
	*a = p.queue[p.qi]
	p.qi++
	return true
}

func (p *planner) add(a Action) { p.queue = append(p.queue, a) }

func (p *planner) plan(cv *Conversation) bool {
	r := p.r
	switch p.phase {
	case phaseLogin:
		u := p.users[p.idx]
		p.add(Action{Op: OpLogin, User: u})
		if cv.user(u).version >= 11 && r.chance(0.5) {
			p.add(Action{Op: OpPSM, User: u, Text: pick(r, psmBank[:])})
		}
		p.idx++
		if p.idx == len(p.users) {
			p.phase = phaseBetween
		}
	case phaseBetween:
		if p.chats == 0 {
			p.phase = phaseEnd
			p.idx = 0
			return true
		}
		if r.chance(0.35) {
			p.misc(cv)
			return true
		}
		p.openChat(cv)
	case phaseChat:
		ch := cv.chats[p.chatID]
		if ch == nil || p.lines <= 0 {
			if ch != nil {
				for _, m := range ch.members {
					if m.conn != nil {
						p.add(Action{Op: OpLeave, User: m.passport, Chat: p.chatID})
					}
				}
			}
			p.chats--
			p.phase = phaseBetween
			return true
		}
		p.line(cv, ch)
	case phaseEnd:
		if p.idx >= len(p.users) {
			p.phase = phaseDone
			return false
		}
		u := p.users[p.idx]
		if r.chance(0.2) {
			p.add(Action{Op: OpStatus, User: u, Text: "AWY"})
		}
		p.add(Action{Op: OpLogout, User: u})
		p.idx++
	default:
		return false
	}
	return true
}

// misc is a non-chat action of a random captured user.
func (p *planner) misc(cv *Conversation) {
	r := p.r
	name := pick(r, p.users)
	u := cv.user(name)
	switch x := r.intn(100); {
	case x < 25:
		st := pick(r, []string{"BSY", "AWY", "IDL", "BRB", "PHN", "LUN", "NLN", "NLN"})
		if r.chance(0.05) {
			st = "HDN"
		}
		if u.status == "HDN" {
			st = "NLN"
		}
		p.add(Action{Op: OpStatus, User: name, Text: st})
	case x < 40:
		c := p.pool()
		if !strings.EqualFold(c, name) && !containsFold(u.contacts, c) {
			p.add(Action{Op: OpAddContact, User: name, Contact: c})
		}
	case x < 50:
		p.add(Action{Op: OpNick, User: name, Text: pick(r, nickBank[:])})
	case x < 60 && u.version >= 11:
		p.add(Action{Op: OpPSM, User: name, Text: pick(r, psmBank[:])})
	case x < 80 && len(p.outside) > 0:
		c := pick(r, p.outside)
		st := pick(r, []string{"NLN", "AWY", "BSY", "FLN"})
		p.add(Action{Op: OpContactPresence, User: name, Contact: c, Text: st})
		if st != "FLN" && u.version >= 11 && r.chance(0.3) {
			p.add(Action{Op: OpContactPSM, User: name, Contact: c, Text: pick(r, psmBank[:])})
		}
	default:
		p.add(Action{Op: OpPing, User: name})
	}
}

func (p *planner) openChat(cv *Conversation) {
	r := p.r
	caller := pick(r, p.users)
	if p.mustSay != "" && !p.saidOnce {
		caller = p.mustSay
	}
	var cands []string
	for _, u := range p.users {
		if !strings.EqualFold(u, caller) {
			cands = append(cands, u)
		}
	}
	cands = append(cands, p.outside...)
	if len(cands) == 0 {
		// Nobody to talk to: no chat in this group.
		p.chats = 0
		return
	}
	n := 1
	if r.chance(0.3) {
		n = 2
	}
	var with []string
	for tries := 0; len(with) < n && tries < 8; tries++ {
		c := pick(r, cands)
		// Prefer captured peers, so that both sides are often seen.
		if tries == 0 && len(p.users) > 1 && r.chance(0.5) {
			c = pick(r, cands[:len(p.users)-1])
		}
		if !containsFold(with, c) {
			with = append(with, c)
		}
	}
	p.chatID++
	p.add(Action{Op: OpOpenChat, User: caller, Chat: p.chatID, With: with})
	p.lines = r.between(max(1, p.mps/2), p.mps*3/2)
	p.phase = phaseChat
}

func (p *planner) line(cv *Conversation, ch *chatState) {
	r := p.r
	id := p.chatID
	sender := pick(r, ch.members).passport
	if p.mustSay != "" && !p.saidOnce && ch.index(p.mustSay) >= 0 {
		sender = ch.members[ch.index(p.mustSay)].passport
		p.saidOnce = true
		p.add(Action{Op: OpSay, User: sender, Chat: id, Text: randomText(r)})
		p.lines--
		return
	}
	p.lines--
	switch x := r.intn(100); {
	case x < 35:
		p.add(Action{Op: OpTyping, User: sender, Chat: id})
		p.add(Action{Op: OpSay, User: sender, Chat: id, Text: randomText(r)})
	case x < 82:
		p.add(Action{Op: OpSay, User: sender, Chat: id, Text: randomText(r)})
	case x < 85:
		p.add(Action{Op: OpSay, User: sender, Chat: id, Text: pick(r, gbBank[:]), Charset: "gb2312"})
	case x < 89:
		p.add(Action{Op: OpFileInvite, User: sender, Chat: id})
	case x < 93:
		p.add(Action{Op: OpP2P, User: sender, Chat: id})
	case x < 95:
		p.add(Action{Op: OpCaps, User: sender, Chat: id})
	case x < 98:
		// Invite one more, by a captured member.
		var inviter string
		for _, m := range ch.members {
			if m.conn != nil {
				inviter = m.passport
				break
			}
		}
		var cands []string
		for _, u := range p.users {
			if ch.index(u) < 0 && cv.user(u).ns != nil {
				cands = append(cands, u)
			}
		}
		for _, u := range p.outside {
			if ch.index(u) < 0 {
				cands = append(cands, u)
			}
		}
		if inviter != "" && len(cands) > 0 && len(ch.members) < 4 {
			p.add(Action{Op: OpInvite, User: inviter, Chat: id, With: []string{pick(r, cands)}})
		} else {
			p.add(Action{Op: OpSay, User: sender, Chat: id, Text: randomText(r)})
		}
	default:
		// Someone leaves, if a captured member stays.
		if len(ch.members) > 2 {
			captured := 0
			for _, m := range ch.members {
				if m.conn != nil {
					captured++
				}
			}
			m := pick(r, ch.members)
			if m.conn == nil || captured > 1 {
				p.add(Action{Op: OpLeave, User: m.passport, Chat: id})
				return
			}
		}
		p.add(Action{Op: OpSay, User: sender, Chat: id, Text: randomText(r)})
	}
}
