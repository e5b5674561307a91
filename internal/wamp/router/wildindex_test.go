package router

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"skyhub/internal/wamp"
)

// TestWildIndexMatchesLikeWildcardMatch compares the index with the
// pattern-by-pattern rule on random patterns and URIs (empty components
// included), through adds and removes.
func TestWildIndexMatchesLikeWildcardMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	comps := []string{"", "a", "b", "c", "ab"}
	gen := func() wamp.URI {
		n := 1 + rng.IntN(4)
		p := make([]string, n)
		for i := range p {
			p[i] = comps[rng.IntN(len(comps))]
		}
		return wamp.URI(strings.Join(p, "."))
	}
	var w wildIndex[wamp.URI]
	set := map[wamp.URI]bool{}
	for round := range 2000 {
		p := gen()
		if set[p] && round%3 == 0 {
			w.remove(p)
			delete(set, p)
		} else {
			w.add(p, p)
			set[p] = true
		}
		u := gen()
		var got, want []wamp.URI
		w.match(u, func(p wamp.URI) { got = append(got, p) })
		for p := range set {
			if wamp.WildcardMatch(p, u) {
				want = append(want, p)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: %q matched %q, want %q", round, u, got, want)
		}
	}
	for p := range set {
		w.remove(p)
	}
	if len(w.root.next) != 0 {
		t.Fatalf("index not empty after removing everything: %d branches", len(w.root.next))
	}
}
