package capture

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// Kernel pre-filter for live capture, in classic BPF. It is conservative:
// it drops only what the userland Filter would drop too (anything it cannot
// judge, such as VLAN-tagged frames or IPv6 extension headers, passes), and
// its return value applies the snap length.

// bpfOptions describes the program to build.
type bpfOptions struct {
	linkHeader uint32 // bytes before the IP header: 14 (Ethernet) or 0 (cooked/raw)
	snapLen    uint32
	dropOutIf  int // drop outgoing packets of this interface index (loopback duplicates); 0: none
	filter     Filter
	withFilter bool // false: only the snap length and the loopback rule
}

// label names a position in a program under construction.
type label int

const (
	lNext label = -1 // the next instruction
)

type asmIns struct {
	ins    bpf.Instruction
	jt, jf label // targets of a conditional jump; jt alone for goTo
	isJump bool
	always bool // an unconditional jump
}

type bpfAsm struct {
	ins    []asmIns
	labels map[label]int
	nlabel label
	pend   []label // labels to place on the next instruction
}

func (a *bpfAsm) newLabel() label { a.nlabel++; return a.nlabel }

func (a *bpfAsm) place(l label) { a.pend = append(a.pend, l) }

func (a *bpfAsm) emit(i bpf.Instruction) { a.add(asmIns{ins: i}) }

// jump emits a conditional jump to jt when cond holds, else to jf.
func (a *bpfAsm) jump(cond bpf.JumpTest, val uint32, jt, jf label) {
	a.add(asmIns{ins: bpf.JumpIf{Cond: cond, Val: val}, jt: jt, jf: jf, isJump: true})
}

// goTo emits an unconditional jump.
func (a *bpfAsm) goTo(l label) {
	a.add(asmIns{ins: bpf.Jump{}, jt: l, isJump: true, always: true})
}

func (a *bpfAsm) add(i asmIns) {
	if a.labels == nil {
		a.labels = make(map[label]int)
	}
	for _, l := range a.pend {
		a.labels[l] = len(a.ins)
	}
	a.pend = a.pend[:0]
	a.ins = append(a.ins, i)
}

var errBPFTooLong = errors.New("filter too large for a BPF jump")

func (a *bpfAsm) resolve() ([]bpf.Instruction, error) {
	out := make([]bpf.Instruction, len(a.ins))
	for i, in := range a.ins {
		if !in.isJump {
			out[i] = in.ins
			continue
		}
		off := func(l label) (uint8, error) {
			if l == lNext {
				return 0, nil
			}
			pos, ok := a.labels[l]
			if !ok {
				return 0, fmt.Errorf("bpf: unplaced label %d", l)
			}
			d := pos - i - 1
			if d < 0 || d > 255 {
				return 0, errBPFTooLong
			}
			return uint8(d), nil
		}
		if in.always {
			d, err := off(in.jt)
			if err != nil {
				return nil, err
			}
			out[i] = bpf.Jump{Skip: uint32(d)}
			continue
		}
		j := in.ins.(bpf.JumpIf)
		var err error
		if j.SkipTrue, err = off(in.jt); err != nil {
			return nil, err
		}
		if j.SkipFalse, err = off(in.jf); err != nil {
			return nil, err
		}
		out[i] = j
	}
	return out, nil
}

// packetOutgoing is PACKET_OUTGOING, the packet type of a sent packet.
const packetOutgoing = 4

// buildBPF returns the pre-filter program.
func buildBPF(o bpfOptions) ([]bpf.Instruction, error) {
	prog, err := buildBPFWith(o, o.withFilter && !o.filter.IsZero())
	if errors.Is(err, errBPFTooLong) {
		// Too many terms for the kernel: filter in userland only.
		return buildBPFWith(o, false)
	}
	return prog, err
}

func buildBPFWith(o bpfOptions, withFilter bool) ([]bpf.Instruction, error) {
	a := &bpfAsm{}
	accept, drop := a.newLabel(), a.newLabel()
	if o.dropOutIf > 0 {
		keep := a.newLabel()
		a.emit(bpf.LoadExtension{Num: bpf.ExtType})
		a.jump(bpf.JumpEqual, packetOutgoing, lNext, keep)
		a.emit(bpf.LoadExtension{Num: bpf.ExtInterfaceIndex})
		a.jump(bpf.JumpEqual, uint32(o.dropOutIf), drop, keep)
		a.place(keep)
	}
	if withFilter {
		L := o.linkHeader
		v4, v6 := a.newLabel(), a.newLabel()
		if L == 14 {
			a.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
			a.jump(bpf.JumpEqual, etherIPv4, v4, lNext)
			a.jump(bpf.JumpEqual, etherIPv6, v6, accept)
		} else {
			a.emit(bpf.LoadAbsolute{Off: 0, Size: 1})
			a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0})
			a.jump(bpf.JumpEqual, 0x40, v4, lNext)
			a.jump(bpf.JumpEqual, 0x60, v6, accept)
		}
		// IPv4
		a.place(v4)
		a.emit(bpf.LoadAbsolute{Off: L + 9, Size: 1})
		a.jump(bpf.JumpEqual, 6, lNext, drop)
		if len(o.filter.Hosts) > 0 {
			ok := a.newLabel()
			for _, p := range o.filter.Hosts {
				p = p.Masked()
				ad := p.Addr().Unmap()
				if !ad.Is4() {
					continue
				}
				bitsN := p.Bits()
				if p.Addr().Is4In6() {
					bitsN -= 96
				}
				b := ad.As4()
				net := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
				mask := uint32(0)
				if bitsN > 0 {
					mask = ^uint32(0) << (32 - bitsN)
				}
				for _, off := range []uint32{L + 12, L + 16} {
					a.emit(bpf.LoadAbsolute{Off: off, Size: 4})
					if mask != ^uint32(0) {
						a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
					}
					a.jump(bpf.JumpEqual, net&mask, ok, lNext)
				}
			}
			a.emit(bpf.RetConstant{Val: 0})
			a.place(ok)
		}
		if len(o.filter.Ports) > 0 {
			a.emit(bpf.LoadAbsolute{Off: L + 6, Size: 2})
			a.jump(bpf.JumpBitsSet, 0x1fff, accept, lNext) // a later fragment: no ports to see
			a.emit(bpf.LoadMemShift{Off: L})
			for _, off := range []uint32{L, L + 2} {
				a.emit(bpf.LoadIndirect{Off: off, Size: 2})
				for _, port := range o.filter.Ports {
					a.jump(bpf.JumpEqual, uint32(port), accept, lNext)
				}
			}
			a.emit(bpf.RetConstant{Val: 0})
		} else {
			a.emit(bpf.RetConstant{Val: o.snapLen})
		}

		// IPv6
		a.place(v6)
		if len(o.filter.Hosts) > 0 {
			ok := a.newLabel()
			for _, p := range o.filter.Hosts {
				p = p.Masked()
				if !p.Addr().Is6() || p.Addr().Is4In6() {
					continue
				}
				b := p.Addr().As16()
				for _, base := range []uint32{L + 8, L + 24} {
					fail := a.newLabel()
					for w := 0; w < 4; w++ {
						n := min(max(p.Bits()-32*w, 0), 32)
						if n == 0 {
							break
						}
						mask := ^uint32(0) << (32 - n)
						word := uint32(b[4*w])<<24 | uint32(b[4*w+1])<<16 | uint32(b[4*w+2])<<8 | uint32(b[4*w+3])
						a.emit(bpf.LoadAbsolute{Off: base + uint32(4*w), Size: 4})
						if mask != ^uint32(0) {
							a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
						}
						a.jump(bpf.JumpEqual, word&mask, lNext, fail)
					}
					a.goTo(ok)
					a.place(fail)
				}
			}
			a.emit(bpf.RetConstant{Val: 0})
			a.place(ok)
		}
		if len(o.filter.Ports) > 0 {
			a.emit(bpf.LoadAbsolute{Off: L + 6, Size: 1})
			a.jump(bpf.JumpEqual, 6, lNext, accept) // extension headers: let userland judge
			for _, off := range []uint32{L + 40, L + 42} {
				a.emit(bpf.LoadAbsolute{Off: off, Size: 2})
				for _, port := range o.filter.Ports {
					a.jump(bpf.JumpEqual, uint32(port), accept, lNext)
				}
			}
			a.emit(bpf.RetConstant{Val: 0})
		}
	}
	a.place(accept)
	a.emit(bpf.RetConstant{Val: o.snapLen})
	a.place(drop)
	a.emit(bpf.RetConstant{Val: 0})
	return a.resolve()
}
