package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/store"
)

// punchLine is one punch of "punches list --json".
type punchLine struct {
	ID        string `json:"id"`
	Seq       int64  `json:"seq"`
	Terminal  string `json:"terminal"`
	Serial    string `json:"serial"`
	PIN       string `json:"pin"`
	Local     string `json:"local_time"`
	Zone      string `json:"zone"`
	UTC       string `json:"utc_time"`
	State     int    `json:"state"`
	StateName string `json:"state_name"`
	Verify    int    `json:"verify"`
	Source    string `json:"source"`
	Delivered bool   `json:"delivered"`
}

func runPunches(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			args = []string{"list", "-h"}
		} else {
			return usageError{errors.New(`want "punches list"`)}
		}
	}
	fs := newFlags(e, "punches")
	path := fs.String("config", defaultConfigPath(e), "configuration file ($PUNCHBOX_CONFIG)")
	since := fs.String("since", "", "from this local time or day, inclusive (2026-11-27 or 2026-11-27T08:00:00)")
	until := fs.String("until", "", "before this local time or day")
	terminal := fs.String("terminal", "", "only this terminal")
	pin := fs.String("pin", "", "only this employee")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	from, err := localBound(*since)
	if err != nil {
		return usageError{fmt.Errorf("--since: %w", err)}
	}
	to, err := localBound(*until)
	if err != nil {
		return usageError{fmt.Errorf("--until: %w", err)}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return usageError{err}
	}
	defer keepOwner(cfg.DataDir)()
	// Read-only: safe while the daemon writes.
	db, err := store.Open(ctx, filepath.Join(cfg.DataDir, store.FileName), store.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	f := store.Filter{From: from, To: to, Terminal: *terminal, PIN: *pin, Ascending: true}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		return db.Each(ctx, f, func(p store.StoredPunch) error { return enc.Encode(lineOf(p)) })
	}
	return printPunches(ctx, e.stdout, db, f)
}

func lineOf(p store.StoredPunch) punchLine {
	return punchLine{
		ID: p.ID, Seq: p.Seq, Terminal: p.TerminalID, Serial: p.TerminalSerial, PIN: p.PIN,
		Local: p.Local.String(), Zone: p.Zone, UTC: p.Time.UTC().Format(time.RFC3339),
		State: p.State.Code(), StateName: p.State.String(), Verify: p.Verify.Code(),
		Source: string(p.Source), Delivered: p.Delivered,
	}
}

func printPunches(ctx context.Context, w io.Writer, db *store.DB, f store.Filter) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOCAL TIME\tTERMINAL\tPIN\tSTATE\tVERIFY\tSOURCE\tDELIVERED")
	n := 0
	err := db.Each(ctx, f, func(p store.StoredPunch) error {
		n++
		_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%v\n", p.Local, p.TerminalID, p.PIN, p.State, p.Verify, p.Source, p.Delivered)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(tw, "%d punches\n", n)
	return tw.Flush()
}

// localBound accepts a day or a local time and returns it in the store's
// local time form ("" stays "").
func localBound(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) == len("2006-01-02") {
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return "", fmt.Errorf("%q: want YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS", s)
		}
		return s, nil
	}
	l, err := punchbox.ParseLocalTime(strings.Replace(s, " ", "T", 1))
	if err != nil {
		return "", err
	}
	return l.String(), nil
}
