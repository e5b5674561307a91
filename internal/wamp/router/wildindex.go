package router

import (
	"strings"

	"skyhub/internal/wamp"
)

// wildIndex finds the wildcard patterns that match a URI without looking
// at every pattern: patterns are stored by component in a tree, and a URI
// walks it taking, at each level, the branch of its own component and the
// branch of the empty (wildcard) component. Matching costs about
// components × matching branches, not the number of patterns (bench S8
// has a thousand). Guarded by the owner's lock.
type wildIndex[T any] struct {
	root wildNode[T]
}

type wildNode[T any] struct {
	next map[string]*wildNode[T]
	val  T
	has  bool // a pattern ends here
}

// add stores v under pattern, replacing what was there.
func (w *wildIndex[T]) add(pattern wamp.URI, v T) {
	n := &w.root
	for c := range strings.SplitSeq(string(pattern), ".") {
		k := n.next[c]
		if k == nil {
			if n.next == nil {
				n.next = map[string]*wildNode[T]{}
			}
			k = &wildNode[T]{}
			n.next[c] = k
		}
		n = k
	}
	n.val, n.has = v, true
}

// remove deletes pattern, pruning branches left empty.
func (w *wildIndex[T]) remove(pattern wamp.URI) {
	w.root.remove(string(pattern))
}

func (n *wildNode[T]) remove(rest string) {
	c, tail, more := strings.Cut(rest, ".")
	k := n.next[c]
	if k == nil {
		return
	}
	if more {
		k.remove(tail)
	} else {
		var zero T
		k.val, k.has = zero, false
	}
	if !k.has && len(k.next) == 0 {
		delete(n.next, c)
	}
}

// match calls fn for every pattern matching uri (same number of
// components, each pattern component empty or equal), in no set order.
func (w *wildIndex[T]) match(uri wamp.URI, fn func(T)) {
	w.root.match(string(uri), fn)
}

func (n *wildNode[T]) match(rest string, fn func(T)) {
	c, tail, more := strings.Cut(rest, ".")
	visit := func(k *wildNode[T]) {
		if more {
			k.match(tail, fn)
		} else if k.has {
			fn(k.val)
		}
	}
	if k := n.next[c]; k != nil {
		visit(k)
	}
	if c != "" {
		if k := n.next[""]; k != nil {
			visit(k)
		}
	}
}
