package main

import (
	"time"

	"github.com/spf13/pflag"

	"rcds/hi"
)

// mediationDefaults are the defaults of the PSHeader identity flags: the
// logged placeholders for `rcds serve`, empty (required) for `rcds mdf`.
type mediationDefaults struct {
	operatorID       string
	networkElementID string
	countryCode      string
}

// mediationOptions are the mediation function flags that `rcds serve` and
// `rcds mdf` share.
type mediationOptions struct {
	operatorID       string
	networkElementID string
	countryCode      string
	queueMaxRecords  int
	queueMaxBytes    int64
	commitLinger     time.Duration
	// expiry is how often tasks whose warrant ended are looked for
	// (implicitDeactivationAllowed), by wall-clock time.
	expiry time.Duration
}

// AddFlags registers the mediation flags on f, the identities with the
// defaults d.
func (o *mediationOptions) AddFlags(f *pflag.FlagSet, d mediationDefaults) {
	f.StringVar(&o.operatorID, "operator-id", d.operatorID, "operatorIdentifier of the PSHeader (1 to 16 octets; at most 5 for TS 101 671 destinations)")
	f.StringVar(&o.networkElementID, "network-element-id", d.networkElementID, "networkElementIdentifier of the PSHeader (at most 16 octets)")
	f.StringVar(&o.countryCode, "country-code", d.countryCode, "authorizationCountryCode and deliveryCountryCode (2 letters, e.g. DE)")
	f.IntVar(&o.queueMaxRecords, "queue-max-records", 1_000_000, "default cap of each destination's queue, in records")
	f.Int64Var(&o.queueMaxBytes, "queue-max-bytes", 1<<30, "default cap of each destination's queue, in bytes")
	f.DurationVar(&o.commitLinger, "commit-linger", 0, "wait this long for more records before each commit (0: commit as soon as the previous fsync is done)")
	f.DurationVar(&o.expiry, "expiry-interval", time.Second, "how often to deactivate tasks whose EndTime has passed (implicitDeactivationAllowed)")
}

// mdfConfig builds the MDF configuration from the flags and the per-DID
// delivery profiles (def for every DID not in dests).
func (o *mediationOptions) mdfConfig(def hi.DestinationConfig, dests map[string]hi.DestinationConfig) hi.MDFConfig {
	cfg := hi.MDFConfig{
		OperatorID:       o.operatorID,
		NetworkElementID: o.networkElementID,
		CountryCode:      o.countryCode,
		Default:          def,
		Destinations:     dests,
		QueueMaxRecords:  o.queueMaxRecords,
		QueueMaxBytes:    o.queueMaxBytes,
	}
	cfg.Commit.Linger = o.commitLinger
	return cfg
}
