package sqsapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"skyhub/internal/sqs"
)

// input is the union of every action's request members, named as in the
// SQS model (so JSON 1.0 bodies decode straight into it); the query
// decoder fills the same fields from Action=...&Member.N.Name=... params.
type input struct {
	QueueName              string `json:"QueueName"`
	QueueURL               string `json:"QueueUrl"`
	QueueOwnerAWSAccountID string `json:"QueueOwnerAWSAccountId"`
	QueueNamePrefix        string `json:"QueueNamePrefix"`
	NextToken              string `json:"NextToken"`
	MaxResults             *int   `json:"MaxResults"`

	Attributes map[string]string `json:"Attributes"`
	CreateTags map[string]string `json:"tags"` // CreateQueue
	Tags       map[string]string `json:"Tags"` // TagQueue
	TagKeys    []string          `json:"TagKeys"`

	AttributeNames              []string `json:"AttributeNames"`
	MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
	MessageAttributeNames       []string `json:"MessageAttributeNames"`
	MaxNumberOfMessages         *int     `json:"MaxNumberOfMessages"`
	WaitTimeSeconds             *int     `json:"WaitTimeSeconds"`
	ReceiveRequestAttemptID     string   `json:"ReceiveRequestAttemptId"`

	entry
	Entries []entry `json:"Entries"`

	Label         string   `json:"Label"`
	AWSAccountIDs []string `json:"AWSAccountIds"`
	Actions       []string `json:"Actions"`

	SourceArn                    string `json:"SourceArn"`
	DestinationArn               string `json:"DestinationArn"`
	MaxNumberOfMessagesPerSecond *int   `json:"MaxNumberOfMessagesPerSecond"`
	TaskHandle                   string `json:"TaskHandle"`
}

// entry holds one message's members (SendMessage, and every batch entry).
type entry struct {
	ID                      string                 `json:"Id"`
	MessageBody             string                 `json:"MessageBody"`
	DelaySeconds            *int                   `json:"DelaySeconds"`
	MessageAttributes       map[string]attrMembers `json:"MessageAttributes"`
	MessageSystemAttributes map[string]attrMembers `json:"MessageSystemAttributes"`
	MessageDeduplicationID  string                 `json:"MessageDeduplicationId"`
	MessageGroupID          string                 `json:"MessageGroupId"`
	ReceiptHandle           string                 `json:"ReceiptHandle"`
	VisibilityTimeout       *int                   `json:"VisibilityTimeout"`
}

// attrMembers is a MessageAttributeValue on the wire.
type attrMembers struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

func (a attrMembers) domain() sqs.MessageAttribute {
	m := sqs.MessageAttribute{DataType: a.DataType, BinaryValue: a.BinaryValue}
	if a.StringValue != nil {
		m.StringValue = *a.StringValue
	}
	return m
}

// decodeJSON decodes a JSON 1.0 request body.
func decodeJSON(body []byte) (*input, error) {
	in := &input{}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return in, nil
	}
	if fast, ok := decodeJSONFast(body); ok {
		return fast, nil
	}
	if err := json.Unmarshal(body, in); err != nil {
		return nil, sqs.Fail("sqsapi.decode", sqs.CodeSerialization, "Start of structure or map found where not expected, or the request body is not valid JSON.")
	}
	return in, nil
}

// decodeJSONFast decodes the common flat requests (SendMessage,
// ReceiveMessage, DeleteMessage, ...: an object of plain ASCII strings and
// small integers under their exact member names) without reflection, and
// reports false for anything else, which then goes through encoding/json:
// escapes, non-ASCII, nested values, null, other or differently cased names,
// numbers that are not plain. What it accepts, it decodes exactly as
// encoding/json would (FuzzDecodeJSONFast checks that).
func decodeJSONFast(b []byte) (*input, bool) {
	in := &input{}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return in, skipSpace(b, i+1) == len(b)
	}
	for {
		name, j, ok := plainString(b, i)
		if !ok {
			return nil, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return nil, false
		}
		if b[i] == '"' {
			v, j, ok := plainString(b, i)
			if !ok {
				return nil, false
			}
			var dst *string
			switch name {
			case "QueueUrl":
				dst = &in.QueueURL
			case "QueueName":
				dst = &in.QueueName
			case "MessageBody":
				dst = &in.MessageBody
			case "ReceiptHandle":
				dst = &in.ReceiptHandle
			case "MessageGroupId":
				dst = &in.MessageGroupID
			case "MessageDeduplicationId":
				dst = &in.MessageDeduplicationID
			case "ReceiveRequestAttemptId":
				dst = &in.ReceiveRequestAttemptID
			default:
				return nil, false
			}
			*dst, i = v, j
		} else {
			n, j, ok := plainInt(b, i)
			if !ok {
				return nil, false
			}
			var dst **int
			switch name {
			case "DelaySeconds":
				dst = &in.DelaySeconds
			case "VisibilityTimeout":
				dst = &in.VisibilityTimeout
			case "MaxNumberOfMessages":
				dst = &in.MaxNumberOfMessages
			case "WaitTimeSeconds":
				dst = &in.WaitTimeSeconds
			default:
				return nil, false
			}
			*dst, i = &n, j
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return in, skipSpace(b, i+1) == len(b)
		default:
			return nil, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] made only of printable ASCII
// without escapes; ok is false for anything else.
func plainString(b []byte, i int) (s string, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return "", 0, false
		}
	}
	return "", 0, false
}

// plainInt reads a non-negative JSON integer of at most 9 digits without
// leading zeros (so it fits an int everywhere); ok is false for anything
// else (signs, fractions, exponents, long numbers).
func plainInt(b []byte, i int) (n, next int, ok bool) {
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		n = n*10 + int(b[j]-'0')
		j++
	}
	if j == i || j-i > 9 || (b[i] == '0' && j-i > 1) {
		return 0, 0, false
	}
	return n, j, true
}

// decodeQuery decodes query-protocol parameters (query string or form).
func decodeQuery(v url.Values) (*input, error) {
	const op = "sqsapi.decode"
	p := make(map[string]string, len(v))
	for k, vs := range v {
		if len(vs) > 0 {
			p[k] = vs[0]
		}
	}
	in := &input{
		QueueName: p["QueueName"], QueueURL: p["QueueUrl"], QueueOwnerAWSAccountID: p["QueueOwnerAWSAccountId"],
		QueueNamePrefix: p["QueueNamePrefix"], NextToken: p["NextToken"],
		ReceiveRequestAttemptID: p["ReceiveRequestAttemptId"], Label: p["Label"],
		SourceArn: p["SourceArn"], DestinationArn: p["DestinationArn"], TaskHandle: p["TaskHandle"],
	}
	var err error
	ints := []struct {
		name string
		dst  **int
	}{{"MaxResults", &in.MaxResults}, {"MaxNumberOfMessages", &in.MaxNumberOfMessages},
		{"WaitTimeSeconds", &in.WaitTimeSeconds}, {"MaxNumberOfMessagesPerSecond", &in.MaxNumberOfMessagesPerSecond}}
	for _, f := range ints {
		if *f.dst, err = optInt(op, p, f.name, f.name); err != nil {
			return nil, err
		}
	}
	if in.Attributes, err = pairs(op, p, "Attribute", "Name", "Value"); err != nil {
		return nil, err
	}
	if in.Tags, err = pairs(op, p, "Tag", "Key", "Value"); err != nil {
		return nil, err
	}
	in.CreateTags = in.Tags
	in.TagKeys = list(p, "TagKey")
	in.AttributeNames = list(p, "AttributeName")
	in.MessageSystemAttributeNames = list(p, "MessageSystemAttributeName")
	in.MessageAttributeNames = list(p, "MessageAttributeName")
	in.AWSAccountIDs = list(p, "AWSAccountId")
	in.Actions = list(p, "ActionName")
	if in.entry, err = queryEntry(op, p); err != nil {
		return nil, err
	}
	for _, prefix := range []string{"SendMessageBatchRequestEntry", "DeleteMessageBatchRequestEntry", "ChangeMessageVisibilityBatchRequestEntry"} {
		for _, g := range groups(p, prefix) {
			e, err := queryEntry(op, g)
			if err != nil {
				return nil, err
			}
			in.Entries = append(in.Entries, e)
		}
	}
	return in, nil
}

func queryEntry(op string, p map[string]string) (entry, error) {
	e := entry{ID: p["Id"], MessageBody: p["MessageBody"], MessageDeduplicationID: p["MessageDeduplicationId"],
		MessageGroupID: p["MessageGroupId"], ReceiptHandle: p["ReceiptHandle"]}
	var err error
	if e.DelaySeconds, err = optInt(op, p, "DelaySeconds", "DelaySeconds"); err != nil {
		return e, err
	}
	if e.VisibilityTimeout, err = optInt(op, p, "VisibilityTimeout", "VisibilityTimeout"); err != nil {
		return e, err
	}
	if e.MessageAttributes, err = queryMessageAttrs(op, p, "MessageAttribute"); err != nil {
		return e, err
	}
	if e.MessageSystemAttributes, err = queryMessageAttrs(op, p, "MessageSystemAttribute"); err != nil {
		return e, err
	}
	return e, nil
}

// queryMessageAttrs reads Prefix.N.Name and Prefix.N.Value.{DataType,
// StringValue,BinaryValue} (BinaryValue base64).
func queryMessageAttrs(op string, p map[string]string, prefix string) (map[string]attrMembers, error) {
	gs := groups(p, prefix)
	if len(gs) == 0 {
		return nil, nil
	}
	out := make(map[string]attrMembers, len(gs))
	for _, g := range gs {
		name := g["Name"]
		if _, dup := out[name]; dup {
			return nil, sqs.Fail(op, sqs.CodeInvalidParameterValue, "Message attribute name '%s' is repeated.", name)
		}
		a := attrMembers{DataType: g["Value.DataType"]}
		if s, ok := g["Value.StringValue"]; ok {
			a.StringValue = &s
		}
		if b, ok := g["Value.BinaryValue"]; ok {
			dec, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				return nil, sqs.Fail(op, sqs.CodeInvalidParameterValue, "The message attribute '%s' has an invalid binary value: it must be base64-encoded.", name)
			}
			a.BinaryValue = dec
		}
		for _, v := range list(g, "Value.StringListValue") {
			a.StringListValues = append(a.StringListValues, v)
		}
		out[name] = a
	}
	return out, nil
}

func optInt(op string, p map[string]string, key, name string) (*int, error) {
	s, ok := p[key]
	if !ok {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return nil, sqs.Fail(op, sqs.CodeInvalidParameterValue, "Value %s for parameter %s is invalid. Reason: must be an integer.", s, name)
	}
	return &n, nil
}

// groups collects "prefix.N.rest" parameters into one map per N (keyed by
// rest), ordered by N. N must be a positive decimal integer.
func groups(p map[string]string, prefix string) []map[string]string {
	byIdx := map[int]map[string]string{}
	pre := prefix + "."
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, pre)
		if !ok {
			continue
		}
		num, sub, ok := strings.Cut(rest, ".")
		if !ok || sub == "" {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || len(num) > 9 {
			continue
		}
		g := byIdx[n]
		if g == nil {
			g = map[string]string{}
			byIdx[n] = g
		}
		g[sub] = v
	}
	idx := make([]int, 0, len(byIdx))
	for n := range byIdx {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]map[string]string, len(idx))
	for i, n := range idx {
		out[i] = byIdx[n]
	}
	return out
}

// list collects "prefix.N" parameters ordered by N.
func list(p map[string]string, prefix string) []string {
	type iv struct {
		n int
		v string
	}
	var items []iv
	pre := prefix + "."
	for k, v := range p {
		num, ok := strings.CutPrefix(k, pre)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || len(num) > 9 {
			continue
		}
		items = append(items, iv{n, v})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	var out []string
	// boto 2 sends some lists unindexed (AttributeName=All).
	if v, ok := p[prefix]; ok {
		out = append(out, v)
	}
	for _, it := range items {
		out = append(out, it.v)
	}
	return out
}

// pairs collects "prefix.N.<key>" / "prefix.N.<value>" into a map.
func pairs(op string, p map[string]string, prefix, key, value string) (map[string]string, error) {
	gs := groups(p, prefix)
	// boto 2 sends one pair unindexed (Attribute.Name=...&Attribute.Value=...).
	if k, ok := p[prefix+"."+key]; ok {
		gs = append(gs, map[string]string{key: k, value: p[prefix+"."+value]})
	}
	if len(gs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(gs))
	for _, g := range gs {
		k, ok := g[key]
		if !ok {
			return nil, sqs.Fail(op, sqs.CodeMissingParameter, "The request must contain the parameter %s.N.%s.", prefix, key)
		}
		out[k] = g[value]
	}
	return out, nil
}
