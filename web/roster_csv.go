package web

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/punchbox/punchbox"
)

// The roster's CSV format, written by the export and read by the import:
//
//	pin,name,card,privilege,disabled
//	1001,Ann Example,12345678,user,false
//
// A header line is required. Its columns may come in any order and any
// case; pin and name are required, the others optional (card empty,
// privilege user, disabled false). The delimiter is a comma or a
// semicolon, whichever the header uses. The file is UTF-8; a byte order
// mark is skipped, and so are blank lines. A PIN or name that a
// spreadsheet would run as a formula is written with a leading
// apostrophe, which the import takes off again.

// rosterColumns are the columns of the format, in the export's order.
var rosterColumns = []string{"pin", "name", "card", "privilege", "disabled"}

// LineError is a problem on one line of an imported file.
type LineError struct {
	Line    int    `json:"line"`            // from 1, the header being line 1
	Field   string `json:"field,omitempty"` // the column at fault, when one is
	Message string `json:"message"`
}

// rosterLine is an employee read from a file, with its line.
type rosterLine struct {
	line int
	e    punchbox.Employee
}

// rosterFile is a parsed roster file.
type rosterFile struct {
	lines    []rosterLine // the good lines, in file order
	problems []LineError  // the first maxLineErrors problems
	bad      int          // how many lines have problems, all of them
	lastBad  int          // the line of the last problem
}

// maxLineErrors caps the problems listed: a file of nothing but bad lines
// should not make an answer larger than itself.
const maxLineErrors = 1000

func (f *rosterFile) problem(line int, field, format string, args ...any) {
	if line != f.lastBad {
		f.bad++
		f.lastBad = line
	}
	if len(f.problems) < maxLineErrors {
		f.problems = append(f.problems, LineError{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

// employees returns the employees of the good lines.
func (f *rosterFile) employees() []punchbox.Employee {
	es := make([]punchbox.Employee, len(f.lines))
	for i, l := range f.lines {
		es[i] = l.e
	}
	return es
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// parseRoster reads a roster file and checks every line, collecting every
// problem; only a failure to read r (such as a body over its limit) is an
// error.
func parseRoster(r io.Reader) (*rosterFile, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	f := &rosterFile{}
	var cols []string // the header: each position's column, "" when unknown
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			if cols == nil && f.bad == 0 {
				f.problem(1, "", "the file is empty: want a header line such as %s", strings.Join(rosterColumns, ","))
			}
			return f, nil
		case errors.As(err, &pe):
			f.problem(pe.StartLine, "", "%s", pe.Err.Error())
			if cols == nil {
				return f, nil // without a header, no line can be read
			}
			continue
		case err != nil:
			return nil, err
		}
		if blankRecord(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		if cols == nil {
			if cols = rosterHeader(f, line, rec); cols == nil {
				return f, nil
			}
			continue
		}
		e, ok := rosterEmployee(f, line, cols, rec, cr.Comma)
		if !ok {
			continue
		}
		if prev, dup := seen[e.PIN]; dup {
			f.problem(line, "pin", "pin %q is also on line %d", e.PIN, prev)
			continue
		}
		seen[e.PIN] = line
		f.lines = append(f.lines, rosterLine{line: line, e: e})
	}
}

// sniffDelimiter returns the header's delimiter: a semicolon when the
// first line that is not blank has semicolons and no commas, else a comma.
func sniffDelimiter(br *bufio.Reader) rune {
	b, _ := br.Peek(br.Size())
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(bytes.Trim(line, " \t\r,;")) == 0 {
			continue
		}
		if bytes.IndexByte(line, ';') >= 0 && bytes.IndexByte(line, ',') < 0 {
			return ';'
		}
		return ','
	}
	return ','
}

// blankRecord reports whether every field of rec is blank: spreadsheets
// write empty rows as ",,,,".
func blankRecord(rec []string) bool {
	for _, s := range rec {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// rosterHeader reads the header; nil when no line can be read with it.
func rosterHeader(f *rosterFile, line int, rec []string) []string {
	cols := make([]string, len(rec))
	known := 0
	at := map[string]bool{}
	for i, s := range rec {
		name := strings.ToLower(strings.TrimSpace(s))
		switch {
		case !utf8.ValidString(name):
			f.problem(line, "", "column %d: not valid UTF-8", i+1)
		case !isRosterColumn(name):
			f.problem(line, s, "unknown column %q: want %s", s, strings.Join(rosterColumns, ", "))
		case at[name]:
			f.problem(line, name, "column %q is given twice", name)
		default:
			cols[i], at[name] = name, true
			known++
		}
	}
	if known == 0 {
		f.problem(line, "", "no header: the first line must name the columns, e.g. %s", strings.Join(rosterColumns, ","))
		return nil
	}
	for _, need := range []string{"pin", "name"} {
		if !at[need] {
			f.problem(line, need, "the header has no %s column; pin and name are required", need)
		}
	}
	if !at["pin"] || !at["name"] {
		return nil
	}
	return cols
}

func isRosterColumn(name string) bool {
	for _, c := range rosterColumns {
		if c == name {
			return true
		}
	}
	return false
}

// rosterEmployee reads and checks one line.
func rosterEmployee(f *rosterFile, line int, cols, rec []string, comma rune) (punchbox.Employee, bool) {
	if len(rec) != len(cols) {
		hint := ""
		other := ";"
		if comma == ';' {
			other = ","
		}
		if strings.Contains(strings.Join(rec, ""), other) {
			hint = fmt.Sprintf(" (the header separates with %q, this line seems to use %q)", string(comma), other)
		}
		f.problem(line, "", "%d fields, but the header has %d%s", len(rec), len(cols), hint)
		return punchbox.Employee{}, false
	}
	var in EmployeeInput
	for i, s := range rec {
		if cols[i] == "" {
			continue
		}
		if !utf8.ValidString(s) {
			f.problem(line, cols[i], "not valid UTF-8: save the file as UTF-8")
			return punchbox.Employee{}, false
		}
		s = strings.TrimSpace(s)
		switch cols[i] {
		case "pin":
			in.PIN = uncell(s)
		case "name":
			in.Name = uncell(s)
		case "card":
			in.Card = s
		case "privilege":
			in.Privilege = s
		case "disabled":
			b, ok := parseYesNo(s)
			if !ok {
				f.problem(line, "disabled", "want true or false, not %q", s)
				return punchbox.Employee{}, false
			}
			in.Disabled = b
		}
	}
	e, err := employeeOf(in)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			f.problem(line, fe.Field, "%s", fe.Err.Error())
		} else {
			f.problem(line, "", "%s", err.Error())
		}
		return e, false
	}
	return e, true
}

// parseYesNo reads a flag: empty is false.
func parseYesNo(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "", "false", "no", "n", "0":
		return false, true
	case "true", "yes", "y", "1":
		return true, true
	}
	return false, false
}

// rosterCell writes a PIN or name so that a spreadsheet shows it as text:
// cell defuses formulas, and a value that already starts with the
// apostrophe uncell would take off gets another.
func rosterCell(s string) string {
	if uncell(s) != s {
		return "'" + s
	}
	return cell(s)
}

// uncell undoes rosterCell: an apostrophe before a formula character or
// another apostrophe goes.
func uncell(s string) string {
	if len(s) > 1 && s[0] == '\'' && (s[1] == '\'' || cell(s[1:]) != s[1:]) {
		return s[1:]
	}
	return s
}

// encodeRoster writes es in the roster format. The csv writer hands its
// buffer on every few kilobytes, so a large roster streams.
func encodeRoster(w io.Writer, es []punchbox.Employee) error {
	cw := csv.NewWriter(w)
	cw.Write(rosterColumns)
	for _, e := range es {
		cw.Write([]string{rosterCell(e.PIN), rosterCell(e.Name), e.Card, e.Privilege.String(), strconv.FormatBool(e.Disabled)})
	}
	cw.Flush()
	return cw.Error()
}
