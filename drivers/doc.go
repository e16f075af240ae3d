// Package drivers holds the contract between punchbox and the links to its
// terminals: the Terminal a driver implements, the Sink it hands punches to,
// the registry of drivers by terminal kind, and the Supervisor that runs
// every terminal in its own goroutine with backoff and a health state.
//
// Drivers live in subpackages (zkpull, zkpush, serialline) and register
// their kind from init. They never import the store, the web panel or the
// uplink: they reach the store only through Sink and StateStore.
package drivers
