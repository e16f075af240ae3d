package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
)

// TestSystemdUnit keeps the shipped unit in step with the binary: a notify
// service with a watchdog, started with the default configuration path, that
// restarts after every failure and never gives up. A crash (Go exits 2 on an
// unrecovered panic, the code of a bad configuration) must never leave the
// box dead: no exit status may prevent a restart.
func TestSystemdUnit(t *testing.T) {
	keys := unitKeys(t)
	want := map[string]string{
		"Type":                  "notify",
		"NotifyAccess":          "main",
		"ExecStart":             "/usr/bin/punchbox serve --config " + config.DefaultPath,
		"Restart":               "on-failure",
		"StartLimitIntervalSec": "0",
		"StateDirectory":        "punchbox",
		"WatchdogSec":           "30",
		"NoNewPrivileges":       "yes",
	}
	for k, v := range want {
		if got := keys[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"RestartPreventExitStatus", "SuccessExitStatus"} {
		if v, ok := keys[k]; ok {
			t.Errorf("%s=%q: an exit status that is not restarted can leave the box dead", k, v)
		}
	}
	if d := config.Default().DataDir; d != "/var/lib/punchbox" {
		t.Errorf("StateDirectory=punchbox assumes the default data_dir /var/lib/punchbox, not %s", d)
	}
}

func unitKeys(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "systemd", "punchbox.service"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = append(keys[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestSystemdUnitVerifies runs systemd's own checker on the unit (with
// ExecStart pointed at a binary that exists here). Keys newer than the
// machine's systemd may be reported as ignored; nothing else may be.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (CI installs it)")
	}
	unit, err := os.ReadFile(filepath.Join("..", "..", "systemd", "punchbox.service"))
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "punchbox.service")
	unit = []byte(strings.Replace(string(unit), "ExecStart=/usr/bin/punchbox", "ExecStart="+self, 1))
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	newer := regexp.MustCompile(`Unknown key '(RestartSteps|RestartMaxDelaySec)' in section \[Service\], ignoring\.$`)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !newer.MatchString(line) {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}

// TestExitCodes: 2 is a bad configuration and nothing else; a crash inside
// a command exits 1.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("site: x\nbox: y\nnot_a_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	lookup := func(string) (string, bool) { return "", false }
	if code := run(t.Context(), []string{"serve", "--config", bad}, &stdout, &stderr, lookup); code != exitUsage {
		t.Errorf("bad config: exit %d, want %d\n%s", code, exitUsage, stderr.String())
	}
	if exitUsage != 2 || exitFailure != 1 {
		t.Errorf("exit codes %d/%d, want 2 for a bad configuration and 1 for any other failure", exitUsage, exitFailure)
	}
}
