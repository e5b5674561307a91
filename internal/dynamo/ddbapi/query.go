package ddbapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"skyhub/internal/dynamo"
	"skyhub/internal/dynamo/attr"
	"skyhub/internal/dynamo/expr"
)

type readReq struct {
	TableName                 *string
	IndexName                 string
	Limit                     *int
	Select                    string
	ConsistentRead            bool
	ExclusiveStartKey         attr.Item
	ProjectionExpression      *string
	AttributesToGet           []string
	FilterExpression          *string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]attr.Value
	ReturnConsumedCapacity    string
	ConditionalOperator       string
}

type queryReq struct {
	readReq
	KeyConditionExpression *string
	KeyConditions          map[string]condition
	QueryFilter            map[string]condition
	ScanIndexForward       *bool
}

type scanReq struct {
	readReq
	ScanFilter    map[string]condition
	Segment       *int
	TotalSegments *int
}

func filterFromConditions(m map[string]condition, op, param string) (expr.Cond, error) {
	var out expr.Cond
	for _, n := range sortedKeys(m) {
		c, err := legacyCond(n, m[n].ComparisonOperator, m[n].AttributeValueList, param)
		if err != nil {
			return nil, err
		}
		out = combine(out, c, op)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// prepare validates what Query and Scan share; legacyFilter is QueryFilter
// or ScanFilter.
func (r *readReq) prepare(legacyFilter map[string]condition, legacyName string, haveKeyExpr bool) (*expr.Env, []expr.Path, expr.Cond, int, error) {
	if r.TableName == nil {
		return nil, nil, nil, 0, required("tableName")
	}
	limit := 0
	if r.Limit != nil {
		if *r.Limit < 1 {
			return nil, nil, nil, 0, validation("1 validation error detected: Value '" + strconv.Itoa(*r.Limit) + "' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
		}
		limit = *r.Limit
	}
	switch r.Select {
	case "", "ALL_ATTRIBUTES", "COUNT", "ALL_PROJECTED_ATTRIBUTES":
	case "SPECIFIC_ATTRIBUTES":
		if r.ProjectionExpression == nil && r.AttributesToGet == nil {
			return nil, nil, nil, 0, validation("One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or ProjectionExpression")
		}
	default:
		return nil, nil, nil, 0, validation("1 validation error detected: Value '" + r.Select + "' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]")
	}
	if (r.ProjectionExpression != nil || r.AttributesToGet != nil) && (r.Select == "ALL_ATTRIBUTES" || r.Select == "COUNT" || r.Select == "ALL_PROJECTED_ATTRIBUTES") {
		return nil, nil, nil, 0, validation("One or more parameter values were invalid: Cannot specify the AttributesToGet or ProjectionExpression when choosing to get " + r.Select)
	}
	if r.Select == "ALL_PROJECTED_ATTRIBUTES" && r.IndexName == "" {
		return nil, nil, nil, 0, validation("One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is not supported if no index is specified")
	}
	if !haveKeyExpr && r.FilterExpression == nil && r.ProjectionExpression == nil && r.ExpressionAttributeNames != nil {
		return nil, nil, nil, 0, validation("ExpressionAttributeNames can only be specified when using expressions")
	}
	if !haveKeyExpr && r.FilterExpression == nil && r.ExpressionAttributeValues != nil {
		what := "FilterExpression is null"
		if legacyName == "QueryFilter" {
			what = "FilterExpression and KeyConditionExpression are null"
		}
		return nil, nil, nil, 0, validation("ExpressionAttributeValues can only be specified when using expressions: " + what)
	}
	if r.FilterExpression != nil && legacyFilter != nil {
		return nil, nil, nil, 0, mixErr([]string{legacyName}, []string{"FilterExpression"})
	}
	env := expr.NewEnv(r.ExpressionAttributeNames, r.ExpressionAttributeValues)
	proj, err := projectionOf(r.ProjectionExpression, r.AttributesToGet, env)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	var filter expr.Cond
	if r.FilterExpression != nil {
		filter, err = expr.ParseCondition("FilterExpression", *r.FilterExpression, env)
	} else if legacyFilter != nil {
		filter, err = filterFromConditions(legacyFilter, r.ConditionalOperator, legacyName)
	}
	if err != nil {
		return nil, nil, nil, 0, err
	}
	return env, proj, filter, limit, nil
}

func (h *Handler) pageResponse(r *readReq, pg dynamo.Page, proj []expr.Path) *outBuf {
	o := newOut()
	b := append(o.b, `{"Count":`...)
	if pg.Raw != nil {
		b = strconv.AppendInt(b, int64(len(pg.Raw)), 10)
		if r.Select != "COUNT" {
			b = append(b, `,"Items":[`...)
			for i, raw := range pg.Raw {
				if i > 0 {
					b = append(b, ',')
				}
				b, _ = attr.AppendStoredJSON(b, raw)
			}
			b = append(b, ']')
		}
	} else {
		b = strconv.AppendInt(b, int64(len(pg.Items)), 10)
	}
	if pg.Raw == nil && r.Select != "COUNT" {
		b = append(b, `,"Items":[`...)
		for i, it := range pg.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = attr.AppendItemJSON(b, expr.Project(it, proj))
		}
		b = append(b, ']')
	}
	if pg.LastKey != nil {
		b = append(b, `,"LastEvaluatedKey":`...)
		b = attr.AppendItemJSON(b, pg.LastKey)
	}
	b = append(b, `,"ScannedCount":`...)
	b = strconv.AppendInt(b, int64(pg.Scanned), 10)
	b = appendCapacity(b, r.ReturnConsumedCapacity, *r.TableName, readUnits(pg.ReadBytes, r.ConsistentRead))
	o.b = append(b, '}')
	return o
}

func (h *Handler) query(ctx context.Context, body []byte) (any, error) {
	var req queryReq
	if !fastQueryReq(body, &req) {
		req = queryReq{}
		if err := decode(body, &req); err != nil {
			return nil, err
		}
	}
	if req.KeyConditionExpression != nil && req.KeyConditions != nil {
		return nil, mixErr([]string{"KeyConditions"}, []string{"KeyConditionExpression"})
	}
	env, proj, filter, limit, err := req.prepare(req.QueryFilter, "QueryFilter", req.KeyConditionExpression != nil)
	if err != nil {
		return nil, err
	}
	if req.QueryFilter != nil && req.KeyConditionExpression != nil {
		return nil, mixErr([]string{"QueryFilter"}, []string{"KeyConditionExpression"})
	}
	var hash attr.Value
	var rc *dynamo.RangeCond
	switch {
	case req.KeyConditionExpression != nil:
		kc, err := expr.ParseCondition("KeyConditionExpression", *req.KeyConditionExpression, env)
		if err != nil {
			return nil, err
		}
		if err := env.CheckUnused(); err != nil {
			return nil, err
		}
		hash, rc, err = h.svc.KeyCondition(*req.TableName, req.IndexName, kc)
		if err != nil {
			return nil, err
		}
	case req.KeyConditions != nil:
		var kc expr.Cond
		for _, n := range sortedKeys(req.KeyConditions) {
			c := req.KeyConditions[n]
			switch c.ComparisonOperator {
			case "EQ", "LE", "LT", "GE", "GT", "BEGINS_WITH", "BETWEEN":
			default:
				return nil, validation("One or more parameter values were invalid: Unsupported operator on KeyCondition: " + c.ComparisonOperator)
			}
			lc, err := legacyCond(n, c.ComparisonOperator, c.AttributeValueList, "KeyConditions")
			if err != nil {
				return nil, err
			}
			kc = combine(kc, lc, "AND")
		}
		if err := env.CheckUnused(); err != nil {
			return nil, err
		}
		hash, rc, err = h.svc.KeyCondition(*req.TableName, req.IndexName, kc)
		if err != nil {
			return nil, err
		}
	default:
		return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	if err := env.CheckUnused(); err != nil {
		return nil, err
	}
	backward := req.ScanIndexForward != nil && !*req.ScanIndexForward
	scratch := bufPool.Get().(*[]byte)
	defer putBuf(scratch)
	pg, err := h.svc.Query(ctx, dynamo.QueryInput{Table: *req.TableName, Index: req.IndexName, Hash: hash, Range: rc,
		Backward: backward, Limit: limit, Start: req.ExclusiveStartKey, Filter: filter, Consistent: req.ConsistentRead,
		Raw: proj == nil, Scratch: scratch})
	if err != nil {
		return nil, err
	}
	return h.pageResponse(&req.readReq, pg, proj), nil
}

func (h *Handler) scan(ctx context.Context, body []byte) (any, error) {
	var req scanReq
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	env, proj, filter, limit, err := req.prepare(req.ScanFilter, "ScanFilter", false)
	if err != nil {
		return nil, err
	}
	if err := env.CheckUnused(); err != nil {
		return nil, err
	}
	seg, total := 0, 0
	switch {
	case req.Segment != nil && req.TotalSegments == nil:
		return nil, validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	case req.Segment == nil && req.TotalSegments != nil:
		return nil, validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case req.Segment != nil:
		seg, total = *req.Segment, *req.TotalSegments
		if total < 1 || total > 1000000 {
			return nil, validation("1 validation error detected: Value '" + strconv.Itoa(total) + "' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000")
		}
		if seg < 0 || seg >= total {
			return nil, validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: " + strconv.Itoa(seg) + " is not less than TotalSegments: " + strconv.Itoa(total))
		}
	}
	pg, err := h.svc.Scan(ctx, dynamo.ScanInput{Table: *req.TableName, Index: req.IndexName, Limit: limit,
		Start: req.ExclusiveStartKey, Filter: filter, Segment: seg, Total: total, Consistent: req.ConsistentRead})
	if err != nil {
		return nil, err
	}
	return h.pageResponse(&req.readReq, pg, proj), nil
}

// ---- batch ----

type keysAndAttrs struct {
	Keys                     []attr.Item
	ProjectionExpression     *string
	AttributesToGet          []string
	ExpressionAttributeNames map[string]string
	ConsistentRead           bool
}

func (h *Handler) batchGet(ctx context.Context, body []byte) (any, error) {
	var req struct {
		RequestItems           map[string]keysAndAttrs
		ReturnConsumedCapacity string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.RequestItems == nil {
		return nil, required("requestItems")
	}
	n := 0
	for _, ka := range req.RequestItems {
		n += len(ka.Keys)
	}
	if n > 100 {
		return nil, validation("Too many items requested for the BatchGetItem call")
	}
	if n == 0 {
		return nil, validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	responses := map[string][]attr.Item{}
	var caps []map[string]any
	for _, table := range sortedKeys(req.RequestItems) {
		ka := req.RequestItems[table]
		env := expr.NewEnv(ka.ExpressionAttributeNames, nil)
		proj, err := projectionOf(ka.ProjectionExpression, ka.AttributesToGet, env)
		if err != nil {
			return nil, err
		}
		if err := env.CheckUnused(); err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		def, err := h.svc.Schema(table)
		if err != nil {
			return nil, err
		}
		items := []attr.Item{}
		units := 0.0
		for _, k := range ka.Keys {
			sig := string(attr.EncodeItem(nil, dynamo.KeyOf(def, k)))
			if seen[sig] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[sig] = true
			it, err := h.svc.GetItem(ctx, table, k)
			if err != nil {
				return nil, err
			}
			units += readUnits(it.Size(), ka.ConsistentRead)
			if it != nil {
				items = append(items, expr.Project(it, proj))
			}
		}
		responses[table] = items
		if req.ReturnConsumedCapacity == "TOTAL" || req.ReturnConsumedCapacity == "INDEXES" {
			caps = append(caps, map[string]any{"TableName": table, "CapacityUnits": units})
		}
	}
	out := map[string]any{"Responses": responses, "UnprocessedKeys": map[string]any{}}
	if caps != nil {
		out["ConsumedCapacity"] = caps
	}
	return out, nil
}

type writeRequest struct {
	PutRequest    *struct{ Item attr.Item }
	DeleteRequest *struct{ Key attr.Item }
}

func (h *Handler) batchWrite(ctx context.Context, body []byte) (any, error) {
	var req struct {
		RequestItems           map[string][]writeRequest
		ReturnConsumedCapacity string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.RequestItems == nil {
		return nil, required("requestItems")
	}
	n := 0
	for _, l := range req.RequestItems {
		n += len(l)
	}
	if n > 25 {
		return nil, validation("Too many items requested for the BatchWriteItem call")
	}
	if n == 0 {
		return nil, validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	// validate everything first (a bad request writes nothing), then write
	type job struct {
		op dynamo.WriteOp
	}
	var jobs []job
	for _, table := range sortedKeys(req.RequestItems) {
		def, err := h.svc.Schema(table)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, wr := range req.RequestItems[table] {
			var op dynamo.WriteOp
			var key attr.Item
			switch {
			case wr.PutRequest != nil && wr.DeleteRequest == nil:
				op = dynamo.WriteOp{Kind: dynamo.OpPut, Table: table, Item: wr.PutRequest.Item}
				key = dynamo.KeyOf(def, wr.PutRequest.Item)
			case wr.DeleteRequest != nil && wr.PutRequest == nil:
				op = dynamo.WriteOp{Kind: dynamo.OpDelete, Table: table, Key: wr.DeleteRequest.Key}
				key = wr.DeleteRequest.Key
			default:
				return nil, validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
			sig := string(attr.EncodeItem(nil, key))
			if seen[sig] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[sig] = true
			jobs = append(jobs, job{op})
		}
	}
	ops := make([]dynamo.WriteOp, len(jobs))
	for i, j := range jobs {
		ops[i] = j.op
	}
	if err := h.writeAll(ctx, ops); err != nil {
		return nil, err
	}
	out := map[string]any{"UnprocessedItems": map[string]any{}}
	if req.ReturnConsumedCapacity == "TOTAL" || req.ReturnConsumedCapacity == "INDEXES" {
		var caps []map[string]any
		for _, table := range sortedKeys(req.RequestItems) {
			caps = append(caps, map[string]any{"TableName": table, "CapacityUnits": float64(len(req.RequestItems[table]))})
		}
		out["ConsumedCapacity"] = caps
	}
	return out, nil
}

// ---- transactions ----

type txItem struct {
	ConditionCheck *struct {
		TableName *string
		Key       attr.Item
		exprReq
	}
	Put *struct {
		TableName *string
		Item      attr.Item
		exprReq
	}
	Delete *struct {
		TableName *string
		Key       attr.Item
		exprReq
	}
	Update *struct {
		TableName        *string
		Key              attr.Item
		UpdateExpression *string
		exprReq
	}
}

func (h *Handler) transactWrite(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TransactItems          []txItem
		ClientRequestToken     string
		ReturnConsumedCapacity string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TransactItems == nil {
		return nil, required("transactItems")
	}
	if len(req.TransactItems) > 100 || len(req.TransactItems) == 0 {
		return nil, validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	ops := make([]dynamo.WriteOp, 0, len(req.TransactItems))
	for _, ti := range req.TransactItems {
		var op dynamo.WriteOp
		var er *exprReq
		var table *string
		switch {
		case ti.Put != nil:
			op = dynamo.WriteOp{Kind: dynamo.OpPut, Item: ti.Put.Item}
			er, table = &ti.Put.exprReq, ti.Put.TableName
		case ti.Delete != nil:
			op = dynamo.WriteOp{Kind: dynamo.OpDelete, Key: ti.Delete.Key}
			er, table = &ti.Delete.exprReq, ti.Delete.TableName
		case ti.ConditionCheck != nil:
			op = dynamo.WriteOp{Kind: dynamo.OpCheck, Key: ti.ConditionCheck.Key}
			er, table = &ti.ConditionCheck.exprReq, ti.ConditionCheck.TableName
			if er.ConditionExpression == nil {
				return nil, required("transactItems.member.conditionCheck.conditionExpression")
			}
		case ti.Update != nil:
			op = dynamo.WriteOp{Kind: dynamo.OpUpdate, Key: ti.Update.Key}
			er, table = &ti.Update.exprReq, ti.Update.TableName
			if ti.Update.UpdateExpression == nil {
				return nil, required("transactItems.member.update.updateExpression")
			}
		default:
			return nil, validation("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		if table == nil {
			return nil, required("tableName")
		}
		op.Table = *table
		env, err := er.env(true, "")
		if err != nil {
			return nil, err
		}
		if ti.Update != nil {
			if op.Update, err = expr.ParseUpdate(*ti.Update.UpdateExpression, env); err != nil {
				return nil, err
			}
		}
		if er.ConditionExpression != nil {
			if op.Cond, err = expr.ParseCondition("ConditionExpression", *er.ConditionExpression, env); err != nil {
				return nil, err
			}
		}
		if err := env.CheckUnused(); err != nil {
			return nil, err
		}
		op.ReturnOldOnFail = er.ReturnValuesOnConditionCheckFailure == "ALL_OLD"
		ops = append(ops, op)
	}
	sum := sha256.Sum256(body)
	if err := h.svc.TransactWrite(ctx, ops, req.ClientRequestToken, hex.EncodeToString(sum[:])); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) transactGet(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TransactItems []struct {
			Get *struct {
				TableName                *string
				Key                      attr.Item
				ProjectionExpression     *string
				ExpressionAttributeNames map[string]string
			}
		}
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if len(req.TransactItems) == 0 || len(req.TransactItems) > 100 {
		return nil, validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	refs := make([]dynamo.GetRef, len(req.TransactItems))
	projs := make([][]expr.Path, len(req.TransactItems))
	for i, ti := range req.TransactItems {
		if ti.Get == nil || ti.Get.TableName == nil {
			return nil, required("transactItems.member.get")
		}
		env := expr.NewEnv(ti.Get.ExpressionAttributeNames, nil)
		p, err := projectionOf(ti.Get.ProjectionExpression, nil, env)
		if err != nil {
			return nil, err
		}
		if err := env.CheckUnused(); err != nil {
			return nil, err
		}
		projs[i] = p
		refs[i] = dynamo.GetRef{Table: *ti.Get.TableName, Key: ti.Get.Key}
	}
	items, err := h.svc.TransactGet(ctx, refs)
	if err != nil {
		return nil, err
	}
	resp := make([]map[string]any, len(items))
	for i, it := range items {
		resp[i] = map[string]any{}
		if it != nil {
			resp[i]["Item"] = expr.Project(it, projs[i])
		}
	}
	return map[string]any{"Responses": resp}, nil
}

// writeAll validates every write, then runs them concurrently so that they
// share fsyncs (a batch is not a transaction: each write is atomic alone).
func (h *Handler) writeAll(ctx context.Context, ops []dynamo.WriteOp) error {
	for _, op := range ops {
		if err := h.svc.CheckWrite(op); err != nil {
			return err
		}
	}
	errc := make(chan error, len(ops))
	for _, op := range ops {
		go func(op dynamo.WriteOp) {
			op.OldNotNeeded = true // the batch answers nothing about old items
			_, err := h.svc.Write(ctx, op)
			errc <- err
		}(op)
	}
	var first error
	for range ops {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}
