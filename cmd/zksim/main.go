// Command zksim runs a simulated ZKTeco-family terminal on TCP and UDP (the
// binary protocol of port 4370) for labs, demos and benchmarks: punchbox,
// pyzk or any other client can read its users and attendance log, receive
// realtime punches and meet injected faults. Run "zksim -h" for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // -timezone must work on images without zoneinfo

	"github.com/punchbox/punchbox/drivers/zksim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// run runs the simulator until ctx ends and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	st, err := parseArgs(args, stderr)
	var shown errShown
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &shown):
		return exitUsage
	case err != nil:
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "zksim: %s\n", line)
		}
		return exitUsage
	}
	if st.hostile != "" {
		return runHostile(ctx, st, stdout, stderr)
	}
	st.cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: st.level}))
	sim := zksim.New(st.cfg)
	users := zksim.GenerateUsers(st.users)
	sim.SetUsers(users)
	sim.AddRecords(zksim.GenerateRecords(users, st.records, recordsStart, st.seed)...)
	for _, f := range st.faults {
		sim.InjectFault(f)
	}
	if err := sim.Listen(st.listen); err != nil {
		fmt.Fprintf(stderr, "zksim: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, summary(st, sim))
	if err := st.writeDump(sim); err != nil {
		fmt.Fprintf(stderr, "zksim: %v\n", err)
		return exitFailure
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sim.RunPunches(ctx, st.rate, st.seed)
	}()
	go func() {
		defer wg.Done()
		st.dumpOnSignal(ctx, sim, stderr)
	}()
	err = sim.Run(ctx)
	cancel()
	wg.Wait()
	if derr := st.writeDump(sim); derr != nil {
		fmt.Fprintf(stderr, "zksim: %v\n", derr)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(stderr, "zksim: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// recordsStart is the wall time of the first generated record, fixed so
// that the same -records and -seed always give the same log.
var recordsStart = time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)

// summary is the one line printed at start.
func summary(st *setup, sim *zksim.Sim) string {
	key := "none"
	if st.cfg.CommKey != 0 {
		key = "set"
	}
	pacing := "fast"
	if st.cfg.Pacing == zksim.PacingFirmware {
		pacing = "firmware"
	}
	return fmt.Sprintf("zksim: listening on %s (tcp+udp, dial %s): serial %s, %d users (%d-byte), %d records (%d-byte), comm key %s, pacing %s, %g punches/s, clock %s",
		st.listen, sim.Addr(), st.cfg.Serial, st.users, st.cfg.UserSize, st.records, st.cfg.RecordSize,
		key, pacing, st.rate, sim.Clock().Format("2006-01-02 15:04:05 MST"))
}
