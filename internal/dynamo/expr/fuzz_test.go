package expr

import (
	"testing"

	"skyhub/internal/dynamo/attr"
)

func fuzzEnv() *Env {
	return NewEnv(map[string]string{"#a": "a", "#s": "status"}, map[string]attr.Value{
		":v": attr.Str("x"), ":n": num("1"), ":l": {T: attr.L, List: []attr.Value{num("1")}},
		":ss": {T: attr.SS, Strs: []string{"x"}}, ":t": attr.Str("S"),
	})
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"a = :v", "#s IN (:v, :v) AND NOT b BETWEEN :n AND :n", "begins_with(a.b[1], :v)",
		"size(a) > :n OR attribute_type(#a, :t)", "((a < :n))", "contains(l, :v)", "a = ", "NOT NOT a <> b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition("ConditionExpression", s, fuzzEnv())
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("non-validation error %T", err)
			}
			return
		}
		Eval(c, sample)
		Eval(c, nil)
	})
}

func FuzzParseUpdate(f *testing.F) {
	for _, s := range []string{"SET a = :n + a, b = list_append(:l, if_not_exists(b, :l))", "REMOVE a[1], b.c ADD n :n DELETE s :ss",
		"SET a.b[2] = :v", "set readings[5] = :n", "SET #a = (:n)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUpdate(s, fuzzEnv())
		if err != nil {
			return
		}
		u.Apply(sample)
		u.Apply(nil)
	})
}

func FuzzParseProjection(f *testing.F) {
	for _, s := range []string{"a, b.c, d[1]", "#a", "readings[2].x, meta"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProjection(s, fuzzEnv())
		if err != nil {
			return
		}
		Project(sample, p)
	})
}
