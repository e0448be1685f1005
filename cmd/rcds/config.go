package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"rcds/hi"
	"rcds/x1"
)

// maxConfigSize bounds a configuration file.
const maxConfigSize = 1 << 20

// errConfig is wrapped by every configuration file error.
var errConfig = errors.New("config")

// Keys of the configuration file that are not flags.
const (
	configKeyDestinations = "destinations"
	configKeyDefaultDest  = "default-destination"
)

// fileConfig is what a configuration file holds besides flag values.
type fileConfig struct {
	// Path is the file read ("" when none).
	Path string
	// Destinations are the per-DID delivery profiles (the entries of the
	// `rcds mdf --destinations` file); Default applies to every other DID.
	Destinations map[string]destYAML
	Default      *destYAML
}

// mdfDestinations converts the destination profiles for hi.MDFConfig.
func (c *fileConfig) mdfDestinations() (hi.DestinationConfig, map[string]hi.DestinationConfig, error) {
	var def hi.DestinationConfig
	if c.Default != nil {
		var err error
		if def, err = c.Default.config(); err != nil {
			return def, nil, fmt.Errorf("%w: %s: default-destination: %w", errConfig, c.Path, err)
		}
	}
	out := make(map[string]hi.DestinationConfig, len(c.Destinations))
	for did, p := range c.Destinations {
		key := strings.ToLower(did)
		if !x1.IsUUID(key) {
			return def, nil, fmt.Errorf("%w: %s: destinations: %q is not a DID (UUID)", errConfig, c.Path, did)
		}
		d, err := p.config()
		if err != nil {
			return def, nil, fmt.Errorf("%w: %s: destination %s: %w", errConfig, c.Path, did, err)
		}
		out[key] = d
	}
	return def, out, nil
}

// loadConfig reads the YAML configuration file at path (nothing when path
// is "") and applies it to cmd's flags: every top-level key names a flag
// of the command (its own or an inherited one such as log-level); a flag
// given on the command line wins, every other flag takes the file's value.
// A list sets a repeatable flag. Unknown keys are errors, so that a typo
// does not silently leave a default in place. The keys "destinations" (a
// map from DID to profile) and "default-destination" hold the per-DID
// delivery profiles, in the form of `rcds mdf --destinations`.
func loadConfig(cmd *cobra.Command, path string) (*fileConfig, error) {
	fc := &fileConfig{Path: path}
	if path == "" {
		return fc, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errConfig, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errConfig, path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", errConfig, path, maxConfigSize)
	}
	if err := applyConfig(cmd, fc, data); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errConfig, path, err)
	}
	return fc, nil
}

// applyConfig applies the YAML document data to cmd's flags and fc.
func applyConfig(cmd *cobra.Command, fc *fileConfig, data []byte) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file
		}
		return err
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the file must be a mapping of flag names to values", root.Line)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if seen[key] {
			return fmt.Errorf("line %d: %q given twice", k.Line, key)
		}
		seen[key] = true
		switch key {
		case configKeyDestinations:
			m := map[string]destYAML{}
			if err := decodeStrict(v, &m); err != nil {
				return fmt.Errorf("line %d: destinations: %w", v.Line, err)
			}
			fc.Destinations = m
			continue
		case configKeyDefaultDest:
			var p destYAML
			if err := decodeStrict(v, &p); err != nil {
				return fmt.Errorf("line %d: default-destination: %w", v.Line, err)
			}
			fc.Default = &p
			continue
		case "config":
			return fmt.Errorf("line %d: a configuration file cannot name another one", k.Line)
		}
		fl := lookupFlag(cmd, key)
		if fl == nil {
			return fmt.Errorf("line %d: unknown key %q (not a flag of %q; known: %s)", k.Line, key, cmd.CommandPath(), flagNames(cmd))
		}
		if fl.Changed {
			continue // the command line wins
		}
		if err := setFlag(fl, v); err != nil {
			return fmt.Errorf("line %d: %s: %w", v.Line, key, err)
		}
	}
	return nil
}

// decodeStrict decodes n into out, refusing unknown fields.
func decodeStrict(n *yaml.Node, out any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(out)
}

// lookupFlag finds a flag of cmd, local or inherited.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	if f := cmd.Flags().Lookup(name); f != nil {
		return f
	}
	return cmd.InheritedFlags().Lookup(name)
}

// flagNames lists the flag names of cmd, for error messages.
func flagNames(cmd *cobra.Command) string {
	var names []string
	add := func(f *pflag.Flag) {
		if f.Name != "help" && f.Name != "config" {
			names = append(names, f.Name)
		}
	}
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	sort.Strings(names)
	names = append(names, configKeyDestinations, configKeyDefaultDest)
	return strings.Join(names, ", ")
}

// setFlag sets fl from a YAML scalar or, for a repeatable flag, a list.
func setFlag(fl *pflag.Flag, v *yaml.Node) error {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return fl.Value.Set("")
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			return sv.Replace([]string{v.Value})
		}
		return fl.Value.Set(v.Value)
	case yaml.SequenceNode:
		sv, ok := fl.Value.(pflag.SliceValue)
		if !ok {
			return errors.New("a list for a flag that takes one value")
		}
		vals := make([]string, 0, len(v.Content))
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return errors.New("list elements must be plain values")
			}
			vals = append(vals, e.Value)
		}
		return sv.Replace(vals)
	}
	return errors.New("a flag value must be a plain value or a list")
}
