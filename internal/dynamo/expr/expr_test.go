package expr

import (
	"strings"
	"testing"

	"skyhub/internal/dynamo/attr"
)

func num(s string) attr.Value { v, _ := attr.Num(s); return v }

var sample = attr.Item{
	"id":       attr.Str("dev-1"),
	"tc":       num("21.5"),
	"status":   attr.Str("ok"),
	"tags":     {T: attr.SS, Strs: []string{"a", "b"}},
	"nums":     {T: attr.NS, Strs: []string{"1", "2"}},
	"readings": {T: attr.L, List: []attr.Value{num("1"), num("2"), {T: attr.M, Map: map[string]attr.Value{"x": attr.Str("deep")}}}},
	"meta":     {T: attr.M, Map: map[string]attr.Value{"loc": attr.Str("lab"), "floor": num("3")}},
	"bin":      attr.Bin([]byte{1, 2, 3}),
	"flag":     {T: attr.BOOL, Bool: true},
	"nil":      {T: attr.NULL},
}

func TestConditions(t *testing.T) {
	names := map[string]string{"#s": "status", "#m": "meta"}
	values := map[string]attr.Value{
		":t": num("20"), ":hi": num("30"), ":ok": attr.Str("ok"), ":de": attr.Str("de"), ":a": attr.Str("a"),
		":lab": attr.Str("lab"), ":S": attr.Str("S"), ":L": attr.Str("L"), ":three": num("3"), ":b12": attr.Bin([]byte{1, 2}),
		":x": attr.Str("x"), ":two": num("2"), ":deep": attr.Str("deep"),
	}
	cases := []struct {
		expr string
		want bool
	}{
		{"tc > :t", true},
		{"tc < :t", false},
		{"tc >= :t AND tc <= :hi", true},
		{"tc BETWEEN :t AND :hi", true},
		{"#s = :ok", true},
		{"#s <> :ok", false},
		{"absent <> :ok", true},
		{"absent = :ok", false},
		{"NOT #s = :ok", false},
		{"#s = :x OR tc > :t", true},
		{"#s = :x OR tc < :t", false},
		{"(#s = :x OR tc > :t) AND id = :ok", false},
		{"NOT (#s = :x) AND tc > :t", true},
		{"#s IN (:x, :ok)", true},
		{"#s IN (:x, :a)", false},
		{"attribute_exists(tc)", true},
		{"attribute_not_exists(tc)", false},
		{"attribute_exists(#m.loc)", true},
		{"attribute_exists(#m.nope)", false},
		{"attribute_exists(readings[2].x)", true},
		{"attribute_exists(readings[3])", false},
		{"attribute_type(id, :S)", true},
		{"attribute_type(readings, :L)", true},
		{"attribute_type(id, :L)", false},
		{"begins_with(id, :de)", true},
		{"begins_with(bin, :b12)", true},
		{"contains(tags, :a)", true},
		{"contains(tags, :x)", false},
		{"contains(id, :de)", true},
		{"contains(nums, :two)", true},
		{"contains(readings, :two)", true},
		{"size(tags) = :two", true},
		{"size(#m) = :two", true},
		{"size(id) > :three", true},
		{"#m.loc = :lab", true},
		{"#m.floor = :three", true},
		{"readings[2].x = :deep", true},
		{"readings[0] < readings[1]", true},
		{"tc > id", false}, // different types never compare
		{"flag = flag", true},
		{"nil = nil", true},
	}
	for _, c := range cases {
		env := NewEnv(names, values)
		cond, err := ParseCondition("ConditionExpression", c.expr, env)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if got := Eval(cond, sample); got != c.want {
			t.Errorf("%q = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestConditionErrors(t *testing.T) {
	values := map[string]attr.Value{":v": attr.Str("x"), ":n": num("5"), ":m": num("1"), ":bad": attr.Str("Q")}
	cases := []struct{ expr, msg string }{
		{"", "Invalid ConditionExpression: The expression can not be empty;"},
		{"a = ", `Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "= "`},
		{"a = :v :v", `Invalid ConditionExpression: Syntax error; token: ":v", near: ":v :v"`},
		{"a = :nope", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope"},
		{"#x = :v", "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x"},
		{"status = :v", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"},
		{"foo(a)", "Invalid ConditionExpression: Invalid function name; function: foo"},
		{"begins_with(a)", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"},
		{"a BETWEEN :n AND :m", "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower operand: AttributeValue: {N:5}, upper operand: AttributeValue: {N:1}"},
		{"attribute_type(a, :bad)", "Invalid ConditionExpression: Invalid attribute type name found; type: Q, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"},
		{"attribute_exists(:v)", "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists"},
		{"a = :v ; b", "Invalid ConditionExpression: Invalid character encountered; character: ;"},
		{"if_not_exists(a, :v) = :v", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: if_not_exists"},
		{"a[x] = :v", `Invalid ConditionExpression: Syntax error; token: "x", near: "[x"`},
	}
	for _, c := range cases {
		_, err := ParseCondition("ConditionExpression", c.expr, NewEnv(nil, values))
		if err == nil || err.Error() != c.msg {
			t.Errorf("%q:\n got  %v\n want %s", c.expr, err, c.msg)
		}
	}
}

func TestUnusedPlaceholders(t *testing.T) {
	env := NewEnv(map[string]string{"#a": "a", "#b": "b"}, map[string]attr.Value{":v": attr.Str("x"), ":w": attr.Str("y")})
	if _, err := ParseCondition("ConditionExpression", "#a = :v", env); err != nil {
		t.Fatal(err)
	}
	if err := env.CheckUnused(); err == nil || err.Error() != "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}" {
		t.Fatalf("got %v", err)
	}
	env = NewEnv(nil, map[string]attr.Value{":v": attr.Str("x"), ":w": attr.Str("y")})
	ParseCondition("ConditionExpression", "a = :v", env)
	if err := env.CheckUnused(); err == nil || err.Error() != "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}" {
		t.Fatalf("got %v", err)
	}
}

func TestUpdate(t *testing.T) {
	values := map[string]attr.Value{
		":one": num("1"), ":half": num("0.5"), ":l": {T: attr.L, List: []attr.Value{attr.Str("z")}},
		":c": {T: attr.SS, Strs: []string{"c", "a"}}, ":a": {T: attr.SS, Strs: []string{"a", "b"}},
		":d": attr.Str("dflt"), ":s": attr.Str("new"),
	}
	cases := []struct {
		expr  string
		check func(attr.Item) bool
	}{
		{"SET tc = tc + :one", func(it attr.Item) bool { return it["tc"].Str == "22.5" }},
		{"SET tc = tc - :half", func(it attr.Item) bool { return it["tc"].Str == "21" }},
		{"SET cnt = if_not_exists(cnt, :one)", func(it attr.Item) bool { return it["cnt"].Str == "1" }},
		{"SET id = if_not_exists(id, :d)", func(it attr.Item) bool { return it["id"].Str == "dev-1" }},
		{"SET readings = list_append(readings, :l)", func(it attr.Item) bool {
			return len(it["readings"].List) == 4 && it["readings"].List[3].Str == "z"
		}},
		{"SET readings = list_append(:l, readings)", func(it attr.Item) bool { return it["readings"].List[0].Str == "z" }},
		{"SET meta.loc = :s, meta.extra = :one", func(it attr.Item) bool {
			return it["meta"].Map["loc"].Str == "new" && it["meta"].Map["extra"].Str == "1"
		}},
		{"SET readings[1] = :s", func(it attr.Item) bool { return it["readings"].List[1].Str == "new" }},
		{"SET readings[10] = :s", func(it attr.Item) bool { return len(it["readings"].List) == 4 }},
		{"REMOVE tc, meta.loc", func(it attr.Item) bool {
			_, t := it["tc"]
			_, l := it["meta"].Map["loc"]
			return !t && !l
		}},
		{"REMOVE readings[0], readings[1]", func(it attr.Item) bool {
			return len(it["readings"].List) == 1 && it["readings"].List[0].T == attr.M
		}},
		{"ADD tc :one", func(it attr.Item) bool { return it["tc"].Str == "22.5" }},
		{"ADD newcount :one", func(it attr.Item) bool { return it["newcount"].Str == "1" }},
		{"ADD tags :c", func(it attr.Item) bool { return len(it["tags"].Strs) == 3 }},
		{"DELETE tags :a", func(it attr.Item) bool { _, ok := it["tags"]; return !ok }},
		{"DELETE tags :c", func(it attr.Item) bool { return len(it["tags"].Strs) == 1 && it["tags"].Strs[0] == "b" }},
		{"set x = :s remove tc add n :one", func(it attr.Item) bool {
			_, t := it["tc"]
			return it["x"].Str == "new" && !t && it["n"].Str == "1"
		}},
	}
	for _, c := range cases {
		u, err := ParseUpdate(c.expr, NewEnv(nil, values))
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		out, err := u.Apply(sample)
		if err != nil {
			t.Errorf("%q: apply: %v", c.expr, err)
			continue
		}
		if !c.check(out) {
			t.Errorf("%q: unexpected result %v", c.expr, out)
		}
	}
	// the original is never modified
	if sample["tc"].Str != "21.5" || len(sample["readings"].List) != 3 || len(sample["tags"].Strs) != 2 {
		t.Fatalf("Apply mutated its input: %v", sample)
	}
}

func TestUpdateErrors(t *testing.T) {
	values := map[string]attr.Value{":one": num("1"), ":s": attr.Str("x")}
	parse := []struct{ expr, msg string }{
		{"SET a = :one SET b = :one", `Invalid UpdateExpression: The "SET" section can only be used once in an update expression;`},
		{"SET a = :one, a.b = :one", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"},
		{"ADD a :s", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
		{"DELETE a :one", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"},
		{"SET a = size(b)", "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"},
		{"PUT a = :one", `Invalid UpdateExpression: Syntax error; token: "PUT", near: "PUT"`},
	}
	for _, c := range parse {
		_, err := ParseUpdate(c.expr, NewEnv(nil, values))
		if err == nil || err.Error() != c.msg {
			t.Errorf("%q:\n got  %v\n want %s", c.expr, err, c.msg)
		}
	}
	apply := []struct{ expr, msg string }{
		{"SET id = id + :one", "An operand in the update expression has an incorrect data type"},
		{"SET a = nope + :one", "The provided expression refers to an attribute that does not exist in the item"},
		{"SET nope.x = :one", "The document path provided in the update expression is invalid for update"},
		{"ADD id :one", "An operand in the update expression has an incorrect data type"},
	}
	for _, c := range apply {
		u, err := ParseUpdate(c.expr, NewEnv(nil, values))
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		_, err = u.Apply(sample)
		if err == nil || err.Error() != c.msg {
			t.Errorf("%q: got %v want %s", c.expr, err, c.msg)
		}
	}
}

func TestProjection(t *testing.T) {
	paths, err := ParseProjection("id, #m.loc, readings[2].x, readings[0]", NewEnv(map[string]string{"#m": "meta"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	got := Project(sample, paths)
	if len(got) != 3 || got["meta"].Map["loc"].Str != "lab" || len(got["meta"].Map) != 1 {
		t.Fatalf("projection = %v", got)
	}
	if l := got["readings"].List; len(l) != 2 || l[0].Str != "1" || l[1].Map["x"].Str != "deep" {
		t.Fatalf("list projection = %v", got["readings"])
	}
	if _, err := ParseProjection("a, a.b", nil); err == nil || !strings.Contains(err.Error(), "Two document paths overlap") {
		t.Fatalf("overlap: %v", err)
	}
}
