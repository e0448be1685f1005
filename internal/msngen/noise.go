package msngen

import (
	"encoding/binary"
	"net/netip"
	"strings"
)

// noiseFlow is one non-MSN exchange: a TCP connection (HTTP, SMTP, IRC,
// random bytes) or a DNS query and answer over UDP.
type noiseFlow struct {
	conn  *Conn
	steps []Step
	i     int
	udp   bool
	q, a  []byte // DNS query and answer
}

var loremWords = strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua news weather sports photo video search login account")

func (n *network) noiseServer(v6 bool, port uint16) netip.AddrPort {
	last := 1 + n.r.intn(254)
	if v6 {
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 7, 15: byte(last)}), port)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(last)}), port)
}

func newNoiseFlow(r *rng, n *network, text string) *noiseFlow {
	v6 := n.isV6()
	h := n.newHost(v6)
	kind := r.intn(10)
	var port uint16
	switch {
	case kind < 4:
		port = 80
	case kind < 6:
		port = 53
	case kind < 7:
		port = 25
	case kind < 8:
		port = 6667
	default:
		port = uint16(8000 + r.intn(1000))
	}
	srv := n.noiseServer(v6, port)
	c := &Conn{ID: -1, Client: netip.AddrPortFrom(h.addr, h.nextPort()), Server: srv}
	c.Flow = c.Client.String() + "-" + c.Server.String()
	f := &noiseFlow{conn: c}
	add := func(fromClient bool, parts ...string) {
		n := 0
		for _, p := range parts {
			n += len(p)
		}
		b := make([]byte, 0, n)
		for _, p := range parts {
			b = append(b, p...)
		}
		if k := len(f.steps); k > 0 && f.steps[k-1].Kind == StepSend && f.steps[k-1].FromClient == fromClient {
			f.steps[k-1].Commands = append(f.steps[k-1].Commands, Command{Data: b})
			return
		}
		f.steps = append(f.steps, Step{Kind: StepSend, Conn: c, FromClient: fromClient, Commands: []Command{{Data: b}}})
	}
	f.steps = append(f.steps, Step{Kind: StepOpen, Conn: c, FromClient: true})
	switch port {
	case 53:
		f.udp = true
		f.steps = f.steps[:0]
		f.q, f.a = dnsExchange(r)
		return f
	case 80:
		path := "/" + pick(r, loremWords) + "/" + pick(r, loremWords) + ".html"
		add(true, "GET ", path, " HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)\r\nAccept: */*\r\nConnection: close\r\n\r\n")
		body := lorem(r, text, r.between(200, 20000))
		add(false, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: ", itoa(len(body)), "\r\n\r\n", body)
	case 25:
		add(false, "220 mail.example.org ESMTP ready\r\n")
		add(true, "EHLO client.example.com\r\n")
		add(false, "250-mail.example.org\r\n250 8BITMIME\r\n")
		add(true, "MAIL FROM:<someone@example.com>\r\n")
		add(false, "250 OK\r\n")
		add(true, "RCPT TO:<other@example.org>\r\n")
		add(false, "250 OK\r\n")
		add(true, "DATA\r\n")
		add(false, "354 go ahead\r\n")
		add(true, "Subject: ", pick(r, loremWords), "\r\nFrom: someone@example.com\r\n\r\n", lorem(r, text, r.between(100, 3000)), "\r\n.\r\n")
		add(false, "250 queued\r\n")
		add(true, "QUIT\r\n")
		add(false, "221 bye\r\n")
	case 6667:
		nick := "guest" + itoa(r.intn(1000))
		add(true, "NICK "+nick+"\r\nUSER "+nick+" 0 * :Guest\r\n")
		add(false, ":irc.example.net 001 "+nick+" :Welcome to the IRC network\r\n")
		add(true, "JOIN #lobby\r\n")
		add(false, ":"+nick+"!u@host JOIN #lobby\r\n")
		for k := r.between(2, 8); k > 0; k-- {
			if r.chance(0.5) {
				add(true, "PRIVMSG #lobby :", lorem(r, text, r.between(5, 200)), "\r\n")
			} else {
				add(false, ":bob!b@host PRIVMSG #lobby :", lorem(r, text, r.between(5, 200)), "\r\n")
			}
		}
		add(true, "QUIT :bye\r\n")
	default:
		for k := r.between(1, 4); k > 0; k-- {
			add(true, randomBytes(r, r.between(10, 2000)))
			add(false, randomBytes(r, r.between(10, 3000)))
		}
	}
	f.steps = append(f.steps, Step{Kind: StepClose, Conn: c, FromClient: r.chance(0.5)})
	return f
}

// loremText is filler text for noise bodies (built once per generator).
func loremText(r *rng) string {
	var b strings.Builder
	for b.Len() < 64<<10 {
		b.WriteString(pick(r, loremWords))
		b.WriteByte(' ')
	}
	return b.String()
}

// lorem returns n bytes of filler text (n at most 32 KiB) from a random
// place of text.
func lorem(r *rng, text string, n int) string {
	n = min(n, len(text)/2)
	off := r.intn(len(text) - n)
	return text[off : off+n]
}

func randomBytes(r *rng, n int) string {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.u64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return string(b)
}

// dnsExchange builds an A query and its answer.
func dnsExchange(r *rng) (q, a []byte) {
	id := uint16(r.u32())
	name := pick(r, loremWords) + ".example.com"
	var qn []byte
	for _, l := range strings.Split(name, ".") {
		qn = append(qn, byte(len(l)))
		qn = append(qn, l...)
	}
	qn = append(qn, 0, 0, 1, 0, 1) // type A, class IN
	hdr := func(flags uint16, an uint16) []byte {
		h := make([]byte, 12)
		binary.BigEndian.PutUint16(h[0:], id)
		binary.BigEndian.PutUint16(h[2:], flags)
		binary.BigEndian.PutUint16(h[4:], 1)
		binary.BigEndian.PutUint16(h[6:], an)
		return h
	}
	q = append(hdr(0x0100, 0), qn...)
	a = append(hdr(0x8180, 1), qn...)
	a = append(a, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 203, 0, 113, byte(1+r.intn(254)))
	return q, a
}

// step advances the flow by one step; false when it is done.
func (f *noiseFlow) step(w *wire) bool {
	if f.udp {
		switch f.i {
		case 0:
			w.udp(f.conn.Client, f.conn.Server, uint16(w.r.u32()), f.q, true)
		case 1:
			w.udp(f.conn.Server, f.conn.Client, uint16(w.r.u32()), f.a, false)
		}
		f.i++
		return f.i < 2
	}
	if f.i >= len(f.steps) {
		return false
	}
	st := f.steps[f.i]
	f.i++
	if st.Kind == StepSend && f.i < len(f.steps) {
		n := f.steps[f.i]
		st.Reply = n.Kind == StepSend && n.FromClient != st.FromClient
	}
	w.step(st)
	return f.i < len(f.steps)
}
