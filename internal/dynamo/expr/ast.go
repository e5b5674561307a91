// Package expr parses and evaluates DynamoDB expressions: condition, filter
// and key-condition expressions, projection expressions and update
// expressions, with ExpressionAttributeNames (#n) and ExpressionAttributeValues
// (:v) placeholders, document paths (a.b[2].c), comparators, BETWEEN, IN,
// AND/OR/NOT, the functions attribute_exists, attribute_not_exists,
// attribute_type, begins_with, contains and size, and the update actions SET
// (with +, -, if_not_exists and list_append), REMOVE, ADD and DELETE.
// Errors carry DynamoDB's ValidationException messages.
package expr

import (
	"sort"
	"strconv"
	"strings"

	"skyhub/internal/dynamo/attr"
)

// Error is a ValidationException raised by parsing or evaluation.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errf(parts ...string) *Error { return &Error{Msg: strings.Join(parts, "")} }

// PathElem is one step of a document path: a map key or a list index.
type PathElem struct {
	Name    string
	Index   int
	IsIndex bool
}

// Path is a document path.
type Path []PathElem

// Attr returns a one-element path.
func Attr(name string) Path { return Path{{Name: name}} }

// String renders the path as a.b[1].
func (p Path) String() string {
	var b strings.Builder
	for i, e := range p {
		if e.IsIndex {
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.Name)
	}
	return b.String()
}

// listString renders the path as DynamoDB's messages do: [a, b, [1]].
func (p Path) listString() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.IsIndex {
			parts[i] = "[" + strconv.Itoa(e.Index) + "]"
		} else {
			parts[i] = e.Name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Operand is a value-producing term.
type Operand interface{ isOperand() }

// PathOperand reads a document path of the item.
type PathOperand struct{ Path Path }

// ValueOperand is a literal value (a :placeholder).
type ValueOperand struct {
	Name string
	V    attr.Value
}

// SizeOperand is size(path).
type SizeOperand struct{ Path Path }

// IfNotExists is if_not_exists(path, operand) (update expressions only).
type IfNotExists struct {
	Path    Path
	Default Operand
}

// ListAppend is list_append(a, b) (update expressions only).
type ListAppend struct{ A, B Operand }

// Arith is a + b or a - b (update expressions only).
type Arith struct {
	Op   byte
	A, B Operand
}

func (PathOperand) isOperand()  {}
func (ValueOperand) isOperand() {}
func (SizeOperand) isOperand()  {}
func (IfNotExists) isOperand()  {}
func (ListAppend) isOperand()   {}
func (Arith) isOperand()        {}

// Cond is a boolean condition.
type Cond interface{ isCond() }

// Compare is L op R with op one of = <> < <= > >=.
type Compare struct {
	Op   string
	L, R Operand
}

// Between is V BETWEEN Lo AND Hi.
type Between struct{ V, Lo, Hi Operand }

// In is V IN (List...).
type In struct {
	V    Operand
	List []Operand
}

// And is L AND R.
type And struct{ L, R Cond }

// Or is L OR R.
type Or struct{ L, R Cond }

// Not is NOT C.
type Not struct{ C Cond }

// Func is a boolean function: attribute_exists, attribute_not_exists,
// attribute_type, begins_with, contains.
type Func struct {
	Name string
	Args []Operand
}

func (Compare) isCond() {}
func (Between) isCond() {}
func (In) isCond()      {}
func (And) isCond()     {}
func (Or) isCond()      {}
func (Not) isCond()     {}
func (Func) isCond()    {}

// Env holds a request's placeholders and records which were used, so that
// unused ones can be reported as DynamoDB does.
type Env struct {
	Names      map[string]string
	Values     map[string]attr.Value
	usedNames  map[string]bool
	usedValues map[string]bool
}

// NewEnv returns an Env over the request's ExpressionAttributeNames/Values.
func NewEnv(names map[string]string, values map[string]attr.Value) *Env {
	return &Env{Names: names, Values: values}
}

// Placeholders are marked used lazily: most requests have few or none.
func (e *Env) useName(k string) {
	if e.usedNames == nil {
		e.usedNames = make(map[string]bool, len(e.Names))
	}
	e.usedNames[k] = true
}

func (e *Env) useValue(k string) {
	if e.usedValues == nil {
		e.usedValues = make(map[string]bool, len(e.Values))
	}
	e.usedValues[k] = true
}

// CheckUnused reports placeholders that no expression used.
func (e *Env) CheckUnused() error {
	var un []string
	for k := range e.Names {
		if !e.usedNames[k] {
			un = append(un, k)
		}
	}
	if len(un) > 0 {
		sort.Strings(un)
		return errf("Value provided in ExpressionAttributeNames unused in expressions: keys: {", strings.Join(un, ", "), "}")
	}
	var uv []string
	for k := range e.Values {
		if !e.usedValues[k] {
			uv = append(uv, k)
		}
	}
	if len(uv) > 0 {
		sort.Strings(uv)
		return errf("Value provided in ExpressionAttributeValues unused in expressions: keys: {", strings.Join(uv, ", "), "}")
	}
	return nil
}

// Action kinds of an update expression.
const (
	ActSet = iota
	ActRemove
	ActAdd
	ActDelete
)

// Action is one clause of an update expression.
type Action struct {
	Kind  int
	Path  Path
	Value Operand // nil for REMOVE
}

// Update is a parsed update expression.
type Update struct{ Actions []Action }

// Paths returns every path the update writes.
func (u *Update) Paths() []Path {
	out := make([]Path, len(u.Actions))
	for i, a := range u.Actions {
		out[i] = a.Path
	}
	return out
}
