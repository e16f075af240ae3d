package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/punchbox/punchbox"
)

func TestParseRoster(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []punchbox.Employee
	}{
		{"all columns", "pin,name,card,privilege,disabled\n1,Ann,123,admin,true\n2,Bob,,,\n",
			[]punchbox.Employee{{PIN: "1", Name: "Ann", Card: "123", Privilege: punchbox.PrivilegeAdmin, Disabled: true}, {PIN: "2", Name: "Bob"}}},
		{"any order and case, optional columns", "Name ,PIN\r\nAnn,1\r\n", []punchbox.Employee{{PIN: "1", Name: "Ann"}}},
		{"semicolons, BOM, blank lines", "\uFEFFpin;name;privilege\n\n1;Müller, Ann;Enroller\n;;\n  \n2;Bob;user\n",
			[]punchbox.Employee{{PIN: "1", Name: "Müller, Ann", Privilege: punchbox.PrivilegeEnroller}, {PIN: "2", Name: "Bob"}}},
		{"quoted fields", "pin,name\n1,\"Doe, \"\"Jo\"\"\"\n", []punchbox.Employee{{PIN: "1", Name: `Doe, "Jo"`}}},
		{"defused formulas", "pin,name\n'=1,'=SUM(A1)\n2,'Connor\n3,''=x\n",
			[]punchbox.Employee{{PIN: "=1", Name: "=SUM(A1)"}, {PIN: "2", Name: "'Connor"}, {PIN: "3", Name: "'=x"}}},
		{"flags", "pin,name,disabled\n1,a,yes\n2,b,0\n3,c,TRUE\n",
			[]punchbox.Employee{{PIN: "1", Name: "a", Disabled: true}, {PIN: "2", Name: "b"}, {PIN: "3", Name: "c", Disabled: true}}},
		{"header only", "pin,name\n", []punchbox.Employee{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseRoster(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if f.bad != 0 {
				t.Fatalf("problems %+v", f.problems)
			}
			if got := f.employees(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseRosterProblems(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []LineError // Message is matched as a part
	}{
		{"empty", "", []LineError{{1, "", "empty"}}},
		{"no header", "1,Ann\n2,Bob\n", []LineError{{1, "1", "unknown column"}, {1, "Ann", "unknown column"}, {1, "", "no header"}}},
		{"no name column", "pin,card\n1,2\n", []LineError{{1, "name", "no name column"}}},
		{"unknown and repeated columns", "pin,name,salary,PIN\n1,Ann,9,1\n",
			[]LineError{{1, "salary", "unknown column"}, {1, "pin", "twice"}}},
		{"every kind of bad line", "pin,name,privilege,disabled\n" +
			"1 2,Ann,user,false\n" + // 2: bad PIN
			"2," + strings.Repeat("x", 101) + ",user,false\n" + // 3: name too long
			"3,Cid,root,false\n" + // 4: bad privilege
			"4,Dan,user,false\n" +
			"4,Dan again,user,false\n" + // 6: duplicate PIN
			"5;Eve;user;false\n" + // 7: wrong delimiter
			"6,F\xffe,user,false\n" + // 8: invalid UTF-8
			"7,Gil,user,maybe\n" + // 9: bad flag
			"8,\"Hal,user,false\n", // 10: quote never closed
			[]LineError{{2, "pin", ""}, {3, "name", "terminals keep at most 24"}, {4, "privilege", ""}, {6, "pin", "also on line 5"},
				{7, "", `seems to use ";"`}, {8, "name", "UTF-8"}, {9, "disabled", ""}, {10, "", "quote"}}},
		{"control characters", "pin,name\n1,\"a\tb\"\n2,\"a\nb\"\n", []LineError{{2, "name", "control"}, {3, "name", "control"}}},
		{"card", "pin,name,card\n1,a,12x\n", []LineError{{2, "card", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseRoster(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.problems) != len(tt.want) {
				t.Fatalf("problems %+v, want %d", f.problems, len(tt.want))
			}
			for i, w := range tt.want {
				g := f.problems[i]
				if g.Line != w.Line || g.Field != w.Field || !strings.Contains(g.Message, w.Message) {
					t.Errorf("problem %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// TestParseRosterManyBadLines: every bad line counts, the list stops at
// maxLineErrors.
func TestParseRosterManyBadLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("pin,name\n")
	for i := range 2500 {
		fmt.Fprintf(&b, "bad pin %d,x\n", i)
	}
	f, err := parseRoster(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if f.bad != 2500 || len(f.problems) != maxLineErrors || len(f.lines) != 0 {
		t.Errorf("%d bad, %d listed, %d good; want 2500, %d, 0", f.bad, len(f.problems), len(f.lines), maxLineErrors)
	}
}

// TestParseRosterBodyLimit: a body cut by its limit is an error, not a
// short roster.
func TestParseRosterBodyLimit(t *testing.T) {
	body := "pin,name\n" + strings.Repeat("1234,Someone\n", 10_000)
	for _, limit := range []int64{2, 5000, int64(len(body)) - 1} {
		_, err := parseRoster(http.MaxBytesReader(nil, io.NopCloser(strings.NewReader(body)), limit))
		if !errors.Is(bodyError(err), ErrTooLarge) {
			t.Errorf("limit %d: %v, want too large", limit, err)
		}
	}
}

func TestRosterCell(t *testing.T) {
	for _, s := range []string{"", "'", "''", "=", "'=", "''=", "=x", "-1", "+1", "@a", "'Tis", "a'", "Ann", "'-5"} {
		enc := rosterCell(s)
		if got := uncell(enc); got != s {
			t.Errorf("uncell(rosterCell(%q)) = %q via %q", s, got, enc)
		}
		if enc != "" && strings.ContainsRune("=+-@", rune(enc[0])) {
			t.Errorf("rosterCell(%q) = %q starts a formula", s, enc)
		}
	}
}

// FuzzParseRoster: the parser never panics, and what it accepts, written
// by the export, reads back as the same employees.
func FuzzParseRoster(f *testing.F) {
	for _, seed := range []string{
		"pin,name,card,privilege,disabled\n1,Ann,123,admin,true\n2,Bob,,,\n",
		"\uFEFFNAME;Pin;Disabled\n\"Doe; Jo\";7;yes\n\n",
		"pin,name\n'=1,'=SUM(A1)\n2,'Connor\n3,''=x\n",
		"pin,name\n1,\"a\"\"b\"\n1,dup\n",
		"pin,name,privilege\n1,Ann,root\n2;Bob;user\n3,\"open\n",
		"pin,name\n1,F\xffe\n",
		"pin,name,salary,pin\n",
		"",
		",,,\n;;\npin,name\r\n9,x\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		first, err := parseRoster(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("reading from memory failed: %v", err)
		}
		if first.bad > 0 {
			if len(first.problems) == 0 {
				t.Fatal("bad lines without problems")
			}
			return
		}
		es := first.employees()
		var buf bytes.Buffer
		if err := encodeRoster(&buf, es); err != nil {
			t.Fatal(err)
		}
		again, err := parseRoster(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if again.bad > 0 {
			t.Fatalf("the export of %+v does not parse: %+v\n%s", es, again.problems, buf.String())
		}
		if got := again.employees(); !reflect.DeepEqual(got, es) {
			t.Fatalf("round trip changed the roster:\n got %+v\nwant %+v", got, es)
		}
	})
}
