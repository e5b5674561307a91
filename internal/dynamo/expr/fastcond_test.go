package expr

import (
	"reflect"
	"testing"
)

var fastCondSeeds = []string{
	"pk = :v", "pk = :v AND sk > :n", "#s <> :v", " a<=:n and #a >= :v ", "a < :n AND b <> :v",
	"a = :undefined", "#nope = :v", "size = :v", "AND = :v", "a = :v AND", "a = :v OR b = :n",
	"a.b = :v", "a = :v AND b = :n AND c = :v", "a < > :v", "a = :vAND b = :n", "a=:v\tAND\nb=:n",
}

// checkFastCond: whenever the direct path takes an expression, the parser
// gives the same condition and marks the same placeholders used.
func checkFastCond(t *testing.T, s string) bool {
	fe, se := fuzzEnv(), fuzzEnv()
	fast, ok := fastCondition(s, fe)
	if !ok {
		return false
	}
	slow, err := parseCondition("KeyConditionExpression", s, se)
	if err != nil {
		t.Fatalf("direct path took %q, parser: %v", s, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: direct %#v, parser %#v", s, fast, slow)
	}
	if fe.CheckUnused() == nil != (se.CheckUnused() == nil) || len(fe.usedNames) != len(se.usedNames) || len(fe.usedValues) != len(se.usedValues) {
		t.Fatalf("%q: used placeholders differ: %v %v / %v %v", s, fe.usedNames, fe.usedValues, se.usedNames, se.usedValues)
	}
	for k := range se.usedNames {
		if !fe.usedNames[k] {
			t.Fatalf("%q: name %s not marked", s, k)
		}
	}
	for k := range se.usedValues {
		if !fe.usedValues[k] {
			t.Fatalf("%q: value %s not marked", s, k)
		}
	}
	return true
}

func TestFastCondition(t *testing.T) {
	for i, s := range fastCondSeeds {
		took := checkFastCond(t, s)
		if want := i < 5 || i == 15; took != want {
			t.Errorf("%q: direct path %v, want %v", s, took, want)
		}
	}
}

func FuzzFastCondition(f *testing.F) {
	for _, s := range fastCondSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFastCond(t, s) })
}
