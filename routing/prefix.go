package routing

import "slices"

// prefixTrie holds the dest_prefixes of every route of one direction. Each
// node carries hits: the sorted indices of the routes owning a prefix that
// ends at this node or at one of its ancestors. One walk down the trie along
// the destination therefore yields, at the deepest node reached, every route
// whose prefix filter the destination passes; the route scan then checks
// membership with a cursor that only moves forward. Cost per message:
// O(len(dest)) node steps plus O(routes), whatever the number of prefixes.
type prefixTrie struct {
	nodes []trieNode // nodes[0] is the root; empty when no route has prefixes
}

type trieNode struct {
	digit [10]int32  // child per '0'..'9'; 0 = none (the root is never a child)
	other []trieEdge // children for any other octet, sorted by octet
	hits  []int32    // shared with the parent's when no prefix ends here
}

type trieEdge struct {
	b    byte
	node int32
}

func (n *trieNode) child(b byte) int32 {
	if d := b - '0'; d < 10 {
		return n.digit[d]
	}
	for _, e := range n.other {
		if e.b == b {
			return e.node
		}
		if e.b > b {
			break
		}
	}
	return 0
}

// lookup returns the hits of the deepest node matching a prefix of dst
// (after one leading '+'). The slice belongs to the trie.
func (t *prefixTrie) lookup(dst []byte) []int32 {
	if len(t.nodes) == 0 {
		return nil
	}
	if len(dst) > 0 && dst[0] == '+' {
		dst = dst[1:]
	}
	n := &t.nodes[0]
	for _, b := range dst {
		c := n.child(b)
		if c == 0 {
			break
		}
		n = &t.nodes[c]
	}
	return n.hits
}

// trieBuilder collects prefixes, then freezes them into a prefixTrie.
type trieBuilder struct {
	nodes  []trieNode
	parent []int32
	own    [][]int32 // routes whose prefix ends at the node
}

func (b *trieBuilder) add(prefix string, route int) {
	if len(b.nodes) == 0 {
		b.nodes = append(b.nodes, trieNode{})
		b.parent = append(b.parent, -1)
		b.own = append(b.own, nil)
	}
	cur := int32(0)
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		next := b.nodes[cur].child(c)
		if next == 0 {
			next = int32(len(b.nodes))
			b.nodes = append(b.nodes, trieNode{})
			b.parent = append(b.parent, cur)
			b.own = append(b.own, nil)
			n := &b.nodes[cur]
			if d := c - '0'; d < 10 {
				n.digit[d] = next
			} else {
				at, _ := slices.BinarySearchFunc(n.other, c, func(e trieEdge, c byte) int { return int(e.b) - int(c) })
				n.other = slices.Insert(n.other, at, trieEdge{c, next})
			}
		}
		cur = next
	}
	own := b.own[cur]
	if len(own) == 0 || own[len(own)-1] != int32(route) { // routes are added in order
		b.own[cur] = append(own, int32(route))
	}
}

// build computes every node's hits. Children are created after their parent,
// so one pass in index order sees each parent finished.
func (b *trieBuilder) build() prefixTrie {
	for i := 1; i < len(b.nodes); i++ {
		inherited := b.nodes[b.parent[i]].hits
		if len(b.own[i]) == 0 {
			b.nodes[i].hits = inherited
			continue
		}
		merged := make([]int32, 0, len(inherited)+len(b.own[i]))
		merged = append(merged, inherited...)
		merged = append(merged, b.own[i]...)
		slices.Sort(merged)
		b.nodes[i].hits = slices.Compact(merged)
	}
	return prefixTrie{nodes: slices.Clip(b.nodes)}
}
