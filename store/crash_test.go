package store_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
)

// TestMain lets the crash test run this test binary as its child: with
// PUNCHBOX_CRASH_CHILD set it ingests punches into that database until it
// is killed.
func TestMain(m *testing.M) {
	if path := os.Getenv("PUNCHBOX_CRASH_CHILD"); path != "" {
		crashChild(path, os.Getenv("PUNCHBOX_CRASH_ROUND"))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild runs several writers that Put batches of punches and, once a
// Put has returned, print the ids it stored, one per line. A marker line
// goes out once the store is open. It also moves the delivered position,
// so the outbox counter is written under the same crashes.
func crashChild(path, round string) {
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	for w := 0; w < 8; w++ {
		go func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; ; i++ {
				batch := make([]punchbox.Punch, 1+r.IntN(40))
				for j := range batch {
					local := punchbox.LocalTimeOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*100+j) * time.Second))
					batch[j] = punchbox.NewPunch("gate-a", "CRASH", fmt.Sprintf("r%s-w%d", round, w), local, time.UTC,
						punchbox.StateCheckIn, punchbox.VerifyCard, "", punchbox.SourcePull, time.Now())
				}
				if err := db.Put(ctx, batch); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(4)
				}
				var sb strings.Builder
				for _, p := range batch {
					sb.WriteString(p.ID)
					sb.WriteByte('\n')
				}
				mu.Lock()
				out.WriteString(sb.String())
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	// After each commit, as the uplink does.
	for {
		changed := db.Changed()
		b, err := db.Backlog(ctx)
		if err == nil && b.LastSeq > 0 {
			db.MarkDelivered(ctx, b.DeliveredSeq+int64(rand.IntN(int(b.LastSeq-b.DeliveredSeq)+1)))
		}
		<-changed
	}
}

// TestCrashSafety kills a writing process at random moments, 30 times, and
// checks after each that every punch whose Put had returned is there, none
// is there twice, the outbox counter is right and the database is intact.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	path := filepath.Join(t.TempDir(), store.FileName)
	acked := map[string]bool{}
	for round := 0; round < 30; round++ {
		cmd := selfCommand()
		cmd.Env = append(os.Environ(), "PUNCHBOX_CRASH_CHILD="+path, fmt.Sprintf("PUNCHBOX_CRASH_ROUND=%d", round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			if errors.Is(err, syscall.ENOEXEC) {
				t.Skipf("cannot run the test binary as a child here: %v", err)
			}
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		if l := eventually.Recv(t, "the child starts", lines); l != "ready" {
			t.Fatalf("round %d: child said %q; stderr: %s", round, l, stderr.String())
		}
		// Kill at a random moment of the writing: once the child has
		// acknowledged a random number of punches, with its writers in
		// the middle of their next batches.
		got, kill := 0, 1+rand.IntN(500)
		ack := func(l string) {
			if len(l) == 32 { // a partial last line is not an acknowledgement
				acked[l] = true
				got++
			}
		}
		for got < kill {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: child ended; stderr: %s", round, stderr.String())
				}
				ack(l)
			case <-time.After(eventually.Hung):
				t.Fatalf("round %d: child stopped writing; stderr: %s", round, stderr.String())
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		for l := range lines {
			ack(l)
		}
		if stderr.Len() > 0 {
			t.Fatalf("round %d: child failed: %s", round, stderr.String())
		}
		checkAfterCrash(t, round, path, acked)
		t.Logf("round %d: killed after %d acknowledged punches", round, got)
	}
	if len(acked) == 0 {
		t.Fatal("no punch was ever acknowledged: the test proves nothing")
	}
}

func checkAfterCrash(t *testing.T, round int, path string, acked map[string]bool) {
	t.Helper()
	// Reopening runs recovery of the WAL, as the next start would.
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var ok string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("round %d: integrity_check = %q, %v", round, ok, err)
	}
	rows, err := raw.Query("SELECT id FROM punches")
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		if present[id] {
			t.Fatalf("round %d: punch %s stored twice", round, id)
		}
		present[id] = true
	}
	rows.Close()
	for id := range acked {
		if !present[id] {
			t.Fatalf("round %d: acknowledged punch %s lost", round, id)
		}
	}
	var pending, counted int64
	raw.QueryRow("SELECT pending FROM outbox").Scan(&pending)
	raw.QueryRow("SELECT count(*) FROM punches WHERE seq > (SELECT delivered_seq FROM outbox)").Scan(&counted)
	if pending != counted {
		t.Fatalf("round %d: outbox counter says %d pending, %d are", round, pending, counted)
	}
	// Sequence numbers have no gaps and the counter knows the newest.
	var last, maxSeq, total int64
	raw.QueryRow("SELECT last_seq, (SELECT COALESCE(max(seq), 0) FROM punches), (SELECT count(*) FROM punches) FROM outbox").Scan(&last, &maxSeq, &total)
	if last != maxSeq || maxSeq != total {
		t.Fatalf("round %d: last_seq %d, max seq %d, %d punches: want all equal", round, last, maxSeq, total)
	}
	var counted2 int64
	raw.QueryRow("SELECT COALESCE(sum(punches), 0) FROM punch_counts").Scan(&counted2)
	if counted2 != total {
		t.Fatalf("round %d: punch_counts sums to %d, %d punches stored", round, counted2, total)
	}
}

// selfCommand runs this test binary, under the same emulator when the
// tests run under user-mode emulation ($PUNCHBOX_TEST_EMULATOR).
func selfCommand(args ...string) *exec.Cmd {
	if emu := os.Getenv("PUNCHBOX_TEST_EMULATOR"); emu != "" {
		return exec.Command(emu, append([]string{os.Args[0]}, args...)...)
	}
	return exec.Command(os.Args[0], args...)
}
