package wamp

import "testing"

func TestValidURI(t *testing.T) {
	cases := []struct {
		uri    URI
		strict bool
		match  string
		ok     bool
	}{
		{"com.example.add", true, MatchExact, true},
		{"com.example.add", false, MatchExact, true},
		{"com.Example.add", true, MatchExact, false},
		{"com.Example.add", false, MatchExact, true},
		{"com.ex-ample", true, MatchExact, false},
		{"com.ex-ample", false, MatchExact, true},
		{"com..add", false, MatchExact, false},
		{"com.add.", false, MatchExact, false},
		{".com", false, MatchExact, false},
		{"", false, MatchExact, false},
		{"com.a#b", false, MatchExact, false},
		{"com.a b", false, MatchExact, false},
		{"com.a\tb", false, MatchExact, false},
		{"com.a\u00a0b", false, MatchExact, false},
		{"com.ü", false, MatchExact, true},
		{"com.ü", true, MatchExact, false},
		{"com.example.", false, MatchPrefix, true},
		{"com.example", true, MatchPrefix, true},
		{"com..example", false, MatchPrefix, false},
		{"com..example", false, MatchWildcard, true},
		{"..", true, MatchWildcard, true},
		{"com.a#.b", false, MatchWildcard, false},
		{"", false, MatchPrefix, true},
	}
	for _, c := range cases {
		if got := ValidURI(c.uri, c.strict, c.match); got != c.ok {
			t.Errorf("ValidURI(%q, strict=%v, %s) = %v", c.uri, c.strict, c.match, got)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	cases := []struct {
		p, u URI
		ok   bool
	}{
		{"com..update", "com.myapp.update", true},
		{"com..update", "com.myapp.create", false},
		{"com..update", "com.a.b.update", false},
		{"..", "a.b.c", true},
		{"..", "a.b", false},
		{"com.myapp.", "com.myapp.x", true},
		{"a.b", "a.b", true},
		{".b", "x.b", true},
		{".b", "x.c", false},
	}
	for _, c := range cases {
		if got := WildcardMatch(c.p, c.u); got != c.ok {
			t.Errorf("WildcardMatch(%q, %q) = %v", c.p, c.u, got)
		}
	}
}

func TestIDs(t *testing.T) {
	var g IDGen
	if g.Next() != 1 || g.Next() != 2 {
		t.Fatal("IDGen does not count from 1")
	}
	g.n.Store(uint64(MaxID) - 1)
	if g.Next() != MaxID || g.Next() != 1 {
		t.Fatal("IDGen does not wrap to 1 after 2^53")
	}
	if NextID(MaxID) != 1 || NextID(5) != 6 {
		t.Fatal("NextID")
	}
	seen := map[ID]bool{}
	for range 1000 {
		id := GlobalID()
		if id < 1 || id > MaxID {
			t.Fatalf("GlobalID %d out of range", id)
		}
		seen[id] = true
	}
	if len(seen) < 999 {
		t.Fatal("GlobalID repeats")
	}
}
