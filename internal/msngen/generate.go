package msngen

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"rcds/decoder"
)

// Generate writes a capture to w as opt asks and calls expect (which may
// be nil) with each event a decoder must report, in the order a decoder
// reading the capture reports them, with Time the timestamp of the packet
// that completes the command. expect must not keep the event after the
// call (copy it).
func Generate(w io.Writer, opt Options, expect func(*decoder.Event)) (Result, error) {
	return GenerateContext(context.Background(), w, opt, expect)
}

// GenerateContext is Generate stopping early, with ctx's error, when ctx
// is done (what was written so far is flushed).
func GenerateContext(ctx context.Context, w io.Writer, opt Options, expect func(*decoder.Event)) (Result, error) {
	o, err := opt.withDefaults()
	if err != nil {
		return Result{}, err
	}
	g := newGen(w, o, expect)
	g.done = ctx.Done()
	g.ctxErr = ctx.Err
	if err := g.run(); err != nil {
		return g.result(), err
	}
	return g.result(), nil
}

type unit struct {
	cv    *Conversation
	users int // captured users (NS sessions)
}

type gen struct {
	o       Options
	r       *rng
	net     *network
	out     *pcapWriter
	w       *wire
	active  []*unit
	noise   []*noiseFlow
	planned int // logins planned by random units
	open    int // captured users of the active units
	targets []string
	winding bool
	logins  int
	sbs     int
	msnPkts int64
	noisePk int64
	done    <-chan struct{}
	ctxErr  func() error
	steps   uint
	lorem   string
}

func newGen(w io.Writer, o Options, expect func(*decoder.Event)) *gen {
	r := newRNG(o.Seed)
	g := &gen{o: o, r: r, net: newNetwork(r, o.IPv6), out: newPcapWriter(w, o.Format == "pcapng")}
	g.w = newWire(g.out, o.Link, r, o.Seg, o.Start, o.Spacing, expect)
	g.targets = append(g.targets, o.Targets...)
	if o.Noise > 0 {
		g.lorem = loremText(r)
	}
	return g
}

func (g *gen) result() Result {
	return Result{
		Packets: g.w.packets, Bytes: g.out.n, Sessions: g.logins, Switchboards: g.sbs, Events: g.w.events,
	}
}

func (g *gen) run() error {
	link := uint32(linkEthernet)
	if g.o.Link == SLL {
		link = linkSLL
	}
	g.out.header(link)
	if g.o.Script != nil {
		cv := newConversation(g.r, g.net, g.o.Script.Users, &scriptSource{actions: g.o.Script.Actions})
		g.active = append(g.active, &unit{cv: cv, users: len(g.o.Script.Users)})
		g.open += len(g.o.Script.Users)
	}
	noiseRatio := g.o.Noise / (1 - g.o.Noise)
	for {
		if g.out.err != nil {
			return g.out.err
		}
		if g.steps++; g.steps%1024 == 0 && g.done != nil {
			select {
			case <-g.done:
				if err := g.out.flush(); err != nil {
					return err
				}
				return fmt.Errorf("msngen: generate: %w", g.ctxErr())
			default:
			}
		}
		if !g.winding && g.o.TargetBytes > 0 && g.out.n >= g.o.TargetBytes {
			g.winding = true
			for _, u := range g.active {
				u.cv.windDown()
			}
		}
		for g.open < g.o.Concurrency && g.canStart() {
			u := g.newUnit(g.o.Concurrency - g.open)
			g.open += u.users
			g.active = append(g.active, u)
		}
		if len(g.active) == 0 {
			break
		}
		if noiseRatio > 0 && float64(g.noisePk) < noiseRatio*float64(g.msnPkts) && (!g.winding || len(g.noise) > 0) {
			before := g.w.packets
			g.noiseStep()
			g.noisePk += g.w.packets - before
			continue
		}
		i := g.r.intn(len(g.active))
		u := g.active[i]
		st, ok := u.cv.Next()
		if !ok {
			if err := u.cv.Err(); err != nil {
				return err
			}
			g.logins += u.cv.Logins()
			g.sbs += u.cv.Switchboards()
			g.open -= u.users
			last := len(g.active) - 1
			g.active[i] = g.active[last]
			g.active[last] = nil
			g.active = g.active[:last]
			continue
		}
		before := g.w.packets
		g.w.step(st)
		g.msnPkts += g.w.packets - before
	}
	// Finish the noise flows in progress; start no new ones.
	g.winding = true
	for len(g.noise) > 0 {
		g.noiseStep()
	}
	return g.out.flush()
}

func (g *gen) canStart() bool {
	if g.winding {
		return false
	}
	if len(g.targets) > 0 {
		return true
	}
	if g.o.TargetBytes > 0 {
		return true
	}
	return g.planned < g.o.Sessions
}

func (g *gen) noiseStep() {
	if len(g.noise) < 4 && !g.winding {
		g.noise = append(g.noise, newNoiseFlow(g.r, g.net, g.lorem))
	}
	i := g.r.intn(len(g.noise))
	if !g.noise[i].step(g.w) {
		last := len(g.noise) - 1
		g.noise[i] = g.noise[last]
		g.noise[last] = nil
		g.noise = g.noise[:last]
	}
}

// newUnit makes a random session group of one to three (at most room)
// captured users.
func (g *gen) newUnit(room int) *unit {
	r := g.r
	k := 1
	switch x := r.intn(10); {
	case x >= 9:
		k = 3
	case x >= 6:
		k = 2
	}
	var target string
	if len(g.targets) > 0 {
		target = g.targets[0]
		g.targets = g.targets[1:]
	}
	if g.o.TargetBytes == 0 {
		if left := g.o.Sessions - g.planned; k > left {
			k = max(left, 1)
		}
	}
	k = max(1, min(k, room, g.o.Users+btoi(target != "")))
	var captured []string
	if target != "" {
		captured = append(captured, target)
	}
	for tries := 0; len(captured) < k && tries < 20; tries++ {
		p := Passport(r.intn(g.o.Users))
		if !containsFold(captured, p) {
			captured = append(captured, p)
		}
	}
	var outside []string
	for n, tries := r.between(2, 6), 0; len(outside) < n && tries < 20; tries++ {
		p := Passport(r.intn(g.o.Users))
		if !containsFold(captured, p) && !containsFold(outside, p) {
			outside = append(outside, p)
		}
	}
	users := make([]User, len(captured))
	for i, p := range captured {
		users[i] = User{Passport: p, Version: pick(r, g.o.Versions)}
		for _, c := range outside {
			if r.chance(0.8) {
				users[i].Contacts = append(users[i].Contacts, c)
				if r.chance(0.3) {
					users[i].Offline = append(users[i].Offline, c)
				}
			}
		}
	}
	g.planned += len(users)
	p := &planner{
		r: r, mps: g.o.MessagesPerSwitchboard, users: captured, outside: outside,
		chats: r.between(1, 3), mustSay: target,
		pool: func() string { return Passport(r.intn(g.o.Users)) },
	}
	return &unit{cv: newConversation(r, g.net, users, p), users: len(users)}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// step writes one transcript step.
func (w *wire) step(st Step) {
	switch st.Kind {
	case StepOpen:
		w.open(st.Conn)
	case StepSend:
		if st.Conn.tcp == nil {
			return
		}
		w.burst(st.Conn, st.FromClient, st.Commands, st.Reply)
	case StepClose:
		w.close(st.Conn, st.FromClient)
	}
}

// ParseVersions parses a comma-separated list of MSNP versions ("8,15").
func ParseVersions(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(p)), "MSNP"))
		if p == "" {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 2 || v > 18 {
			return nil, fmt.Errorf("msngen: MSNP version %q: %w", p, ErrBadOption)
		}
		out = append(out, v)
	}
	return out, nil
}
