package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/punchbox/punchbox/drivers/zksim/hostile"
)

// hostileConfigs returns the configurations -hostile names: "all" for the
// whole rotation of hostile.Worst, else one or more of its names, comma
// separated.
func hostileConfigs(spec string, now time.Time) ([]hostile.Config, error) {
	all := hostile.Worst(now)
	if spec == "all" {
		return all, nil
	}
	var names []string
	for _, c := range all {
		names = append(names, c.Name)
	}
	var out []hostile.Config
	for _, name := range strings.Split(spec, ",") {
		i := slices.Index(names, name)
		if i < 0 {
			return nil, fmt.Errorf("-hostile %q: want all or some of %s", spec, strings.Join(names, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// runHostile serves the hostile terminal until ctx ends.
func runHostile(ctx context.Context, st *setup, stdout, stderr io.Writer) int {
	cfgs, err := hostileConfigs(st.hostile, time.Now().UTC())
	if err != nil {
		fmt.Fprintf(stderr, "zksim: %v\n", err)
		return exitUsage
	}
	h := hostile.New(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: st.level})), cfgs...)
	if err := h.Listen(st.listen); err != nil {
		fmt.Fprintf(stderr, "zksim: %v\n", err)
		return exitFailure
	}
	names := make([]string, len(cfgs))
	for i, c := range cfgs {
		names[i] = c.Name
	}
	fmt.Fprintf(stdout, "zksim: a HOSTILE terminal listening on %s (tcp+udp, dial %s): one of %s per connection, in turn\n",
		st.listen, h.Addr(), strings.Join(names, ", "))
	if err := h.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "zksim: %v\n", err)
		return exitFailure
	}
	s := h.Stats()
	fmt.Fprintf(stdout, "zksim: %d connections, %d events sent, %d acknowledged\n", s.Connections, s.EventsSent, s.Acks)
	return exitOK
}
