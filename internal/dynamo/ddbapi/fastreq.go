package ddbapi

import (
	"bytes"
	"reflect"

	"skyhub/internal/dynamo/attr"
)

// Direct request scanners for the hot operations (GetItem, PutItem, Query,
// UpdateItem, DeleteItem).
//
// Each one fills the same request struct encoding/json would, from the
// common, well-formed shapes of the request: exactly spelled member names
// without escapes, values of the expected JSON type, no duplicates. Members
// that do not belong to the request are skipped (as encoding/json ignores
// them) once their value is known to be valid JSON. Anything else (a name
// that matches a member only case-insensitively, null, escapes, non-ASCII,
// members the scanner does not handle, trailing data) makes the scanner
// give up, and the handler decodes the body with encoding/json as before,
// so every error and edge case keeps its exact behaviour.
// FuzzFastRequest checks that whenever a scanner accepts a body,
// encoding/json accepts it too and yields the same request.

// fieldNames lists the JSON member names encoding/json matches for a
// request struct (promoted fields of embedded structs included).
func fieldNames(v any) [][]byte {
	var out [][]byte
	for _, f := range reflect.VisibleFields(reflect.TypeOf(v)) {
		if f.Anonymous || !f.IsExported() {
			continue
		}
		out = append(out, []byte(f.Name))
	}
	return out
}

var (
	getFields    = fieldNames(getReq{})
	putFields    = fieldNames(putReq{})
	queryFields  = fieldNames(queryReq{})
	keyFields    = fieldNames(keyReq{})
	updateFields = fieldNames(updateReq{})
)

// rscan walks a request body.
type rscan struct {
	b []byte
	i int
}

func (s *rscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *rscan) lit(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// rawStr returns the bytes of a string without escapes, control characters
// or non-ASCII bytes.
func (s *rscan) rawStr() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			s.i = j + 1
			return s.b[start:j], true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, false
		}
	}
	return nil, false
}

func (s *rscan) str() (string, bool) {
	b, ok := s.rawStr()
	return string(b), ok
}

func (s *rscan) strPtr() (*string, bool) {
	v, ok := s.str()
	if !ok {
		return nil, false
	}
	return &v, true
}

func (s *rscan) word(w string) bool {
	s.ws()
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

func (s *rscan) boolean() (bool, bool) {
	switch {
	case s.word("true"):
		return true, true
	case s.word("false"):
		return false, true
	}
	return false, false
}

// integer accepts 0 or -?[1-9][0-9]{0,17} (always fits an int64; anything
// else, including fractions and exponents, goes to encoding/json).
func (s *rscan) integer() (int, bool) {
	s.ws()
	j := s.i
	neg := false
	if j < len(s.b) && s.b[j] == '-' {
		neg = true
		j++
	}
	start := j
	n := 0
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		n = n*10 + int(s.b[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 18 || (digits > 1 && s.b[start] == '0') {
		return 0, false
	}
	if j < len(s.b) {
		switch s.b[j] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	s.i = j
	if neg {
		n = -n
	}
	return n, true
}

// skip passes over one JSON value, accepting only a conservative subset of
// valid JSON (strings without escapes, plain numbers, literals, nested
// arrays and objects).
func (s *rscan) skip(depth int) bool {
	if depth > 32 {
		return false
	}
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.rawStr()
		return ok
	case c == 't':
		return s.word("true")
	case c == 'f':
		return s.word("false")
	case c == 'n':
		return s.word("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == '[':
		s.i++
		if s.lit(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if s.lit(',') {
				continue
			}
			return s.lit(']')
		}
	case c == '{':
		s.i++
		if s.lit('}') {
			return true
		}
		for {
			if _, ok := s.rawStr(); !ok || !s.lit(':') || !s.skip(depth+1) {
				return false
			}
			if s.lit(',') {
				continue
			}
			return s.lit('}')
		}
	}
	return false
}

// number passes over a JSON number (RFC 8259 grammar).
func (s *rscan) number() bool {
	j := s.i
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	digits := func() int {
		n := 0
		for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
			j++
			n++
		}
		return n
	}
	if j < len(s.b) && s.b[j] == '0' {
		j++
	} else if digits() == 0 {
		return false
	}
	if j < len(s.b) && s.b[j] == '.' {
		j++
		if digits() == 0 {
			return false
		}
	}
	if j < len(s.b) && (s.b[j] == 'e' || s.b[j] == 'E') {
		j++
		if j < len(s.b) && (s.b[j] == '+' || s.b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return false
		}
	}
	s.i = j
	return true
}

func (s *rscan) item() (attr.Item, bool) {
	s.ws()
	it, next, ok := attr.FastItemAt(s.b, s.i)
	if !ok {
		return nil, false
	}
	s.i = next
	return it, true
}

// strMap reads {"#n":"name",...} without duplicates.
func (s *rscan) strMap() (map[string]string, bool) {
	if !s.lit('{') {
		return nil, false
	}
	m := map[string]string{}
	if s.lit('}') {
		return m, true
	}
	for {
		k, ok := s.str()
		if !ok || !s.lit(':') {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		v, ok := s.str()
		if !ok {
			return nil, false
		}
		m[k] = v
		if s.lit(',') {
			continue
		}
		return m, s.lit('}')
	}
}

// valueMap reads {":v":{"S":"x"},...} without duplicates.
func (s *rscan) valueMap() (map[string]attr.Value, bool) {
	if !s.lit('{') {
		return nil, false
	}
	m := map[string]attr.Value{}
	if s.lit('}') {
		return m, true
	}
	for {
		k, ok := s.str()
		if !ok || !s.lit(':') {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		s.ws()
		v, next, ok := attr.FastValueAt(s.b, s.i)
		if !ok {
			return nil, false
		}
		s.i = next
		m[k] = v
		if s.lit(',') {
			continue
		}
		return m, s.lit('}')
	}
}

// members walks the top-level object. member handles a known name and
// reports whether it took the value (false: give up); names for which it
// returns handled=false are checked against fields and skipped when they
// match none of them, even case-insensitively.
func (s *rscan) members(fields [][]byte, member func(name []byte) (handled, ok bool)) bool {
	if !s.lit('{') {
		return false
	}
	if !s.lit('}') {
		for {
			name, ok := s.rawStr()
			if !ok || !s.lit(':') {
				return false
			}
			handled, ok := member(name)
			if !ok {
				return false
			}
			if !handled {
				for _, f := range fields {
					if bytes.EqualFold(f, name) {
						return false
					}
				}
				if !s.skip(0) {
					return false
				}
			}
			if s.lit(',') {
				continue
			}
			if !s.lit('}') {
				return false
			}
			break
		}
	}
	s.ws()
	return s.i == len(s.b)
}

// seen tracks members already set, so that duplicates (which
// encoding/json resolves its own way) go to the general decoder.
type seen uint32

func (m *seen) first(bit int) bool {
	if *m&(1<<bit) != 0 {
		return false
	}
	*m |= 1 << bit
	return true
}

func fastGetReq(body []byte, req *getReq) bool {
	s := rscan{b: body}
	var dup seen
	return s.members(getFields, func(name []byte) (bool, bool) {
		var ok bool
		switch string(name) {
		case "TableName":
			if !dup.first(0) {
				return true, false
			}
			req.TableName, ok = s.strPtr()
		case "Key":
			if !dup.first(1) {
				return true, false
			}
			req.Key, ok = s.item()
		case "ConsistentRead":
			if !dup.first(2) {
				return true, false
			}
			req.ConsistentRead, ok = s.boolean()
		case "ReturnConsumedCapacity":
			if !dup.first(3) {
				return true, false
			}
			req.ReturnConsumedCapacity, ok = s.str()
		default:
			return false, true
		}
		return true, ok
	})
}

func fastPutReq(body []byte, req *putReq) bool {
	s := rscan{b: body}
	var dup seen
	return s.members(putFields, func(name []byte) (bool, bool) {
		var ok bool
		switch string(name) {
		case "TableName":
			if !dup.first(0) {
				return true, false
			}
			req.TableName, ok = s.strPtr()
		case "Item":
			if !dup.first(1) {
				return true, false
			}
			req.Item, ok = s.item()
		case "ReturnConsumedCapacity":
			if !dup.first(2) {
				return true, false
			}
			req.ReturnConsumedCapacity, ok = s.str()
		case "ReturnValues":
			if !dup.first(3) {
				return true, false
			}
			req.ReturnValues, ok = s.str()
		case "ReturnValuesOnConditionCheckFailure":
			if !dup.first(4) {
				return true, false
			}
			req.ReturnValuesOnConditionCheckFailure, ok = s.str()
		case "ConditionExpression":
			if !dup.first(5) {
				return true, false
			}
			req.ConditionExpression, ok = s.strPtr()
		case "ExpressionAttributeNames":
			if !dup.first(6) {
				return true, false
			}
			req.ExpressionAttributeNames, ok = s.strMap()
		case "ExpressionAttributeValues":
			if !dup.first(7) {
				return true, false
			}
			req.ExpressionAttributeValues, ok = s.valueMap()
		default:
			return false, true
		}
		return true, ok
	})
}

func fastQueryReq(body []byte, req *queryReq) bool {
	s := rscan{b: body}
	var dup seen
	return s.members(queryFields, func(name []byte) (bool, bool) {
		var ok bool
		switch string(name) {
		case "TableName":
			if !dup.first(0) {
				return true, false
			}
			req.TableName, ok = s.strPtr()
		case "IndexName":
			if !dup.first(1) {
				return true, false
			}
			req.IndexName, ok = s.str()
		case "Limit":
			if !dup.first(2) {
				return true, false
			}
			var n int
			n, ok = s.integer()
			req.Limit = &n
		case "Select":
			if !dup.first(3) {
				return true, false
			}
			req.Select, ok = s.str()
		case "ConsistentRead":
			if !dup.first(4) {
				return true, false
			}
			req.ConsistentRead, ok = s.boolean()
		case "ExclusiveStartKey":
			if !dup.first(5) {
				return true, false
			}
			req.ExclusiveStartKey, ok = s.item()
		case "ProjectionExpression":
			if !dup.first(6) {
				return true, false
			}
			req.ProjectionExpression, ok = s.strPtr()
		case "FilterExpression":
			if !dup.first(7) {
				return true, false
			}
			req.FilterExpression, ok = s.strPtr()
		case "ExpressionAttributeNames":
			if !dup.first(8) {
				return true, false
			}
			req.ExpressionAttributeNames, ok = s.strMap()
		case "ExpressionAttributeValues":
			if !dup.first(9) {
				return true, false
			}
			req.ExpressionAttributeValues, ok = s.valueMap()
		case "ReturnConsumedCapacity":
			if !dup.first(10) {
				return true, false
			}
			req.ReturnConsumedCapacity, ok = s.str()
		case "KeyConditionExpression":
			if !dup.first(11) {
				return true, false
			}
			req.KeyConditionExpression, ok = s.strPtr()
		case "ScanIndexForward":
			if !dup.first(12) {
				return true, false
			}
			var f bool
			f, ok = s.boolean()
			req.ScanIndexForward = &f
		default:
			return false, true
		}
		return true, ok
	})
}

// exprMember reads the members of exprReq the scanners handle (bits 16..21
// of dup); handled=false for any other name.
func (s *rscan) exprMember(name []byte, req *exprReq, dup *seen) (handled, ok bool) {
	switch string(name) {
	case "ReturnConsumedCapacity":
		if !dup.first(16) {
			return true, false
		}
		req.ReturnConsumedCapacity, ok = s.str()
	case "ReturnValues":
		if !dup.first(17) {
			return true, false
		}
		req.ReturnValues, ok = s.str()
	case "ReturnValuesOnConditionCheckFailure":
		if !dup.first(18) {
			return true, false
		}
		req.ReturnValuesOnConditionCheckFailure, ok = s.str()
	case "ConditionExpression":
		if !dup.first(19) {
			return true, false
		}
		req.ConditionExpression, ok = s.strPtr()
	case "ExpressionAttributeNames":
		if !dup.first(20) {
			return true, false
		}
		req.ExpressionAttributeNames, ok = s.strMap()
	case "ExpressionAttributeValues":
		if !dup.first(21) {
			return true, false
		}
		req.ExpressionAttributeValues, ok = s.valueMap()
	default:
		return false, true
	}
	return true, ok
}

func fastKeyReq(body []byte, req *keyReq) bool {
	s := rscan{b: body}
	var dup seen
	return s.members(keyFields, func(name []byte) (bool, bool) {
		var ok bool
		switch string(name) {
		case "TableName":
			if !dup.first(0) {
				return true, false
			}
			req.TableName, ok = s.strPtr()
		case "Key":
			if !dup.first(1) {
				return true, false
			}
			req.Key, ok = s.item()
		default:
			return s.exprMember(name, &req.exprReq, &dup)
		}
		return true, ok
	})
}

func fastUpdateReq(body []byte, req *updateReq) bool {
	s := rscan{b: body}
	var dup seen
	return s.members(updateFields, func(name []byte) (bool, bool) {
		var ok bool
		switch string(name) {
		case "TableName":
			if !dup.first(0) {
				return true, false
			}
			req.TableName, ok = s.strPtr()
		case "Key":
			if !dup.first(1) {
				return true, false
			}
			req.Key, ok = s.item()
		case "UpdateExpression":
			if !dup.first(2) {
				return true, false
			}
			req.UpdateExpression, ok = s.strPtr()
		default:
			return s.exprMember(name, &req.exprReq, &dup)
		}
		return true, ok
	})
}
