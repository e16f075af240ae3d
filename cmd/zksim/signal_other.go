//go:build !unix

package main

import "os"

// dumpSignals: no SIGUSR1 here; the dump is written at start and exit only.
func dumpSignals() []os.Signal { return nil }
