package central

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// takeCommand is the subscription's handler for commands. paho calls it on
// its own goroutine and acknowledges the message once it returns, so it
// never waits for a command to run: it queues the message, or, when
// maxQueued already wait, answers "busy" at once. No command goes without
// a result.
func (l *Link) takeCommand(client mqtt.Client, m mqtt.Message) {
	select {
	case l.cmds <- m:
		return
	default:
	}
	res := l.result(m, requestID(m.Payload()), nil, &cmdError{CmdError{Code: "busy",
		Message: fmt.Sprintf("%d commands are waiting to run; send it again later", maxQueued)}})
	l.rlog.Log(context.Background(), slog.LevelWarn, "busy", "command from central refused: too many waiting",
		"command", res.Command, "request_id", res.RequestID)
	tok := client.Publish(l.opts.Topic("cmd-result"), 1, false, mustJSON(res))
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		l.log.Debug("publish a busy result", "request_id", res.RequestID, "err", tok.Error())
	}
}

// runCommands executes queued commands one at a time, in arrival order,
// and publishes each result. A result that could not be published when a
// session ended goes out first in the next one; commands still queued then
// run in the next session.
func (l *Link) runCommands(ctx context.Context, client mqtt.Client, up *uplink) error {
	for len(l.unsent) > 0 {
		if err := l.publishWait(ctx, client, "cmd-result", false, mustJSON(l.unsent[0])); err != nil {
			return nilIfDone(ctx, err)
		}
		l.unsent = l.unsent[1:]
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-l.cmds:
			res := l.command(ctx, up, m)
			if err := l.publishWait(ctx, client, "cmd-result", false, mustJSON(res)); err != nil {
				if len(l.unsent) == maxQueued {
					l.log.Warn("dropping a command result that could not be sent", "request_id", l.unsent[0].RequestID)
					l.unsent = l.unsent[1:]
				}
				l.unsent = append(l.unsent, res)
				return nilIfDone(ctx, err)
			}
		}
	}
}

// command runs one command message and returns its result; a bad body or
// an unknown command is a result with an error, never a failure of the link.
func (l *Link) command(ctx context.Context, up *uplink, m mqtt.Message) CmdResult {
	id := requestID(m.Payload())
	var result any
	var err error
	var req request
	size, _, over := oversized(m.Payload())
	switch {
	case m.Retained():
		err = badRequest("", "retained commands are ignored: publish commands without the retain flag")
	case over:
		err = badRequest("", "command body of %d bytes is over the %d a command may have", size, maxCommand)
	default:
		if jerr := json.Unmarshal(m.Payload(), &req); jerr != nil {
			err = badRequest("", "body is not a JSON object: %v", jerr)
			break
		}
		if req.RequestID == "" || len(req.RequestID) > maxRequestID {
			err = badRequest("request_id", "want a request_id of 1-%d characters", maxRequestID)
			break
		}
		if err = expired(req.Expires, time.Now()); err != nil {
			break
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		result, err = l.dispatch(cctx, up, l.commandName(m), req.RequestID, m.Payload())
		cancel()
	}
	res := l.result(m, id, result, err)
	if err != nil {
		l.log.Warn("command from central failed", "command", res.Command, "request_id", res.RequestID, "err", err)
		return res
	}
	l.log.Info("command from central", "command", res.Command, "request_id", res.RequestID)
	return res
}

// commandName is the command's name, from its topic, bounded.
func (l *Link) commandName(m mqtt.Message) string {
	return clampString(strings.TrimPrefix(m.Topic(), l.opts.Topic("cmd/")), maxName)
}

// result builds the result of message m with request id id.
func (l *Link) result(m mqtt.Message, id string, result any, err error) CmdResult {
	res := CmdResult{Schema: SchemaCmdResult, Site: l.opts.Site, Box: l.opts.Box, Command: l.commandName(m),
		RequestID: id, Time: time.Now().UTC()}
	if err != nil {
		var ce *cmdError
		if !errors.As(err, &ce) {
			ce = &cmdError{CmdError{Code: "failed", Message: err.Error()}}
		}
		// A message may quote a terminal's words: bounded and clean.
		res.Error = &CmdError{Code: ce.Code, Message: clampString(ce.Message, maxMessage), Field: clampString(ce.Field, maxName)}
		return res
	}
	res.OK, res.Result = true, result
	return res
}

// requestID finds a body's request id, as far as the body can be read:
// whatever else is wrong with it, a result carries the id when there is a
// valid one. It reads the top-level fields in order and stops at the
// first that does not parse (as at the end of an oversized body's prefix).
func requestID(body []byte) string {
	if _, prefix, ok := oversized(body); ok {
		body = prefix
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := t.(string)
		if key == "request_id" {
			v, err := dec.Token()
			id, ok := v.(string)
			if err != nil || !ok || id == "" || len(id) > maxRequestID {
				return ""
			}
			return id
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// expired checks a command's optional expiry against now.
func expired(expires string, now time.Time) error {
	if expires == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, expires)
	if err != nil {
		return badRequest("expires", "expires %q: want an RFC 3339 time such as 2026-11-27T08:25:00Z", clampString(expires, 64))
	}
	if now.After(t) {
		return &cmdError{CmdError{Code: "expired", Field: "expires",
			Message: fmt.Sprintf("expired at %s; the box's clock says %s", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}}
	}
	return nil
}
