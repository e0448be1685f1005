package hi

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"rcds/hi/ber"
	"rcds/store"
)

// Profile is the record profile a destination receives.
type Profile string

const (
	// Profile102232 delivers IRI as TS 102 232-2 messagingIRI (the default).
	Profile102232 Profile = "102232"
	// Profile101671 delivers IRI as TS 101 671 HI2Operations IRI carried in
	// eTSI671IRI; content stays messagingCC.
	Profile101671 Profile = "101671"
)

// ErrConfig is wrapped by every configuration validation error.
var ErrConfig = errors.New("hi: invalid configuration")

// DestinationConfig is the per-DID delivery configuration.
type DestinationConfig struct {
	// Profile is "102232" (default) or "101671".
	Profile Profile
	// Integrity sends integrityCheck TRI PDUs: a SHA-256 over each group of
	// up to IntegrityGroup records of one (LIID, CIN, IRI|CC).
	Integrity      bool
	IntegrityGroup int // default 32
	// TLS, when set, makes the HI connection TLS (client side).
	TLS *tls.Config
	// QueueMaxRecords and QueueMaxBytes cap the destination's queue on disk;
	// zero means the MDF's defaults. Records beyond the cap are refused for
	// this destination, counted and audited.
	QueueMaxRecords int
	QueueMaxBytes   int64
}

func (d DestinationConfig) validate(name string, operatorID string) error {
	switch d.Profile {
	case "", Profile102232:
	case Profile101671:
		if len(operatorID) > 5 {
			return fmt.Errorf("%w: destination %s: the TS 101 671 profile allows an operator ID of at most 5 octets, %q has %d",
				ErrConfig, name, operatorID, len(operatorID))
		}
	default:
		return fmt.Errorf("%w: destination %s: profile %q is not 102232 or 101671", ErrConfig, name, d.Profile)
	}
	if d.IntegrityGroup < 0 || d.IntegrityGroup > 4096 {
		return fmt.Errorf("%w: destination %s: integrity group %d not in 1..4096", ErrConfig, name, d.IntegrityGroup)
	}
	if d.QueueMaxRecords < 0 || d.QueueMaxBytes < 0 {
		return fmt.Errorf("%w: destination %s: negative queue cap", ErrConfig, name)
	}
	return nil
}

// DeliveryTimings tune the delivery workers. Zero values mean the defaults.
type DeliveryTimings struct {
	// DialTimeout bounds one connection attempt, TLS included (default 5s).
	DialTimeout time.Duration
	// WriteTimeout bounds each write; a LEMF that stops reading is
	// disconnected after it (default 10s).
	WriteTimeout time.Duration
	// OptionTimeout is how long the worker waits for the optionResponse
	// before falling back to keep-alive confirmation (default 3s).
	OptionTimeout time.Duration
	// KeepaliveInterval: a keep-alive is sent when nothing was written for
	// this long (default 5s).
	KeepaliveInterval time.Duration
	// ProbeTimeout: a keep-alive or pDUAcknowledgementRequest not answered
	// for this long drops the connection (default 15s).
	ProbeTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait between connection attempts
	// (doubling; defaults 100ms and 30s).
	BackoffMin, BackoffMax time.Duration
	// ProbeEvery sends a confirmation request after this many records even
	// while more are waiting (default 512). A request is also sent whenever
	// the worker has caught up with its queue.
	ProbeEvery int
	// MaxInFlight bounds the records sent and not yet confirmed (default
	// 16384); MaxInFlightBytes their bytes (default 16 MiB).
	MaxInFlight      int
	MaxInFlightBytes int
}

func (t *DeliveryTimings) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.DialTimeout, 5*time.Second)
	def(&t.WriteTimeout, 10*time.Second)
	def(&t.OptionTimeout, 3*time.Second)
	def(&t.KeepaliveInterval, 5*time.Second)
	def(&t.ProbeTimeout, 15*time.Second)
	def(&t.BackoffMin, 100*time.Millisecond)
	def(&t.BackoffMax, 30*time.Second)
	if t.BackoffMax < t.BackoffMin {
		t.BackoffMax = t.BackoffMin
	}
	if t.ProbeEvery <= 0 {
		t.ProbeEvery = 512
	}
	if t.MaxInFlight <= 0 {
		t.MaxInFlight = 16384
	}
	if t.MaxInFlightBytes <= 0 {
		t.MaxInFlightBytes = 16 << 20
	}
}

// MDFConfig configures the mediation function.
type MDFConfig struct {
	// OperatorID is the PSHeader operatorIdentifier (1..16 octets; at most
	// 5 when a destination uses the TS 101 671 profile).
	OperatorID string
	// NetworkElementID is networkElementIdentifier (0..16 octets, optional).
	NetworkElementID string
	// CountryCode is authorizationCountryCode and deliveryCountryCode: two
	// PrintableString characters (ISO 3166-1 alpha-2, e.g. "DE").
	CountryCode string

	// Destinations holds the per-DID configuration; Default applies to
	// every other DID.
	Destinations map[string]DestinationConfig
	Default      DestinationConfig

	// QueueMaxRecords and QueueMaxBytes are the default cap of each
	// destination's queue (defaults 1,000,000 records and 1 GiB).
	QueueMaxRecords int
	QueueMaxBytes   int64

	// Commit tunes the group commit (batch size, linger).
	Commit store.WriterOptions

	// Timings tune delivery.
	Timings DeliveryTimings

	// DedupWindow is how many X2/X3 sequence numbers per XID are remembered
	// (in memory and on disk) to drop PDUs a POI re-sends after a reconnect
	// (default 4096; negative disables).
	DedupWindow int

	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// validate checks the identity fields and fills defaults.
func (c *MDFConfig) validate() error {
	if n := len(c.OperatorID); n < 1 || n > 16 {
		return fmt.Errorf("%w: operator ID must have 1 to 16 octets, %q has %d", ErrConfig, c.OperatorID, n)
	}
	if n := len(c.NetworkElementID); n > 16 {
		return fmt.Errorf("%w: network element ID must have at most 16 octets, %q has %d", ErrConfig, c.NetworkElementID, n)
	}
	if len(c.CountryCode) != 2 || !ber.IsPrintableString(c.CountryCode) {
		return fmt.Errorf("%w: country code must be 2 printable characters, got %q", ErrConfig, c.CountryCode)
	}
	if err := c.Default.validate("default", c.OperatorID); err != nil {
		return err
	}
	for did, d := range c.Destinations {
		if err := d.validate(did, c.OperatorID); err != nil {
			return err
		}
	}
	if c.QueueMaxRecords == 0 {
		c.QueueMaxRecords = 1_000_000
	}
	if c.QueueMaxBytes == 0 {
		c.QueueMaxBytes = 1 << 30
	}
	if c.QueueMaxRecords < 0 || c.QueueMaxBytes < 0 {
		return fmt.Errorf("%w: negative queue cap", ErrConfig)
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = 4096
	}
	if c.DedupWindow > 1<<20 {
		return fmt.Errorf("%w: dedup window %d above 1048576", ErrConfig, c.DedupWindow)
	}
	c.Timings.defaults()
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// destConfig returns the configuration of did.
func (c *MDFConfig) destConfig(did string) DestinationConfig {
	d, ok := c.Destinations[did]
	if !ok {
		d = c.Default
	}
	if d.Profile == "" {
		d.Profile = Profile102232
	}
	if d.IntegrityGroup == 0 {
		d.IntegrityGroup = 32
	}
	if d.QueueMaxRecords == 0 {
		d.QueueMaxRecords = c.QueueMaxRecords
	}
	if d.QueueMaxBytes == 0 {
		d.QueueMaxBytes = c.QueueMaxBytes
	}
	return d
}
