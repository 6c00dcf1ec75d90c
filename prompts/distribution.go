package prompts

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/width"
)

// Bucket names for values that are not one of a field's labels.
const (
	LabelNone  = "(none)"  // an optional field left empty, or an empty array
	LabelOther = "(other)" // a value that is not a label (not from Parse)
)

// Distribution counts the labels of a run's answers, per field with
// labels, so that a labeling run can end with "negative 48 (48.0%)…" and
// a skewed or suspicious result shows at once.
//
// It is safe for concurrent use. Its memory is bounded by the number of
// labels: values that are not labels share the LabelOther bucket.
type Distribution struct {
	fields *Fields
	enumAt []int            // indexes of the fields with labels
	slot   []map[string]int // per enumAt entry: folded label → count slot

	mu     sync.Mutex
	rows   int64
	errors int64
	counts [][]int64 // per enumAt entry: one count per label, then LabelNone, then LabelOther
}

// NewDistribution returns an empty count for the fields' labels. With nil
// fields (a free-text job) it counts rows and errors only.
func NewDistribution(fs *Fields) *Distribution {
	d := &Distribution{fields: fs}
	if fs == nil {
		return d
	}
	for i, f := range fs.list {
		if len(f.Enum) > 0 {
			d.enumAt = append(d.enumAt, i)
			m := make(map[string]int, len(f.Enum))
			for j, e := range f.Enum {
				m[fold(e)] = j
			}
			d.slot = append(d.slot, m)
			d.counts = append(d.counts, make([]int64, len(f.Enum)+2))
		}
	}
	return d
}

// Add counts one answered row: values as Parse returned them.
func (d *Distribution) Add(values []string) {
	// Work out the buckets before taking the lock; decoding a multi-label
	// cell is the only real work.
	hits := make([][]int, len(d.enumAt))
	for k, i := range d.enumAt {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		hits[k] = d.buckets(k, i, v)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rows++
	for k, hs := range hits {
		for _, h := range hs {
			d.counts[k][h]++
		}
	}
}

// AddError counts a row without a usable answer (the request failed or
// the reply never parsed).
func (d *Distribution) AddError() {
	d.mu.Lock()
	d.errors++
	d.mu.Unlock()
}

// buckets returns the count slots one cell of field i (enumAt[k]) falls
// into.
func (d *Distribution) buckets(k, i int, v string) []int {
	f := d.fields.list[i]
	none, other := len(f.Enum), len(f.Enum)+1
	labels := []string{v}
	if f.Type == TypeStrings {
		labels = nil
		if strings.TrimSpace(v) != "" && json.Unmarshal([]byte(v), &labels) != nil {
			return []int{other}
		}
	}
	if len(labels) == 0 || (len(labels) == 1 && strings.TrimSpace(labels[0]) == "") {
		return []int{none}
	}
	out := make([]int, 0, len(labels))
	for _, l := range labels {
		slot, ok := d.slot[k][fold(l)]
		if !ok {
			slot = other
		}
		out = append(out, slot)
	}
	return out
}

// DistributionStats is a snapshot of a Distribution, shaped for JSON
// output (run reports, --json).
type DistributionStats struct {
	Rows   int64                       `json:"rows"`   // rows with an answer
	Errors int64                       `json:"errors"` // rows without one
	Fields map[string]map[string]int64 `json:"fields"` // field → label → rows; every label, LabelNone/LabelOther only when not 0
}

// Stats returns the counts so far.
func (d *Distribution) Stats() DistributionStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := DistributionStats{Rows: d.rows, Errors: d.errors, Fields: make(map[string]map[string]int64, len(d.enumAt))}
	for k, i := range d.enumAt {
		m := map[string]int64{}
		for _, lc := range d.labelCounts(k, i) {
			m[lc.label] = lc.count
		}
		s.Fields[d.fields.list[i].Name] = m
	}
	return s
}

type labelCount struct {
	label string
	count int64
}

// labelCounts lists field i's labels by count, highest first; ties keep
// the job file's order. Callers hold d.mu.
func (d *Distribution) labelCounts(k, i int) []labelCount {
	f := d.fields.list[i]
	c := d.counts[k]
	out := make([]labelCount, 0, len(c))
	for j, e := range f.Enum {
		out = append(out, labelCount{e, c[j]})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].count > out[b].count })
	if n := c[len(f.Enum)]; n > 0 {
		out = append(out, labelCount{LabelNone, n})
	}
	if n := c[len(f.Enum)+1]; n > 0 {
		out = append(out, labelCount{LabelOther, n})
	}
	return out
}

// Summary formats the counts for the end of a run: per field with labels,
// each label with its count and its share of the answered rows, most
// frequent first, then the rows without an answer. For a multi-label
// field (string[]) a row counts once per label it has, so the shares can
// add up to more than 100%.
func (d *Distribution) Summary() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s answered", d.rows, plural(d.rows, "row", "rows"))
	if d.errors > 0 {
		fmt.Fprintf(&b, ", %d without a usable answer (not counted below)", d.errors)
	}
	b.WriteByte('\n')
	for k, i := range d.enumAt {
		f := d.fields.list[i]
		b.WriteString(f.Name)
		if f.Type == TypeStrings {
			b.WriteString(" (several labels per row)")
		}
		b.WriteString(":\n")
		lcs := d.labelCounts(k, i)
		labelW, countW := 0, 1
		for _, lc := range lcs {
			labelW = max(labelW, displayWidth(lc.label))
			countW = max(countW, len(fmt.Sprint(lc.count)))
		}
		for _, lc := range lcs {
			pct := 0.0
			if d.rows > 0 {
				pct = 100 * float64(lc.count) / float64(d.rows)
			}
			fmt.Fprintf(&b, "  %s%s  %*d  %5.1f%%\n", lc.label, strings.Repeat(" ", labelW-displayWidth(lc.label)), countW, lc.count, pct)
		}
	}
	return b.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// displayWidth counts columns on a terminal: Chinese labels take two each,
// so padding by runes would misalign them.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			w += 2
		default:
			w++
		}
	}
	return w
}
