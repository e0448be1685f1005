package msnsim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RateConfig configures RunRate.
type RateConfig struct {
	// Rate is the number of messages per second (required).
	Rate int
	// Count is the number of messages; when 0, Duration*Rate.
	Count int
	// Duration is used when Count is 0.
	Duration time.Duration
	// Prefix starts every marker (default "rcds-rate-" and a random tag).
	// Marker i is Prefix + "-" + i in eight digits; it is the first token of
	// the message body.
	Prefix string
	// Size pads each body with filler to at least Size bytes.
	Size int
	// Acked sends with ack type A and waits for each ACK (default N, as MSN
	// Messenger does for text).
	Acked bool
}

// RateResult is what RunRate sent and what arrived.
type RateResult struct {
	Session string
	Prefix  string
	// Markers in send order; Sent maps each to the time taken just before
	// its MSG was written to the socket.
	Markers []string
	Sent    map[string]time.Time
	// Received maps each marker to when the receiving client read it (the
	// simulator's own send-to-receive latency is Received - Sent).
	Received map[string]time.Time
	// Delivered counts the markers the receiving client got.
	Delivered int
	// Late counts messages written more than one period after their
	// scheduled time; MaxLag is the largest delay. The schedule is
	// absolute, so a late sender catches up and the mean rate holds. (Go's
	// sleeps may wake up to about a millisecond late: at 1,000 messages/s
	// some sends are "late" by a period without the rate suffering; Sent
	// holds the true write times either way.)
	Late       int
	MaxLag     time.Duration
	Start, End time.Time
}

// Marker returns the marker of message i for prefix.
func Marker(prefix string, i int) string { return fmt.Sprintf("%s-%08d", prefix, i) }

// RunRate opens a chat from from to to, sends messages at a steady rate
// (message i is scheduled at start + i/Rate; a late sender catches up
// without skipping), then waits until to has received every one, and
// leaves. Both clients must be logged in. RunRate consumes to's Inbox while
// it runs.
func RunRate(ctx context.Context, from, to *Client, cfg RateConfig) (*RateResult, error) {
	if cfg.Rate <= 0 {
		return nil, errors.New("msnsim: rate: Rate must be positive")
	}
	n := cfg.Count
	if n <= 0 {
		n = int(cfg.Duration.Seconds() * float64(cfg.Rate))
	}
	if n <= 0 {
		return nil, errors.New("msnsim: rate: no messages to send (set Count or Duration)")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "rcds-rate-" + randomHex(4)
	}
	if strings.ContainsAny(cfg.Prefix, " \r\n") {
		return nil, errors.New("msnsim: rate: Prefix must not contain spaces or line breaks")
	}
	res := &RateResult{Prefix: cfg.Prefix, Sent: make(map[string]time.Time, n),
		Markers: make([]string, 0, n)}
	ch, err := from.StartChat(ctx, to.Passport())
	if err != nil {
		return res, fmt.Errorf("msnsim: rate: %w", err)
	}
	defer ch.Leave(context.WithoutCancel(ctx))
	res.Session = ch.ID()
	if _, err := to.WaitChat(ctx, ch.ID()); err != nil {
		return res, fmt.Errorf("msnsim: rate: %w", err)
	}

	// Count deliveries concurrently so that to's inbox never fills.
	want := cfg.Prefix + "-"
	got := make(chan int, 1)
	stop := make(chan struct{})
	received := make(map[string]time.Time, n)
	go func() {
		defer func() { got <- len(received) }()
		for len(received) < n {
			select {
			case m := <-to.Inbox():
				if m.Chat == res.Session && strings.HasPrefix(m.Body, want) {
					mk, _, _ := strings.Cut(m.Body, " ")
					received[mk] = m.Time
				}
			case <-stop:
				return
			}
		}
	}()
	// The receiver goroutine owns received until it reports on got.
	defer func() { res.Received = received }()

	period := time.Second / time.Duration(cfg.Rate)
	var pad string
	res.Start = time.Now()
	for i := 0; i < n; i++ {
		due := res.Start.Add(time.Duration(i) * period)
		if err := sleepUntil(ctx, due); err != nil {
			close(stop)
			res.Delivered = <-got
			return res, fmt.Errorf("msnsim: rate: %w", err)
		}
		mk := Marker(cfg.Prefix, i)
		body := mk
		if cfg.Size > len(body) {
			if len(pad) < cfg.Size {
				pad = " " + strings.Repeat("x", cfg.Size)
			}
			body += pad[:cfg.Size-len(body)]
		}
		var t time.Time
		if cfg.Acked {
			t, err = ch.SendAcked(ctx, body)
		} else {
			t, err = ch.Send(ctx, body)
		}
		if err != nil {
			close(stop)
			res.Delivered = <-got
			return res, fmt.Errorf("msnsim: rate: message %d: %w", i, err)
		}
		lag := t.Sub(due)
		if lag > period {
			res.Late++
		}
		res.MaxLag = max(res.MaxLag, lag)
		res.Markers = append(res.Markers, mk)
		res.Sent[mk] = t
	}
	res.End = time.Now()

	timer := time.NewTimer(from.cfg.Timeout)
	defer timer.Stop()
	select {
	case res.Delivered = <-got:
	case <-timer.C:
		close(stop)
		res.Delivered = <-got
	case <-ctx.Done():
		close(stop)
		res.Delivered = <-got
	}
	if res.Delivered < n {
		return res, fmt.Errorf("msnsim: rate: %d of %d messages delivered", res.Delivered, n)
	}
	return res, nil
}
