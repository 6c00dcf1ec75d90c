package prompts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFieldsShorthand(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []Field
	}{
		{"types and order", `
zeta: [positive, negative, neutral]
confidence: number
alpha: integer
ok: boolean
tags: string[]
reason: string?
`, []Field{
			{Name: "zeta", Type: TypeString, Enum: []string{"positive", "negative", "neutral"}},
			{Name: "confidence", Type: TypeNumber},
			{Name: "alpha", Type: TypeInteger},
			{Name: "ok", Type: TypeBoolean},
			{Name: "tags", Type: TypeStrings},
			{Name: "reason", Type: TypeString, Optional: true},
		}},
		{"numeric labels", "stars: [1, 2, 3]\nscore: [0.5, 1]\n", []Field{
			{Name: "stars", Type: TypeInteger, Enum: []string{"1", "2", "3"}},
			{Name: "score", Type: TypeNumber, Enum: []string{"0.5", "1"}},
		}},
		{"mapping form", `
产品: {type: 'string?', description: " the product, in English "}
topics: {type: "string[]", enum: [price, quality]}
level: {enum: [low, high], optional: true}
code: {enum: [1, 2], type: string}
`, []Field{
			{Name: "产品", Type: TypeString, Optional: true, Description: "the product, in English"},
			{Name: "topics", Type: TypeStrings, Enum: []string{"price", "quality"}},
			{Name: "level", Type: TypeString, Enum: []string{"low", "high"}, Optional: true},
			{Name: "code", Type: TypeString, Enum: []string{"1", "2"}},
		}},
		{"case and spaces in types", "a: ' String ? '\nb: Integer\n", []Field{
			{Name: "a", Type: TypeString, Optional: true},
			{Name: "b", Type: TypeInteger},
		}},
		{"anchors", "a: &l [x, y]\nb: *l\n", []Field{
			{Name: "a", Type: TypeString, Enum: []string{"x", "y"}},
			{Name: "b", Type: TypeString, Enum: []string{"x", "y"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := mustFields(t, indent(tt.yaml))
			if got := fs.List(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields:\n got %+v\nwant %+v", got, tt.want)
			}
			var names []string
			for _, f := range tt.want {
				names = append(names, f.Name)
			}
			if got := fs.Names(); !reflect.DeepEqual(got, names) {
				t.Errorf("Names() = %q, want %q", got, names)
			}
		})
	}
}

func TestFieldsShorthandErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // all must appear in the error
	}{
		{"unknown type with hint", "prompt: x\nfields:\n  label: [a, b]\n  confidence: float\n", []string{"line 4", "fields:", `"confidence"`, `unknown type "float"`, "did you mean number"}},
		{"no type", "prompt: x\nfields:\n  label:\n", []string{"line 3", `"label" has no type`}},
		{"not a mapping", "prompt: x\nfields: [label, reason]\n", []string{"line 2", "want a mapping"}},
		{"empty", "prompt: x\nfields: {}\n", []string{"line 2", "want a mapping"}},
		{"null", "prompt: x\nfields:\n", []string{"line 2", "want a mapping"}},
		{"empty label list", "prompt: x\nfields:\n  label: []\n", []string{"line 3", "non-empty list"}},
		{"empty label", "prompt: x\nfields:\n  label: [a, '  ']\n", []string{"line 3", "label 2 is empty"}},
		{"duplicate label", "prompt: x\nfields:\n  label: [Yes, no, yes]\n", []string{"line 3", `"yes" is given twice`}},
		{"nested label", "prompt: x\nfields:\n  label: [a, [b]]\n", []string{"line 3", "plain value"}},
		{"duplicate name", "prompt: x\nfields:\n  Label: string\n  label: string\n", []string{"line 4", `"label" is given twice`}},
		{"unknown key", "prompt: x\nfields:\n  p:\n    type: string\n    descripton: x\n", []string{"line 5", `unknown key "descripton"`}},
		{"optional not bool", "prompt: x\nfields:\n  p: {type: string, optional: maybe}\n", []string{"line 3", "optional must be true or false"}},
		{"mapping without type", "prompt: x\nfields:\n  p: {description: x}\n", []string{"line 3", "needs a type or an enum"}},
		{"boolean enum", "prompt: x\nfields:\n  p: {type: boolean, enum: [yes]}\n", []string{"line 3", "boolean cannot have a list"}},
		{"bad number label", "prompt: x\nfields:\n  p: {type: integer, enum: [1, 2.5]}\n", []string{"line 3", `label "2.5" is not an integer`}},
		{"object type", "prompt: x\nfields:\n  p: object\n", []string{"line 3", `unknown type "object"`}},
		{"bare ? in flow mapping", "prompt: x\nfields:\n  p: {type: string?}\n", []string{"line 2", "quote"}},
		{"fields and schema", "prompt: x\nfields:\n  a: string\nschema: {type: object, properties: {a: {type: string}}}\n", []string{"line 4", "not both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJob([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestFieldsSchemaInline(t *testing.T) {
	job, err := ParseJob([]byte(`prompt: x
schema:
  type: object
  description: a ticket
  properties:
    urgency: {type: string, enum: [high, low], description: how soon}
    product: {type: [string, "null"]}
    count: {type: integer}
    score: {type: number, title: ignored}
    done: {type: boolean}
    tags: {type: array, items: {type: string, enum: [a, b, null]}}
    notes: {type: array}
    stars: {enum: [1, 2, 3, null]}
  required: [urgency, product, count, tags, notes, stars]
  additionalProperties: false
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{
		{Name: "urgency", Type: TypeString, Enum: []string{"high", "low"}, Description: "how soon"},
		{Name: "product", Type: TypeString, Optional: true},
		{Name: "count", Type: TypeInteger},
		{Name: "score", Type: TypeNumber, Optional: true},
		{Name: "done", Type: TypeBoolean, Optional: true},
		{Name: "tags", Type: TypeStrings, Enum: []string{"a", "b"}},
		{Name: "notes", Type: TypeStrings},
		{Name: "stars", Type: TypeInteger, Enum: []string{"1", "2", "3"}, Optional: true},
	}
	if got := job.Fields.List(); !reflect.DeepEqual(got, want) {
		t.Errorf("fields:\n got %+v\nwant %+v", got, want)
	}
}

func TestFieldsSchemaErrors(t *testing.T) {
	head := "prompt: x\nschema:\n  type: object\n  properties:\n"
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"nested object", head + "    customer: {type: object}\n", []string{"line 5", "schema:", `"customer"`, "nested objects are not supported"}},
		{"unsupported keyword", head + "    n:\n      type: integer\n      minimum: 1\n", []string{"line 7", `keyword "minimum" is not supported`}},
		{"unknown type", head + "    n: {type: int}\n", []string{"line 5", `unknown type "int"`, "did you mean integer"}},
		{"two types", head + "    n: {type: [string, number]}\n", []string{"line 5", "give one type"}},
		{"no type", head + "    n: {description: x}\n", []string{"line 5", `"n" has no type`}},
		{"array of numbers", head + "    n: {type: array, items: {type: number}}\n", []string{"line 5", "only arrays of strings"}},
		{"enum on array", head + "    n: {type: array, enum: [a]}\n", []string{"line 5", "under items"}},
		{"items on string", head + "    n: {type: string, items: {type: string}}\n", []string{"line 5", "only for type array"}},
		{"required unknown", head + "    n: {type: string}\n  required: [n, m]\n", []string{"line 6", `required lists "m"`}},
		{"top type", "prompt: x\nschema:\n  type: array\n  properties: {a: {type: string}}\n", []string{"line 3", "must be object"}},
		{"no properties", "prompt: x\nschema:\n  type: object\n", []string{"line 3", "no properties"}},
		{"top keyword", "prompt: x\nschema:\n  type: object\n  $defs: {}\n  properties: {a: {type: string}}\n", []string{"line 4", `keyword "$defs"`}},
		{"not a mapping", "prompt: x\nschema: [a]\n", []string{"line 2", "JSON Schema object"}},
		{"missing file", "prompt: x\nschema: nope.schema.json\n", []string{"line 2", "nope.schema.json", "job file's folder"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJob([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestFieldsSchemaFile(t *testing.T) {
	inline, err := LoadJob(filepath.Join("testdata", "extract.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The file is read relative to the job file, not the current directory.
	fromFile, err := LoadJob(filepath.Join("testdata", "extract_file.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(inline.Fields.List(), fromFile.Fields.List()) {
		t.Errorf("schema file gives\n%+v\ninline gives\n%+v", fromFile.Fields.List(), inline.Fields.List())
	}
	if got := strings.Join(fromFile.Fields.Names(), ","); got != "category,urgency,product" {
		t.Errorf("Names() = %s: the file's property order must be kept", got)
	}

	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("bad.json", "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"a\": {\"type\": \"string\"},\n  }\n}\n")
	write("nested.json", "{\n\t\"type\": \"object\",\n\t\"properties\": {\n\t\t\"a\": {\"type\": \"object\"}\n\t}\n}\n")
	write("bom.json", "\xef\xbb\xbf{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\"}}}")
	tests := []struct {
		file string
		want []string // "" means: no error
	}{
		{"bad.json", []string{"job.yaml", "line 3: schema file", "bad.json line 5", "not valid JSON"}},
		{"nested.json", []string{"job.yaml", "line 3: schema file", "nested.json line 4", "nested objects"}},
		{"bom.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			job := write("job.yaml", "prompt: x\n\nschema: "+tt.file+"\n")
			_, err := LoadJob(job)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestJSONSchemaStrict(t *testing.T) {
	fs := mustFields(t, indent(`
label: [positive, "a<b"]
stars: [1, 2]
reason: string?
tags: {type: "string[]?", enum: [x], description: topics}
ok: boolean
`))
	want := `{"type":"object","properties":{` +
		`"label":{"type":"string","enum":["positive","a<b"]},` +
		`"stars":{"type":"integer","enum":[1,2]},` +
		`"reason":{"type":["string","null"]},` +
		`"tags":{"type":["array","null"],"description":"topics","items":{"type":"string","enum":["x"]}},` +
		`"ok":{"type":"boolean"}},` +
		`"required":["label","stars","reason","tags","ok"],"additionalProperties":false}`
	got := fs.JSONSchema()
	if string(got) != want {
		t.Errorf("JSONSchema() =\n%s\nwant\n%s", got, want)
	}
	if !json.Valid(got) {
		t.Error("JSONSchema() is not valid JSON")
	}
	got[0] = 'X' // callers get a copy
	if fs.JSONSchema()[0] != '{' {
		t.Error("JSONSchema() shares its bytes with the caller")
	}
}

func TestJSONSchemaOptionalEnumAllowsNull(t *testing.T) {
	fs, err := NewFields(Field{Name: "level", Type: TypeString, Enum: []string{"low", "high"}, Optional: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"object","properties":{"level":{"type":["string","null"],"enum":["low","high",null]}},"required":["level"],"additionalProperties":false}`
	if got := string(fs.JSONSchema()); got != want {
		t.Errorf("JSONSchema() =\n%s\nwant\n%s", got, want)
	}
}
