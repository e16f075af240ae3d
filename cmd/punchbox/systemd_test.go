package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
)

// TestSystemdUnit keeps the shipped unit in step with the binary: a notify
// service with a watchdog, started with the default configuration path, that
// does not restart on a configuration error.
func TestSystemdUnit(t *testing.T) {
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
	want := map[string]string{
		"Type":                     "notify",
		"NotifyAccess":             "main",
		"ExecStart":                "/usr/bin/punchbox serve --config " + config.DefaultPath,
		"RestartPreventExitStatus": "2",
		"StateDirectory":           "punchbox",
		"WatchdogSec":              "30",
		"NoNewPrivileges":          "yes",
	}
	for k, v := range want {
		if got := keys[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if exitUsage != 2 {
		t.Errorf("RestartPreventExitStatus=2 assumes config errors exit 2, not %d", exitUsage)
	}
	if d := config.Default().DataDir; d != "/var/lib/punchbox" {
		t.Errorf("StateDirectory=punchbox assumes the default data_dir /var/lib/punchbox, not %s", d)
	}
}
