package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

func emp(pin, name string) punchbox.Employee {
	return punchbox.Employee{PIN: pin, Name: name}
}

func allEmployees(t *testing.T, db *store.DB) []punchbox.Employee {
	t.Helper()
	es, total, err := db.Employees(context.Background(), store.EmployeeFilter{})
	if err != nil || total != len(es) {
		t.Fatalf("employees: %d of %d, %v", len(es), total, err)
	}
	return es
}

func TestPutEmployee(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	e := punchbox.Employee{PIN: "17", Name: "Zoë Ångström", Card: "0012345678", Privilege: punchbox.PrivilegeManager, Disabled: true}
	if err := db.PutEmployee(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, err := db.Employee(ctx, "17")
	if err != nil || got != e {
		t.Fatalf("employee = %+v, %v; want %+v", got, err, e)
	}
	e.Name, e.Disabled = "Zoë Ångström-Berg", false
	if err := db.PutEmployee(ctx, e); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Employee(ctx, "17"); err != nil || got != e {
		t.Fatalf("updated employee = %+v, %v; want %+v", got, err, e)
	}
	if _, err := db.Employee(ctx, "18"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown employee: %v", err)
	}
}

func TestPutEmployeeInvalid(t *testing.T) {
	tests := []struct {
		name  string
		e     punchbox.Employee
		field string
	}{
		{"EmptyPIN", emp("", "Ann"), "pin"},
		{"PINWithSpace", emp("1 2", "Ann"), "pin"},
		// Terminals keep 24 bytes of PIN (72-byte users, 40-byte records).
		{"PINTooLong", emp(strings.Repeat("9", store.MaxPINLen+1), "Ann"), "pin"},
		{"PINNotASCII", emp("é1", "Ann"), "pin"},
		{"NameEmpty", emp("1", ""), "name"},
		{"NameBlank", emp("1", " \u00a0 "), "name"},
		// And 24 bytes of name: 13 é are 26 bytes.
		{"NameTooLong", emp("1", strings.Repeat("é", 13)), "name"},
		{"NameNotUTF8", emp("1", "Ann\xff"), "name"},
		{"NameControl", emp("1", "Ann\nBob"), "name"},
		{"NameC1Control", emp("1", "Ann\u0085"), "name"},
		{"CardLetters", punchbox.Employee{PIN: "1", Name: "Ann", Card: "12a4"}, "card"},
		{"CardNegative", punchbox.Employee{PIN: "1", Name: "Ann", Card: "-1"}, "card"},
		{"CardPlus", punchbox.Employee{PIN: "1", Name: "Ann", Card: "+1"}, "card"},
		// A terminal keeps a card as an unsigned 32-bit number.
		{"CardTooLong", punchbox.Employee{PIN: "1", Name: "Ann", Card: strings.Repeat("1", 20)}, "card"},
		{"CardOver32Bits", punchbox.Employee{PIN: "1", Name: "Ann", Card: "4294967296"}, "card"},
		{"CardZero", punchbox.Employee{PIN: "1", Name: "Ann", Card: "0000"}, "card"},
		{"Privilege", punchbox.Employee{PIN: "1", Name: "Ann", Privilege: 3}, "privilege"},
	}
	db := storetest.Open(t)
	ctx := context.Background()
	if err := db.PutEmployee(ctx, punchbox.Employee{PIN: "1", Name: "Original"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.PutEmployee(ctx, tt.e)
			var ee *store.EmployeeError
			if !errors.Is(err, store.ErrInvalid) || !errors.As(err, &ee) || ee.Field != tt.field || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v; want ErrInvalid naming %s", err, tt.field)
			}
			if got, err := db.Employee(ctx, "1"); err != nil || got.Name != "Original" {
				t.Fatalf("employee 1 = %+v, %v; changed by a refused put", got, err)
			}
		})
	}
	if es := allEmployees(t, db); len(es) != 1 {
		t.Fatalf("employees = %+v", es)
	}
}

func TestPutEmployeeLimits(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	for _, e := range []punchbox.Employee{
		{PIN: strings.Repeat("~", store.MaxPINLen), Name: strings.Repeat("é", 12), Card: "4294967295", Privilege: punchbox.PrivilegeAdmin},
		{PIN: "7", Name: "X", Card: "0012345678"}, // printed with leading zeros
		{PIN: "8", Name: "Zoë"},
	} {
		if err := db.PutEmployee(ctx, e); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Employee(ctx, e.PIN); err != nil || got != e {
			t.Fatalf("employee = %+v, %v", got, err)
		}
	}
}

func TestPutEmployees(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	r, err := db.PutEmployees(ctx, []punchbox.Employee{emp("1", "Ann"), emp("2", "Bob"), emp("3", "Cy")}, false)
	if want := (store.RosterResult{Added: 3}); err != nil || r != want {
		t.Fatalf("first roster = %+v, %v; want %+v", r, err, want)
	}
	t.Run("Merge", func(t *testing.T) {
		r, err := db.PutEmployees(ctx, []punchbox.Employee{emp("1", "Ann"), emp("2", "Bob B."), emp("4", "Di")}, false)
		if want := (store.RosterResult{Added: 1, Updated: 1, Unchanged: 1}); err != nil || r != want {
			t.Fatalf("merge = %+v, %v; want %+v", r, err, want)
		}
		want := []punchbox.Employee{emp("1", "Ann"), emp("2", "Bob B."), emp("3", "Cy"), emp("4", "Di")}
		if got := allEmployees(t, db); !slices.Equal(got, want) {
			t.Fatalf("after merge %+v", got)
		}
	})
	t.Run("Replace", func(t *testing.T) {
		r, err := db.PutEmployees(ctx, []punchbox.Employee{emp("2", "Bob B."), emp("4", "Dina"), emp("5", "Ed")}, true)
		if want := (store.RosterResult{Added: 1, Updated: 1, Unchanged: 1, Removed: 2}); err != nil || r != want {
			t.Fatalf("replace = %+v, %v; want %+v", r, err, want)
		}
		want := []punchbox.Employee{emp("2", "Bob B."), emp("4", "Dina"), emp("5", "Ed")}
		if got := allEmployees(t, db); !slices.Equal(got, want) {
			t.Fatalf("after replace %+v", got)
		}
	})
	t.Run("ReplaceWithNothing", func(t *testing.T) {
		r, err := db.PutEmployees(ctx, nil, true)
		if want := (store.RosterResult{Removed: 3}); err != nil || r != want {
			t.Fatalf("empty replace = %+v, %v; want %+v", r, err, want)
		}
		if got := allEmployees(t, db); len(got) != 0 {
			t.Fatalf("after empty replace %+v", got)
		}
	})
}

func TestPutEmployeesInvalid(t *testing.T) {
	tests := []struct {
		name string
		es   []punchbox.Employee
		want []string // in the message
	}{
		{"BadName", []punchbox.Employee{emp("10", "New"), emp("11", "Bad\x00")}, []string{"employee 2 of 2", `pin "11"`, "name"}},
		{"BadPIN", []punchbox.Employee{emp("1", "Changed"), emp("a b", "X")}, []string{"employee 2 of 2", "pin"}},
		{"BadPrivilege", []punchbox.Employee{{PIN: "12", Name: "P", Privilege: 1}}, []string{"employee 1 of 1", `pin "12"`, "privilege"}},
		{"NoName", []punchbox.Employee{emp("10", "New"), emp("13", "")}, []string{"employee 2 of 2", `pin "13"`, "name"}},
		{"DuplicatePIN", []punchbox.Employee{emp("7", "A"), emp("1", "B"), emp("7", "C")}, []string{"employees 1 and 3", `pin "7"`}},
	}
	db := storetest.Open(t)
	ctx := context.Background()
	before := []punchbox.Employee{emp("1", "Ann"), emp("2", "Bob")}
	if _, err := db.PutEmployees(ctx, before, false); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		for _, replace := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/replace=%v", tt.name, replace), func(t *testing.T) {
				r, err := db.PutEmployees(ctx, tt.es, replace)
				if !errors.Is(err, store.ErrInvalid) || r != (store.RosterResult{}) {
					t.Fatalf("result %+v, err %v; want ErrInvalid", r, err)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %s", err, w)
					}
				}
				if got := allEmployees(t, db); !slices.Equal(got, before) {
					t.Fatalf("refused roster changed the employees: %+v", got)
				}
			})
		}
	}
}

func TestEmployees(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	roster := []punchbox.Employee{emp("100", "Ann Lee"), emp("9", "Bob Annand"), emp("20", "Élodie ÉCLAIR"),
		emp("A7", "Cy"), emp("1000", "Di 50% off"), emp("2", "Ed_Ward"), emp("10", "Fay")}
	if _, err := db.PutEmployees(ctx, roster, false); err != nil {
		t.Fatal(err)
	}
	pins := func(es []punchbox.Employee) string {
		var s []string
		for _, e := range es {
			s = append(s, e.PIN)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name  string
		f     store.EmployeeFilter
		want  string
		total int
	}{
		{"All", store.EmployeeFilter{}, "2,9,10,20,A7,100,1000", 7},
		{"FirstPage", store.EmployeeFilter{Limit: 3}, "2,9,10", 7},
		{"SecondPage", store.EmployeeFilter{Limit: 3, Offset: 3}, "20,A7,100", 7},
		{"PastTheEnd", store.EmployeeFilter{Limit: 3, Offset: 9}, "", 7},
		{"PINPrefix", store.EmployeeFilter{Query: "10"}, "10,100,1000", 3},
		{"PINPrefixNotInfix", store.EmployeeFilter{Query: "00"}, "", 0},
		{"PINIgnoresCase", store.EmployeeFilter{Query: "a7"}, "A7", 1},
		{"NameSubstring", store.EmployeeFilter{Query: "ann"}, "9,100", 2},
		{"NameIgnoresCase", store.EmployeeFilter{Query: "LEE"}, "100", 1},
		{"NameNonASCIICase", store.EmployeeFilter{Query: "éclair"}, "20", 1},
		{"PercentIsLiteral", store.EmployeeFilter{Query: "%"}, "1000", 1},
		{"UnderscoreIsLiteral", store.EmployeeFilter{Query: "_"}, "2", 1},
		{"PagedQuery", store.EmployeeFilter{Query: "10", Limit: 1, Offset: 1}, "100", 3},
		{"NoMatch", store.EmployeeFilter{Query: "zzz"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, total, err := db.Employees(ctx, tt.f)
			if err != nil || pins(es) != tt.want || total != tt.total {
				t.Fatalf("employees = %s (total %d), %v; want %s (total %d)", pins(es), total, err, tt.want, tt.total)
			}
		})
	}
	for _, f := range []store.EmployeeFilter{{Limit: -1}, {Offset: -1}, {Query: strings.Repeat("x", 101)}} {
		if _, _, err := db.Employees(ctx, f); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Employees(%+v): %v; want ErrInvalid", f, err)
		}
	}
}

func TestDeleteEmployee(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	if err := db.PutEmployee(ctx, emp("1", "Ann")); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteEmployee(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Employee(ctx, "1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted employee: %v", err)
	}
	if err := db.DeleteEmployee(ctx, "1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete again: %v; want ErrNotFound", err)
	}
}

// FuzzPutEmployee: any input is either stored and read back equal, or
// refused with ErrInvalid, and never panics.
func FuzzPutEmployee(f *testing.F) {
	f.Add("1", "Ann", "", uint8(0), false)
	f.Add("A-17", "Zoë Ångström", "0012345678", uint8(14), true)
	f.Add("1 2", "Ann\x00", "12a", uint8(3), false)
	f.Add("~", strings.Repeat("é", 50), "99999999999999999999", uint8(6), false)
	f.Add("x", "\xff\xfe", "", uint8(2), true)
	db := storetest.Open(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, pin, name, card string, priv uint8, disabled bool) {
		e := punchbox.Employee{PIN: pin, Name: name, Card: card, Privilege: punchbox.Privilege(priv), Disabled: disabled}
		err := db.PutEmployee(ctx, e)
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("put %+v: %v; want nil or ErrInvalid", e, err)
			}
			if punchbox.ValidIdent(pin) && len(name) <= store.MaxEmployeeNameLen && utf8.ValidString(name) &&
				!strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }) &&
				len(card) <= store.MaxCardLen && strings.Trim(card, "0123456789") == "" && e.Privilege.Valid() {
				t.Fatalf("put %+v refused: %v", e, err)
			}
			return
		}
		got, err := db.Employee(ctx, pin)
		if err != nil || got != e {
			t.Fatalf("read back %+v, %v; put %+v", got, err, e)
		}
	})
}

func TestEmployeeNames(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	var es []punchbox.Employee
	var pins []string
	for i := range 1200 {
		pin := fmt.Sprint(i + 1)
		pins = append(pins, pin)
		if i%2 == 0 {
			es = append(es, punchbox.Employee{PIN: pin, Name: "Name " + pin})
		}
	}
	if _, err := db.PutEmployees(ctx, es, false); err != nil {
		t.Fatal(err)
	}
	names, err := db.EmployeeNames(ctx, append(pins, "no-such-pin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 600 || names["1"] != "Name 1" || names["1199"] != "Name 1199" {
		t.Errorf("%d names, 1=%q 1199=%q; want 600, the names of the odd PINs", len(names), names["1"], names["1199"])
	}
	if _, ok := names["2"]; ok {
		t.Error("a PIN without an employee has a name")
	}
	if names, err := db.EmployeeNames(ctx, nil); err != nil || len(names) != 0 {
		t.Errorf("no PINs = %v, %v", names, err)
	}
}
