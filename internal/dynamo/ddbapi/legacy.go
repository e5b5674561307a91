package ddbapi

import (
	"context"
	"math"

	"skyhub/internal/dynamo"
	"skyhub/internal/dynamo/attr"
	"skyhub/internal/dynamo/expr"
)

// The 2011-12-05 API (boto 2's boto.dynamodb): keys are
// {"HashKeyElement":{...},"RangeKeyElement":{...}}, the key schema is an
// object, responses carry ConsumedCapacityUnits. It maps onto the same
// tables as the 2012-08-10 API.

type legacyKeyElem struct {
	AttributeName string
	AttributeType string
}

type legacyKeySchema struct {
	HashKeyElement  *legacyKeyElem
	RangeKeyElement *legacyKeyElem
}

type legacyKey struct {
	HashKeyElement  *attr.Value
	RangeKeyElement *attr.Value
}

func (h *Handler) lTableDesc(d dynamo.Description) map[string]any {
	ks := map[string]any{"HashKeyElement": map[string]string{"AttributeName": d.Hash.Name, "AttributeType": d.Hash.Type.String()}}
	if d.Range != nil {
		ks["RangeKeyElement"] = map[string]string{"AttributeName": d.Range.Name, "AttributeType": d.Range.Type.String()}
	}
	return map[string]any{
		"TableName": d.Name, "TableStatus": d.Status, "KeySchema": ks,
		"CreationDateTime": epoch(d), "TableSizeBytes": d.SizeBytes, "ItemCount": d.ItemCount,
		"ProvisionedThroughput": map[string]any{"ReadCapacityUnits": d.RCU, "WriteCapacityUnits": d.WCU},
	}
}

func (h *Handler) lCreateTable(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TableName             *string
		KeySchema             *legacyKeySchema
		ProvisionedThroughput *throughput
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	if req.KeySchema == nil || req.KeySchema.HashKeyElement == nil {
		return nil, required("keySchema")
	}
	if req.ProvisionedThroughput == nil || req.ProvisionedThroughput.ReadCapacityUnits == nil || req.ProvisionedThroughput.WriteCapacityUnits == nil {
		return nil, required("provisionedThroughput")
	}
	elem := func(e *legacyKeyElem) (dynamo.KeyElem, error) {
		t := attr.ParseType(e.AttributeType)
		if t != attr.S && t != attr.N && t != attr.B {
			return dynamo.KeyElem{}, validation("1 validation error detected: Value '" + e.AttributeType + "' at 'keySchema.hashKeyElement.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]")
		}
		return dynamo.KeyElem{Name: e.AttributeName, Type: t}, nil
	}
	hk, err := elem(req.KeySchema.HashKeyElement)
	if err != nil {
		return nil, err
	}
	in := dynamo.CreateInput{Name: *req.TableName, Hash: hk, AttrDefs: []dynamo.KeyElem{hk}, BillingMode: "PROVISIONED",
		RCU: *req.ProvisionedThroughput.ReadCapacityUnits, WCU: *req.ProvisionedThroughput.WriteCapacityUnits}
	if req.KeySchema.RangeKeyElement != nil {
		rk, err := elem(req.KeySchema.RangeKeyElement)
		if err != nil {
			return nil, err
		}
		in.Range = &rk
		in.AttrDefs = append(in.AttrDefs, rk)
	}
	d, err := h.svc.CreateTable(ctx, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": h.lTableDesc(d)}, nil
}

func (h *Handler) lDescribeTable(ctx context.Context, body []byte) (any, error) {
	name, err := h.tableName(body)
	if err != nil {
		return nil, err
	}
	d, err := h.svc.DescribeTable(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Table": h.lTableDesc(d)}, nil
}

func (h *Handler) lDeleteTable(ctx context.Context, body []byte) (any, error) {
	name, err := h.tableName(body)
	if err != nil {
		return nil, err
	}
	d, err := h.svc.DeleteTable(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": h.lTableDesc(d)}, nil
}

func (h *Handler) lListTables(ctx context.Context, body []byte) (any, error) {
	return h.listTables(ctx, body)
}

func (h *Handler) lUpdateTable(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TableName             *string
		ProvisionedThroughput *throughput
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	if req.ProvisionedThroughput == nil {
		return nil, required("provisionedThroughput")
	}
	d, err := h.svc.UpdateTable(ctx, dynamo.UpdateInput{Name: *req.TableName,
		RCU: req.ProvisionedThroughput.ReadCapacityUnits, WCU: req.ProvisionedThroughput.WriteCapacityUnits})
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": h.lTableDesc(d)}, nil
}

// keyFromLegacy converts a {HashKeyElement, RangeKeyElement} key.
func (h *Handler) keyFromLegacy(table string, k *legacyKey) (attr.Item, *dynamo.Table, error) {
	def, err := h.svc.Schema(table)
	if err != nil {
		return nil, nil, err
	}
	if k == nil || k.HashKeyElement == nil {
		return nil, nil, required("key.hashKeyElement")
	}
	key := attr.Item{def.Hash.Name: *k.HashKeyElement}
	if def.Range != nil {
		if k.RangeKeyElement == nil {
			return nil, nil, validation("One or more parameter values were invalid: Missing the key " + def.Range.Name + " in the item")
		}
		key[def.Range.Name] = *k.RangeKeyElement
	} else if k.RangeKeyElement != nil {
		return nil, nil, validation("The provided key element does not match the schema")
	}
	return key, def, nil
}

func legacyKeyOf(def *dynamo.Table, it attr.Item) map[string]attr.Value {
	k := map[string]attr.Value{"HashKeyElement": it[def.Hash.Name]}
	if def.Range != nil {
		k["RangeKeyElement"] = it[def.Range.Name]
	}
	return k
}

type legacyWrite struct {
	TableName    *string
	Expected     map[string]expectedAttr
	ReturnValues string
}

func (lw *legacyWrite) cond() (expr.Cond, error) {
	for n, e := range lw.Expected {
		if e.ComparisonOperator != "" {
			return nil, validation("One or more parameter values were invalid: ComparisonOperator is not supported in this API version for Attribute: " + n)
		}
	}
	return expectedCond(lw.Expected, "AND")
}

func (h *Handler) lPutItem(ctx context.Context, body []byte) (any, error) {
	var req struct {
		legacyWrite
		Item attr.Item
	}
	if err := decode(body, &req); err != nil {
		return nil, err
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
	cond, err := req.cond()
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Write(ctx, dynamo.WriteOp{Kind: dynamo.OpPut, Table: *req.TableName, Item: req.Item, Cond: cond})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ConsumedCapacityUnits": math.Max(writeUnits(req.Item), writeUnits(res.Old))}
	if req.ReturnValues == "ALL_OLD" && res.Old != nil {
		out["Attributes"] = res.Old
	}
	return out, nil
}

func (h *Handler) lGetItem(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TableName       *string
		Key             *legacyKey
		AttributesToGet []string
		ConsistentRead  bool
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	key, _, err := h.keyFromLegacy(*req.TableName, req.Key)
	if err != nil {
		return nil, err
	}
	proj, err := projectionOf(nil, req.AttributesToGet, nil)
	if err != nil {
		return nil, err
	}
	it, err := h.svc.GetItem(ctx, *req.TableName, key)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ConsumedCapacityUnits": readUnits(it.Size(), req.ConsistentRead)}
	if it != nil {
		out["Item"] = expr.Project(it, proj)
	}
	return out, nil
}

func (h *Handler) lDeleteItem(ctx context.Context, body []byte) (any, error) {
	var req struct {
		legacyWrite
		Key *legacyKey
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	if err := checkReturnValues(req.ReturnValues, "NONE", "ALL_OLD"); err != nil {
		return nil, err
	}
	key, _, err := h.keyFromLegacy(*req.TableName, req.Key)
	if err != nil {
		return nil, err
	}
	cond, err := req.cond()
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Write(ctx, dynamo.WriteOp{Kind: dynamo.OpDelete, Table: *req.TableName, Key: key, Cond: cond})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ConsumedCapacityUnits": writeUnits(res.Old)}
	if req.ReturnValues == "ALL_OLD" && res.Old != nil {
		out["Attributes"] = res.Old
	}
	return out, nil
}

func (h *Handler) lUpdateItem(ctx context.Context, body []byte) (any, error) {
	var req struct {
		legacyWrite
		Key              *legacyKey
		AttributeUpdates map[string]attrUpdate
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	if err := checkReturnValues(req.ReturnValues, "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"); err != nil {
		return nil, err
	}
	key, _, err := h.keyFromLegacy(*req.TableName, req.Key)
	if err != nil {
		return nil, err
	}
	upd, err := legacyUpdate(req.AttributeUpdates)
	if err != nil {
		return nil, err
	}
	cond, err := req.cond()
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Write(ctx, dynamo.WriteOp{Kind: dynamo.OpUpdate, Table: *req.TableName, Key: key, Update: upd, Cond: cond})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ConsumedCapacityUnits": math.Max(writeUnits(res.New), writeUnits(res.Old))}
	var ret attr.Item
	switch req.ReturnValues {
	case "ALL_OLD":
		ret = res.Old
	case "ALL_NEW":
		ret = res.New
	case "UPDATED_OLD":
		ret = expr.Project(res.Old, upd.Paths())
	case "UPDATED_NEW":
		ret = expr.Project(res.New, upd.Paths())
	}
	if len(ret) > 0 {
		out["Attributes"] = ret
	}
	return out, nil
}

func (h *Handler) lQuery(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TableName         *string
		HashKeyValue      *attr.Value
		RangeKeyCondition *condition
		AttributesToGet   []string
		Limit             int
		Count             bool
		ConsistentRead    bool
		ScanIndexForward  *bool
		ExclusiveStartKey *legacyKey
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	if req.HashKeyValue == nil {
		return nil, required("hashKeyValue")
	}
	def, err := h.svc.Schema(*req.TableName)
	if err != nil {
		return nil, err
	}
	if req.Count && req.AttributesToGet != nil {
		return nil, validation("Cannot specify the AttributesToGet when choosing to get only the Count")
	}
	var rc *dynamo.RangeCond
	if c := req.RangeKeyCondition; c != nil {
		if def.Range == nil {
			return nil, validation("Query RangeKeyCondition is not supported on a table without a range key")
		}
		ops := map[string]string{"EQ": "=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">=", "BETWEEN": "BETWEEN", "BEGINS_WITH": "BEGINS_WITH"}
		op, ok := ops[c.ComparisonOperator]
		if !ok {
			return nil, validation("Attempted conditional constraint is not an indexable operation")
		}
		want := 1
		if op == "BETWEEN" {
			want = 2
		}
		if len(c.AttributeValueList) != want {
			return nil, validation("The attempted filter operation is not supported for the provided filter argument count")
		}
		rc = &dynamo.RangeCond{Op: op, V: c.AttributeValueList[0], Column: def.Range.Name}
		if want == 2 {
			rc.V2 = c.AttributeValueList[1]
		}
	}
	var start attr.Item
	if req.ExclusiveStartKey != nil {
		if start, _, err = h.keyFromLegacy(*req.TableName, req.ExclusiveStartKey); err != nil {
			return nil, err
		}
	}
	proj, err := projectionOf(nil, req.AttributesToGet, nil)
	if err != nil {
		return nil, err
	}
	pg, err := h.svc.Query(ctx, dynamo.QueryInput{Table: *req.TableName, Hash: *req.HashKeyValue, Range: rc,
		Backward: req.ScanIndexForward != nil && !*req.ScanIndexForward, Limit: req.Limit, Start: start, Consistent: req.ConsistentRead})
	if err != nil {
		return nil, err
	}
	return legacyPage(def, pg, proj, req.Count, false, req.ConsistentRead), nil
}

func legacyPage(def *dynamo.Table, pg dynamo.Page, proj []expr.Path, count, scan, consistent bool) map[string]any {
	out := map[string]any{"Count": len(pg.Items), "ConsumedCapacityUnits": readUnits(pg.ReadBytes, consistent)}
	if scan {
		out["ScannedCount"] = pg.Scanned
	}
	if !count {
		items := make([]attr.Item, len(pg.Items))
		for i, it := range pg.Items {
			items[i] = expr.Project(it, proj)
		}
		out["Items"] = items
	}
	if pg.LastKey != nil {
		out["LastEvaluatedKey"] = legacyKeyOf(def, pg.LastKey)
	}
	return out
}

func (h *Handler) lScan(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TableName         *string
		ScanFilter        map[string]condition
		AttributesToGet   []string
		Limit             int
		Count             bool
		ExclusiveStartKey *legacyKey
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	def, err := h.svc.Schema(*req.TableName)
	if err != nil {
		return nil, err
	}
	filter, err := filterFromConditions(req.ScanFilter, "AND", "ScanFilter")
	if err != nil {
		return nil, err
	}
	var start attr.Item
	if req.ExclusiveStartKey != nil {
		if start, _, err = h.keyFromLegacy(*req.TableName, req.ExclusiveStartKey); err != nil {
			return nil, err
		}
	}
	proj, err := projectionOf(nil, req.AttributesToGet, nil)
	if err != nil {
		return nil, err
	}
	pg, err := h.svc.Scan(ctx, dynamo.ScanInput{Table: *req.TableName, Limit: req.Limit, Start: start, Filter: filter})
	if err != nil {
		return nil, err
	}
	return legacyPage(def, pg, proj, req.Count, true, false), nil
}

func (h *Handler) lBatchGet(ctx context.Context, body []byte) (any, error) {
	var req struct {
		RequestItems map[string]struct {
			Keys            []legacyKey
			AttributesToGet []string
			ConsistentRead  bool
		}
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.RequestItems == nil {
		return nil, required("requestItems")
	}
	n := 0
	for _, t := range req.RequestItems {
		n += len(t.Keys)
	}
	if n > 100 {
		return nil, validation("Too many items requested for the BatchGetItem call")
	}
	resp := map[string]any{}
	for _, table := range sortedKeys(req.RequestItems) {
		t := req.RequestItems[table]
		proj, err := projectionOf(nil, t.AttributesToGet, nil)
		if err != nil {
			return nil, err
		}
		items := []attr.Item{}
		units := 0.0
		for i := range t.Keys {
			key, _, err := h.keyFromLegacy(table, &t.Keys[i])
			if err != nil {
				return nil, err
			}
			it, err := h.svc.GetItem(ctx, table, key)
			if err != nil {
				return nil, err
			}
			units += readUnits(it.Size(), t.ConsistentRead)
			if it != nil {
				items = append(items, expr.Project(it, proj))
			}
		}
		resp[table] = map[string]any{"Items": items, "ConsumedCapacityUnits": units}
	}
	return map[string]any{"Responses": resp, "UnprocessedKeys": map[string]any{}}, nil
}

func (h *Handler) lBatchWrite(ctx context.Context, body []byte) (any, error) {
	var req struct {
		RequestItems map[string][]struct {
			PutRequest    *struct{ Item attr.Item }
			DeleteRequest *struct{ Key *legacyKey }
		}
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
	var ops []dynamo.WriteOp
	resp := map[string]any{}
	for _, table := range sortedKeys(req.RequestItems) {
		units := 0.0
		for _, wr := range req.RequestItems[table] {
			switch {
			case wr.PutRequest != nil:
				ops = append(ops, dynamo.WriteOp{Kind: dynamo.OpPut, Table: table, Item: wr.PutRequest.Item})
				units += writeUnits(wr.PutRequest.Item)
			case wr.DeleteRequest != nil:
				key, _, err := h.keyFromLegacy(table, wr.DeleteRequest.Key)
				if err != nil {
					return nil, err
				}
				ops = append(ops, dynamo.WriteOp{Kind: dynamo.OpDelete, Table: table, Key: key})
				units++
			default:
				return nil, validation("A write request must have a PutRequest or a DeleteRequest")
			}
		}
		resp[table] = map[string]any{"ConsumedCapacityUnits": units}
	}
	if err := h.writeAll(ctx, ops); err != nil {
		return nil, err
	}
	return map[string]any{"Responses": resp, "UnprocessedItems": map[string]any{}}, nil
}
