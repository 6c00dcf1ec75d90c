package translate

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadGlossary(t *testing.T) {
	tests := []struct {
		file string
		want []Term
	}{
		{"glossary_header_bom.csv", []Term{
			{Source: "商品", Target: "product", Line: 2},
			{Source: "订单", Target: "order", Note: "noun, not the verb", Line: 3},
			{Source: "商品价格", Target: "product price", Line: 6},
			{Source: "Cat", Target: "cat (animal)", Line: 7},
		}},
		{"glossary_lang_header.csv", []Term{{Source: "价格", Target: "price", Line: 2}}},
		{"glossary_no_header.csv", []Term{
			{Source: "商品", Target: "product", Line: 1},
			{Source: "价格", Target: "price", Line: 2},
		}},
		{"glossary_repeat.csv", []Term{{Source: "商品", Target: "product", Line: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			g, err := LoadGlossary(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Terms(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("terms:\n got %+v\nwant %+v", got, tt.want)
			}
			if g.Len() != len(tt.want) {
				t.Errorf("Len() = %d, want %d", g.Len(), len(tt.want))
			}
		})
	}
}

func TestLoadGlossaryErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"glossary_conflict.csv", `glossary testdata/glossary_conflict.csv: line 3: "商品" → "goods" conflicts with line 1: "商品" → "product" (matching ignores case): keep one`},
		{"glossary_case_conflict.csv", `glossary testdata/glossary_case_conflict.csv: line 3: "apple" → "苹果" conflicts with line 2: "Apple" → "苹果公司"`},
		{"glossary_no_target.csv", `glossary testdata/glossary_no_target.csv: line 2: "价格" has no target: write source,target`},
		{"glossary_too_many.csv", `glossary testdata/glossary_too_many.csv: line 2: 4 fields, want source,target[,note]`},
		{"glossary_bad_quote.csv", `glossary testdata/glossary_bad_quote.csv: parse error on line 2, column 15: extraneous or missing " in quoted-field: put a field`},
		{"glossary_latin1.csv", `glossary testdata/glossary_latin1.csv: line 2: not UTF-8: save the file as UTF-8`},
		{"missing.csv", `glossary: open testdata/missing.csv: no such file or directory`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadGlossary(filepath.Join("testdata", tt.file))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant prefix %s", err, tt.want)
			}
		})
	}
}

func TestNewGlossary(t *testing.T) {
	_, err := NewGlossary([]Term{{Source: "a", Target: "b"}, {Source: " A ", Target: "c"}})
	if want := `term 2: "A" → "c" conflicts with line 1`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v, want prefix %s", err, want)
	}
	_, err = NewGlossary([]Term{{Source: "a"}})
	if want := `term 1: "a" has no target`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	g, err := NewGlossary([]Term{{Source: "  #hash  ", Target: "x"}})
	if err != nil || g.Len() != 1 || g.Terms()[0].Source != "#hash" {
		t.Errorf("got %v, %v: in-memory terms are not CSV lines, a leading # is kept", g, err)
	}
}

func TestMatch(t *testing.T) {
	g, err := NewGlossary([]Term{
		{Source: "商品", Target: "product"},
		{Source: "价格", Target: "price"},
		{Source: "商品价格", Target: "product price"},
		{Source: "cat", Target: "猫"},
		{Source: "Order ID", Target: "订单号"},
		{Source: "order", Target: "订单"},
		{Source: "café", Target: "咖啡馆"}, // NFC
		{Source: "상품", Target: "product"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text string
		want       []string // sources, in order
	}{
		{"longest wins", "商品价格", []string{"商品价格"}},
		{"non-overlapping then next", "商品价格和价格", []string{"商品价格", "价格"}},
		{"each term once, first-occurrence order", "价格 商品 价格 商品", []string{"价格", "商品"}},
		{"glued to other han text", "新商品上架", []string{"商品"}},
		{"case ignored", "ORDER id: 12", []string{"Order ID"}},
		{"shorter term when the longer does not fit", "Order list", []string{"order"}},
		{"word boundary in latin text", "category catalog", nil},
		{"word boundary with punctuation", "(cat)", []string{"cat"}},
		{"latin term next to han", "cat猫", []string{"cat"}},
		{"decomposed input matches NFC term", "cafe\u0301 au lait", []string{"café"}},
		{"hangul glued to a particle", "상품을 주문", []string{"상품"}},
		{"nothing", "hello", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, term := range g.Match(tt.text) {
				got = append(got, term.Source)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Match(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
	var nilG *Glossary
	if got := nilG.Match("商品"); got != nil {
		t.Errorf("nil glossary matched %v", got)
	}
}

func TestPromptSnippet(t *testing.T) {
	if got := PromptSnippet(nil); got != "" {
		t.Errorf("PromptSnippet(nil) = %q", got)
	}
	got := PromptSnippet([]Term{{Source: "商品", Target: "product"}, {Source: "订单", Target: "order", Note: "noun"}})
	want := "Use these translations for the following terms:\n- 商品 → product\n- 订单 → order (note: noun)\n"
	if got != want {
		t.Errorf("PromptSnippet = %q, want %q", got, want)
	}
}

func TestCheck(t *testing.T) {
	terms := []Term{
		{Source: "商品", Target: "product"},
		{Source: "订单", Target: "order"},
		{Source: "cat", Target: "猫"},
	}
	tests := []struct {
		name, text, translation string
		want                    []string
	}{
		{"all present", "商品订单", "Product order", nil},
		{"plural still counts", "商品", "products", nil},
		{"one missing", "商品订单", "goods order", []string{"product"}},
		{"terms not in the text are ignored", "价格", "price", nil},
		{"source inside a longer word is not an occurrence", "category", "类别", nil},
		{"latin source, han target missing", "my cat", "我的小猫咪", nil},
		{"latin source, han target absent", "my cat", "我的宠物", []string{"猫"}},
		{"two missing, in term order", "订单商品", "", []string{"product", "order"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Check(tt.text, tt.translation, terms); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check = %q, want %q", got, tt.want)
			}
		})
	}
}

// BenchmarkMatch matches a cell of 60 characters against glossaries of
// growing size; the cost depends on the text and the longest term, not on
// the number of terms.
func BenchmarkMatch(b *testing.B) {
	const text = "这款红色连衣裙是夏季新品，商品价格含运费，订单满200元包邮。Order ID: SKU-2024-0012"
	for _, n := range []int{100, 5000, 50000} {
		terms := make([]Term, 0, n+3)
		for i := range n {
			terms = append(terms, Term{Source: fmt.Sprintf("术语%d号", i), Target: fmt.Sprintf("term %d", i)})
		}
		terms = append(terms, Term{Source: "商品价格", Target: "product price"}, Term{Source: "订单", Target: "order"}, Term{Source: "Order ID", Target: "订单号"})
		g, err := NewGlossary(terms)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("terms=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(g.Match(text)) != 3 {
					b.Fatal("want 3 matches")
				}
			}
		})
	}
}
