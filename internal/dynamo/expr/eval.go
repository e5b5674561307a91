package expr

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"skyhub/internal/dynamo/attr"
)

// Resolve returns the value at path in item.
func Resolve(item attr.Item, path Path) (attr.Value, bool) {
	if len(path) == 0 || path[0].IsIndex {
		return attr.Value{}, false
	}
	v, ok := item[path[0].Name]
	if !ok {
		return attr.Value{}, false
	}
	for _, e := range path[1:] {
		if e.IsIndex {
			if v.T != attr.L || e.Index >= len(v.List) {
				return attr.Value{}, false
			}
			v = v.List[e.Index]
		} else {
			if v.T != attr.M {
				return attr.Value{}, false
			}
			v, ok = v.Map[e.Name]
			if !ok {
				return attr.Value{}, false
			}
		}
	}
	return v, true
}

func operandValue(item attr.Item, o Operand) (attr.Value, bool) {
	switch o := o.(type) {
	case PathOperand:
		return Resolve(item, o.Path)
	case ValueOperand:
		return o.V, true
	case SizeOperand:
		v, ok := Resolve(item, o.Path)
		if !ok {
			return attr.Value{}, false
		}
		n, ok := sizeOf(v)
		if !ok {
			return attr.Value{}, false
		}
		return attr.Value{T: attr.N, Str: strconv.Itoa(n)}, true
	}
	return attr.Value{}, false
}

func sizeOf(v attr.Value) (int, bool) {
	switch v.T {
	case attr.S:
		return utf8.RuneCountInString(v.Str), true
	case attr.B:
		return len(v.Bin), true
	case attr.SS, attr.NS:
		return len(v.Strs), true
	case attr.BS:
		return len(v.Bins), true
	case attr.L:
		return len(v.List), true
	case attr.M:
		return len(v.Map), true
	}
	return 0, false
}

// Eval evaluates a condition against an item (nil item = no item).
func Eval(c Cond, item attr.Item) bool {
	switch c := c.(type) {
	case And:
		return Eval(c.L, item) && Eval(c.R, item)
	case Or:
		return Eval(c.L, item) || Eval(c.R, item)
	case Not:
		return !Eval(c.C, item)
	case Compare:
		l, lok := operandValue(item, c.L)
		r, rok := operandValue(item, c.R)
		switch c.Op {
		case "=":
			return lok && rok && attr.Equal(l, r)
		case "<>":
			if !lok || !rok {
				return lok != rok
			}
			return !attr.Equal(l, r)
		}
		if !lok || !rok {
			return false
		}
		cmp, ok := attr.Compare(l, r)
		if !ok {
			return false
		}
		switch c.Op {
		case "<":
			return cmp < 0
		case "<=":
			return cmp <= 0
		case ">":
			return cmp > 0
		case ">=":
			return cmp >= 0
		}
	case Between:
		v, ok1 := operandValue(item, c.V)
		lo, ok2 := operandValue(item, c.Lo)
		hi, ok3 := operandValue(item, c.Hi)
		if !ok1 || !ok2 || !ok3 {
			return false
		}
		a, okA := attr.Compare(v, lo)
		b, okB := attr.Compare(v, hi)
		return okA && okB && a >= 0 && b <= 0
	case In:
		v, ok := operandValue(item, c.V)
		if !ok {
			return false
		}
		for _, o := range c.List {
			if w, ok := operandValue(item, o); ok && attr.Equal(v, w) {
				return true
			}
		}
		return false
	case Func:
		return evalFunc(c, item)
	}
	return false
}

func evalFunc(f Func, item attr.Item) bool {
	switch f.Name {
	case "attribute_exists":
		_, ok := operandValue(item, f.Args[0])
		return ok
	case "attribute_not_exists":
		_, ok := operandValue(item, f.Args[0])
		return !ok
	case "attribute_type":
		v, ok := operandValue(item, f.Args[0])
		t, ok2 := operandValue(item, f.Args[1])
		return ok && ok2 && t.T == attr.S && v.T.String() == t.Str
	case "begins_with":
		v, ok := operandValue(item, f.Args[0])
		p, ok2 := operandValue(item, f.Args[1])
		if !ok || !ok2 || v.T != p.T {
			return false
		}
		switch v.T {
		case attr.S:
			return strings.HasPrefix(v.Str, p.Str)
		case attr.B:
			return bytes.HasPrefix(v.Bin, p.Bin)
		}
		return false
	case "contains":
		v, ok := operandValue(item, f.Args[0])
		x, ok2 := operandValue(item, f.Args[1])
		if !ok || !ok2 {
			return false
		}
		switch v.T {
		case attr.S:
			return x.T == attr.S && strings.Contains(v.Str, x.Str)
		case attr.B:
			return x.T == attr.B && bytes.Contains(v.Bin, x.Bin)
		case attr.SS:
			return x.T == attr.S && containsStr(v.Strs, x.Str, false)
		case attr.NS:
			return x.T == attr.N && containsStr(v.Strs, x.Str, true)
		case attr.BS:
			if x.T != attr.B {
				return false
			}
			for _, b := range v.Bins {
				if bytes.Equal(b, x.Bin) {
					return true
				}
			}
		case attr.L:
			for _, e := range v.List {
				if attr.Equal(e, x) {
					return true
				}
			}
		}
	}
	return false
}

func containsStr(ss []string, s string, num bool) bool {
	for _, x := range ss {
		if x == s || (num && attr.CompareNumbers(x, s) == 0) {
			return true
		}
	}
	return false
}

// ---- update ----

// Apply applies the update to a copy of item (nil for a new item) and
// returns the result. All right-hand sides read the original item.
func (u *Update) Apply(item attr.Item) (attr.Item, error) {
	out := item.Clone()
	if out == nil {
		out = attr.Item{}
	}
	vals := make([]attr.Value, len(u.Actions))
	for i, a := range u.Actions {
		if a.Value == nil {
			continue
		}
		v, err := updateValue(item, a.Value)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	var removes []Path
	for i, a := range u.Actions {
		var err error
		switch a.Kind {
		case ActSet:
			err = setPath(out, a.Path, vals[i])
		case ActRemove:
			removes = append(removes, a.Path)
		case ActAdd:
			err = addPath(out, a.Path, vals[i])
		case ActDelete:
			err = deletePath(out, a.Path, vals[i])
		}
		if err != nil {
			return nil, err
		}
	}
	// remove list elements from the highest index down so indexes refer to
	// the original list
	sort.SliceStable(removes, func(i, j int) bool {
		a, b := removes[i], removes[j]
		if len(a) == len(b) && a[len(a)-1].IsIndex && b[len(b)-1].IsIndex {
			return a[len(a)-1].Index > b[len(b)-1].Index
		}
		return false
	})
	for _, p := range removes {
		removePath(out, p)
	}
	return out, nil
}

var errBadType = &Error{Msg: "An operand in the update expression has an incorrect data type"}

func updateValue(item attr.Item, o Operand) (attr.Value, error) {
	switch o := o.(type) {
	case ValueOperand:
		return o.V, nil
	case PathOperand:
		v, ok := Resolve(item, o.Path)
		if !ok {
			return v, &Error{Msg: "The provided expression refers to an attribute that does not exist in the item"}
		}
		return v, nil
	case IfNotExists:
		if v, ok := Resolve(item, o.Path); ok {
			return v, nil
		}
		return updateValue(item, o.Default)
	case ListAppend:
		a, err := updateValue(item, o.A)
		if err != nil {
			return a, err
		}
		b, err := updateValue(item, o.B)
		if err != nil {
			return b, err
		}
		if a.T != attr.L || b.T != attr.L {
			return a, errBadType
		}
		l := make([]attr.Value, 0, len(a.List)+len(b.List))
		l = append(append(l, a.List...), b.List...)
		return attr.Value{T: attr.L, List: l}, nil
	case Arith:
		a, err := updateValue(item, o.A)
		if err != nil {
			return a, err
		}
		b, err := updateValue(item, o.B)
		if err != nil {
			return b, err
		}
		if a.T != attr.N || b.T != attr.N {
			return a, errBadType
		}
		s, err := attr.AddNumbers(a.Str, b.Str, o.Op == '-')
		if err != nil {
			return a, &Error{Msg: err.Error()}
		}
		return attr.Value{T: attr.N, Str: s}, nil
	}
	return attr.Value{}, errBadType
}

var errBadPath = &Error{Msg: "The document path provided in the update expression is invalid for update"}

// container returns a pointer-like accessor for the parent of path's last
// element: the map or list that holds it.
func parentOf(item attr.Item, path Path) (attr.Value, bool) {
	if len(path) == 1 {
		return attr.Value{T: attr.M, Map: item}, true
	}
	return Resolve(item, path[:len(path)-1])
}

func setPath(item attr.Item, path Path, v attr.Value) error {
	if len(path) == 1 {
		item[path[0].Name] = v
		return nil
	}
	parent, ok := parentOf(item, path)
	if !ok {
		return errBadPath
	}
	last := path[len(path)-1]
	switch {
	case last.IsIndex && parent.T == attr.L:
		if last.Index >= len(parent.List) {
			parent.List = append(parent.List, v)
			return replace(item, path[:len(path)-1], parent)
		}
		parent.List[last.Index] = v
		return nil
	case !last.IsIndex && parent.T == attr.M:
		parent.Map[last.Name] = v
		return nil
	}
	return errBadPath
}

// replace stores v at path (used when a list grew and its slice moved).
func replace(item attr.Item, path Path, v attr.Value) error {
	return setPath(item, path, v)
}

func removePath(item attr.Item, path Path) {
	if len(path) == 1 {
		delete(item, path[0].Name)
		return
	}
	parent, ok := parentOf(item, path)
	if !ok {
		return
	}
	last := path[len(path)-1]
	switch {
	case last.IsIndex && parent.T == attr.L:
		if last.Index < len(parent.List) {
			l := append(parent.List[:last.Index:last.Index], parent.List[last.Index+1:]...)
			_ = replace(item, path[:len(path)-1], attr.Value{T: attr.L, List: l})
		}
	case !last.IsIndex && parent.T == attr.M:
		delete(parent.Map, last.Name)
	}
}

func addPath(item attr.Item, path Path, v attr.Value) error {
	cur, ok := Resolve(item, path)
	if !ok {
		return setPath(item, path, v)
	}
	if cur.T != v.T {
		return errBadType
	}
	switch v.T {
	case attr.N:
		s, err := attr.AddNumbers(cur.Str, v.Str, false)
		if err != nil {
			return &Error{Msg: err.Error()}
		}
		return setPath(item, path, attr.Value{T: attr.N, Str: s})
	case attr.SS, attr.NS:
		out := append([]string(nil), cur.Strs...)
		for _, s := range v.Strs {
			if !containsStr(out, s, v.T == attr.NS) {
				out = append(out, s)
			}
		}
		return setPath(item, path, attr.Value{T: v.T, Strs: out})
	case attr.BS:
		out := append([][]byte(nil), cur.Bins...)
		for _, b := range v.Bins {
			found := false
			for _, x := range out {
				if bytes.Equal(x, b) {
					found = true
				}
			}
			if !found {
				out = append(out, b)
			}
		}
		return setPath(item, path, attr.Value{T: v.T, Bins: out})
	}
	return errBadType
}

func deletePath(item attr.Item, path Path, v attr.Value) error {
	cur, ok := Resolve(item, path)
	if !ok {
		return nil
	}
	if cur.T != v.T {
		return errBadType
	}
	var n int
	switch v.T {
	case attr.SS, attr.NS:
		var out []string
		for _, s := range cur.Strs {
			if !containsStr(v.Strs, s, v.T == attr.NS) {
				out = append(out, s)
			}
		}
		cur.Strs, n = out, len(out)
	case attr.BS:
		var out [][]byte
		for _, b := range cur.Bins {
			found := false
			for _, x := range v.Bins {
				if bytes.Equal(x, b) {
					found = true
				}
			}
			if !found {
				out = append(out, b)
			}
		}
		cur.Bins, n = out, len(out)
	default:
		return errBadType
	}
	if n == 0 {
		removePath(item, path)
		return nil
	}
	return setPath(item, path, cur)
}

// ---- projection ----

type projNode struct {
	leaf    bool
	names   map[string]*projNode
	indexes map[int]*projNode
}

// Project returns the parts of item named by paths (nil paths = all).
func Project(item attr.Item, paths []Path) attr.Item {
	if paths == nil || item == nil {
		return item
	}
	root := &projNode{names: map[string]*projNode{}}
	for _, p := range paths {
		n := root
		for _, e := range p {
			var next *projNode
			if e.IsIndex {
				if n.indexes == nil {
					n.indexes = map[int]*projNode{}
				}
				next = n.indexes[e.Index]
				if next == nil {
					next = &projNode{}
					n.indexes[e.Index] = next
				}
			} else {
				if n.names == nil {
					n.names = map[string]*projNode{}
				}
				next = n.names[e.Name]
				if next == nil {
					next = &projNode{}
					n.names[e.Name] = next
				}
			}
			n = next
		}
		n.leaf = true
	}
	out := attr.Item{}
	for name, n := range root.names {
		if v, ok := item[name]; ok {
			if pv, ok := projectValue(v, n); ok {
				out[name] = pv
			}
		}
	}
	return out
}

func projectValue(v attr.Value, n *projNode) (attr.Value, bool) {
	if n.leaf {
		return v, true
	}
	switch {
	case v.T == attr.M && n.names != nil:
		m := map[string]attr.Value{}
		for name, c := range n.names {
			if x, ok := v.Map[name]; ok {
				if px, ok := projectValue(x, c); ok {
					m[name] = px
				}
			}
		}
		if len(m) == 0 {
			return v, false
		}
		return attr.Value{T: attr.M, Map: m}, true
	case v.T == attr.L && n.indexes != nil:
		idx := make([]int, 0, len(n.indexes))
		for i := range n.indexes {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		var l []attr.Value
		for _, i := range idx {
			if i < len(v.List) {
				if px, ok := projectValue(v.List[i], n.indexes[i]); ok {
					l = append(l, px)
				}
			}
		}
		if len(l) == 0 {
			return v, false
		}
		return attr.Value{T: attr.L, List: l}, true
	}
	return v, false
}
