//go:build unix

package main

import (
	"os"
	"syscall"
)

// dumpSignals are the signals that rewrite the -dump file.
func dumpSignals() []os.Signal { return []os.Signal{syscall.SIGUSR1} }
