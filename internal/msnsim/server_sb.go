package msnsim

import (
	"slices"
	"strconv"
)

// handleSB serves the switchboard (srv.mu held).
func (c *sconn) handleSB(cmd *command) {
	s := c.srv
	trid := cmd.trid()
	switch cmd.Verb {
	case "USR":
		// USR trid passport cookie: open a new session (cookie from XFR SB).
		if c.sb != nil || len(cmd.Args) < 3 {
			c.fail(codeNotExpected, trid)
			return
		}
		t := s.takeTicket(cmd.Args[2])
		if t == nil || t.sb != nil || t.passport != normPassport(cmd.Args[1]) {
			c.fail(codeAuthFailed, trid)
			c.closeAfterFlush()
			return
		}
		sb := &switchboard{id: s.newSessionID()}
		s.sbs[sb.id] = sb
		c.passport, c.nick, c.clientID, c.ver = t.passport, t.nick, t.clientID, t.ver
		c.sb = sb
		sb.members = append(sb.members, c)
		c.reply("USR", trid, "OK", c.passport, encodeNick(c.nick))
	case "ANS":
		// ANS trid passport cookie sessid: join the session one was invited to.
		if c.sb != nil || len(cmd.Args) < 4 {
			c.fail(codeNotExpected, trid)
			return
		}
		t := s.takeTicket(cmd.Args[2])
		if t == nil || t.sb == nil || t.passport != normPassport(cmd.Args[1]) || t.sb.id != cmd.Args[3] {
			c.fail(codeAuthFailed, trid)
			c.closeAfterFlush()
			return
		}
		sb := t.sb
		c.passport, c.nick, c.clientID, c.ver = t.passport, t.nick, t.clientID, t.ver
		if sb.member(c.passport) != nil {
			c.fail(codeAlreadyIn, trid)
			c.closeAfterFlush()
			return
		}
		if len(sb.members) >= s.cfg.MaxSBMembers {
			c.fail(codeSessionFull, trid)
			c.closeAfterFlush()
			return
		}
		n := strconv.Itoa(len(sb.members))
		for i, m := range sb.members {
			args := []string{trid, strconv.Itoa(i + 1), n, m.passport, encodeNick(m.nick)}
			if c.ver.sbClientID() {
				args = append(args, m.clientID)
			}
			c.reply("IRO", args...)
		}
		c.reply("ANS", trid, "OK")
		for _, m := range sb.members {
			m.sendJOI(c)
		}
		c.sb = sb
		sb.members = append(sb.members, c)
	case "CAL":
		if c.sb == nil || len(cmd.Args) < 2 {
			c.fail(codeNotExpected, trid)
			return
		}
		if !validPassport(cmd.Args[1]) {
			c.fail(codeInvalidName, trid)
			return
		}
		p := normPassport(cmd.Args[1])
		if c.sb.member(p) != nil {
			c.fail(codeAlreadyIn, trid)
			return
		}
		ns := s.online[p]
		if ns == nil || !visible(ns.status) {
			c.fail(codeNotOnline, trid)
			return
		}
		if len(c.sb.members) >= s.cfg.MaxSBMembers {
			c.fail(codeSessionFull, trid)
			return
		}
		cookie := s.newTicket(&ticket{passport: p, nick: ns.acct.nick, clientID: ns.clientID, ver: ns.ver, sb: c.sb})
		if cookie == "" {
			c.fail(codeServerBusy, trid)
			return
		}
		args := []string{c.sb.id, s.adv[2], "CKI", cookie, c.passport, encodeNick(c.nick)}
		if ns.ver.u() {
			args = append(args, "U", "messenger.msn.com")
		}
		if ns.ver.networkID() {
			args = append(args, "1")
		}
		ns.reply("RNG", args...)
		c.reply("CAL", trid, "RINGING", c.sb.id)
	case "MSG":
		if c.sb == nil || len(cmd.Args) < 3 {
			c.fail(codeNotExpected, trid)
			return
		}
		ack := cmd.Args[1]
		switch ack {
		case "U", "N", "A", "D":
		default:
			c.fail(codeSyntax, trid)
			return
		}
		s.relayed.Add(1)
		for _, m := range c.sb.members {
			if m != c {
				c.relayTo = append(c.relayTo, m)
			}
		}
		if len(c.relayTo) > 0 {
			c.relayMsg = withPayload("MSG", cmd.Payload, c.passport, encodeNick(c.nick))
		}
		switch {
		case len(c.relayTo) == 0 && ack != "U":
			c.relayAck = line("NAK", trid)
		case len(c.relayTo) > 0 && (ack == "A" || ack == "D"):
			c.relayAck = line("ACK", trid)
		}
	case "OUT":
		c.left = true
		c.leaveSB()
		c.closeAfterFlush()
	default:
		c.fail(codeSyntax, trid)
	}
}

func (c *sconn) sendJOI(j *sconn) {
	if c.ver.sbClientID() {
		c.reply("JOI", j.passport, encodeNick(j.nick), j.clientID)
	} else {
		c.reply("JOI", j.passport, encodeNick(j.nick))
	}
}

func (sb *switchboard) member(passport string) *sconn {
	for _, m := range sb.members {
		if m.passport == passport {
			return m
		}
	}
	return nil
}

// leaveSB removes c from its switchboard and tells the others (BYE). The
// last one out closes the session.
func (c *sconn) leaveSB() {
	sb := c.sb
	if sb == nil {
		return
	}
	c.sb = nil
	i := slices.Index(sb.members, c)
	if i < 0 {
		return
	}
	sb.members = slices.Delete(sb.members, i, i+1)
	for _, m := range sb.members {
		if c.left {
			m.reply("BYE", c.passport)
		} else {
			// Gone without OUT (connection closed or timed out).
			m.reply("BYE", c.passport, "1")
		}
	}
	if len(sb.members) == 0 {
		sb.closed = true
		delete(c.srv.sbs, sb.id)
	}
}

func (s *Server) newSessionID() string {
	for {
		id := randomSessionID()
		if _, dup := s.sbs[id]; !dup {
			return id
		}
	}
}
