package main

import (
	"io"
	"log/slog"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
)

// newLogger builds the root logger: text or JSON to w at the configured
// level. Under systemd's journal ($JOURNAL_STREAM) lines carry no timestamp,
// because the journal stamps them itself.
func newLogger(c config.Log, w io.Writer, lookup func(string) (string, bool)) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if _, journal := lookup("JOURNAL_STREAM"); journal {
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
