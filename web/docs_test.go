package web

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// The error example in docs/panel.md is what the API answers to the bad
// terminal id it describes.
func TestDocsErrorExample(t *testing.T) {
	b, err := os.ReadFile("../docs/panel.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\\s*(\\{\"error\".*?\\})\\s*```").FindSubmatch(b)
	if m == nil {
		t.Fatal("docs/panel.md has no error example")
	}
	var want APIError
	if err := json.Unmarshal(m[1], &want); err != nil {
		t.Fatalf("the example is not the error shape: %v", err)
	}
	h := newHarness(t)
	r := h.admin().do("POST", "/api/v1/terminals", map[string]any{"id": "Gate A", "kind": "zk", "address": "10.0.0.1"}).want(t, 400)
	if got := r.apiErr(t); got != want.Error {
		t.Errorf("the API answers %+v\ndocs/panel.md shows %+v", got, want.Error)
	}
}
