package ddbapi

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"

	"skyhub/internal/dynamo"
	"skyhub/internal/dynamo/attr"
	"skyhub/internal/dynamo/expr"
	"skyhub/internal/jsonx"
)

type expectedAttr struct {
	Value              *attr.Value
	Exists             *bool
	ComparisonOperator string
	AttributeValueList []attr.Value
}

type condition struct {
	ComparisonOperator string
	AttributeValueList []attr.Value
}

// exprReq holds the expression parameters shared by the item operations.
type exprReq struct {
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]attr.Value
	Expected                            map[string]expectedAttr
	ConditionalOperator                 string
	ReturnConsumedCapacity              string
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
}

// env returns the placeholder environment, checking that placeholders are
// only given with expressions; valExprs names the expressions that could
// have used the values ("ConditionExpression is null").
func (e *exprReq) env(haveExpr bool, valExprs string) (*expr.Env, error) {
	if !haveExpr {
		if e.ExpressionAttributeNames != nil {
			return nil, validation("ExpressionAttributeNames can only be specified when using expressions")
		}
		if e.ExpressionAttributeValues != nil {
			return nil, validation("ExpressionAttributeValues can only be specified when using expressions: " + valExprs)
		}
	}
	for k := range e.ExpressionAttributeValues {
		if !strings.HasPrefix(k, ":") || len(k) < 2 {
			return nil, validation("ExpressionAttributeValues contains invalid key: Syntax error; key: \"" + k + "\"")
		}
	}
	for k := range e.ExpressionAttributeNames {
		if !strings.HasPrefix(k, "#") || len(k) < 2 {
			return nil, validation("ExpressionAttributeNames contains invalid key: Syntax error; key: \"" + k + "\"")
		}
	}
	return expr.NewEnv(e.ExpressionAttributeNames, e.ExpressionAttributeValues), nil
}

func mixErr(nonExpr, exprs []string) error {
	return validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {" +
		strings.Join(nonExpr, ", ") + "} Expression parameters: {" + strings.Join(exprs, ", ") + "}")
}

// condition builds the write condition from ConditionExpression or Expected.
func (e *exprReq) condition(env *expr.Env) (expr.Cond, error) {
	if e.ConditionExpression != nil {
		if e.Expected != nil {
			return nil, mixErr([]string{"Expected"}, []string{"ConditionExpression"})
		}
		return expr.ParseCondition("ConditionExpression", *e.ConditionExpression, env)
	}
	return expectedCond(e.Expected, e.ConditionalOperator)
}

func expectedCond(exp map[string]expectedAttr, op string) (expr.Cond, error) {
	if len(exp) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(exp))
	for k := range exp {
		names = append(names, k)
	}
	sort.Strings(names)
	var out expr.Cond
	for _, n := range names {
		ea := exp[n]
		var c expr.Cond
		var err error
		switch {
		case ea.ComparisonOperator != "":
			if ea.Value != nil || ea.Exists != nil {
				return nil, validation("One or more parameter values were invalid: Exists and Value cannot be used with ComparisonOperator for Attribute: " + n)
			}
			c, err = legacyCond(n, ea.ComparisonOperator, ea.AttributeValueList, "Expected")
		case ea.Exists != nil && !*ea.Exists:
			if ea.Value != nil {
				return nil, validation("One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: " + n)
			}
			c = expr.Func{Name: "attribute_not_exists", Args: []expr.Operand{pathOf(n)}}
		default:
			if ea.Value == nil {
				return nil, validation("One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: " + n)
			}
			c = expr.Compare{Op: "=", L: pathOf(n), R: expr.ValueOperand{V: *ea.Value}}
		}
		if err != nil {
			return nil, err
		}
		out = combine(out, c, op)
	}
	return out, nil
}

func combine(a, b expr.Cond, op string) expr.Cond {
	if a == nil {
		return b
	}
	if op == "OR" {
		return expr.Or{L: a, R: b}
	}
	return expr.And{L: a, R: b}
}

func pathOf(n string) expr.PathOperand { return expr.PathOperand{Path: expr.Attr(n)} }

var argCounts = map[string][2]int{
	"EQ": {1, 1}, "NE": {1, 1}, "LE": {1, 1}, "LT": {1, 1}, "GE": {1, 1}, "GT": {1, 1},
	"NOT_NULL": {0, 0}, "NULL": {0, 0}, "CONTAINS": {1, 1}, "NOT_CONTAINS": {1, 1},
	"BEGINS_WITH": {1, 1}, "IN": {1, 100}, "BETWEEN": {2, 2},
}

// legacyCond converts a ComparisonOperator condition to an expression.
func legacyCond(name, op string, vals []attr.Value, param string) (expr.Cond, error) {
	n, ok := argCounts[op]
	if !ok {
		return nil, validation("1 validation error detected: Value '" + op + "' at '" + strings.ToLower(param[:1]) + param[1:] + "." + name + ".member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]")
	}
	if len(vals) < n[0] || len(vals) > n[1] {
		return nil, validation("One or more parameter values were invalid: Invalid number of argument(s) for the " + op + " ComparisonOperator")
	}
	p := pathOf(name)
	v := func(i int) expr.ValueOperand { return expr.ValueOperand{V: vals[i]} }
	for _, x := range vals {
		switch op {
		case "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH":
			if x.T != attr.S && x.T != attr.N && x.T != attr.B {
				return nil, validation("One or more parameter values were invalid: ComparisonOperator " + op + " is not valid for " + x.T.String() + " AttributeValue type")
			}
		}
	}
	switch op {
	case "EQ":
		return expr.Compare{Op: "=", L: p, R: v(0)}, nil
	case "NE":
		return expr.Compare{Op: "<>", L: p, R: v(0)}, nil
	case "LT":
		return expr.Compare{Op: "<", L: p, R: v(0)}, nil
	case "LE":
		return expr.Compare{Op: "<=", L: p, R: v(0)}, nil
	case "GT":
		return expr.Compare{Op: ">", L: p, R: v(0)}, nil
	case "GE":
		return expr.Compare{Op: ">=", L: p, R: v(0)}, nil
	case "NOT_NULL":
		return expr.Func{Name: "attribute_exists", Args: []expr.Operand{p}}, nil
	case "NULL":
		return expr.Func{Name: "attribute_not_exists", Args: []expr.Operand{p}}, nil
	case "CONTAINS":
		return expr.Func{Name: "contains", Args: []expr.Operand{p, v(0)}}, nil
	case "NOT_CONTAINS":
		return expr.And{L: expr.Func{Name: "attribute_exists", Args: []expr.Operand{p}},
			R: expr.Not{C: expr.Func{Name: "contains", Args: []expr.Operand{p, v(0)}}}}, nil
	case "BEGINS_WITH":
		return expr.Func{Name: "begins_with", Args: []expr.Operand{p, v(0)}}, nil
	case "IN":
		l := make([]expr.Operand, len(vals))
		for i := range vals {
			l[i] = v(i)
		}
		return expr.In{V: p, List: l}, nil
	case "BETWEEN":
		if c, ok := attr.Compare(vals[0], vals[1]); ok && c > 0 {
			return nil, validation("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
		}
		return expr.Between{V: p, Lo: v(0), Hi: v(1)}, nil
	}
	return nil, validation("unsupported ComparisonOperator " + op)
}

// projectionOf parses ProjectionExpression or AttributesToGet.
func projectionOf(pe *string, atg []string, env *expr.Env) ([]expr.Path, error) {
	if pe != nil {
		if atg != nil {
			return nil, mixErr([]string{"AttributesToGet"}, []string{"ProjectionExpression"})
		}
		return expr.ParseProjection(*pe, env)
	}
	if atg == nil {
		return nil, nil
	}
	seen := map[string]bool{}
	out := make([]expr.Path, 0, len(atg))
	for _, a := range atg {
		if seen[a] {
			return nil, validation("One or more parameter values were invalid: Duplicate value in attribute name: " + a)
		}
		seen[a] = true
		out = append(out, expr.Attr(a))
	}
	return out, nil
}

func writeUnits(it attr.Item) float64 {
	return math.Max(1, math.Ceil(float64(it.Size())/1024))
}

func readUnits(size int, consistent bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

// appendCapacity appends ,"ConsumedCapacity":{...} when asked.
func appendCapacity(b []byte, mode, table string, units float64) []byte {
	if mode != "TOTAL" && mode != "INDEXES" {
		return b
	}
	if len(b) > 1 {
		b = append(b, ',')
	}
	u := strconv.FormatFloat(units, 'f', -1, 64)
	b = append(b, `"ConsumedCapacity":{"CapacityUnits":`...)
	b = append(b, u...)
	if mode == "INDEXES" {
		b = append(b, `,"Table":{"CapacityUnits":`...)
		b = append(b, u...)
		b = append(b, '}')
	}
	b = append(b, `,"TableName":`...)
	b = jsonx.AppendStringNoHTML(b, table)
	return append(b, '}')
}

func checkReturnValues(rv string, allowed ...string) error {
	if rv == "" {
		return nil
	}
	for _, a := range allowed {
		if rv == a {
			return nil
		}
	}
	return validation("Return values set to invalid value")
}

type putReq struct {
	TableName *string
	Item      attr.Item
	exprReq
}

func (h *Handler) putItem(ctx context.Context, body []byte) (any, error) {
	var req putReq
	if !fastPutReq(body, &req) {
		req = putReq{}
		if err := decode(body, &req); err != nil {
			return nil, err
		}
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	if req.Item == nil {
		return nil, required("item")
	}
	if err := checkReturnValues(req.ReturnValues, "NONE", "ALL_OLD"); err != nil {
		return nil, err
	}
	env, err := req.env(req.ConditionExpression != nil, "ConditionExpression is null")
	if err != nil {
		return nil, err
	}
	cond, err := req.condition(env)
	if err != nil {
		return nil, err
	}
	if err := env.CheckUnused(); err != nil {
		return nil, err
	}
	wantCap := req.ReturnConsumedCapacity == "TOTAL" || req.ReturnConsumedCapacity == "INDEXES"
	res, err := h.svc.Write(ctx, dynamo.WriteOp{Kind: dynamo.OpPut, Table: *req.TableName, Item: req.Item, Cond: cond,
		ReturnOldOnFail: req.ReturnValuesOnConditionCheckFailure == "ALL_OLD",
		OldNotNeeded:    req.ReturnValues != "ALL_OLD" && !wantCap})
	if err != nil {
		return nil, err
	}
	b := []byte{'{'}
	if req.ReturnValues == "ALL_OLD" && res.Old != nil {
		b = append(b, `"Attributes":`...)
		b = attr.AppendItemJSON(b, res.Old)
	}
	b = appendCapacity(b, req.ReturnConsumedCapacity, *req.TableName, math.Max(writeUnits(req.Item), writeUnits(res.Old)))
	return append(b, '}'), nil
}

type keyReq struct {
	TableName *string
	Key       attr.Item
	exprReq
}

func (h *Handler) deleteItem(ctx context.Context, body []byte) (any, error) {
	var req keyReq
	if !fastKeyReq(body, &req) {
		req = keyReq{}
		if err := decode(body, &req); err != nil {
			return nil, err
		}
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	if req.Key == nil {
		return nil, required("key")
	}
	if err := checkReturnValues(req.ReturnValues, "NONE", "ALL_OLD"); err != nil {
		return nil, err
	}
	env, err := req.env(req.ConditionExpression != nil, "ConditionExpression is null")
	if err != nil {
		return nil, err
	}
	cond, err := req.condition(env)
	if err != nil {
		return nil, err
	}
	if err := env.CheckUnused(); err != nil {
		return nil, err
	}
	res, err := h.svc.Write(ctx, dynamo.WriteOp{Kind: dynamo.OpDelete, Table: *req.TableName, Key: req.Key, Cond: cond,
		ReturnOldOnFail: req.ReturnValuesOnConditionCheckFailure == "ALL_OLD"})
	if err != nil {
		return nil, err
	}
	b := []byte{'{'}
	if req.ReturnValues == "ALL_OLD" && res.Old != nil {
		b = append(b, `"Attributes":`...)
		b = attr.AppendItemJSON(b, res.Old)
	}
	b = appendCapacity(b, req.ReturnConsumedCapacity, *req.TableName, writeUnits(res.Old))
	return append(b, '}'), nil
}

type getReq struct {
	TableName                *string
	Key                      attr.Item
	ConsistentRead           bool
	ProjectionExpression     *string
	AttributesToGet          []string
	ExpressionAttributeNames map[string]string
	ReturnConsumedCapacity   string
}

func (h *Handler) getItem(ctx context.Context, body []byte) (any, error) {
	var req getReq
	if !fastGetReq(body, &req) {
		req = getReq{}
		if err := decode(body, &req); err != nil {
			return nil, err
		}
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	if req.Key == nil {
		return nil, required("key")
	}
	if req.ProjectionExpression == nil && req.ExpressionAttributeNames != nil {
		return nil, validation("ExpressionAttributeNames can only be specified when using expressions")
	}
	var proj []expr.Path
	if req.ProjectionExpression != nil || req.AttributesToGet != nil {
		env := expr.NewEnv(req.ExpressionAttributeNames, nil)
		var err error
		if proj, err = projectionOf(req.ProjectionExpression, req.AttributesToGet, env); err != nil {
			return nil, err
		}
		if err := env.CheckUnused(); err != nil {
			return nil, err
		}
	}
	o := newOut()
	b := append(o.b, '{')
	var size int
	if proj == nil && req.ReturnConsumedCapacity != "TOTAL" && req.ReturnConsumedCapacity != "INDEXES" {
		// fast path: render the stored form directly
		raw, err := h.svc.GetItemRaw(ctx, *req.TableName, req.Key)
		if err != nil {
			return nil, err
		}
		if raw != nil {
			b = append(b, `"Item":`...)
			if b, err = attr.AppendStoredJSON(b, raw); err != nil {
				return nil, err
			}
		}
	} else {
		it, err := h.svc.GetItem(ctx, *req.TableName, req.Key)
		if err != nil {
			return nil, err
		}
		if it != nil {
			b = append(b, `"Item":`...)
			b = attr.AppendItemJSON(b, expr.Project(it, proj))
		}
		size = it.Size()
	}
	b = appendCapacity(b, req.ReturnConsumedCapacity, *req.TableName, readUnits(size, req.ConsistentRead))
	o.b = append(b, '}')
	return o, nil
}

type attrUpdate struct {
	Value  *attr.Value
	Action string
}

type updateReq struct {
	TableName        *string
	Key              attr.Item
	UpdateExpression *string
	AttributeUpdates map[string]attrUpdate
	exprReq
}

// legacyUpdate converts AttributeUpdates to an update expression.
func legacyUpdate(au map[string]attrUpdate) (*expr.Update, error) {
	u := &expr.Update{}
	names := make([]string, 0, len(au))
	for k := range au {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		a := au[n]
		p := expr.Attr(n)
		switch a.Action {
		case "", "PUT":
			if a.Value == nil {
				return nil, validation("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
			}
			u.Actions = append(u.Actions, expr.Action{Kind: expr.ActSet, Path: p, Value: expr.ValueOperand{V: *a.Value}})
		case "DELETE":
			if a.Value == nil {
				u.Actions = append(u.Actions, expr.Action{Kind: expr.ActRemove, Path: p})
				continue
			}
			if a.Value.T != attr.SS && a.Value.T != attr.NS && a.Value.T != attr.BS {
				return nil, validation("One or more parameter values were invalid: DELETE action with value is not supported for the type " + a.Value.T.LongName())
			}
			u.Actions = append(u.Actions, expr.Action{Kind: expr.ActDelete, Path: p, Value: expr.ValueOperand{V: *a.Value}})
		case "ADD":
			if a.Value == nil {
				return nil, validation("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
			}
			switch a.Value.T {
			case attr.N, attr.SS, attr.NS, attr.BS:
			case attr.L:
				u.Actions = append(u.Actions, expr.Action{Kind: expr.ActSet, Path: p, Value: expr.ListAppend{
					A: expr.IfNotExists{Path: p, Default: expr.ValueOperand{V: attr.Value{T: attr.L, List: []attr.Value{}}}},
					B: expr.ValueOperand{V: *a.Value}}})
				continue
			default:
				return nil, validation("One or more parameter values were invalid: ADD action is not supported for the type " + a.Value.T.LongName())
			}
			u.Actions = append(u.Actions, expr.Action{Kind: expr.ActAdd, Path: p, Value: expr.ValueOperand{V: *a.Value}})
		default:
			return nil, validation("1 validation error detected: Value '" + a.Action + "' at 'attributeUpdates." + n + ".member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]")
		}
	}
	return u, nil
}

func (h *Handler) updateItem(ctx context.Context, body []byte) (any, error) {
	var req updateReq
	if !fastUpdateReq(body, &req) {
		req = updateReq{}
		if err := decode(body, &req); err != nil {
			return nil, err
		}
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	if req.Key == nil {
		return nil, required("key")
	}
	if err := checkReturnValues(req.ReturnValues, "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"); err != nil {
		return nil, err
	}
	haveExpr := req.UpdateExpression != nil || req.ConditionExpression != nil
	if req.UpdateExpression != nil && req.AttributeUpdates != nil {
		return nil, mixErr([]string{"AttributeUpdates"}, []string{"UpdateExpression"})
	}
	if req.ConditionExpression != nil && req.AttributeUpdates != nil {
		return nil, mixErr([]string{"AttributeUpdates"}, []string{"ConditionExpression"})
	}
	if req.UpdateExpression != nil && req.Expected != nil {
		return nil, mixErr([]string{"Expected"}, []string{"UpdateExpression"})
	}
	env, err := req.env(haveExpr, "UpdateExpression and ConditionExpression are null")
	if err != nil {
		return nil, err
	}
	var upd *expr.Update
	if req.UpdateExpression != nil {
		if upd, err = expr.ParseUpdate(*req.UpdateExpression, env); err != nil {
			return nil, err
		}
	} else if req.AttributeUpdates != nil {
		if upd, err = legacyUpdate(req.AttributeUpdates); err != nil {
			return nil, err
		}
	}
	cond, err := req.condition(env)
	if err != nil {
		return nil, err
	}
	if err := env.CheckUnused(); err != nil {
		return nil, err
	}
	res, err := h.svc.Write(ctx, dynamo.WriteOp{Kind: dynamo.OpUpdate, Table: *req.TableName, Key: req.Key, Update: upd, Cond: cond,
		ReturnOldOnFail: req.ReturnValuesOnConditionCheckFailure == "ALL_OLD"})
	if err != nil {
		return nil, err
	}
	var ret attr.Item
	switch req.ReturnValues {
	case "ALL_OLD":
		ret = res.Old
	case "ALL_NEW":
		ret = res.New
	case "UPDATED_OLD", "UPDATED_NEW":
		src := res.New
		if req.ReturnValues == "UPDATED_OLD" {
			src = res.Old
		}
		if upd != nil && src != nil {
			ret = expr.Project(src, upd.Paths())
		}
	}
	b := []byte{'{'}
	if len(ret) > 0 {
		b = append(b, `"Attributes":`...)
		b = attr.AppendItemJSON(b, ret)
	}
	b = appendCapacity(b, req.ReturnConsumedCapacity, *req.TableName, math.Max(writeUnits(res.New), writeUnits(res.Old)))
	return append(b, '}'), nil
}
