// Package driverstest has hand-written fakes for testing drivers: a Sink
// that records what it is given, an in-memory StateStore and a Reporter.
package driverstest
