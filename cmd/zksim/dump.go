package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/protocol/zk"
)

// dump is the JSON the -dump file holds: what the simulator holds, for
// comparing with what a client read.
type dump struct {
	Serial  string       `json:"serial"`
	Clock   string       `json:"clock"`
	Users   []dumpUser   `json:"users"`
	Records []dumpRecord `json:"records"`
}

type dumpUser struct {
	UID       uint16 `json:"uid"`
	UserID    string `json:"user_id"`
	Name      string `json:"name"`
	Privilege uint8  `json:"privilege"`
	Password  string `json:"password"`
	Card      uint32 `json:"card"`
	Group     uint8  `json:"group"`
}

type dumpRecord struct {
	UID      uint16 `json:"uid"`
	UserID   string `json:"user_id"`
	Time     string `json:"time"` // device wall clock, "YYYY-MM-DDTHH:MM:SS"
	Verify   uint8  `json:"verify"`
	State    uint8  `json:"state"`
	WorkCode uint32 `json:"work_code"`
}

// writeDump writes the -dump file, if asked for, atomically.
func (st *setup) writeDump(sim *zksim.Sim) error {
	if st.dump == "" {
		return nil
	}
	d := dump{Serial: st.cfg.Serial, Clock: sim.Clock().Format("2006-01-02T15:04:05"), Users: []dumpUser{}, Records: []dumpRecord{}}
	for _, u := range sim.Users() {
		d.Users = append(d.Users, dumpUser{u.UID, u.UserID, u.Name, u.Privilege, u.Password, u.Card, u.Group})
	}
	for _, a := range sim.Records() {
		d.Records = append(d.Records, dumpRecord{a.UID, a.UserID, formatTime(a.Time), a.Verify, a.State, a.WorkCode})
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(st.dump), ".zksim-dump-*")
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("dump: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	if err := os.Rename(tmp.Name(), st.dump); err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	return nil
}

func formatTime(t zk.Time) string {
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", t.Year, int(t.Month), t.Day, t.Hour, t.Minute, t.Second)
}

// dumpOnSignal rewrites the dump on each SIGUSR1 until ctx ends.
func (st *setup) dumpOnSignal(ctx context.Context, sim *zksim.Sim, stderr io.Writer) {
	sigs := dumpSignals()
	if st.dump == "" || len(sigs) == 0 {
		<-ctx.Done()
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			if err := st.writeDump(sim); err != nil {
				fmt.Fprintf(stderr, "zksim: %v\n", err)
			}
		}
	}
}
