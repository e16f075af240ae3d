// Package punchbox holds the domain types every part of the appliance shares:
// a Punch and its stable identity, the punch state and verify mode codes that
// terminals use, a Terminal's configuration and an Employee.
//
// The package has no I/O and imports only the standard library. Drivers build
// punches, the store keeps them, the uplink and the panel read them.
package punchbox
