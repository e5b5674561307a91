package dynamo

import (
	"skyhub/internal/dynamo/attr"
	"skyhub/internal/dynamo/expr"
)

// ttlCond is "<ttl attribute> <= now": re-checked under the item's lock so
// an item refreshed since the sweep read it is kept.
func ttlCond(name, now string) expr.Cond {
	return expr.Compare{Op: "<=", L: expr.PathOperand{Path: expr.Attr(name)}, R: expr.ValueOperand{V: attr.Value{T: attr.N, Str: now}}}
}
