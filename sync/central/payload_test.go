package central

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

// appendString must produce what encoding/json would decode back to the
// same (valid UTF-8) string.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "gate-a", `a"b\c`, "tab\there", "\x00\x1f", "ünïcödé", "\xff\xfe", "<&>", "\u2028\u2029", "1001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, appendString(nil, s), err)
		}
		want, _ := json.Marshal(s)
		var wantS string
		json.Unmarshal(want, &wantS)
		if got != wantS {
			t.Fatalf("%q: decodes to %q, encoding/json gives %q", s, got, wantS)
		}
	})
}

func TestAppendBatchIsJSON(t *testing.T) {
	p := punchbox.NewPunch("gate-a", `SN"\x`, "10\\01", punchbox.LocalTime{Year: 2026, Month: 1, Day: 2, Hour: 3, Minute: 4, Second: 5}, time.UTC,
		punchbox.PunchState(9), punchbox.VerifyMode(200), "wc<1>", punchbox.SourcePull, time.Now())
	b := appendBatch(nil, batchHeader{Site: "s", Box: "b", Session: 1, Batch: 2, Historical: true, Resend: "r&1", Sent: time.Now()},
		[]store.StoredPunch{{Punch: p, Seq: 1}, {Punch: p, Seq: 2}})
	var m punchMsg
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if m.Resend != "r&1" || len(m.Punches) != 2 || m.Punches[1].PIN != `10\01` || m.Punches[0].State.Name != "state-9" {
		t.Errorf("decoded %+v", m)
	}
	if !strings.Contains(string(b), `"verify":{"code":200,"name":"verify-200"}`) {
		t.Errorf("verify not encoded: %s", b)
	}
	conforms(t, "punches", b)
}
