package ddbapi

import (
	"context"
	"errors"

	"encoding/base64"
	"encoding/json"
	"skyhub/internal/aws/awsproto"
	"strconv"
	"strings"

	"skyhub/internal/dynamo"
	"skyhub/internal/dynamo/attr"
	"skyhub/internal/dynamo/expr"
)

// A PartiQL subset: SELECT (projection, WHERE, table or "table"."index"),
// INSERT INTO ... VALUE {...}, UPDATE ... SET/REMOVE ... WHERE, DELETE FROM
// ... WHERE, with literals ('s', numbers, true/false/null, {maps}, [lists],
// <<sets>>) and ? parameters. WHERE clauses and SET values are translated
// into DynamoDB expressions with generated placeholders and run by the expr
// package, so they share its evaluation exactly.

type pqTok struct {
	kind byte // 'i' ident, 'q' quoted ident, 's' string, 'n' number, 'p' punct, '?' param
	text string
}

func pqErr(msg string) error {
	return validation("Statement wasn't well formed, can't be processed: " + msg)
}

func pqLex(s string) ([]pqTok, error) {
	var out []pqTok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(s) {
					return nil, pqErr("unterminated quoted text")
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			k := byte('s')
			if c == '"' {
				k = 'q'
			}
			out = append(out, pqTok{k, b.String()})
			i = j + 1
		case c == '?':
			out = append(out, pqTok{'?', "?"})
			i++
		case (c >= '0' && c <= '9') || (c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' && prevIsOp(out)):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				((s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			out = append(out, pqTok{'n', s[i:j]})
			i = j
		case isIdentByte(c):
			j := i + 1
			for j < len(s) && (isIdentByte(s[j]) || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			out = append(out, pqTok{'i', s[i:j]})
			i = j
		default:
			for _, p := range []string{"<<", ">>", "<>", "<=", ">=", "!="} {
				if strings.HasPrefix(s[i:], p) {
					out = append(out, pqTok{'p', p})
					i += 2
					goto next
				}
			}
			if strings.IndexByte("{}[](),:.=<>*+-", c) < 0 {
				return nil, pqErr("unexpected character " + strconv.QuoteRune(rune(c)))
			}
			out = append(out, pqTok{'p', string(c)})
			i++
		next:
		}
	}
	return out, nil
}

func prevIsOp(t []pqTok) bool {
	if len(t) == 0 {
		return true
	}
	l := t[len(t)-1]
	return l.kind == 'p' && l.text != ")" && l.text != "]" || l.kind == 'i' && isKeyword(l.text)
}

func isIdentByte(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

var pqKeywords = map[string]bool{"AND": true, "OR": true, "NOT": true, "BETWEEN": true, "IN": true,
	"WHERE": true, "SET": true, "REMOVE": true, "FROM": true, "SELECT": true, "VALUE": true, "INTO": true,
	"RETURNING": true, "IS": true, "MISSING": true}

func isKeyword(s string) bool { return pqKeywords[strings.ToUpper(s)] }

type pqParser struct {
	toks   []pqTok
	i      int
	params []attr.Value
	pi     int
	// translation state
	names  map[string]string
	values map[string]attr.Value
}

func (p *pqParser) peek() pqTok {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return pqTok{}
}

func (p *pqParser) kw(s string) bool {
	t := p.peek()
	return t.kind == 'i' && strings.EqualFold(t.text, s)
}

func (p *pqParser) punct(s string) bool {
	t := p.peek()
	return t.kind == 'p' && t.text == s
}

func (p *pqParser) expectKW(s string) error {
	if !p.kw(s) {
		return pqErr("expected " + s)
	}
	p.i++
	return nil
}

func (p *pqParser) tableRef() (string, string, error) {
	t := p.peek()
	if t.kind != 'q' && t.kind != 'i' {
		return "", "", pqErr("expected a table name")
	}
	p.i++
	table, index := t.text, ""
	if p.punct(".") {
		p.i++
		t := p.peek()
		if t.kind != 'q' && t.kind != 'i' {
			return "", "", pqErr("expected an index name")
		}
		p.i++
		index = t.text
	}
	return table, index, nil
}

// literal parses a value literal or ? parameter.
func (p *pqParser) literal() (attr.Value, error) {
	t := p.peek()
	p.i++
	switch t.kind {
	case 's':
		return attr.Str(t.text), nil
	case 'n':
		v, ok := attr.Num(t.text)
		if !ok {
			return attr.Value{}, pqErr("invalid number " + t.text)
		}
		return v, nil
	case '?':
		if p.pi >= len(p.params) {
			return attr.Value{}, validation("Number of parameters in request and statement don't match.")
		}
		v := p.params[p.pi]
		p.pi++
		return v, nil
	case 'i':
		switch strings.ToLower(t.text) {
		case "true", "false":
			return attr.Value{T: attr.BOOL, Bool: strings.EqualFold(t.text, "true")}, nil
		case "null":
			return attr.Value{T: attr.NULL}, nil
		}
	case 'p':
		switch t.text {
		case "{":
			m := map[string]attr.Value{}
			for !p.punct("}") {
				k := p.peek()
				if k.kind != 's' && k.kind != 'q' {
					return attr.Value{}, pqErr("expected a quoted map key")
				}
				p.i++
				if !p.punct(":") {
					return attr.Value{}, pqErr("expected ':'")
				}
				p.i++
				v, err := p.literal()
				if err != nil {
					return v, err
				}
				m[k.text] = v
				if p.punct(",") {
					p.i++
				} else if !p.punct("}") {
					return attr.Value{}, pqErr("expected ',' or '}'")
				}
			}
			p.i++
			return attr.Value{T: attr.M, Map: m}, nil
		case "[", "<<":
			end := "]"
			if t.text == "<<" {
				end = ">>"
			}
			var l []attr.Value
			for !p.punct(end) {
				if p.i >= len(p.toks) {
					return attr.Value{}, pqErr("unterminated collection")
				}
				v, err := p.literal()
				if err != nil {
					return v, err
				}
				l = append(l, v)
				if p.punct(",") {
					p.i++
				} else if !p.punct(end) {
					return attr.Value{}, pqErr("expected ',' or '" + end + "'")
				}
			}
			p.i++
			if end == "]" {
				return attr.Value{T: attr.L, List: append([]attr.Value{}, l...)}, nil
			}
			return setOf(l)
		}
	}
	return attr.Value{}, pqErr("unexpected token " + strconv.Quote(t.text))
}

func setOf(l []attr.Value) (attr.Value, error) {
	if len(l) == 0 {
		return attr.Value{}, pqErr("empty set")
	}
	v := attr.Value{}
	for _, e := range l {
		switch e.T {
		case attr.S:
			v.T = attr.SS
			v.Strs = append(v.Strs, e.Str)
		case attr.N:
			v.T = attr.NS
			v.Strs = append(v.Strs, e.Str)
		case attr.B:
			v.T = attr.BS
			v.Bins = append(v.Bins, e.Bin)
		default:
			return attr.Value{}, pqErr("sets hold strings, numbers or binaries")
		}
	}
	return v, nil
}

func (p *pqParser) name(n string) string {
	for k, v := range p.names {
		if v == n {
			return k
		}
	}
	k := "#p" + strconv.Itoa(len(p.names))
	p.names[k] = n
	return k
}

func (p *pqParser) value(v attr.Value) string {
	k := ":v" + strconv.Itoa(len(p.values))
	p.values[k] = v
	return k
}

// translate turns the tokens up to a stop keyword into expression text.
func (p *pqParser) translate(stop ...string) (string, error) {
	var b strings.Builder
	inDepth := 0
	for p.i < len(p.toks) {
		t := p.peek()
		for _, s := range stop {
			if p.kw(s) || p.punct(s) && s == "," && inDepth == 0 {
				return b.String(), nil
			}
		}
		b.WriteByte(' ')
		switch {
		case t.kind == 'i' && isKeyword(t.text):
			if strings.EqualFold(t.text, "IS") {
				// a IS [NOT] MISSING -> attribute_(not_)exists(a)
				return "", pqErr("IS MISSING is not supported")
			}
			b.WriteString(strings.ToUpper(t.text))
			p.i++
			if strings.EqualFold(t.text, "IN") && p.punct("[") {
				p.i++
				b.WriteString(" (")
				first := true
				for !p.punct("]") {
					if p.i >= len(p.toks) {
						return "", pqErr("unterminated IN list")
					}
					v, err := p.literal()
					if err != nil {
						return "", err
					}
					if !first {
						b.WriteString(", ")
					}
					first = false
					b.WriteString(p.value(v))
					if p.punct(",") {
						p.i++
					}
				}
				p.i++
				b.WriteString(")")
			}
		case t.kind == 'i' && p.i+1 < len(p.toks) && p.toks[p.i+1].text == "(" && p.toks[p.i+1].kind == 'p':
			b.WriteString(strings.ToLower(t.text))
			p.i++
		case t.kind == 'i' && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false") || strings.EqualFold(t.text, "null")):
			v, err := p.literal()
			if err != nil {
				return "", err
			}
			b.WriteString(p.value(v))
		case t.kind == 'i' || t.kind == 'q':
			p.i++
			b.WriteString(p.name(t.text))
			for {
				if p.punct(".") {
					p.i++
					n := p.peek()
					if n.kind != 'i' && n.kind != 'q' {
						return "", pqErr("expected a name after '.'")
					}
					p.i++
					b.WriteString("." + p.name(n.text))
				} else if p.punct("[") && p.i+2 < len(p.toks) && p.toks[p.i+1].kind == 'n' {
					b.WriteString("[" + p.toks[p.i+1].text + "]")
					p.i += 3
				} else {
					break
				}
			}
		case t.kind == 's' || t.kind == 'n' || t.kind == '?' || (t.kind == 'p' && (t.text == "{" || t.text == "[" || t.text == "<<")):
			v, err := p.literal()
			if err != nil {
				return "", err
			}
			b.WriteString(p.value(v))
		case t.kind == 'p':
			switch t.text {
			case "(":
				inDepth++
			case ")":
				inDepth--
			case "!=":
				t.text = "<>"
			}
			b.WriteString(t.text)
			p.i++
		default:
			return "", pqErr("unexpected token")
		}
	}
	return b.String(), nil
}

type stmt struct {
	verb         string
	table, index string
	proj         []expr.Path
	where        expr.Cond
	item         attr.Item
	update       *expr.Update
	updateText   string
	whereText    string
}

func parseStatement(s string, params []attr.Value) (*stmt, error) {
	toks, err := pqLex(s)
	if err != nil {
		return nil, err
	}
	p := &pqParser{toks: toks, params: params, names: map[string]string{}, values: map[string]attr.Value{}}
	st := &stmt{}
	env := func() *expr.Env { return expr.NewEnv(p.names, p.values) }
	switch {
	case p.kw("SELECT"):
		st.verb = "SELECT"
		p.i++
		var projText string
		if p.punct("*") {
			p.i++
		} else {
			if projText, err = p.translate("FROM"); err != nil {
				return nil, err
			}
		}
		if err := p.expectKW("FROM"); err != nil {
			return nil, err
		}
		if st.table, st.index, err = p.tableRef(); err != nil {
			return nil, err
		}
		if projText != "" {
			if st.proj, err = expr.ParseProjection(projText, env()); err != nil {
				return nil, err
			}
		}
	case p.kw("INSERT"):
		st.verb = "INSERT"
		p.i++
		if err := p.expectKW("INTO"); err != nil {
			return nil, err
		}
		if st.table, _, err = p.tableRef(); err != nil {
			return nil, err
		}
		if err := p.expectKW("VALUE"); err != nil {
			return nil, err
		}
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		if v.T != attr.M {
			return nil, pqErr("INSERT expects a map value")
		}
		st.item = attr.Item(v.Map)
	case p.kw("UPDATE"):
		st.verb = "UPDATE"
		p.i++
		if st.table, _, err = p.tableRef(); err != nil {
			return nil, err
		}
		var sets, removes []string
		for p.kw("SET") || p.kw("REMOVE") {
			isSet := p.kw("SET")
			p.i++
			for {
				part, err := p.translate("SET", "REMOVE", "WHERE", ",")
				if err != nil {
					return nil, err
				}
				if isSet {
					sets = append(sets, part)
				} else {
					removes = append(removes, part)
				}
				if p.punct(",") {
					p.i++
					continue
				}
				break
			}
		}
		if sets == nil && removes == nil {
			return nil, pqErr("UPDATE needs SET or REMOVE")
		}
		u := ""
		if sets != nil {
			u += "SET " + strings.Join(sets, ", ")
		}
		if removes != nil {
			u += " REMOVE " + strings.Join(removes, ", ")
		}
		st.updateText = u
	case p.kw("DELETE"):
		st.verb = "DELETE"
		p.i++
		if err := p.expectKW("FROM"); err != nil {
			return nil, err
		}
		if st.table, _, err = p.tableRef(); err != nil {
			return nil, err
		}
	default:
		return nil, pqErr("expected SELECT, INSERT, UPDATE or DELETE")
	}
	if p.kw("WHERE") {
		if st.verb == "INSERT" {
			return nil, pqErr("INSERT takes no WHERE clause")
		}
		p.i++
		w, err := p.translate("RETURNING")
		if err != nil {
			return nil, err
		}
		st.whereText = w
	}
	if p.kw("RETURNING") {
		return nil, validation("RETURNING is not supported")
	}
	if p.i != len(p.toks) {
		return nil, pqErr("unexpected text after the statement")
	}
	if p.pi != len(params) {
		return nil, validation("Number of parameters in request and statement don't match.")
	}
	e := env()
	if st.updateText != "" {
		if st.update, err = expr.ParseUpdate(st.updateText, e); err != nil {
			return nil, err
		}
	}
	if st.whereText != "" {
		if st.where, err = expr.ParseCondition("WHERE clause", st.whereText, e); err != nil {
			return nil, err
		}
	}
	if (st.verb == "UPDATE" || st.verb == "DELETE") && st.where == nil {
		return nil, validation("Where clause does not contain a mandatory equality on all key attributes")
	}
	return st, nil
}

// keyEqualities collects "attr = value" terms of the top-level AND chain.
func keyEqualities(c expr.Cond, out map[string]attr.Value) {
	switch c := c.(type) {
	case expr.And:
		keyEqualities(c.L, out)
		keyEqualities(c.R, out)
	case expr.Compare:
		if c.Op != "=" {
			return
		}
		po, ok1 := c.L.(expr.PathOperand)
		vo, ok2 := c.R.(expr.ValueOperand)
		if !ok1 || !ok2 {
			po, ok1 = c.R.(expr.PathOperand)
			vo, ok2 = c.L.(expr.ValueOperand)
		}
		if ok1 && ok2 && len(po.Path) == 1 && !po.Path[0].IsIndex {
			out[po.Path[0].Name] = vo.V
		}
	}
}

func (h *Handler) fullKey(st *stmt) (attr.Item, error) {
	def, err := h.svc.Schema(st.table)
	if err != nil {
		return nil, err
	}
	eq := map[string]attr.Value{}
	keyEqualities(st.where, eq)
	key := attr.Item{}
	for _, k := range []*dynamo.KeyElem{&def.Hash, def.Range} {
		if k == nil {
			continue
		}
		v, ok := eq[k.Name]
		if !ok {
			return nil, validation("Where clause does not contain a mandatory equality on all key attributes")
		}
		key[k.Name] = v
	}
	return key, nil
}

// writeOp converts an INSERT, UPDATE or DELETE statement.
func (h *Handler) writeOp(st *stmt) (dynamo.WriteOp, error) {
	switch st.verb {
	case "INSERT":
		def, err := h.svc.Schema(st.table)
		if err != nil {
			return dynamo.WriteOp{}, err
		}
		return dynamo.WriteOp{Kind: dynamo.OpPut, Table: st.table, Item: st.item,
			Cond: expr.Func{Name: "attribute_not_exists", Args: []expr.Operand{expr.PathOperand{Path: expr.Attr(def.Hash.Name)}}}}, nil
	case "UPDATE", "DELETE":
		key, err := h.fullKey(st)
		if err != nil {
			return dynamo.WriteOp{}, err
		}
		kind := dynamo.OpDelete
		if st.verb == "UPDATE" {
			kind = dynamo.OpUpdate
		}
		return dynamo.WriteOp{Kind: kind, Table: st.table, Key: key, Update: st.update, Cond: st.where}, nil
	}
	return dynamo.WriteOp{}, validation("Only INSERT, UPDATE and DELETE statements are allowed here")
}

var errNoWhere = errors.New("no WHERE clause")

func pqWriteErr(st *stmt, err error) error {
	var ce *dynamo.CondFailedError
	if st.verb == "INSERT" && errors.As(err, &ce) {
		return &apiError{aws: &awsproto.Error{Code: "DuplicateItemException", Message: "Duplicate primary key exists in table"}, ns: nsV2}
	}
	return err
}

func (h *Handler) runSelect(ctx context.Context, st *stmt, limit int, next string) ([]attr.Item, string, error) {
	var start attr.Item
	if next != "" {
		raw, err := base64.RawURLEncoding.DecodeString(next)
		if err == nil {
			err = json.Unmarshal(raw, &start)
		}
		if err != nil {
			return nil, "", validation("Invalid NextToken")
		}
	}
	var pg dynamo.Page
	var err error
	var hash attr.Value
	var rc *dynamo.RangeCond
	var kerr error = errNoWhere
	if st.where != nil {
		hash, rc, kerr = h.svc.KeyCondition(st.table, st.index, st.where)
	}
	if st.where != nil && kerr == nil {
		pg, err = h.svc.Query(ctx, dynamo.QueryInput{Table: st.table, Index: st.index, Hash: hash, Range: rc, Limit: limit, Start: start})
	} else {
		pg, err = h.svc.Scan(ctx, dynamo.ScanInput{Table: st.table, Index: st.index, Limit: limit, Start: start, Filter: st.where})
	}
	if err != nil {
		return nil, "", err
	}
	items := make([]attr.Item, len(pg.Items))
	for i, it := range pg.Items {
		items[i] = expr.Project(it, st.proj)
	}
	tok := ""
	if pg.LastKey != nil {
		b, _ := pg.LastKey.MarshalJSON()
		tok = base64.RawURLEncoding.EncodeToString(b)
	}
	return items, tok, nil
}

func (h *Handler) executeStatement(ctx context.Context, body []byte) (any, error) {
	var req struct {
		Statement  *string
		Parameters []attr.Value
		Limit      int
		NextToken  string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.Statement == nil {
		return nil, required("statement")
	}
	st, err := parseStatement(*req.Statement, req.Parameters)
	if err != nil {
		return nil, err
	}
	if st.verb == "SELECT" {
		items, next, err := h.runSelect(ctx, st, req.Limit, req.NextToken)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"Items": items}
		if next != "" {
			out["NextToken"] = next
		}
		return out, nil
	}
	op, err := h.writeOp(st)
	if err != nil {
		return nil, err
	}
	if _, err := h.svc.Write(ctx, op); err != nil {
		return nil, pqWriteErr(st, err)
	}
	return map[string]any{"Items": []attr.Item{}}, nil
}

func (h *Handler) batchExecuteStatement(ctx context.Context, body []byte) (any, error) {
	var req struct {
		Statements []struct {
			Statement  *string
			Parameters []attr.Value
		}
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if len(req.Statements) == 0 || len(req.Statements) > 25 {
		return nil, validation("1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length less than or equal to 25")
	}
	out := make([]map[string]any, len(req.Statements))
	for i, s := range req.Statements {
		r := map[string]any{}
		out[i] = r
		if s.Statement == nil {
			return nil, required("statements.member.statement")
		}
		st, err := parseStatement(*s.Statement, s.Parameters)
		if err == nil {
			r["TableName"] = st.table
			if st.verb == "SELECT" {
				var key attr.Item
				if key, err = h.fullKey(st); err == nil {
					var it attr.Item
					if it, err = h.svc.GetItem(ctx, st.table, key); err == nil && it != nil && expr.Eval(st.where, it) {
						r["Item"] = expr.Project(it, st.proj)
					}
				}
			} else {
				var op dynamo.WriteOp
				if op, err = h.writeOp(st); err == nil {
					_, err = h.svc.Write(ctx, op)
					err = pqWriteErr(st, err)
				}
			}
		}
		if err != nil {
			ae := h.toAPIError(err, false)
			code := strings.TrimSuffix(ae.aws.Code, "Exception")
			if code == "ConditionalCheckFailed" || code == "DuplicateItem" || code == "Validation" || code == "ResourceNotFound" {
				r["Error"] = map[string]any{"Code": code, "Message": ae.aws.Message}
				continue
			}
			return nil, err
		}
	}
	return map[string]any{"Responses": out}, nil
}

func (h *Handler) executeTransaction(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TransactStatements []struct {
			Statement  *string
			Parameters []attr.Value
		}
		ClientRequestToken string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if len(req.TransactStatements) == 0 || len(req.TransactStatements) > 100 {
		return nil, validation("1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	var stmts []*stmt
	reads := 0
	for _, s := range req.TransactStatements {
		if s.Statement == nil {
			return nil, required("transactStatements.member.statement")
		}
		st, err := parseStatement(*s.Statement, s.Parameters)
		if err != nil {
			return nil, err
		}
		if st.verb == "SELECT" {
			reads++
		}
		stmts = append(stmts, st)
	}
	if reads > 0 && reads != len(stmts) {
		return nil, validation("Transaction must contain either all reads or all writes")
	}
	if reads > 0 {
		refs := make([]dynamo.GetRef, len(stmts))
		for i, st := range stmts {
			key, err := h.fullKey(st)
			if err != nil {
				return nil, err
			}
			refs[i] = dynamo.GetRef{Table: st.table, Key: key}
		}
		items, err := h.svc.TransactGet(ctx, refs)
		if err != nil {
			return nil, err
		}
		resp := make([]map[string]any, len(items))
		for i, it := range items {
			resp[i] = map[string]any{}
			if it != nil && expr.Eval(stmts[i].where, it) {
				resp[i]["Item"] = expr.Project(it, stmts[i].proj)
			}
		}
		return map[string]any{"Responses": resp}, nil
	}
	ops := make([]dynamo.WriteOp, len(stmts))
	for i, st := range stmts {
		op, err := h.writeOp(st)
		if err != nil {
			return nil, err
		}
		ops[i] = op
	}
	if err := h.svc.TransactWrite(ctx, ops, req.ClientRequestToken, string(body)); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}
