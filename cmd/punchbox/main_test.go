package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestMain lets the tests run this binary as the punchbox command itself:
// with PUNCHBOX_TEST_MAIN=1 the test binary is punchbox.
func TestMain(m *testing.M) {
	if os.Getenv("PUNCHBOX_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func noEnv(string) (string, bool) { return "", false }

// runCmd runs one command line in-process.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, noEnv)
	return code, out.String(), errb.String()
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string // substring of stdout
		wantErrOut string // substring of stderr
	}{
		{"no command", nil, exitUsage, "", "Usage: punchbox COMMAND"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{"help", []string{"help"}, exitOK, "serve", ""},
		{"--help", []string{"--help"}, exitOK, "Commands:", ""},
		{"help serve", []string{"help", "serve"}, exitOK, "-config", ""},
		{"help unknown", []string{"help", "nope"}, exitUsage, "", `unknown command "nope"`},
		{"version", []string{"version"}, exitOK, "punchbox dev (go", ""},
		{"version extra arg", []string{"version", "now"}, exitUsage, "", `unexpected argument "now"`},
		{"bad flag", []string{"serve", "--colour"}, exitUsage, "", "flag provided but not defined: -colour"},
		{"serve -h", []string{"serve", "-h"}, exitOK, "", "Usage: punchbox serve"},
		{"missing config", []string{"serve", "--config", "/nonexistent/punchbox.yaml"}, exitUsage, "", "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout %q lacks %q", out, tt.wantOut)
			}
			if !strings.Contains(errOut, tt.wantErrOut) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantErrOut)
			}
		})
	}
}

func TestVersionJSON(t *testing.T) {
	code, out, _ := runCmd(t, "version", "--json")
	var b buildInfo
	if code != 0 || json.Unmarshal([]byte(out), &b) != nil {
		t.Fatalf("code %d, output %q", code, out)
	}
	if b.Version != version || b.Arch != runtime.GOARCH || b.OS != runtime.GOOS {
		t.Errorf("version --json = %+v", b)
	}
}

func TestServeBadConfig(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown key", "site: a\nbox: b\nweb:\n  listen: \":8443\"\n  lisen: \":1\"\n", `line 5: web.lisen: unknown key "lisen" (did you mean "listen"?)`},
		{"bad value", "site: a\nbox: b\ntimezone: Berlin\n", `line 3: timezone: "Berlin": unknown IANA zone`},
		{"two problems", "site: A\nbox: b\nlog: {level: loud}\n", "2 problems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "punchbox.yaml")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := runCmd(t, "serve", "--config", path)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d", code, exitUsage)
			}
			if !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, path) {
				t.Errorf("stderr %q lacks %q or the file name", errOut, tt.want)
			}
		})
	}
}
