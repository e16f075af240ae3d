// Package central is the box's link to the central broker over MQTT 3.1.1
// (paho.mqtt.golang), under punchbox/v1/<site>/<box>/:
//
//   - status: retained birth on every connect (online, version, session,
//     backlog, terminals) and the will (offline);
//   - punches: the outbox in QoS 1 batches with a per-box batch sequence,
//     marked delivered only when acknowledged; a back-fill after an outage
//     is flagged historical, may be rate-limited, and never holds live
//     punches behind it;
//   - terminals/<id>/status: each terminal's state, retained;
//   - events: terminal offline, clock drift, disk low, log near capacity;
//   - cmd/<name> and cmd-result: commands from central and their results;
//   - ack: central's own acknowledgement, when end-to-end mode is on.
//
// Batch and seq numbers are never published twice for other punches: a
// batch is recorded in the store before it goes out and, until
// acknowledged, goes out again under its number with the same punches;
// the store's numbers file keeps numbering above what central saw across
// restores, and every batch carries the numbering's epoch. Commands run
// one at a time from a bounded queue (one more is answered "busy"), each
// gets exactly one result, and a command too large is refused as it
// arrives, before paho buffers it (limitConn). Every payload is clamped to
// its schema at the boundary (sanitize.go).
//
// docs/mqtt.md is the contract for integrators; a test keeps its examples
// in step with what this package sends.
package central
