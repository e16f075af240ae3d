package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand of the punchbox binary.
type command struct {
	name    string
	args    string // synopsis of the arguments, for help
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists the subcommands in the order help shows them.
var commands []command

func init() {
	commands = []command{
		{"serve", "[--config FILE]", "run the appliance (the systemd service runs this)", runServe},
		{"demo", "[--listen ADDR] [--data-dir DIR] [--keep]", "run the whole appliance on this machine: simulated terminals, embedded broker, panel", runDemo},
		{"check", "[--config FILE] [--json]", "report what is not ready for production (exit 1 if anything is)", runCheck},
		{"backup", "--out FILE [--config FILE]", "write a verifiable backup of the store (safe while the service runs)", runBackup},
		{"restore", "FILE [--config FILE] [--yes]", "verify a backup and restore it (the service must be stopped)", runRestore},
		{"admin", "add|passwd|list|remove|unlock [NAME] [--role admin|viewer] [--generate] [--config FILE]", "manage the panel's users from the console (safe while the service runs)", runAdmin},
		{"punches", "list [--config FILE] [--since T] [--until T] [--terminal ID] [--pin PIN] [--json]", "list stored punches (safe while the daemon runs)", runPunches},
		{"zk", "info|users|logs|time ADDRESS [--commkey N] [--udp] [--json]", "use a ZK terminal by hand, without the daemon", runZK},
		{"version", "[--json]", "print the version", runVersion},
		{"help", "[COMMAND]", "show help for punchbox or one command", runHelp},
	}
}

func commandByName(name string) (command, bool) {
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "punchbox: the attendance edge appliance")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: punchbox COMMAND [ARGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "punchbox help COMMAND" for a command's options.`)
}

// errHelpShown means a command printed its help on request.
var errHelpShown = errors.New("help shown")

// newFlags returns a flag set for a command whose parse errors are usage
// errors and whose -h prints the command's help.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { commandHelp(e.stderr, name, fs) }
	return fs
}

// parseFlags parses args and refuses positional arguments beyond max.
func parseFlags(fs *flag.FlagSet, args []string, max int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return usageError{err}
	}
	if fs.NArg() > max {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(max))}
	}
	return nil
}

func commandHelp(w io.Writer, name string, fs *flag.FlagSet) {
	c, _ := commandByName(name)
	fmt.Fprintf(w, "Usage: punchbox %s %s\n\n%s%s.\n", c.name, c.args, strings.ToUpper(c.summary[:1]), c.summary[1:])
	if fs != nil {
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(w, "\nOptions:")
			fs.PrintDefaults()
		}
	}
}

func runHelp(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		printUsage(e.stdout)
		return nil
	}
	c, ok := commandByName(args[0])
	if !ok {
		return usageError{fmt.Errorf("unknown command %q", args[0])}
	}
	// Each command prints its own options on -h.
	fe := *e
	fe.stderr = e.stdout
	err := c.run(ctx, &fe, []string{"-h"})
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}
