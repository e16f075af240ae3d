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
// docs/mqtt.md is the contract for integrators; a test keeps its examples
// in step with what this package sends.
package central
