// Package config reads the punchbox configuration file: one YAML file,
// decoded strictly (an unknown key is an error naming the key and its line),
// completed with defaults and secrets from the environment, then validated
// with every problem reported at once.
//
// The file holds only what the box needs before its store opens: identity,
// data directory, listen addresses, TLS files, the broker and its credentials,
// and terminals to seed on first start. Everything else lives in the store.
package config
