// Command punchbox is the attendance edge appliance: one binary that talks to
// a site's terminals, keeps every punch, forwards punches to central over
// MQTT and serves the LAN admin panel. Run "punchbox help" for its commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // a box image may have no zoneinfo; zones must still load

	"github.com/punchbox/punchbox/drivers"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	code := exitFailure
	func() {
		// A crash exits 1, as any runtime failure: Go's own exit status for
		// a panic is 2, the code of a bad configuration, which systemd is
		// told means "do not hurry to restart".
		defer func() {
			if v := recover(); v != nil {
				fmt.Fprintf(os.Stderr, "punchbox: crashed: %v\n%s", v, debug.Stack())
			}
		}()
		code = run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	}()
	stop()
	os.Exit(code)
}

// env is what a command gets from its process.
type env struct {
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a runtime failure
	exitUsage   = 2 // bad arguments or a bad configuration
)

// usageError marks an error as the caller's: bad arguments or configuration.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// run executes one command line and returns the process exit code. Errors
// are printed here, once.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	e := &env{stdout: stdout, stderr: stderr, lookup: lookup}
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	cmd, ok := commandByName(args[0])
	if !ok {
		fmt.Fprintf(stderr, "punchbox: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return exitUsage
	}
	err := cmd.run(ctx, e, args[1:])
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelpShown):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "punchbox %s: %v\n", cmd.name, err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "punchbox %s: %v\n", cmd.name, err)
		var pe *drivers.PanicError
		if errors.As(err, &pe) {
			fmt.Fprintf(stderr, "%s", pe.Stack)
		}
		return exitFailure
	}
}
