package msnp

import "bytes"

// frameHandler receives what a framer finds in one direction of a stream.
type frameHandler interface {
	// frame is one complete command: its parsed line and its payload (nil
	// when the command has none). Both are valid only during the call.
	frame(c *command, payload []byte)
	// frameError reports a framing problem; the framer has already started
	// to resynchronise.
	frameError(err error)
}

type framerState uint8

const (
	stLine     framerState = iota // expecting a command line
	stPayload                     // reading a payload of known length
	stDiscard                     // discarding the rest of a damaged payload
	stSkipLine                    // discarding up to the next line end
	stResync                      // expecting a line, silently skipping non-commands
)

// framer cuts one direction of an MSNP byte stream into commands. It is
// incremental: commands may be split at any offset, several may arrive
// together, and payloads are read by exact byte count. Bytes are copied only
// when a command spans two Data calls.
type framer struct {
	maxLine    int
	maxPayload int

	state  framerState
	buf    []byte // partial line, or header line + partial payload
	hdrLen int    // stPayload: length of the header line (with its line end) in buf
	lineLn int    // stPayload: length of the header line without its line end
	need   int    // stPayload: payload bytes still missing; stDiscard: bytes to drop

	cmd *command // parse scratch, shared by the framers of one connection

	// skipped counts bytes dropped while resynchronising.
	skipped int64
}

func newFramer(maxLine, maxPayload int, cmd *command) framer {
	return framer{maxLine: maxLine, maxPayload: maxPayload, cmd: cmd}
}

// startResync makes the framer skip bytes until a line that parses as an
// MSNP command. Used at the start of a stream first seen mid-session.
func (f *framer) startResync() {
	f.state = stResync
	f.buf = f.buf[:0]
}

// push feeds bytes of the stream.
func (f *framer) push(data []byte, h frameHandler) {
	for len(data) > 0 {
		switch f.state {
		case stDiscard:
			n := min(len(data), f.need)
			f.need -= n
			f.skipped += int64(n)
			data = data[n:]
			if f.need == 0 {
				f.state = stLine
			}
		case stSkipLine:
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				f.skipped += int64(len(data))
				return
			}
			f.skipped += int64(i + 1)
			data = data[i+1:]
			f.state = stResync
		case stPayload:
			n := min(len(data), f.need)
			f.buf = append(f.buf, data[:n]...)
			f.need -= n
			data = data[n:]
			if f.need == 0 {
				f.completePayload(h)
			}
		default: // stLine, stResync
			data = f.lineStep(data, h)
		}
	}
}

// lineStep consumes one line (or buffers a partial one) and returns the
// unconsumed rest. The outcome does not depend on how the line was split
// across calls.
func (f *framer) lineStep(data []byte, h frameHandler) []byte {
	i := bytes.IndexByte(data, '\n')
	if f.state == stLine && !f.prefixOK(data, i) {
		// The line cannot be a command: report it as soon as that is
		// known. Its bytes are still examined (a command may be glued to
		// its end after a damaged payload).
		f.state = stResync
		h.frameError(ErrNotCommand)
	}
	if i < 0 {
		if len(f.buf)+len(data) > f.maxLine {
			f.overlong(h, len(f.buf)+len(data))
			return nil
		}
		f.buf = append(f.buf, data...)
		return nil
	}
	if len(f.buf)+i > f.maxLine {
		f.skipped += int64(len(f.buf) + i + 1)
		f.buf = f.buf[:0]
		f.lineError(h, ErrLineTooLong)
		return data[i+1:]
	}
	var line []byte
	if len(f.buf) > 0 {
		f.buf = append(f.buf, data[:i+1]...)
		line = f.buf
	} else {
		line = data[:i+1]
	}
	rest := data[i+1:]
	hdrLen := len(line)
	body := line[:len(line)-1]
	if n := len(body); n > 0 && body[n-1] == '\r' {
		body = body[:n-1]
	}
	if len(body) == 0 {
		// Blank line: tolerated (keep-alive newlines), nothing to do.
		f.buf = f.buf[:0]
		return rest
	}
	c := f.cmd
	glued := 0
	err := parseCommand(body, c)
	if err == nil && f.state == stResync && !knownVerb(c.verb()) {
		err = ErrNotCommand
	}
	if err != nil {
		f.lineError(h, err)
		// A payload's tail usually has no line end, so the first command
		// after a gap is glued to it: look for a command inside the line.
		j := findCommand(body, c, f.maxPayload)
		if j == 0 {
			f.buf = f.buf[:0]
			f.skipped += int64(hdrLen)
			return rest
		}
		f.skipped += int64(j)
		body = body[j:]
		glued = j
	}
	plen, err := payloadLength(c, f.maxPayload)
	if err != nil {
		// A command with a bad length is reported even while
		// resynchronising: it is MSNP, just hostile or damaged.
		f.buf = f.buf[:0]
		f.skipped += int64(hdrLen)
		f.state = stResync
		h.frameError(err)
		return rest
	}
	f.state = stLine
	if plen < 0 {
		h.frame(c, nil)
		f.buf = f.buf[:0]
		return rest
	}
	if len(rest) >= plen {
		h.frame(c, rest[:plen:plen])
		f.buf = f.buf[:0]
		return rest[plen:]
	}
	// The payload continues in later Data calls: keep the header line
	// (from the command on, without glued garbage) and what there is of the
	// payload.
	if len(f.buf) == 0 {
		f.buf = append(f.buf, line[glued:]...)
	} else if glued > 0 {
		f.buf = append(f.buf[:0], f.buf[glued:]...)
	}
	f.hdrLen = hdrLen - glued
	f.lineLn = len(body)
	f.buf = append(f.buf, rest...)
	f.need = plen - len(rest)
	f.state = stPayload
	return nil
}

// prefixOK reports whether the start of the current line (buffered bytes,
// then data up to the line end at i, or all of data when i < 0) can still
// be a command line or a blank line.
func (f *framer) prefixOK(data []byte, i int) bool {
	if len(f.buf) >= 4 {
		return true // checked when it was shorter
	}
	var p [4]byte
	n := copy(p[:], f.buf)
	end := len(data)
	if i >= 0 {
		end = i
	}
	n += copy(p[n:], data[:end])
	return commandPrefix(p[:n])
}

// completePayload delivers a command whose payload was buffered.
func (f *framer) completePayload(h frameHandler) {
	c := f.cmd
	// The header parsed before; parse again, since the tokens alias bytes that
	// may have moved when buf grew.
	_ = parseCommand(f.buf[:f.lineLn], c)
	h.frame(c, f.buf[f.hdrLen:len(f.buf):len(f.buf)])
	f.buf = f.buf[:0]
	f.state = stLine
}

// overlong handles a line that exceeds the bound without a line end yet.
func (f *framer) overlong(h frameHandler, n int) {
	f.skipped += int64(n)
	f.buf = f.buf[:0]
	wasResync := f.state == stResync
	f.state = stSkipLine
	if !wasResync {
		h.frameError(ErrLineTooLong)
	}
}

// lineError reports err (unless already resynchronising) and resynchronises.
func (f *framer) lineError(h frameHandler, err error) {
	wasResync := f.state == stResync
	f.state = stResync
	if !wasResync {
		h.frameError(err)
	}
}

// gap reports n missing bytes (n < 0: unknown) before the next push. It
// returns the error to report, or nil when the gap is absorbed silently
// (inside a payload already being discarded).
func (f *framer) gap(n int) error {
	switch f.state {
	case stPayload:
		if n >= 0 && n <= f.need {
			// The payload is damaged but the framing is intact: drop the
			// rest of it and continue after it.
			f.skipped += int64(len(f.buf) - f.hdrLen + n)
			f.need -= n
			f.buf = f.buf[:0]
			f.state = stDiscard
			if f.need == 0 {
				f.state = stLine
			}
			return ErrPayloadDamage
		}
	case stDiscard:
		if n >= 0 && n <= f.need {
			f.need -= n
			f.skipped += int64(n)
			if f.need == 0 {
				f.state = stLine
			}
			return nil
		}
	case stSkipLine, stResync:
		f.skipped += int64(len(f.buf))
		f.buf = f.buf[:0]
		return nil
	}
	// The framing is lost: skip until a line that parses as a command (a
	// partial line after the gap does not).
	f.skipped += int64(len(f.buf))
	f.buf = f.buf[:0]
	f.state = stResync
	return ErrGap
}

// end reports whether the stream stopped inside a command: a partial line
// or payload. It resets the framer.
func (f *framer) end() error {
	var err error
	switch f.state {
	case stPayload:
		err = ErrTruncated
	case stLine:
		if len(f.buf) > 0 && !(len(f.buf) == 1 && f.buf[0] == '\r') {
			err = ErrTruncated
		}
	}
	f.buf = f.buf[:0]
	f.state = stLine
	return err
}

// release drops the buffer when it has grown large, so that an idle
// connection does not pin a big payload buffer.
func (f *framer) release() {
	if len(f.buf) == 0 && cap(f.buf) > 64<<10 {
		f.buf = nil
	}
}

// commandPrefix reports whether b (the start of a line, possibly
// incomplete) can still be the start of a command line.
func commandPrefix(b []byte) bool {
	if len(b) > 0 && b[0] == '\r' {
		return len(b) == 1 // a blank line "\r\n" so far
	}
	for i := 0; i < len(b) && i < 3; i++ {
		if !isUpper(b[i]) && !isDigit(b[i]) {
			return false
		}
	}
	return len(b) < 4 || b[3] == ' ' || b[3] == '\r'
}

// findCommand looks inside a line that is not a command for the first
// position where a known command with a valid payload length starts, and
// parses it into c. It returns 0 when there is none.
func findCommand(line []byte, c *command, maxPayload int) int {
	for i := 1; i+3 <= len(line); i++ {
		if !isUpper(line[i]) && !isDigit(line[i]) {
			continue
		}
		if i+3 < len(line) && line[i+3] != ' ' {
			continue
		}
		if !knownVerb(line[i : i+3]) {
			continue
		}
		if parseCommand(line[i:], c) != nil {
			continue
		}
		if _, err := payloadLength(c, maxPayload); err != nil || !signature(c) {
			continue
		}
		return i
	}
	return 0
}
