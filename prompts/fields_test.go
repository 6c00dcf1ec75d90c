package prompts

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"bulkgen/model"
)

const parseFields = `
label: [positive, negative, neutral]
confidence: number
stars: integer
reason: string?
ok: boolean?
tags: {type: "string[]?", enum: [price, quality, 物流]}
`

func TestParse(t *testing.T) {
	fs := mustFields(t, indent(parseFields))
	ok := func(label, conf, stars, reason, okv, tags string) []string {
		return []string{label, conf, stars, reason, okv, tags}
	}
	tests := []struct {
		name, reply string
		want        []string
		wantErr     []string // each must appear in the error; nil means no error
	}{
		{"plain", `{"label":"negative","confidence":0.9,"stars":2,"reason":"late","ok":false,"tags":["price"]}`,
			ok("negative", "0.9", "2", "late", "false", `["price"]`), nil},
		{"fenced", "```json\n{\"label\": \"positive\", \"confidence\": 1, \"stars\": 5}\n```",
			ok("positive", "1", "5", "", "", ""), nil},
		{"fence without language", "```\n{\"label\": \"positive\", \"confidence\": 1, \"stars\": 5}\n```\n",
			ok("positive", "1", "5", "", "", ""), nil},
		{"prose around", "Sure! Here is the result:\n{\"label\": \"neutral\", \"confidence\": 0.5, \"stars\": 3, \"reason\": \"mixed {both} sides\"}\nHope that helps {:-}",
			ok("neutral", "0.5", "3", "mixed {both} sides", "", ""), nil},
		{"enum case and spaces folded to canonical", `{"label":" Positive ","confidence":0.5,"stars":4,"tags":["PRICE","物流"]}`,
			ok("positive", "0.5", "4", "", "", `["price","物流"]`), nil},
		{"keys in another case", `{"Label":"negative","CONFIDENCE":0.25,"Stars":1}`,
			ok("negative", "0.25", "1", "", "", ""), nil},
		{"extra keys ignored", `{"label":"negative","confidence":0.25,"stars":1,"extra":{"x":[1]}}`,
			ok("negative", "0.25", "1", "", "", ""), nil},
		{"null optionals", `{"label":"negative","confidence":0.25,"stars":1,"reason":null,"ok":null,"tags":null}`,
			ok("negative", "0.25", "1", "", "", ""), nil},
		{"empty array", `{"label":"negative","confidence":0.25,"stars":1,"tags":[]}`,
			ok("negative", "0.25", "1", "", "", "[]"), nil},
		{"number shortest form", `{"label":"negative","confidence":1.50,"stars":1e1}`,
			ok("negative", "1.5", "10", "", "", ""), nil},
		{"integer written as 3.0", `{"label":"negative","confidence":-0.0,"stars":3.0}`,
			ok("negative", "0", "3", "", "", ""), nil},
		{"numeric strings", `{"label":"negative","confidence":" 0.75","stars":"4"}`,
			ok("negative", "0.75", "4", "", "", ""), nil},
		{"boolean strings", `{"label":"negative","confidence":1,"stars":4,"ok":"TRUE"}`,
			ok("negative", "1", "4", "", "true", ""), nil},
		{"string field takes a number as written", `{"label":"negative","confidence":1,"stars":4,"reason":10001}`,
			ok("negative", "1", "4", "10001", "", ""), nil},
		{"html and unicode kept", `{"label":"negative","confidence":1,"stars":4,"reason":"a<b & \"c\" 差评"}`,
			ok("negative", "1", "4", `a<b & "c" 差评`, "", ""), nil},

		{"misspelt label", `{"label":"positve","confidence":0.9,"stars":5}`, nil,
			[]string{`field "label": "positve" is not one of positive, negative, neutral`}},
		{"integer with fraction", `{"label":"positive","confidence":0.9,"stars":3.5}`, nil,
			[]string{`field "stars": 3.5 is not an integer`}},
		{"word for a number", `{"label":"positive","confidence":"high","stars":3}`, nil,
			[]string{`field "confidence": "high" is not a number`}},
		{"NaN string", `{"label":"positive","confidence":"NaN","stars":3}`, nil,
			[]string{`field "confidence": "NaN" is not a number`}},
		{"missing required", `{"confidence":0.9,"stars":3}`, nil,
			[]string{`field "label" is missing`}},
		{"null required", `{"label":null,"confidence":0.9,"stars":3}`, nil,
			[]string{`field "label" is null, want exactly one of "positive", "negative", "neutral"`}},
		{"every problem at once", `{"label":["positive"],"confidence":true,"ok":"maybe","tags":"price"}`, nil,
			[]string{`field "label": want a string, got an array`, `field "confidence": want a number, got a boolean`,
				`field "stars" is missing`, `field "ok": "maybe" is not true or false`, `field "tags": want an array of labels`}},
		{"bad array item", `{"label":"positive","confidence":1,"stars":1,"tags":["price", "cost"]}`, nil,
			[]string{`field "tags": item 2: "cost" is not one of price, quality, 物流`}},
		{"nested object for a string", `{"label":{"value":"positive"},"confidence":1,"stars":1}`, nil,
			[]string{`field "label": want a string, got an object`}},
		{"empty", "  \n", nil, []string{"the reply is empty"}},
		{"array", `[{"label":"positive"}]`, nil, []string{"the reply is an array, want a JSON object"}},
		{"string", `"positive"`, nil, []string{"the reply is a string, want a JSON object"}},
		{"prose only", "It is positive.", nil, []string{"no JSON object"}},
		{"cut off", `{"label":"positive","reason":{"a":1}, "confidence": 0.`, nil, []string{"not complete", "max_tokens"}},
		{"two objects", `{"label":"positive","confidence":1,"stars":1} or {"label":"negative","confidence":1,"stars":1}`, nil,
			[]string{"2 JSON objects, want exactly one"}},
		{"invalid JSON", `Answer: {'label': 'positive'}`, nil, []string{"not valid JSON"}},
		{"trailing comma: no inner object taken", `Answer: {"label": "x", "reason": {"label":"positive","confidence":1,"stars":1},}`, nil,
			[]string{"not valid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fs.Parse(tt.reply)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Parse =\n %q\nwant\n %q", got, tt.want)
				}
				return
			}
			var re *ReplyError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v (%T), want a *ReplyError", err, err)
			}
			if got != nil {
				t.Errorf("values = %q on error, want nil", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes, too long to feed back: %q", len(err.Error()), err)
			}
		})
	}
}

func TestReplyErrorIsShort(t *testing.T) {
	var spec strings.Builder
	for i := range 20 {
		fmt.Fprintf(&spec, "  field_%02d: string\n", i)
	}
	_, err := mustFields(t, spec.String()).Parse(`{}`)
	want := `field "field_00" is missing; field "field_01" is missing; field "field_02" is missing; ` +
		`field "field_03" is missing; field "field_04" is missing; field "field_05" is missing; and 14 more`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestParseNumericLabels(t *testing.T) {
	fs := mustFields(t, "  stars: [1, 2, 3, 4, 5]\n  score: {type: number, enum: [0.5, 1]}\n")
	tests := []struct {
		reply   string
		want    []string
		wantErr string
	}{
		{`{"stars": 4, "score": 0.50}`, []string{"4", "0.5"}, ""},
		{`{"stars": "5", "score": 1.0}`, []string{"5", "1"}, ""},
		{`{"stars": 6, "score": 1}`, nil, `field "stars": 6 is not one of 1, 2, 3, 4, 5`},
		{`{"stars": 4, "score": 0.7}`, nil, `field "score": 0.7 is not one of 0.5, 1`},
	}
	for _, tt := range tests {
		t.Run(tt.reply, func(t *testing.T) {
			got, err := fs.Parse(tt.reply)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestInstruction(t *testing.T) {
	fs := mustFields(t, indent(parseFields+"产品: {type: 'string?', description: 'the product, in English'}\n"))
	in := fs.Instruction()
	if !strings.Contains(strings.ToLower(in), "json") {
		t.Errorf("instruction lacks the word json, which DashScope's JSON mode requires:\n%s", in)
	}
	for _, name := range fs.Names() {
		if !strings.Contains(in, `"`+name+`"`) {
			t.Errorf("instruction lacks key %q:\n%s", name, in)
		}
	}
	for _, label := range []string{`"positive"`, `"negative"`, `"neutral"`, `"物流"`, "the product, in English"} {
		if !strings.Contains(in, label) {
			t.Errorf("instruction lacks %s:\n%s", label, in)
		}
	}
	golden(t, "instruction", in+"\n")
}

func TestRepair(t *testing.T) {
	fs := mustFields(t, "  label: [positive, negative]\n  reason: string?\n")
	reply := `{"label": "positve"}`
	_, err := fs.Parse(reply)
	if err == nil {
		t.Fatal("Parse accepted a misspelt label")
	}
	p := fs.RepairPrompt(reply, err)
	for _, w := range []string{`"positve" is not one of positive, negative`, "JSON object", `"label", "reason"`} {
		if !strings.Contains(p, w) {
			t.Errorf("RepairPrompt %q lacks %q", p, w)
		}
	}
	req := model.Request{Model: "m", Messages: []model.Message{{Role: "system", Content: "s"}, {Role: "user", Content: "u"}}}
	next := fs.Repair(req, reply, err)
	if len(req.Messages) != 2 {
		t.Fatalf("Repair changed the original request: %+v", req.Messages)
	}
	want := []model.Message{{Role: "system", Content: "s"}, {Role: "user", Content: "u"}, {Role: "assistant", Content: reply}, {Role: "user", Content: p}}
	if !reflect.DeepEqual(next.Messages, want) || next.Model != "m" {
		t.Errorf("Repair = %+v, want messages %+v", next, want)
	}
	if blank := fs.Repair(req, " ", errors.New("the reply is empty")); len(blank.Messages) != 2 {
		t.Errorf("a blank reply must be retried as it was, got %+v", blank.Messages)
	}
	if p := fs.RepairPrompt("", errors.New("x")); !strings.HasPrefix(p, "Your reply was empty.") {
		t.Errorf("RepairPrompt for an empty reply = %q", p)
	}
}

func TestNewFieldsErrors(t *testing.T) {
	tests := []struct {
		name   string
		fields []Field
		want   string
	}{
		{"none", nil, "no fields"},
		{"empty name", []Field{{Name: " ", Type: TypeString}}, "empty name"},
		{"bad type", []Field{{Name: "a", Type: "text"}}, `unknown type "text" (did you mean string?)`},
		{"duplicate", []Field{{Name: "a", Type: TypeString}, {Name: "A", Type: TypeNumber}}, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewFields(tt.fields...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	in := []Field{{Name: "a", Type: TypeInteger, Enum: []string{" 01 "}}}
	fs, err := NewFields(in...)
	if err != nil {
		t.Fatal(err)
	}
	if in[0].Enum[0] != " 01 " || fs.List()[0].Enum[0] != "1" {
		t.Errorf("labels: caller's %q, fields' %q; want the caller's untouched and the fields' canonical", in[0].Enum, fs.List()[0].Enum)
	}
}

func BenchmarkParse(b *testing.B) {
	fs, _ := NewFields(
		Field{Name: "label", Type: TypeString, Enum: []string{"positive", "negative", "neutral"}},
		Field{Name: "confidence", Type: TypeNumber},
		Field{Name: "reason", Type: TypeString, Optional: true})
	reply := "```json\n{\"label\": \"Negative\", \"confidence\": 0.92, \"reason\": \"物流太慢，包装破损\"}\n```"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fs.Parse(reply); err != nil {
			b.Fatal(err)
		}
	}
}
