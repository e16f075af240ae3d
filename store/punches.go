package store

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/punchbox/punchbox"
)

// StoredPunch is a punch as the store holds it.
type StoredPunch struct {
	punchbox.Punch
	Seq       int64 // outbox sequence
	Delivered bool  // acknowledged upstream
}

// punchColumns are selected by every punch query, in scanPunch's order.
// The last column tells the delivered prefix; punches delivered ahead of it
// are marked by markDelivered.
const punchColumns = `seq, id, terminal_id, terminal_serial, pin, local_time, zone, utc_time, received,
	state, verify, work_code, source, seq <= (SELECT delivered_seq FROM outbox)`

type scanner interface{ Scan(dest ...any) error }

func scanPunch(s scanner) (StoredPunch, error) {
	var sp StoredPunch
	var local, source string
	var utc, received int64
	var state, verify int
	err := s.Scan(&sp.Seq, &sp.ID, &sp.TerminalID, &sp.TerminalSerial, &sp.PIN, &local, &sp.Zone, &utc, &received,
		&state, &verify, &sp.WorkCode, &source, &sp.Delivered)
	if err != nil {
		return sp, err
	}
	if sp.Local, err = punchbox.ParseLocalTime(local); err != nil {
		return sp, fmt.Errorf("punch %s: %w", sp.ID, err)
	}
	sp.Time = time.Unix(utc, 0).UTC()
	sp.Received = time.UnixMilli(received).UTC()
	sp.State, sp.Verify, sp.Source = punchbox.PunchState(state), punchbox.VerifyMode(verify), punchbox.Source(source)
	return sp, nil
}

// markDelivered sets Delivered on punches delivered ahead of the prefix.
func markDelivered(d delivery, ps []StoredPunch) {
	if len(d.Ranges) == 0 {
		return
	}
	for i := range ps {
		ps[i].Delivered = ps[i].Delivered || d.has(ps[i].Seq)
	}
}

func scanPunches(rows *sql.Rows, dst []StoredPunch) ([]StoredPunch, error) {
	defer rows.Close()
	for rows.Next() {
		sp, err := scanPunch(rows)
		if err != nil {
			return dst, err
		}
		dst = append(dst, sp)
	}
	return dst, rows.Err()
}
