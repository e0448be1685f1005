package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"rcds/hi"
)

// configCmd is a command with flags of every kind serve uses.
type configFlags struct {
	name    string
	n       int
	d       time.Duration
	b       bool
	list    []string
	ports   []uint
	level   string
	fc      *fileConfig
	loadErr error
}

func newConfigTestCmd(c *configFlags) *cobra.Command {
	root := &cobra.Command{Use: "root"}
	root.PersistentFlags().StringVar(&c.level, "log-level", "info", "")
	var cfgPath string
	cmd := &cobra.Command{
		Use: "sub",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.fc, c.loadErr = loadConfig(cmd, cfgPath)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfgPath, "config", "", "")
	f.StringVar(&c.name, "name", "default", "")
	f.IntVar(&c.n, "n", 1, "")
	f.DurationVar(&c.d, "d", time.Second, "")
	f.BoolVar(&c.b, "b", false, "")
	f.StringArrayVar(&c.list, "list", []string{"x"}, "")
	f.UintSliceVar(&c.ports, "port", nil, "")
	root.AddCommand(cmd)
	return root
}

func TestLoadConfig(t *testing.T) {
	did := "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	for _, c := range []struct {
		name  string
		file  string
		args  []string
		check func(t *testing.T, c *configFlags)
		err   string
	}{
		{name: "values", file: "name: fromfile\nn: 7\nd: 250ms\nb: true\nlist: [a, b]\nport: [1863, 443]\nlog-level: debug\n",
			check: func(t *testing.T, c *configFlags) {
				if c.name != "fromfile" || c.n != 7 || c.d != 250*time.Millisecond || !c.b || c.level != "debug" {
					t.Errorf("%+v", c)
				}
				if !slices.Equal(c.list, []string{"a", "b"}) || !slices.Equal(c.ports, []uint{1863, 443}) {
					t.Errorf("lists %q %v", c.list, c.ports)
				}
			}},
		{name: "flags win", file: "name: fromfile\nn: 7\nlist: [a, b]\n", args: []string{"--name", "cli", "--list", "c"},
			check: func(t *testing.T, c *configFlags) {
				if c.name != "cli" || c.n != 7 || !slices.Equal(c.list, []string{"c"}) {
					t.Errorf("%+v", c)
				}
			}},
		{name: "scalar for a list", file: "list: one\n",
			check: func(t *testing.T, c *configFlags) {
				if !slices.Equal(c.list, []string{"one"}) {
					t.Errorf("%q", c.list)
				}
			}},
		{name: "empty file", file: "",
			check: func(t *testing.T, c *configFlags) {
				if c.name != "default" || !slices.Equal(c.list, []string{"x"}) {
					t.Errorf("%+v", c)
				}
			}},
		{name: "destinations", file: "destinations:\n  " + strings.ToUpper(did) + ":\n    profile: \"101671\"\n    integrity: true\n    integrity_group: 8\ndefault-destination:\n  queue_max_records: 10\n",
			check: func(t *testing.T, c *configFlags) {
				def, dests, err := c.fc.mdfDestinations()
				if err != nil {
					t.Fatal(err)
				}
				d := dests[did]
				if d.Profile != hi.Profile101671 || !d.Integrity || d.IntegrityGroup != 8 || def.QueueMaxRecords != 10 {
					t.Errorf("%+v %+v", d, def)
				}
			}},
		{name: "unknown key", file: "nmae: typo\n", err: `unknown key "nmae"`},
		{name: "bad value", file: "n: seven\n", err: "line 1: n:"},
		{name: "list for a scalar", file: "name: [a, b]\n", err: "a list for a flag that takes one value"},
		{name: "mapping value", file: "name: {a: b}\n", err: "plain value"},
		{name: "not a mapping", file: "- a\n- b\n", err: "must be a mapping"},
		{name: "nested config", file: "config: other.yaml\n", err: "cannot name another"},
		{name: "twice", file: "n: 1\nn: 2\n", err: "n"},
		{name: "unknown destination field", file: "destinations:\n  " + did + ":\n    profil: x\n", err: "profil"},
		{name: "bad yaml", file: "n: [\n", err: "config"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			var cf configFlags
			root := newConfigTestCmd(&cf)
			root.SetArgs(append([]string{"sub", "--config", p}, c.args...))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if c.err != "" {
				if cf.loadErr == nil || !strings.Contains(cf.loadErr.Error(), c.err) {
					t.Errorf("err = %v, want %q", cf.loadErr, c.err)
				}
				return
			}
			if cf.loadErr != nil {
				t.Fatal(cf.loadErr)
			}
			c.check(t, &cf)
		})
	}
}

// TestLoadConfigErrors: a missing file, an oversized one, a bad DID.
func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", maxConfigSize+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	badDID := filepath.Join(dir, "did.yaml")
	if err := os.WriteFile(badDID, []byte("destinations:\n  not-a-uuid: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.yaml"), "no such file"},
		{big, "larger than"},
	} {
		var cf configFlags
		root := newConfigTestCmd(&cf)
		root.SetArgs([]string{"sub", "--config", c.path})
		_ = root.Execute()
		if cf.loadErr == nil || !strings.Contains(cf.loadErr.Error(), c.want) {
			t.Errorf("%s: %v", c.path, cf.loadErr)
		}
	}
	var cf configFlags
	root := newConfigTestCmd(&cf)
	root.SetArgs([]string{"sub", "--config", badDID})
	if err := root.Execute(); err != nil || cf.loadErr != nil {
		t.Fatal(err, cf.loadErr)
	}
	if _, _, err := cf.fc.mdfDestinations(); err == nil || !strings.Contains(err.Error(), "not a DID") {
		t.Errorf("bad DID: %v", err)
	}
}

// TestServeConfigUnknownKey: serve refuses a config file with a typo
// before starting anything.
func TestServeConfigUnknownKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rcds.yaml")
	if err := os.WriteFile(p, []byte("x1-lisen: 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := execRoot(t.Context(), "serve", "--config", p)
	if err == nil || !strings.Contains(err.Error(), `unknown key "x1-lisen"`) {
		t.Errorf("err = %v", err)
	}
}

// FuzzApplyConfig: any configuration document yields flag values or an
// error, never a panic.
func FuzzApplyConfig(f *testing.F) {
	for _, s := range []string{
		"name: a\nn: 3\nlist: [x, y]\n",
		"destinations:\n  3fa85f64-5717-4562-b3fc-2c963f66afa6:\n    profile: \"101671\"\n    tls: {ca: /x}\n",
		"default-destination: {integrity: true}\n",
		"- 1\n", "n: &a 1\nd: *a\n", "port: [1, 2, 70000]\n", "b: !!binary AAAA\n", "",
		"name: {x: [1, {y: 2}]}\n", "? [a]\n: b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cf configFlags
		root := newConfigTestCmd(&cf)
		cmd, _, err := root.Find([]string{"sub"})
		if err != nil {
			t.Fatal(err)
		}
		// Only the parsing: converting the destinations reads the TLS files
		// they name, which a fuzzer could point anywhere.
		_ = applyConfig(cmd, &fileConfig{Path: "fuzz"}, data)
	})
}
