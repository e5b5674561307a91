package expr

import "strings"

// fastCondition parses the commonest condition shapes, one comparison of an
// attribute (name or #placeholder) with a :value, or two of them joined by
// AND ("pk = :p", "pk = :p AND sk > :s"), straight from the text. It gives
// exactly the parser's result and marks the same placeholders used; on
// anything else (other shapes, reserved words, undefined placeholders, which
// the parser reports) it returns ok=false and ParseCondition parses the
// expression in full. FuzzFastCondition holds it to the parser.
func fastCondition(s string, env *Env) (Cond, bool) {
	if len(s) > maxExprLen || env == nil {
		return nil, false
	}
	i := 0
	c1, ok := fastCompare(s, &i, env)
	if !ok {
		return nil, false
	}
	fastWS(s, &i)
	if i == len(s) {
		c1.use(env)
		return c1.cond(), true
	}
	// AND, as a whole identifier token
	j := i
	for j < len(s) && isIdentChar(s[j]) {
		j++
	}
	if !strings.EqualFold(s[i:j], "AND") {
		return nil, false
	}
	i = j
	c2, ok := fastCompare(s, &i, env)
	if !ok {
		return nil, false
	}
	fastWS(s, &i)
	if i != len(s) {
		return nil, false
	}
	c1.use(env)
	c2.use(env)
	return And{L: c1.cond(), R: c2.cond()}, true
}

type fastCmp struct {
	op, name, attr, value string // name: the #placeholder, if any
	v                     ValueOperand
}

func (c *fastCmp) cond() Cond {
	return Compare{Op: c.op, L: PathOperand{Path: Path{{Name: c.attr}}}, R: c.v}
}

func (c *fastCmp) use(env *Env) {
	if c.name != "" {
		env.useName(c.name)
	}
	env.useValue(c.value)
}

func fastWS(s string, i *int) {
	for *i < len(s) && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r') {
		*i++
	}
}

// fastCompare reads "<attr> <op> :value" at s[*i:].
func fastCompare(s string, i *int, env *Env) (fastCmp, bool) {
	var c fastCmp
	fastWS(s, i)
	start := *i
	if start >= len(s) {
		return c, false
	}
	switch {
	case s[start] == '#':
		j := start + 1
		for j < len(s) && isIdentChar(s[j]) {
			j++
		}
		if j == start+1 {
			return c, false
		}
		c.name = s[start:j]
		n, ok := env.Names[c.name]
		if !ok {
			return c, false
		}
		c.attr = n
		*i = j
	case isIdentStart(s[start]):
		j := start + 1
		for j < len(s) && isIdentChar(s[j]) {
			j++
		}
		c.attr = s[start:j]
		if IsReserved(c.attr) {
			return c, false
		}
		*i = j
	default:
		return c, false
	}
	fastWS(s, i)
	if *i >= len(s) {
		return c, false
	}
	switch s[*i] {
	case '=':
		c.op = "="
		*i++
	case '<':
		c.op = "<"
		*i++
		if *i < len(s) && s[*i] == '=' {
			c.op = "<="
			*i++
		} else if *i < len(s) && s[*i] == '>' {
			c.op = "<>"
			*i++
		}
	case '>':
		c.op = ">"
		*i++
		if *i < len(s) && s[*i] == '=' {
			c.op = ">="
			*i++
		}
	default:
		return c, false
	}
	fastWS(s, i)
	start = *i
	if start >= len(s) || s[start] != ':' {
		return c, false
	}
	j := start + 1
	for j < len(s) && isIdentChar(s[j]) {
		j++
	}
	if j == start+1 {
		return c, false
	}
	c.value = s[start:j]
	v, ok := env.Values[c.value]
	if !ok {
		return c, false
	}
	c.v = ValueOperand{Name: c.value, V: v}
	*i = j
	return c, true
}
