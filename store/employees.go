package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/punchbox/punchbox"
	"modernc.org/sqlite"
)

// maxQueryLen bounds an EmployeeFilter.Query, in bytes.
const maxQueryLen = 100

// punchbox_lower is strings.ToLower as an SQL function: SQLite's lower()
// and LIKE fold ASCII letters only, and names are not all ASCII.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("punchbox_lower", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			s, _ := args[0].(string)
			return strings.ToLower(s), nil
		})
}

// PutEmployee adds the employee or updates the one with the same PIN.
func (db *DB) PutEmployee(ctx context.Context, e punchbox.Employee) error {
	if err := CheckEmployee(e); err != nil {
		return fmt.Errorf("put employee: %w", err)
	}
	_, err := db.putEmployees(ctx, []punchbox.Employee{e}, false)
	if err != nil {
		return fmt.Errorf("put employee %s: %w", e.PIN, err)
	}
	return nil
}

// RosterResult counts what PutEmployees did.
type RosterResult struct {
	Added, Updated, Unchanged, Removed int
}

// PutEmployees adds or updates every employee of es in one transaction. With
// replace, employees not in es are deleted (an empty es deletes them all).
// Every employee is checked first: one invalid employee or a PIN given twice
// fails the call with ErrInvalid, and nothing is written.
func (db *DB) PutEmployees(ctx context.Context, es []punchbox.Employee, replace bool) (RosterResult, error) {
	seen := make(map[string]int, len(es))
	for i, e := range es {
		if err := CheckEmployee(e); err != nil {
			return RosterResult{}, fmt.Errorf("put employees: employee %d of %d (pin %q): %w", i+1, len(es), e.PIN, err)
		}
		if j, dup := seen[e.PIN]; dup {
			return RosterResult{}, fmt.Errorf("put employees: %w: employees %d and %d have the same pin %q", ErrInvalid, j+1, i+1, e.PIN)
		}
		seen[e.PIN] = i
	}
	r, err := db.putEmployees(ctx, es, replace)
	if err != nil {
		return RosterResult{}, fmt.Errorf("put employees: %w", err)
	}
	return r, nil
}

// putEmployees writes valid employees with distinct PINs.
func (db *DB) putEmployees(ctx context.Context, es []punchbox.Employee, replace bool) (RosterResult, error) {
	var r RosterResult
	w, err := db.writer()
	if err != nil {
		return r, err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return r, classify(err)
	}
	defer tx.Rollback()
	old, err := storedEmployees(ctx, tx, es, replace)
	if err != nil {
		return r, err
	}
	now := millis(db.now())
	for _, e := range es {
		prev, ok := old[e.PIN]
		switch {
		case !ok:
			_, err = tx.ExecContext(ctx, `INSERT INTO employees (pin, name, card, privilege, disabled, created, updated)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, e.PIN, e.Name, e.Card, int(e.Privilege), e.Disabled, now, now)
			r.Added++
		case prev != e:
			_, err = tx.ExecContext(ctx, `UPDATE employees SET name = ?, card = ?, privilege = ?, disabled = ?, updated = ?
				WHERE pin = ?`, e.Name, e.Card, int(e.Privilege), e.Disabled, now, e.PIN)
			r.Updated++
		default:
			r.Unchanged++
		}
		if err != nil {
			return RosterResult{}, classify(err)
		}
		delete(old, e.PIN)
	}
	if replace {
		for pin := range old {
			if _, err := tx.ExecContext(ctx, "DELETE FROM employees WHERE pin = ?", pin); err != nil {
				return RosterResult{}, classify(err)
			}
			r.Removed++
		}
	}
	if err := tx.Commit(); err != nil {
		return RosterResult{}, fmt.Errorf("commit: %w", classify(err))
	}
	return r, nil
}

// storedEmployees returns the stored employees with the PINs of es, or all of
// them with all (a replacing roster needs to know whom to delete).
func storedEmployees(ctx context.Context, tx *sql.Tx, es []punchbox.Employee, all bool) (map[string]punchbox.Employee, error) {
	old := make(map[string]punchbox.Employee, len(es))
	if all {
		rows, err := tx.QueryContext(ctx, "SELECT "+employeeColumns+" FROM employees")
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEmployee(rows)
			if err != nil {
				return nil, err
			}
			old[e.PIN] = e
		}
		return old, rows.Err()
	}
	stmt, err := tx.PrepareContext(ctx, "SELECT "+employeeColumns+" FROM employees WHERE pin = ?")
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	for _, e := range es {
		prev, err := scanEmployee(stmt.QueryRowContext(ctx, e.PIN))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, err
		default:
			old[prev.PIN] = prev
		}
	}
	return old, nil
}

const employeeColumns = "pin, name, card, privilege, disabled"

func scanEmployee(row interface{ Scan(...any) error }) (punchbox.Employee, error) {
	var e punchbox.Employee
	var priv int
	if err := row.Scan(&e.PIN, &e.Name, &e.Card, &priv, &e.Disabled); err != nil {
		return e, err
	}
	e.Privilege = punchbox.Privilege(priv)
	return e, nil
}

// Employee returns the employee with pin, or ErrNotFound.
func (db *DB) Employee(ctx context.Context, pin string) (punchbox.Employee, error) {
	e, err := scanEmployee(db.r.QueryRowContext(ctx, "SELECT "+employeeColumns+" FROM employees WHERE pin = ?", pin))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("employee %q: %w", pin, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("read employee %q: %w", pin, err)
	}
	return e, nil
}

// maxNamesBatch bounds the PINs of one EmployeeNames query, below
// SQLite's limit on bound parameters.
const maxNamesBatch = 500

// EmployeeNames returns the names of the employees with the given PINs, in
// one query per maxNamesBatch PINs; unknown PINs are absent from the map.
// Lists of punches use it to show who punched.
func (db *DB) EmployeeNames(ctx context.Context, pins []string) (map[string]string, error) {
	out := make(map[string]string, len(pins))
	for len(pins) > 0 {
		n := min(len(pins), maxNamesBatch)
		args := make([]any, n)
		for i, p := range pins[:n] {
			args[i] = p
		}
		q := "SELECT pin, name FROM employees WHERE pin IN (?" + strings.Repeat(",?", n-1) + ")"
		rows, err := db.r.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("read employee names: %w", err)
		}
		for rows.Next() {
			var pin, name string
			if err := rows.Scan(&pin, &name); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read employee names: %w", err)
			}
			out[pin] = name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read employee names: %w", err)
		}
		pins = pins[n:]
	}
	return out, nil
}

// EmployeeFilter selects a page of employees.
type EmployeeFilter struct {
	// Query matches a PIN prefix or a part of the name, ignoring case.
	// Empty matches everyone.
	Query  string
	Limit  int // 0: no limit
	Offset int
}

// Employees returns a page of the employees f selects, sorted by PIN
// (numeric PINs in numeric order: shorter PINs first), and how many f
// selects in all.
func (db *DB) Employees(ctx context.Context, f EmployeeFilter) ([]punchbox.Employee, int, error) {
	if len(f.Query) > maxQueryLen || f.Limit < 0 || f.Offset < 0 {
		return nil, 0, fmt.Errorf("list employees: %w: want a query of up to %d bytes and a limit and offset of 0 or more", ErrInvalid, maxQueryLen)
	}
	where, args := "", []any{}
	if f.Query != "" {
		q := strings.ToLower(f.Query)
		like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
		where = ` WHERE pin LIKE ? ESCAPE '\' OR instr(punchbox_lower(name), ?) > 0`
		args = append(args, like, q)
	}
	// One read transaction: the page and the total see the same roster.
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("list employees: %w", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM employees"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list employees: %w", err)
	}
	limit := f.Limit
	if limit == 0 {
		limit = -1
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+employeeColumns+" FROM employees"+where+
		" ORDER BY length(pin), pin LIMIT ? OFFSET ?", append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list employees: %w", err)
	}
	defer rows.Close()
	var out []punchbox.Employee
	for rows.Next() {
		e, err := scanEmployee(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list employees: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list employees: %w", err)
	}
	return out, total, nil
}

// DeleteEmployee deletes the employee with pin, or returns ErrNotFound.
func (db *DB) DeleteEmployee(ctx context.Context, pin string) error {
	w, err := db.writer()
	if err != nil {
		return fmt.Errorf("delete employee %q: %w", pin, err)
	}
	res, err := w.ExecContext(ctx, "DELETE FROM employees WHERE pin = ?", pin)
	if err != nil {
		return fmt.Errorf("delete employee %q: %w", pin, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete employee %q: %w", pin, ErrNotFound)
	}
	return nil
}
