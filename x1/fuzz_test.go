package x1

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	for _, dir := range []string{"x1-sipgate-lib", "x1-sipgate-simulator"} {
		_ = filepath.WalkDir(filepath.Join(examplesDir(f), dir), func(p string, de os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".xml") {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b)
				}
			}
			return nil
		})
	}
	for _, d := range simRequests(f) {
		f.Add(d)
	}
	f.Add(encode(f, &ActivateTaskRequest{Task: fullTask()}))
	f.Add(encode(f, &CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "192.0.2.1:5000")},
		&CreateDestinationRequest{Destination: dest(didHI2, X2Only, "[2001:db8::1]:5000")}))
	f.Add(encode(f, &ModifyTaskRequest{Task: emailTask(xidA, "a@example.com", didBoth)}, &DeactivateTaskRequest{XID: xidA}))
	f.Add(encode(f, &RemoveDestinationRequest{DID: didBoth}, &GetAllDetailsRequest{}, &DeactivateAllTasksRequest{}))
	f.Add([]byte(activate(xidNew, `<ipv4Cidr><c:IPv4CIDR>10.0.0.0/8</c:IPv4CIDR></ipv4Cidr>`, "X2Only", didList, "")))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>`))
}

// FuzzHandle feeds arbitrary documents to the request parser and the
// registry. Whatever arrives: no panic, an answer our own decoder reads,
// one response per request message, and a registry that only changes when
// a response says a change succeeded.
func FuzzHandle(f *testing.F) {
	fuzzSeeds(f)
	e := newEnv(f)
	ctx := f.Context()
	e.reg.Apply(ctx, "seed", &CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "192.0.2.1:5000")})
	e.reg.Apply(ctx, "seed", &ActivateTaskRequest{Task: emailTask(xidA, "a@example.com", didBoth)})
	mutating := map[string]bool{"ActivateTaskResponse": true, "ModifyTaskResponse": true, "DeactivateTaskResponse": true,
		"DeactivateAllTasksResponse": true, "CreateDestinationResponse": true, "ModifyDestinationResponse": true,
		"RemoveDestinationResponse": true, "RemoveAllDestinationsResponse": true}
	f.Fuzz(func(t *testing.T, doc []byte) {
		before := e.snapshot(t)
		resp, status := e.reg.Handle(ctx, "fuzz", doc)
		if len(resp) == 0 || (status != 200 && status != 413) {
			t.Fatalf("answer %d bytes, HTTP %d", len(resp), status)
		}
		d, err := DecodeResponse(resp)
		if err != nil {
			t.Fatalf("our answer does not decode: %v\n%s", err, resp)
		}
		changed := false
		if d.TopLevelError == nil {
			reqs, _, err := DecodeRequest(doc)
			if err != nil {
				t.Fatalf("answered per message, but DecodeRequest says %v", err)
			}
			if len(reqs) != len(d.Responses) {
				t.Fatalf("%d requests, %d responses", len(reqs), len(d.Responses))
			}
			for _, m := range d.Responses {
				changed = changed || mutating[m.Type]
			}
		}
		if !changed && !reflect.DeepEqual(e.snapshot(t), before) {
			t.Fatalf("registry changed without a positive response")
		}
	})
}

// FuzzDecodeResponse feeds arbitrary documents to the client's response
// decoder (input from a server): no panic, bounded work.
func FuzzDecodeResponse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := DecodeResponse(doc)
		if err == nil && d.TopLevelError == nil && len(d.Responses) == 0 {
			t.Fatal("no error and no content")
		}
	})
}

// FuzzDecodeRequest exercises the request parser alone (fast: no store).
// Whatever it accepts re-encodes to a document that decodes to the same
// requests (encode(decode(x)) is a fixed point).
func FuzzDecodeRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		reqs, errs, err := DecodeRequest(doc)
		if err != nil {
			return
		}
		var ok []Request
		for i, r := range reqs {
			if (r == nil) == (errs[i] == nil) {
				t.Fatalf("message %d: request %v with error %v", i, r, errs[i])
			}
			if r != nil {
				ok = append(ok, r)
			}
		}
		if len(ok) == 0 {
			return
		}
		once, err := EncodeRequest(ok...)
		if err != nil {
			t.Fatalf("re-encoding what was decoded: %v", err)
		}
		again, errs2, err := DecodeRequest(once)
		if err != nil {
			t.Fatalf("re-encoded document refused: %v\n%s", err, once)
		}
		for i, e := range errs2 {
			if e != nil {
				t.Fatalf("re-encoded message %d refused: %v\n%s", i, e, once)
			}
		}
		twice, err := EncodeRequest(again...)
		if err != nil || string(twice) != string(once) {
			t.Fatalf("not a fixed point (%v):\n%s\n---\n%s", err, once, twice)
		}
	})
}
