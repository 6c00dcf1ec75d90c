package prompts

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"
)

func TestDistribution(t *testing.T) {
	fs := mustFields(t, indent(`
情感: [positive, negative, neutral, 中性偏好]
stars: {type: "integer?", enum: [1, 2, 3]}
reason: string?
tags: {type: "string[]", enum: [price, quality]}
`))
	d := NewDistribution(fs)
	rows := [][]string{
		{"negative", "1", "slow", `["price"]`},
		{"negative", "1", "", `["price","quality"]`},
		{"negative", "2", "", `[]`},
		{"positive", "3", "", `["quality"]`},
		{"中性偏好", "", "", `["price"]`},
		{"Positive", "3", "", `["PRICE"]`}, // not canonical: folded
		{"bogus", "9", "", `not json`},     // not from Parse: counted as other
	}
	// Add from several goroutines: the count must not depend on timing.
	var wg sync.WaitGroup
	for _, r := range rows {
		wg.Go(func() { d.Add(r) })
	}
	for range 2 {
		wg.Go(d.AddError)
	}
	wg.Wait()

	golden(t, "distribution", d.Summary())

	want := DistributionStats{Rows: 7, Errors: 2, Fields: map[string]map[string]int64{
		"情感":    {"negative": 3, "positive": 2, "neutral": 0, "中性偏好": 1, LabelOther: 1},
		"stars": {"1": 2, "2": 1, "3": 2, LabelNone: 1, LabelOther: 1},
		"tags":  {"price": 4, "quality": 2, LabelNone: 1, LabelOther: 1},
	}}
	got := d.Stats()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Stats() =\n%+v\nwant\n%+v", got, want)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Errorf("Stats() does not marshal: %v", err)
	}
}

func TestDistributionEmpty(t *testing.T) {
	fs := mustFields(t, "  summary: string\n")
	d := NewDistribution(fs)
	if got, want := d.Summary(), "0 rows answered\n"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	d.Add([]string{"x"})
	d.AddError()
	if got, want := d.Summary(), "1 row answered, 1 without a usable answer (not counted below)\n"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	free := NewDistribution(nil) // a free-text job has no fields
	free.Add([]string{"anything"})
	if got := free.Stats(); got.Rows != 1 || len(got.Fields) != 0 {
		t.Errorf("Stats() without fields = %+v", got)
	}
}

func BenchmarkDistributionAdd(b *testing.B) {
	fs, _ := NewFields(Field{Name: "label", Type: TypeString, Enum: []string{"positive", "negative", "neutral"}})
	d := NewDistribution(fs)
	row := []string{"negative"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.Add(row)
		}
	})
}
