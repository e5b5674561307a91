package expr

import (
	"strconv"
	"strings"

	"skyhub/internal/dynamo/attr"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tName  // #name
	tValue // :value
	tNum   // digits (list index)
	tOp    // punctuation or comparator
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// maxExprLen is DynamoDB's limit on an expression's length.
const maxExprLen = 4096

func lex(kind, s string) ([]token, error) {
	toks := make([]token, 0, min(len(s)/3+2, 64))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j], i})
			i = j
		case c == '#' || c == ':':
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			if j == i+1 {
				return nil, errf("Invalid ", kind, ": Syntax error; token: \"", string(c), "\", near: \"", near(s, i, i+1), "\"")
			}
			k := tName
			if c == ':' {
				k = tValue
			}
			toks = append(toks, token{k, s[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			toks = append(toks, token{tNum, s[i:j], i})
			i = j
		case c == '<':
			if i+1 < len(s) && (s[i+1] == '=' || s[i+1] == '>') {
				toks = append(toks, token{tOp, s[i : i+2], i})
				i += 2
			} else {
				toks = append(toks, token{tOp, "<", i})
				i++
			}
		case c == '>':
			if i+1 < len(s) && s[i+1] == '=' {
				toks = append(toks, token{tOp, ">=", i})
				i += 2
			} else {
				toks = append(toks, token{tOp, ">", i})
				i++
			}
		case strings.IndexByte("=(),.[]+-", c) >= 0:
			toks = append(toks, token{tOp, string(c), i})
			i++
		default:
			r := string(c)
			if c >= 0x80 {
				r = s[i:min(i+4, len(s))]
				r = strings.ToValidUTF8(r, "")
				if r == "" {
					r = "?"
				}
			}
			return nil, errf("Invalid ", kind, ": Invalid character encountered; character: ", r)
		}
	}
	return toks, nil
}

func near(s string, from, to int) string {
	return s[max(0, from):min(len(s), to)]
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

type parser struct {
	kind string // "ConditionExpression", ...
	src  string
	toks []token
	i    int
	env  *Env
	// update expressions allow if_not_exists, list_append and + -
	update bool
	depth  int
}

func (p *parser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: tEOF, pos: len(p.src)}
}

func (p *parser) next() token {
	t := p.peek()
	if p.i < len(p.toks) {
		p.i++
	}
	return t
}

func (p *parser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == s
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) syntaxErr() error {
	t := p.peek()
	text := t.text
	if t.kind == tEOF {
		text = "<EOF>"
	}
	start := 0
	if p.i > 0 {
		start = p.toks[p.i-1].pos
	}
	end := len(p.src)
	if t.kind != tEOF {
		end = t.pos + len(t.text)
	}
	return errf("Invalid ", p.kind, ": Syntax error; token: \"", text, "\", near: \"", near(p.src, start, end), "\"")
}

func (p *parser) expectOp(s string) error {
	if !p.isOp(s) {
		return p.syntaxErr()
	}
	p.next()
	return nil
}

func newParser(kind, s string, env *Env) (*parser, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errf("Invalid ", kind, ": The expression can not be empty;")
	}
	if len(s) > maxExprLen {
		return nil, errf("Invalid ", kind, ": Expression size has exceeded the maximum allowed size; expression size: ", strconv.Itoa(len(s)))
	}
	toks, err := lex(kind, s)
	if err != nil {
		return nil, err
	}
	if env == nil {
		env = NewEnv(nil, nil)
	}
	return &parser{kind: kind, src: s, toks: toks, env: env}, nil
}

// ParseCondition parses a condition (kind names the parameter in errors:
// "ConditionExpression", "FilterExpression", "KeyConditionExpression").
func ParseCondition(kind, s string, env *Env) (Cond, error) {
	if c, ok := fastCondition(s, env); ok {
		return c, nil
	}
	return parseCondition(kind, s, env)
}

// parseCondition is the full parser behind ParseCondition.
func parseCondition(kind, s string, env *Env) (Cond, error) {
	p, err := newParser(kind, s, env)
	if err != nil {
		return nil, err
	}
	c, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tEOF {
		return nil, p.syntaxErr()
	}
	return c, nil
}

const maxDepth = 100

func (p *parser) parseOr() (Cond, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = Or{l, r}
	}
	return l, nil
}

func (p *parser) parseAnd() (Cond, error) {
	l, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		p.next()
		r, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		l = And{l, r}
	}
	return l, nil
}

func (p *parser) parseNot() (Cond, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errf("Invalid ", p.kind, ": The expression has too many levels of nesting")
	}
	if p.isKeyword("NOT") {
		p.next()
		c, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return Not{c}, nil
	}
	return p.parsePrimary()
}

var condFuncs = map[string]int{
	"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
	"begins_with": 2, "contains": 2,
}

func (p *parser) parsePrimary() (Cond, error) {
	if p.isOp("(") {
		p.next()
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return c, nil
	}
	t := p.peek()
	if t.kind == tIdent && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].text == "(" {
		name := t.text
		if n, ok := condFuncs[name]; ok {
			p.next()
			p.next()
			args, err := p.parseArgs()
			if err != nil {
				return nil, err
			}
			if len(args) != n {
				return nil, errf("Invalid ", p.kind, ": Incorrect number of operands for operator or function; operator or function: ", name, ", number of operands: ", strconv.Itoa(len(args)))
			}
			return p.checkFunc(Func{Name: name, Args: args})
		}
		if name != "size" {
			if name == "if_not_exists" || name == "list_append" {
				return nil, errf("Invalid ", p.kind, ": The function is not allowed to be used this way in an expression; function: ", name)
			}
			return nil, errf("Invalid ", p.kind, ": Invalid function name; function: ", name)
		}
	}
	l, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	t = p.peek()
	switch {
	case t.kind == tOp && (t.text == "=" || t.text == "<>" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
		p.next()
		r, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		return Compare{Op: t.text, L: l, R: r}, nil
	case p.isKeyword("BETWEEN"):
		p.next()
		lo, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		if !p.isKeyword("AND") {
			return nil, p.syntaxErr()
		}
		p.next()
		hi, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		lv, lok := lo.(ValueOperand)
		hv, hok := hi.(ValueOperand)
		if lok && hok {
			if c, ok := attr.Compare(lv.V, hv.V); ok && c > 0 {
				return nil, errf("Invalid ", p.kind, ": The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower operand: AttributeValue: {", lv.V.T.String(), ":", scalarText(lv.V), "}, upper operand: AttributeValue: {", hv.V.T.String(), ":", scalarText(hv.V), "}")
			}
		}
		return Between{V: l, Lo: lo, Hi: hi}, nil
	case p.isKeyword("IN"):
		p.next()
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		args, err := p.parseArgs()
		if err != nil {
			return nil, err
		}
		if len(args) > 100 {
			return nil, errf("Invalid ", p.kind, ": The IN operator is provided with too many operands; number of operands: ", strconv.Itoa(len(args)))
		}
		return In{V: l, List: args}, nil
	}
	if so, ok := l.(SizeOperand); ok && t.kind == tEOF {
		_ = so
		return nil, errf("Invalid ", p.kind, ": The function is not allowed to be used this way in an expression; function: size")
	}
	return nil, p.syntaxErr()
}

func scalarText(v attr.Value) string {
	if v.T == attr.B {
		return string(v.Bin)
	}
	return v.Str
}

func (p *parser) checkFunc(f Func) (Cond, error) {
	switch f.Name {
	case "attribute_exists", "attribute_not_exists":
		if _, ok := f.Args[0].(PathOperand); !ok {
			return nil, errf("Invalid ", p.kind, ": Operator or function requires a document path; operator or function: ", f.Name)
		}
	case "attribute_type":
		if _, ok := f.Args[0].(PathOperand); !ok {
			return nil, errf("Invalid ", p.kind, ": Operator or function requires a document path; operator or function: ", f.Name)
		}
		v, ok := f.Args[1].(ValueOperand)
		if !ok {
			return nil, errf("Invalid ", p.kind, ": Incorrect operand type for operator or function; operator or function: attribute_type, operand type: PATH")
		}
		if v.V.T != attr.S {
			return nil, errf("Invalid ", p.kind, ": Incorrect operand type for operator or function; operator or function: attribute_type, operand type: ", v.V.T.String())
		}
		if attr.ParseType(v.V.Str) == attr.Invalid {
			return nil, errf("Invalid ", p.kind, ": Invalid attribute type name found; type: ", v.V.Str, ", valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }")
		}
	case "begins_with":
		for _, a := range f.Args {
			if v, ok := a.(ValueOperand); ok && v.V.T != attr.S && v.V.T != attr.B {
				return nil, errf("Invalid ", p.kind, ": Incorrect operand type for operator or function; operator or function: begins_with, operand type: ", v.V.T.String())
			}
		}
	case "contains":
		if _, ok := f.Args[0].(PathOperand); !ok {
			if _, ok := f.Args[0].(ValueOperand); !ok {
				return nil, errf("Invalid ", p.kind, ": Incorrect operand type for operator or function; operator or function: contains")
			}
		}
	}
	return f, nil
}

// parseArgs parses "a, b, c)" (the opening paren already consumed).
func (p *parser) parseArgs() ([]Operand, error) {
	var args []Operand
	if p.isOp(")") {
		p.next()
		return args, nil
	}
	for {
		a, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.isOp(",") {
			p.next()
			continue
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return args, nil
	}
}

// parseOperand parses a path, a :value, size(path) or, in updates,
// if_not_exists/list_append and + / - arithmetic.
func (p *parser) parseOperand() (Operand, error) {
	l, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	if !p.update {
		return l, nil
	}
	for p.isOp("+") || p.isOp("-") {
		op := p.next().text[0]
		r, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		l = Arith{Op: op, A: l, B: r}
	}
	return l, nil
}

func (p *parser) parseTerm() (Operand, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errf("Invalid ", p.kind, ": The expression has too many levels of nesting")
	}
	t := p.peek()
	switch t.kind {
	case tValue:
		p.next()
		v, ok := p.env.Values[t.text]
		if !ok {
			return nil, errf("Invalid ", p.kind, ": An expression attribute value used in expression is not defined; attribute value: ", t.text)
		}
		p.env.useValue(t.text)
		return ValueOperand{Name: t.text, V: v}, nil
	case tIdent, tName:
		if t.kind == tIdent && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].text == "(" {
			return p.parseFuncOperand()
		}
		path, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		return PathOperand{Path: path}, nil
	case tOp:
		if t.text == "(" && p.update {
			p.next()
			o, err := p.parseOperand()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return o, nil
		}
	}
	return nil, p.syntaxErr()
}

func (p *parser) parseFuncOperand() (Operand, error) {
	name := p.next().text
	p.next() // (
	switch name {
	case "size":
		args, err := p.parseArgs()
		if err != nil {
			return nil, err
		}
		if len(args) != 1 {
			return nil, errf("Invalid ", p.kind, ": Incorrect number of operands for operator or function; operator or function: size, number of operands: ", strconv.Itoa(len(args)))
		}
		po, ok := args[0].(PathOperand)
		if !ok {
			return nil, errf("Invalid ", p.kind, ": Operator or function requires a document path; operator or function: size")
		}
		if p.update {
			return nil, errf("Invalid ", p.kind, ": The function is not allowed in an update expression; function: size")
		}
		return SizeOperand{Path: po.Path}, nil
	case "if_not_exists", "list_append":
		if !p.update {
			return nil, errf("Invalid ", p.kind, ": The function is not allowed to be used this way in an expression; function: ", name)
		}
		args, err := p.parseArgs()
		if err != nil {
			return nil, err
		}
		if len(args) != 2 {
			return nil, errf("Invalid ", p.kind, ": Incorrect number of operands for operator or function; operator or function: ", name, ", number of operands: ", strconv.Itoa(len(args)))
		}
		if name == "list_append" {
			return ListAppend{A: args[0], B: args[1]}, nil
		}
		po, ok := args[0].(PathOperand)
		if !ok {
			return nil, errf("Invalid ", p.kind, ": Operator or function requires a document path; operator or function: if_not_exists")
		}
		return IfNotExists{Path: po.Path, Default: args[1]}, nil
	}
	if _, ok := condFuncs[name]; ok {
		return nil, errf("Invalid ", p.kind, ": The function is not allowed to be used this way in an expression; function: ", name)
	}
	return nil, errf("Invalid ", p.kind, ": Invalid function name; function: ", name)
}

func (p *parser) pathName() (string, error) {
	t := p.next()
	switch t.kind {
	case tName:
		n, ok := p.env.Names[t.text]
		if !ok {
			return "", errf("Invalid ", p.kind, ": An expression attribute name used in the document path is not defined; attribute name: ", t.text)
		}
		p.env.useName(t.text)
		return n, nil
	case tIdent:
		if IsReserved(t.text) {
			return "", errf("Invalid ", p.kind, ": Attribute name is a reserved keyword; reserved keyword: ", t.text)
		}
		return t.text, nil
	}
	p.i--
	return "", p.syntaxErr()
}

func (p *parser) parsePath() (Path, error) {
	n, err := p.pathName()
	if err != nil {
		return nil, err
	}
	path := Path{{Name: n}}
	for {
		switch {
		case p.isOp("."):
			p.next()
			n, err := p.pathName()
			if err != nil {
				return nil, err
			}
			path = append(path, PathElem{Name: n})
		case p.isOp("["):
			p.next()
			t := p.peek()
			if t.kind != tNum {
				return nil, p.syntaxErr()
			}
			p.next()
			idx, err := strconv.Atoi(t.text)
			if err != nil || idx > 1<<20 {
				return nil, errf("Invalid ", p.kind, ": List index is too large; index: ", t.text)
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			path = append(path, PathElem{Index: idx, IsIndex: true})
		default:
			if len(path) > 32 {
				return nil, errf("Invalid ", p.kind, ": The document path has too many nesting levels; nesting levels: ", strconv.Itoa(len(path)))
			}
			return path, nil
		}
	}
}

// ParseProjection parses a ProjectionExpression: comma-separated paths.
func ParseProjection(s string, env *Env) ([]Path, error) {
	const kind = "ProjectionExpression"
	p, err := newParser(kind, s, env)
	if err != nil {
		return nil, err
	}
	var paths []Path
	for {
		path, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		paths = append(paths, path)
		if p.isOp(",") {
			p.next()
			continue
		}
		if p.peek().kind != tEOF {
			return nil, p.syntaxErr()
		}
		break
	}
	if err := checkOverlap(kind, paths); err != nil {
		return nil, err
	}
	return paths, nil
}

func checkOverlap(kind string, paths []Path) error {
	for i := range paths {
		for j := i + 1; j < len(paths); j++ {
			a, b := paths[i], paths[j]
			n := min(len(a), len(b))
			same := true
			for k := 0; k < n; k++ {
				if a[k] != b[k] {
					same = false
					break
				}
			}
			if same {
				return errf("Invalid ", kind, ": Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ", a.listString(), ", path two: ", b.listString())
			}
		}
	}
	return nil
}

// ParseUpdate parses an UpdateExpression.
func ParseUpdate(s string, env *Env) (*Update, error) {
	const kind = "UpdateExpression"
	p, err := newParser(kind, s, env)
	if err != nil {
		return nil, err
	}
	p.update = true
	u := &Update{}
	seen := map[int]bool{}
	for p.peek().kind != tEOF {
		t := p.peek()
		if t.kind != tIdent {
			return nil, p.syntaxErr()
		}
		var act int
		switch strings.ToUpper(t.text) {
		case "SET":
			act = ActSet
		case "REMOVE":
			act = ActRemove
		case "ADD":
			act = ActAdd
		case "DELETE":
			act = ActDelete
		default:
			return nil, p.syntaxErr()
		}
		if seen[act] {
			return nil, errf("Invalid ", kind, ": The \"", strings.ToUpper(t.text), "\" section can only be used once in an update expression;")
		}
		seen[act] = true
		p.next()
		for {
			path, err := p.parsePath()
			if err != nil {
				return nil, err
			}
			a := Action{Kind: act, Path: path}
			switch act {
			case ActSet:
				if err := p.expectOp("="); err != nil {
					return nil, err
				}
				v, err := p.parseOperand()
				if err != nil {
					return nil, err
				}
				a.Value = v
			case ActAdd, ActDelete:
				t := p.peek()
				if t.kind != tValue {
					return nil, p.syntaxErr()
				}
				v, err := p.parseTerm()
				if err != nil {
					return nil, err
				}
				a.Value = v
				vo := v.(ValueOperand)
				if act == ActAdd && vo.V.T != attr.N && vo.V.T != attr.SS && vo.V.T != attr.NS && vo.V.T != attr.BS {
					return nil, errf("Invalid ", kind, ": Incorrect operand type for operator or function; operator: ADD, operand type: ", vo.V.T.LongName())
				}
				if act == ActDelete && vo.V.T != attr.SS && vo.V.T != attr.NS && vo.V.T != attr.BS {
					return nil, errf("Invalid ", kind, ": Incorrect operand type for operator or function; operator: DELETE, operand type: ", vo.V.T.LongName())
				}
			}
			u.Actions = append(u.Actions, a)
			if p.isOp(",") {
				p.next()
				continue
			}
			break
		}
	}
	if err := checkOverlap(kind, u.Paths()); err != nil {
		return nil, err
	}
	return u, nil
}
