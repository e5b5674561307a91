package wamp

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"sync/atomic"
)

// Match policies for pattern-based subscriptions and registrations.
const (
	MatchExact    = "exact"
	MatchPrefix   = "prefix"
	MatchWildcard = "wildcard"
)

// ValidURI checks u against the spec's URI rules (section 1.4). strict
// limits components to [0-9a-z_]; loose only forbids '.', '#' and
// whitespace inside components. match selects which components may be
// empty: none (exact, also ""), the last one (prefix), or any (wildcard).
func ValidURI(u URI, strict bool, match string) bool {
	s := string(u)
	if s == "" {
		return match == MatchPrefix || match == MatchWildcard
	}
	n := strings.Count(s, ".") + 1
	i := 0
	for comp := range strings.SplitSeq(s, ".") {
		i++
		if comp == "" {
			switch match {
			case MatchWildcard:
				continue
			case MatchPrefix:
				if i == n {
					continue
				}
			}
			return false
		}
		for j := 0; j < len(comp); j++ {
			c := comp[j]
			if strict {
				if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
					return false
				}
				continue
			}
			if c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
				return false
			}
		}
		if !strict && strings.ContainsFunc(comp, isUnicodeSpace) {
			return false
		}
	}
	return true
}

func isUnicodeSpace(r rune) bool {
	switch r {
	case '\u0085', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000':
		return true
	}
	return r >= '\u2000' && r <= '\u200a'
}

// WildcardMatch reports whether the concrete uri matches a wildcard pattern:
// the same number of components, every non-empty pattern component equal.
func WildcardMatch(pattern, uri URI) bool {
	p, u := string(pattern), string(uri)
	for {
		pi := strings.IndexByte(p, '.')
		ui := strings.IndexByte(u, '.')
		if (pi < 0) != (ui < 0) {
			return false
		}
		if pi < 0 {
			return p == "" || p == u
		}
		if pi > 0 && p[:pi] != u[:ui] {
			return false
		}
		p, u = p[pi+1:], u[ui+1:]
	}
}

// GlobalID draws a global-scope id uniformly at random from [1, 2^53].
func GlobalID() ID {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("wamp: crypto/rand failed: " + err.Error()) // never happens on Linux
	}
	return ID(binary.LittleEndian.Uint64(b[:])&(uint64(MaxID)-1)) + 1
}

// IDGen hands out session- or router-scope ids: 1, 2, 3, ... wrapping to 1
// after 2^53. Safe for concurrent use.
type IDGen struct{ n atomic.Uint64 }

// Next returns the next id.
func (g *IDGen) Next() ID {
	for {
		v := g.n.Add(1)
		if v <= uint64(MaxID) {
			return ID(v)
		}
		g.n.CompareAndSwap(v, 0)
	}
}

// NextID returns the id after prev in a session scope (wrapping).
func NextID(prev ID) ID {
	if prev >= MaxID {
		return 1
	}
	return prev + 1
}

// Option accessors: they read a typed value from a Details/Options dict,
// tolerating every numeric form a decoder may produce.

// OptString returns d[key] if it is a string.
func OptString(d Dict, key string) (string, bool) {
	s, ok := d[key].(string)
	return s, ok
}

// OptBool returns d[key] if it is a bool (never 0/1).
func OptBool(d Dict, key string) (bool, bool) {
	b, ok := d[key].(bool)
	return b, ok
}

// OptInt returns d[key] if it is an integer.
func OptInt(d Dict, key string) (int64, bool) {
	v, ok := d[key]
	if !ok {
		return 0, false
	}
	return toInt(v)
}

// OptDict returns d[key] if it is a dict.
func OptDict(d Dict, key string) (Dict, bool) {
	v, ok := d[key].(Dict)
	return v, ok
}

// OptList returns d[key] if it is a list.
func OptList(d Dict, key string) (List, bool) {
	v, ok := d[key].([]any)
	return v, ok
}
