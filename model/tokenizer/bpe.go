package tokenizer

import "unicode/utf8"

// heapThreshold is the number of initial parts from which BPE switches
// from rescanning an array for the best pair (O(n²), fastest for the
// short pieces that make up nearly all text) to a priority queue
// (O(n log n): long Chinese clauses, and pathological pieces such as a
// 100 KB run of one letter). 40 was the best of 24–128 on BenchmarkCount.
const heapThreshold = 40

// scratch holds the buffers one BPE call needs; Tokenizer keeps them in a
// sync.Pool so concurrent callers never share one and steady-state counting
// does not allocate.
type scratch struct {
	parts []int32
	ranks []int32
	nodes []node
	queue []candidate
	out   []int32 // Count's per-piece result, reused
	frame []byte  // CountChat's text between special tokens

	texts   []rowText // Shape.Count's texts of a row
	pending []byte    // and the stretch between cuts it is counting

	// memo remembers recent pair lookups, hits and misses alike, in slot
	// format (see pairTable). The pair table is megabytes, so a lookup is
	// a cache miss, while the pairs of real text repeat a lot; this small
	// table stays in the CPU's near caches.
	memo [memoSize]uint64

	// pieceCount remembers the token counts of recent pieces for Count.
	// Real text repeats its words, and bulk inputs repeat their template
	// text on every row, so most pieces are counted once; a hit costs a
	// map lookup instead of a BPE run. Emptied when full, so it stays
	// small however much text passes through.
	pieceCount map[string]int32
	runs       int // runs counted (countSplit), for tests

	// lines remembers the counts of recent lines (see lineCut), found by
	// hash: the system prompt and the template's own lines come back on
	// every row of a bulk job, and a hit costs one hash of the line
	// instead of splitting and looking up each of its pieces. seen holds
	// the hashes of lines met once, so that only repeated lines are
	// copied in.
	lines [lineCacheSize]lineEntry
	seen  [seenSize]uint64
}

// lineEntry is one remembered line: its text (a copy) and token count.
type lineEntry struct {
	hash uint64
	n    int32
	text string
}

const (
	lineCacheSize = 1 << 10 // entries; a power of two
	seenSize      = 1 << 12 // a power of two
	// Lines shorter than lineCacheMin are cheaper to count than to hash
	// and compare; longer than lineCacheMax rarely repeat and would hold
	// memory.
	lineCacheMin = 8
	lineCacheMax = 4096
)

const (
	// pieceCacheSize bounds pieceCount's entries.
	pieceCacheSize = 1 << 13
	// pieceCacheMax is the longest piece (bytes) worth remembering:
	// longer ones rarely repeat.
	pieceCacheMax = 48
)

const (
	memoBits = 12
	memoSize = 1 << memoBits
)

// memoNone is the result stored in memo for "no merge"; no token id is
// this large.
const memoNone = resultMsk

// lookup is t.pairs.lookup through sc.memo.
func (sc *scratch) lookup(t *Tokenizer, l, r int32) int32 {
	key := pairKey(l, r)
	i := (key * 0x9E3779B97F4A7C15) >> (64 - memoBits)
	if e := sc.memo[i]; e&^resultMsk == key {
		if e&resultMsk == memoNone {
			return noMerge
		}
		return int32(e & resultMsk)
	}
	m := t.pairs.lookup(l, r)
	if m == noMerge {
		sc.memo[i] = key | memoNone
	} else {
		sc.memo[i] = key | uint64(m)
	}
	return m
}

// bpe appends the tokens of one piece to out. It applies the merge list
// the way the reference implementations do: repeatedly merge the adjacent
// pair whose merge comes first in the list, the leftmost one on ties. A
// pair merges only if it is listed; it is not enough that the two parts
// concatenate to some token (tiktoken's rule).
func (t *Tokenizer) bpe(sc *scratch, piece string, out []int32) []int32 {
	if len(piece) == 1 {
		return append(out, t.byteToken[piece[0]])
	}
	parts := t.initial(sc.parts[:0], piece)
	sc.parts = parts
	if len(parts) >= heapThreshold {
		return t.mergeHeap(sc, parts, out)
	}
	return t.mergeArray(sc, parts, out)
}

// initial appends the starting parts of piece to parts: one token per
// byte, except that characters known to merge into one token before any
// neighbour can touch them (see atoms.go) start as that token, which
// spares most of the work on Chinese text.
func (t *Tokenizer) initial(parts []int32, piece string) []int32 {
	for i := 0; i < len(piece); {
		c := piece[i]
		if c < utf8.RuneSelf {
			parts = append(parts, t.byteToken[c])
			i++
			continue
		}
		r, w := runeAt(piece, i)
		if id, ok := t.atomAt(piece, i, r, w); ok {
			parts = append(parts, id)
			i += w
			continue
		}
		for ; w > 0; w-- {
			parts = append(parts, t.byteToken[piece[i]])
			i++
		}
	}
	return parts
}

// initialBytes is initial without the shortcut, for tests.
func (t *Tokenizer) initialBytes(parts []int32, piece string) []int32 {
	for i := 0; i < len(piece); i++ {
		parts = append(parts, t.byteToken[piece[i]])
	}
	return parts
}

// mergeArray runs BPE over parts by rescanning for the best pair: O(n²)
// but with tight loops over two small arrays. parts is consumed.
func (t *Tokenizer) mergeArray(sc *scratch, parts []int32, out []int32) []int32 {
	// ranks[i] is the merge priority of (parts[i], parts[i+1]); since merges
	// are listed in id order it is also the id of the merged token.
	ranks := sc.ranks[:0]
	for i := 0; i+1 < len(parts); i++ {
		ranks = append(ranks, sc.lookup(t, parts[i], parts[i+1]))
	}
	for len(ranks) > 0 {
		// Lowest rank, leftmost on ties, as one minimum over rank<<32|index:
		// min compiles to conditional moves, and the branchy version lost
		// much of its time to mispredictions.
		m := int64(noMerge) << 32
		for i, r := range ranks {
			m = min(m, int64(r)<<32|int64(i))
		}
		best, at := int32(m>>32), int(uint32(m))
		if best == noMerge {
			break
		}
		parts[at] = best
		parts = append(parts[:at+1], parts[at+2:]...)
		ranks = append(ranks[:at], ranks[at+1:]...)
		if at > 0 {
			ranks[at-1] = sc.lookup(t, parts[at-1], parts[at])
		}
		if at < len(ranks) {
			ranks[at] = sc.lookup(t, parts[at], parts[at+1])
		}
	}
	sc.ranks = ranks
	return append(out, parts...)
}

// node is one current token of a long piece, in a doubly linked list over
// the positions of the initial parts.
type node struct {
	id         int32
	prev, next int32 // -1 at the ends
	dead       bool
}

// candidate is a possible merge of the node at pos with its successor.
// Entries go stale when either side changes; they are checked on pop.
type candidate struct {
	rank, pos int32
}

// before orders candidates: lower rank first, then leftmost, as in the
// array version.
func (a candidate) before(b candidate) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// mergeHeap runs BPE over parts with a priority queue. A merged node keeps
// the position of its left part, so ordering candidates by (rank,
// position) picks the same pair as mergeArray.
func (t *Tokenizer) mergeHeap(sc *scratch, parts []int32, out []int32) []int32 {
	n := len(parts)
	nodes := sc.nodes[:0]
	for i, id := range parts {
		nodes = append(nodes, node{id: id, prev: int32(i - 1), next: int32(i + 1)})
	}
	nodes[n-1].next = -1
	q := sc.queue[:0]
	for i := 0; i+1 < n; i++ {
		if r := sc.lookup(t, nodes[i].id, nodes[i+1].id); r != noMerge {
			q = append(q, candidate{rank: r, pos: int32(i)})
		}
	}
	for i := len(q)/2 - 1; i >= 0; i-- {
		siftDown(q, i)
	}
	for len(q) > 0 {
		c := q[0]
		last := len(q) - 1
		q[0] = q[last]
		q = q[:last]
		siftDown(q, 0)

		a := &nodes[c.pos]
		if a.dead || a.next < 0 {
			continue
		}
		b := &nodes[a.next]
		// Stale entry: the pair at pos changed since it was queued. (A
		// rank names exactly one pair, so an equal rank means the same
		// pair.)
		if sc.lookup(t, a.id, b.id) != c.rank {
			continue
		}
		a.id = c.rank
		b.dead = true
		a.next = b.next
		if b.next >= 0 {
			nodes[b.next].prev = c.pos
			if r := sc.lookup(t, a.id, nodes[b.next].id); r != noMerge {
				q = push(q, candidate{rank: r, pos: c.pos})
			}
		}
		if a.prev >= 0 {
			if r := sc.lookup(t, nodes[a.prev].id, a.id); r != noMerge {
				q = push(q, candidate{rank: r, pos: a.prev})
			}
		}
	}
	for i := int32(0); i >= 0; i = nodes[i].next {
		out = append(out, nodes[i].id)
	}
	sc.nodes, sc.queue = nodes, q
	return out
}

// A binary min-heap on []candidate, written out because container/heap's
// interface boxing allocated on every pop.
func push(q []candidate, c candidate) []candidate {
	q = append(q, c)
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q[i].before(q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
	return q
}

func siftDown(q []candidate, i int) {
	for {
		l := 2*i + 1
		if l >= len(q) {
			return
		}
		m := l
		if r := l + 1; r < len(q) && q[r].before(q[l]) {
			m = r
		}
		if !q[m].before(q[i]) {
			return
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
}
