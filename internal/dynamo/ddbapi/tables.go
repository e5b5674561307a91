package ddbapi

import (
	"context"
	"fmt"
	"strconv"

	"skyhub/internal/dynamo"
	"skyhub/internal/dynamo/attr"
)

type attrDef struct {
	AttributeName string
	AttributeType string
}

type keySchemaElem struct {
	AttributeName string
	KeyType       string
}

type projection struct {
	ProjectionType   string
	NonKeyAttributes []string
}

type throughput struct {
	ReadCapacityUnits  *int64
	WriteCapacityUnits *int64
}

type indexSpec struct {
	IndexName             string
	KeySchema             []keySchemaElem
	Projection            *projection
	ProvisionedThroughput *throughput
}

type streamSpec struct {
	StreamEnabled  *bool
	StreamViewType string
}

type tag struct{ Key, Value string }

type createTableReq struct {
	TableName                 *string
	AttributeDefinitions      []attrDef
	KeySchema                 []keySchemaElem
	LocalSecondaryIndexes     []indexSpec
	GlobalSecondaryIndexes    []indexSpec
	BillingMode               string
	ProvisionedThroughput     *throughput
	StreamSpecification       *streamSpec
	Tags                      []tag
	DeletionProtectionEnabled *bool
}

func parseKeySchema(ks []keySchemaElem, param string) (dynamo.KeyElem, *dynamo.KeyElem, error) {
	if len(ks) == 0 {
		return dynamo.KeyElem{}, nil, required(param)
	}
	if len(ks) > 2 {
		return dynamo.KeyElem{}, nil, validation(fmt.Sprintf("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: Member must have length less than or equal to 2", ks, param))
	}
	for _, k := range ks {
		if k.KeyType != "HASH" && k.KeyType != "RANGE" {
			return dynamo.KeyElem{}, nil, validation(fmt.Sprintf("1 validation error detected: Value '%s' at '%s.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]", k.KeyType, param))
		}
	}
	if ks[0].KeyType != "HASH" {
		return dynamo.KeyElem{}, nil, validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
	}
	h := dynamo.KeyElem{Name: ks[0].AttributeName}
	if len(ks) == 2 {
		if ks[1].KeyType != "RANGE" {
			return dynamo.KeyElem{}, nil, validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
		return h, &dynamo.KeyElem{Name: ks[1].AttributeName}, nil
	}
	return h, nil, nil
}

func parseIndexes(specs []indexSpec, global bool) ([]*dynamo.Index, error) {
	var out []*dynamo.Index
	for _, s := range specs {
		h, r, err := parseKeySchema(s.KeySchema, "keySchema")
		if err != nil {
			return nil, err
		}
		ix := &dynamo.Index{Name: s.IndexName, Global: global, Hash: h, Range: r, Projection: "ALL"}
		if len(s.IndexName) < 3 {
			return nil, validation("1 validation error detected: Value '" + s.IndexName + "' at 'indexName' failed to satisfy constraint: Member must have length greater than or equal to 3")
		}
		if s.Projection != nil {
			switch s.Projection.ProjectionType {
			case "ALL", "KEYS_ONLY", "INCLUDE":
				ix.Projection = s.Projection.ProjectionType
			case "":
			default:
				return nil, validation("1 validation error detected: Value '" + s.Projection.ProjectionType + "' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]")
			}
			ix.NonKey = s.Projection.NonKeyAttributes
		}
		if s.ProvisionedThroughput != nil {
			if s.ProvisionedThroughput.ReadCapacityUnits != nil {
				ix.RCU = *s.ProvisionedThroughput.ReadCapacityUnits
			}
			if s.ProvisionedThroughput.WriteCapacityUnits != nil {
				ix.WCU = *s.ProvisionedThroughput.WriteCapacityUnits
			}
		}
		out = append(out, ix)
	}
	return out, nil
}

func parseAttrDefs(defs []attrDef) ([]dynamo.KeyElem, error) {
	out := make([]dynamo.KeyElem, len(defs))
	for i, d := range defs {
		t := attr.ParseType(d.AttributeType)
		if t != attr.S && t != attr.N && t != attr.B {
			return nil, validation("1 validation error detected: Value '" + d.AttributeType + "' at 'attributeDefinitions." + strconv.Itoa(i+1) + ".member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]")
		}
		out[i] = dynamo.KeyElem{Name: d.AttributeName, Type: t}
	}
	return out, nil
}

func (h *Handler) createTable(ctx context.Context, body []byte) (any, error) {
	var req createTableReq
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	if req.AttributeDefinitions == nil {
		return nil, required("attributeDefinitions")
	}
	hk, rk, err := parseKeySchema(req.KeySchema, "keySchema")
	if err != nil {
		return nil, err
	}
	defs, err := parseAttrDefs(req.AttributeDefinitions)
	if err != nil {
		return nil, err
	}
	in := dynamo.CreateInput{Name: *req.TableName, Hash: hk, Range: rk, AttrDefs: defs, BillingMode: req.BillingMode}
	if in.BillingMode == "" {
		in.BillingMode = "PROVISIONED"
	}
	if in.BillingMode == "PROVISIONED" {
		if req.ProvisionedThroughput == nil {
			return nil, validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		pt := req.ProvisionedThroughput
		if pt.ReadCapacityUnits == nil || pt.WriteCapacityUnits == nil {
			return nil, validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		if *pt.ReadCapacityUnits < 1 || *pt.WriteCapacityUnits < 1 {
			return nil, validation("1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1")
		}
		in.RCU, in.WCU = *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
	} else if in.BillingMode != "PAY_PER_REQUEST" {
		return nil, validation("1 validation error detected: Value '" + in.BillingMode + "' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]")
	}
	lsi, err := parseIndexes(req.LocalSecondaryIndexes, false)
	if err != nil {
		return nil, err
	}
	gsi, err := parseIndexes(req.GlobalSecondaryIndexes, true)
	if err != nil {
		return nil, err
	}
	in.Indexes = append(lsi, gsi...)
	if ss := req.StreamSpecification; ss != nil && ss.StreamEnabled != nil && *ss.StreamEnabled {
		if err := checkViewType(ss.StreamViewType); err != nil {
			return nil, err
		}
		in.Stream = dynamo.StreamSpec{Enabled: true, ViewType: ss.StreamViewType}
	}
	if len(req.Tags) > 0 {
		in.Tags = map[string]string{}
		for _, t := range req.Tags {
			in.Tags[t.Key] = t.Value
		}
	}
	d, err := h.svc.CreateTable(ctx, in)
	if err != nil {
		return nil, err
	}
	if req.DeletionProtectionEnabled != nil && *req.DeletionProtectionEnabled {
		if d, err = h.svc.UpdateTable(ctx, dynamo.UpdateInput{Name: in.Name, Deletion: req.DeletionProtectionEnabled}); err != nil {
			return nil, err
		}
	}
	return map[string]any{"TableDescription": h.tableDesc(d)}, nil
}

func checkViewType(v string) error {
	switch v {
	case "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES":
		return nil
	}
	return validation("1 validation error detected: Value '" + v + "' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]")
}

func keySchemaJSON(h dynamo.KeyElem, r *dynamo.KeyElem) []map[string]string {
	ks := []map[string]string{{"AttributeName": h.Name, "KeyType": "HASH"}}
	if r != nil {
		ks = append(ks, map[string]string{"AttributeName": r.Name, "KeyType": "RANGE"})
	}
	return ks
}

func epoch(d dynamo.Description) float64 {
	return float64(d.Created.UnixMilli()) / 1000
}

func (h *Handler) tableDesc(d dynamo.Description) map[string]any {
	defs := make([]map[string]string, len(d.AttrDefs))
	for i, a := range d.AttrDefs {
		defs[i] = map[string]string{"AttributeName": a.Name, "AttributeType": a.Type.String()}
	}
	arn := h.svc.TableARN(d.Name)
	t := map[string]any{
		"TableName": d.Name, "TableStatus": d.Status, "AttributeDefinitions": defs,
		"KeySchema": keySchemaJSON(d.Hash, d.Range), "CreationDateTime": epoch(d),
		"ProvisionedThroughput": map[string]any{"NumberOfDecreasesToday": 0, "ReadCapacityUnits": d.RCU, "WriteCapacityUnits": d.WCU},
		"TableSizeBytes":        d.SizeBytes, "ItemCount": d.ItemCount, "TableArn": arn,
		"TableId":                   fmt.Sprintf("%08x-0000-4000-8000-%012x", d.ID, d.ID),
		"DeletionProtectionEnabled": d.Deletion,
	}
	if d.BillingMode == "PAY_PER_REQUEST" {
		t["BillingModeSummary"] = map[string]any{"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": epoch(d)}
		t["ProvisionedThroughput"] = map[string]any{"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
	}
	var lsi, gsi []map[string]any
	for _, ix := range d.Indexes {
		p := map[string]any{"ProjectionType": ix.Projection}
		if len(ix.NonKey) > 0 {
			p["NonKeyAttributes"] = ix.NonKey
		}
		m := map[string]any{"IndexName": ix.Name, "KeySchema": keySchemaJSON(ix.Hash, ix.Range), "Projection": p,
			"IndexSizeBytes": 0, "ItemCount": 0, "IndexArn": arn + "/index/" + ix.Name}
		if ix.Global {
			m["IndexStatus"] = ix.Status
			m["ProvisionedThroughput"] = map[string]any{"NumberOfDecreasesToday": 0, "ReadCapacityUnits": ix.RCU, "WriteCapacityUnits": ix.WCU}
			gsi = append(gsi, m)
		} else {
			lsi = append(lsi, m)
		}
	}
	if lsi != nil {
		t["LocalSecondaryIndexes"] = lsi
	}
	if gsi != nil {
		t["GlobalSecondaryIndexes"] = gsi
	}
	if d.Stream.Enabled {
		t["StreamSpecification"] = map[string]any{"StreamEnabled": true, "StreamViewType": d.Stream.ViewType}
	}
	if d.Stream.Label != "" {
		t["LatestStreamLabel"] = d.Stream.Label
		t["LatestStreamArn"] = d.StreamARN
	}
	return t
}

type tableNameReq struct {
	TableName *string
}

func (h *Handler) tableName(body []byte) (string, error) {
	var req tableNameReq
	if err := decode(body, &req); err != nil {
		return "", err
	}
	if req.TableName == nil {
		return "", required("tableName")
	}
	return *req.TableName, dynamo.ValidTableName("tableName", *req.TableName)
}

func (h *Handler) describeTable(ctx context.Context, body []byte) (any, error) {
	name, err := h.tableName(body)
	if err != nil {
		return nil, err
	}
	d, err := h.svc.DescribeTable(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Table": h.tableDesc(d)}, nil
}

func (h *Handler) deleteTable(ctx context.Context, body []byte) (any, error) {
	name, err := h.tableName(body)
	if err != nil {
		return nil, err
	}
	d, err := h.svc.DeleteTable(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": h.tableDesc(d)}, nil
}

func (h *Handler) listTables(ctx context.Context, body []byte) (any, error) {
	var req struct {
		ExclusiveStartTableName string
		Limit                   *int
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	limit := 100
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > 100 {
			return nil, validation(fmt.Sprintf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value %s", *req.Limit, map[bool]string{true: "greater than or equal to 1", false: "less than or equal to 100"}[*req.Limit < 1]))
		}
		limit = *req.Limit
	}
	names, last := h.svc.ListTables(ctx, req.ExclusiveStartTableName, limit)
	out := map[string]any{"TableNames": names}
	if last != "" {
		out["LastEvaluatedTableName"] = last
	}
	return out, nil
}

func (h *Handler) updateTable(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TableName                   *string
		AttributeDefinitions        []attrDef
		BillingMode                 string
		ProvisionedThroughput       *throughput
		StreamSpecification         *streamSpec
		DeletionProtectionEnabled   *bool
		GlobalSecondaryIndexUpdates []struct {
			Create *indexSpec
			Delete *struct{ IndexName string }
			Update *struct {
				IndexName             string
				ProvisionedThroughput *throughput
			}
		}
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	defs, err := parseAttrDefs(req.AttributeDefinitions)
	if err != nil {
		return nil, err
	}
	in := dynamo.UpdateInput{Name: *req.TableName, AttrDefs: defs, BillingMode: req.BillingMode, Deletion: req.DeletionProtectionEnabled}
	if pt := req.ProvisionedThroughput; pt != nil {
		in.RCU, in.WCU = pt.ReadCapacityUnits, pt.WriteCapacityUnits
	}
	if ss := req.StreamSpecification; ss != nil && ss.StreamEnabled != nil {
		if *ss.StreamEnabled {
			if err := checkViewType(ss.StreamViewType); err != nil {
				return nil, err
			}
		}
		in.Stream = &dynamo.StreamSpec{Enabled: *ss.StreamEnabled, ViewType: ss.StreamViewType}
	}
	for _, u := range req.GlobalSecondaryIndexUpdates {
		switch {
		case u.Create != nil:
			ix, err := parseIndexes([]indexSpec{*u.Create}, true)
			if err != nil {
				return nil, err
			}
			in.CreateGSI = append(in.CreateGSI, ix...)
		case u.Delete != nil:
			in.DeleteGSI = append(in.DeleteGSI, u.Delete.IndexName)
		case u.Update != nil:
			if in.UpdateGSI == nil {
				in.UpdateGSI = map[string][2]int64{}
			}
			var r, w int64
			if pt := u.Update.ProvisionedThroughput; pt != nil && pt.ReadCapacityUnits != nil && pt.WriteCapacityUnits != nil {
				r, w = *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
			}
			in.UpdateGSI[u.Update.IndexName] = [2]int64{r, w}
		}
	}
	d, err := h.svc.UpdateTable(ctx, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": h.tableDesc(d)}, nil
}

func (h *Handler) updateTTL(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TableName               *string
		TimeToLiveSpecification *struct {
			AttributeName string
			Enabled       *bool
		}
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TableName == nil {
		return nil, required("tableName")
	}
	spec := req.TimeToLiveSpecification
	if spec == nil || spec.Enabled == nil {
		return nil, required("timeToLiveSpecification")
	}
	if spec.AttributeName == "" {
		return nil, validation("1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if err := h.svc.UpdateTTL(ctx, *req.TableName, spec.AttributeName, *spec.Enabled); err != nil {
		return nil, err
	}
	return map[string]any{"TimeToLiveSpecification": map[string]any{"AttributeName": spec.AttributeName, "Enabled": *spec.Enabled}}, nil
}

func (h *Handler) describeTTL(ctx context.Context, body []byte) (any, error) {
	name, err := h.tableName(body)
	if err != nil {
		return nil, err
	}
	a, err := h.svc.TTL(name)
	if err != nil {
		return nil, err
	}
	d := map[string]any{"TimeToLiveStatus": "DISABLED"}
	if a != "" {
		d = map[string]any{"TimeToLiveStatus": "ENABLED", "AttributeName": a}
	}
	return map[string]any{"TimeToLiveDescription": d}, nil
}

func (h *Handler) tagResource(ctx context.Context, body []byte) (any, error) {
	var req struct {
		ResourceArn *string
		Tags        []tag
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.ResourceArn == nil {
		return nil, required("resourceArn")
	}
	if req.Tags == nil {
		return nil, required("tags")
	}
	m := map[string]string{}
	for _, t := range req.Tags {
		m[t.Key] = t.Value
	}
	return struct{}{}, h.svc.TagResource(ctx, *req.ResourceArn, m)
}

func (h *Handler) untagResource(ctx context.Context, body []byte) (any, error) {
	var req struct {
		ResourceArn *string
		TagKeys     []string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.ResourceArn == nil {
		return nil, required("resourceArn")
	}
	return struct{}{}, h.svc.UntagResource(ctx, *req.ResourceArn, req.TagKeys)
}

func (h *Handler) listTags(ctx context.Context, body []byte) (any, error) {
	var req struct{ ResourceArn *string }
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.ResourceArn == nil {
		return nil, required("resourceArn")
	}
	tags, err := h.svc.ListTags(*req.ResourceArn)
	if err != nil {
		return nil, err
	}
	out := []tag{}
	for k, v := range tags {
		out = append(out, tag{k, v})
	}
	return map[string]any{"Tags": out}, nil
}

func (h *Handler) describeLimits(ctx context.Context, body []byte) (any, error) {
	return map[string]any{"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
		"TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}, nil
}

func (h *Handler) describeEndpoints(ctx context.Context, body []byte) (any, error) {
	return map[string]any{"Endpoints": []map[string]any{{"Address": "localhost", "CachePeriodInMinutes": 1440}}}, nil
}

func (h *Handler) describeBackups(ctx context.Context, body []byte) (any, error) {
	name, err := h.tableName(body)
	if err != nil {
		return nil, err
	}
	if _, err := h.svc.DescribeTable(ctx, name); err != nil {
		return nil, err
	}
	return map[string]any{"ContinuousBackupsDescription": map[string]any{"ContinuousBackupsStatus": "DISABLED",
		"PointInTimeRecoveryDescription": map[string]any{"PointInTimeRecoveryStatus": "DISABLED"}}}, nil
}
