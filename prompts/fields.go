package prompts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"bulkgen/model"
)

// Field types. They are JSON Schema's type names, except TypeStrings, which
// is JSON Schema's {"type": "array", "items": {"type": "string"}}: arrays of
// anything else are not offered because a cell holds them badly.
const (
	TypeString  = "string"
	TypeNumber  = "number"
	TypeInteger = "integer"
	TypeBoolean = "boolean"
	TypeStrings = "string[]"
)

// Field is one key of the JSON object the model answers with, and one
// output column.
type Field struct {
	Name string
	// Type is one of the Type* constants.
	Type string
	// Enum lists the allowed values (the labels), in their canonical
	// spelling; empty means any value of the type. For TypeStrings it
	// constrains each item. Numeric enums are written as numbers ("1").
	Enum []string
	// Optional fields may be null or missing in the reply; their cell is
	// then empty. Required fields must be present and not null.
	Optional bool
	// Description is told to the model in the instruction and the schema.
	Description string
}

// Fields is the structured answer a label or extract job asks for: a JSON
// object with a fixed list of keys, each written to its own column.
//
// A *Fields is immutable after NewFields (or after the job file is read)
// and safe for concurrent use: Parse runs on every worker.
type Fields struct {
	list        []Field
	enums       []map[string]string // per field: folded label → canonical label; nil without an enum
	instruction string
	schema      json.RawMessage
}

// NewFields checks a list of fields and prepares the instruction and the
// schema. Names must be unique, ignoring case, because Parse matches keys
// case-insensitively when the model changes their case.
func NewFields(list ...Field) (*Fields, error) {
	if len(list) == 0 {
		return nil, errors.New("no fields: give at least one, e.g. label: [positive, negative]")
	}
	list = append([]Field(nil), list...) // checkField canonicalises; the caller's slice stays as it was
	seen := make(map[string]string, len(list))
	for i, f := range list {
		if err := checkField(&f); err != nil {
			return nil, err
		}
		list[i] = f
		if prev, dup := seen[fold(f.Name)]; dup {
			return nil, fmt.Errorf("field %q is given twice (as %q and %q; names are compared ignoring case)", f.Name, prev, f.Name)
		}
		seen[fold(f.Name)] = f.Name
	}
	return newFields(list), nil
}

// newFields builds Fields from fields that checkField accepted and whose
// names are unique.
func newFields(list []Field) *Fields {
	fs := &Fields{list: append([]Field(nil), list...), enums: make([]map[string]string, len(list))}
	for i, f := range fs.list {
		if len(f.Enum) > 0 {
			m := make(map[string]string, len(f.Enum))
			for _, e := range f.Enum {
				m[fold(e)] = e
			}
			fs.enums[i] = m
		}
	}
	fs.instruction = fs.buildInstruction()
	fs.schema = fs.buildSchema()
	return fs
}

// checkField validates one field and canonicalises its enum (trimmed
// labels; numbers in shortest form). Its messages carry no position: the
// job file reader adds the line.
func checkField(f *Field) error {
	if strings.TrimSpace(f.Name) == "" {
		return errors.New("a field has an empty name")
	}
	switch f.Type {
	case TypeString, TypeNumber, TypeInteger, TypeBoolean, TypeStrings:
	default:
		return fmt.Errorf("field %q: %s", f.Name, unknownType(f.Type))
	}
	if len(f.Enum) == 0 {
		return nil
	}
	if f.Type == TypeBoolean {
		return fmt.Errorf("field %q: a boolean cannot have a list of labels (it is already true or false)", f.Name)
	}
	enum := make([]string, len(f.Enum))
	seen := make(map[string]string, len(f.Enum))
	for i, e := range f.Enum {
		e = strings.TrimSpace(e)
		if e == "" {
			return fmt.Errorf("field %q: label %d is empty", f.Name, i+1)
		}
		if f.Type == TypeNumber || f.Type == TypeInteger {
			v, problem := numberText(e, f.Type == TypeInteger)
			if problem != "" {
				return fmt.Errorf("field %q: label %q %s", f.Name, e, problem)
			}
			e = v
		}
		if prev, dup := seen[fold(e)]; dup {
			return fmt.Errorf("field %q: label %q is given twice (as %q and %q; labels are compared ignoring case)", f.Name, e, prev, e)
		}
		seen[fold(e)] = e
		enum[i] = e
	}
	f.Enum = enum
	return nil
}

// unknownType explains a type that is not one of ours, naming the one that
// was probably meant.
func unknownType(t string) string {
	hint := map[string]string{
		"int": TypeInteger, "int64": TypeInteger, "long": TypeInteger,
		"float": TypeNumber, "double": TypeNumber, "decimal": TypeNumber, "float64": TypeNumber, "num": TypeNumber,
		"bool": TypeBoolean, "str": TypeString, "text": TypeString,
		"array": TypeStrings, "list": TypeStrings, "[]string": TypeStrings, "strings": TypeStrings,
		"enum": "a list of labels, e.g. [positive, negative]",
	}[strings.ToLower(t)]
	msg := fmt.Sprintf("unknown type %q", t)
	if t == "" {
		msg = "no type"
	}
	if hint != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", hint)
	}
	return msg + "; use string, number, integer, boolean, string[] or a list of labels"
}

// fold is the key under which labels and field names are compared: the
// model often changes case ("Positive") or pads a label with spaces.
func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Names returns the output column names, in the order of the job file.
func (fs *Fields) Names() []string {
	names := make([]string, len(fs.list))
	for i, f := range fs.list {
		names[i] = f.Name
	}
	return names
}

// List returns a copy of the fields.
func (fs *Fields) List() []Field {
	out := make([]Field, len(fs.list))
	for i, f := range fs.list {
		f.Enum = append([]string(nil), f.Enum...)
		out[i] = f
	}
	return out
}

// hasEnum reports whether some field has labels (a label task needs one).
func (fs *Fields) hasEnum() bool {
	if fs == nil {
		return false
	}
	for _, e := range fs.enums {
		if e != nil {
			return true
		}
	}
	return false
}

// JSONSchema returns the JSON Schema of the answer, for a request's
// response_format {"type": "json_schema", "json_schema": {"name": ...,
// "strict": true, "schema": <this>}}. It follows the rules of strict mode:
// every property is listed in "required", optional ones are nullable
// instead, and "additionalProperties" is false. Properties keep the order
// of the job file, because models write keys in schema order.
func (fs *Fields) JSONSchema() json.RawMessage {
	return append(json.RawMessage(nil), fs.schema...)
}

func (fs *Fields) buildSchema() json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"type":"object","properties":{`)
	for i, f := range fs.list {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(f.Name))
		b.WriteByte(':')
		writeFieldSchema(&b, f)
	}
	b.WriteString(`},"required":[`)
	for i, f := range fs.list {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(f.Name))
	}
	b.WriteString(`],"additionalProperties":false}`)
	return b.Bytes()
}

func writeFieldSchema(b *bytes.Buffer, f Field) {
	typ := f.Type
	if typ == TypeStrings {
		typ = "array"
	}
	b.WriteString(`{"type":`)
	if f.Optional {
		fmt.Fprintf(b, `[%q,"null"]`, typ)
	} else {
		fmt.Fprintf(b, `%q`, typ)
	}
	if f.Description != "" {
		b.WriteString(`,"description":`)
		b.Write(jsonString(f.Description))
	}
	if f.Type == TypeStrings {
		b.WriteString(`,"items":{"type":"string"`)
		if len(f.Enum) > 0 {
			b.WriteString(`,"enum":`)
			writeEnum(b, f, false)
		}
		b.WriteString(`}}`)
		return
	}
	if len(f.Enum) > 0 {
		b.WriteString(`,"enum":`)
		writeEnum(b, f, f.Optional)
	}
	b.WriteByte('}')
}

// writeEnum writes the labels as a JSON array; numeric labels stay numbers
// and a nullable field needs null among its values in strict mode.
func writeEnum(b *bytes.Buffer, f Field, withNull bool) {
	b.WriteByte('[')
	for i, e := range f.Enum {
		if i > 0 {
			b.WriteByte(',')
		}
		if f.Type == TypeNumber || f.Type == TypeInteger {
			b.WriteString(e)
		} else {
			b.Write(jsonString(e))
		}
	}
	if withNull {
		b.WriteString(",null")
	}
	b.WriteByte(']')
}

// jsonString encodes s without escaping <, > and & (json.Marshal would),
// so that the schema and the cells read as written.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimRight(b.Bytes(), "\n")
}

// Instruction returns the text the Renderer appends to the system prompt:
// the exact keys, their types and the allowed labels. It contains the word
// "JSON", which DashScope requires in the messages for json_object mode
// (../shared/dashscope-api-notes.md §1.5), so that mode works with every
// model, including those that do not support json_schema.
func (fs *Fields) Instruction() string { return fs.instruction }

func (fs *Fields) buildInstruction() string {
	var b strings.Builder
	b.WriteString("Reply with a single JSON object and nothing else: no Markdown code fence, no text before or after it. The object has exactly these keys:\n")
	for _, f := range fs.list {
		fmt.Fprintf(&b, "- %s", jsonString(f.Name))
		if d := strings.TrimRight(strings.TrimSpace(f.Description), "."); d != "" {
			fmt.Fprintf(&b, " (%s)", d)
		}
		fmt.Fprintf(&b, ": %s", describeType(f))
		if f.Optional && f.Type != TypeStrings { // an array says "[] if none applies" already
			b.WriteString(", or null if it does not apply")
		}
		b.WriteString(".\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func describeType(f Field) string {
	labels := func() string {
		if f.Type == TypeNumber || f.Type == TypeInteger {
			return strings.Join(f.Enum, ", ")
		}
		q := make([]string, len(f.Enum))
		for i, e := range f.Enum {
			q[i] = string(jsonString(e))
		}
		return strings.Join(q, ", ")
	}
	switch {
	case f.Type == TypeStrings && len(f.Enum) > 0:
		return "an array of labels, each one of " + labels() + " ([] if none applies)"
	case f.Type == TypeStrings:
		return "an array of strings"
	case len(f.Enum) > 0:
		return "exactly one of " + labels()
	case f.Type == TypeString:
		return "a string"
	case f.Type == TypeNumber:
		return "a number"
	case f.Type == TypeInteger:
		return "an integer"
	default:
		return "true or false"
	}
}

// ReplyError is the error Parse returns when a reply does not fit the
// fields. Its message is short and specific so that it can be fed back to
// the model (RepairPrompt) and written to the row's error column.
type ReplyError struct {
	Problems []string // one per field at fault, or one about the whole reply
}

// Error lists the problems; past a handful it says how many more there
// are, to stay short enough for an error column and a repair prompt.
func (e *ReplyError) Error() string {
	const show = 6
	if len(e.Problems) > show {
		return strings.Join(e.Problems[:show], "; ") + fmt.Sprintf("; and %d more", len(e.Problems)-show)
	}
	return strings.Join(e.Problems, "; ")
}

func replyError(format string, args ...any) *ReplyError {
	return &ReplyError{Problems: []string{fmt.Sprintf(format, args...)}}
}

// Parse reads the model's reply and returns one cell per field, in the
// order of Names.
//
// It tolerates what models wrap around JSON: a ```json fence and prose
// before or after a single JSON object. More than one object is an error,
// because guessing which one is the answer would silently write wrong data.
// Keys are matched exactly, then ignoring case; other keys are ignored.
//
// Each value is checked against its field and written as a cell:
//   - string: as-is; a JSON number is accepted and kept as written (models
//     unquote codes like 10001). Enum labels match ignoring case and
//     surrounding spaces and are written in the job file's spelling.
//   - number: a JSON number or a numeric string ("0.9"), written in shortest
//     form (1.50 → 1.5, 1e3 → 1000). NaN and infinities are refused.
//   - integer: like number, but the value must be whole: 3 and 3.0 give "3",
//     3.5 is an error.
//   - boolean: true or false, or the strings "true"/"false" in any case.
//   - string[]: a JSON array of strings, each checked against the labels,
//     written as a JSON array (["a","b"]).
//   - null or a missing key: "" for an optional field, an error otherwise.
//
// On error values is nil and err is a *ReplyError listing every field at
// fault.
func (fs *Fields) Parse(reply string) (values []string, err error) {
	obj, rerr := extractObject(reply)
	if rerr != nil {
		return nil, rerr
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, replyError("the reply is not a valid JSON object: %v", err)
	}
	values = make([]string, len(fs.list))
	var problems []string
	for i, f := range fs.list {
		raw, ok := lookupKey(m, f.Name)
		if !ok || string(raw) == "null" {
			if f.Optional {
				continue
			}
			if ok {
				problems = append(problems, fmt.Sprintf("field %q is null, want %s", f.Name, describeType(f)))
			} else {
				problems = append(problems, fmt.Sprintf("field %q is missing", f.Name))
			}
			continue
		}
		v, problem := fs.cell(i, raw)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("field %q: %s", f.Name, problem))
			continue
		}
		values[i] = v
	}
	if len(problems) > 0 {
		return nil, &ReplyError{Problems: problems}
	}
	return values, nil
}

// lookupKey finds a key exactly, or else ignoring case.
func lookupKey(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if raw, ok := m[name]; ok {
		return raw, true
	}
	for k, raw := range m {
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return raw, true
		}
	}
	return nil, false
}

// cell converts one value; problem is "" when it fits.
func (fs *Fields) cell(i int, raw json.RawMessage) (value, problem string) {
	f := fs.list[i]
	switch f.Type {
	case TypeString:
		s, problem := stringValue(raw)
		if problem != "" {
			return "", problem
		}
		return fs.label(i, s)
	case TypeNumber, TypeInteger:
		var text string
		switch raw[0] {
		case '"':
			_ = json.Unmarshal(raw, &text) // raw is a valid JSON string
		case '{', '[', 't', 'f':
			return "", fmt.Sprintf("want %s, got %s", describeType(f), kind(raw))
		default:
			text = string(raw)
		}
		v, problem := numberText(text, f.Type == TypeInteger)
		if problem != "" {
			return "", fmt.Sprintf("%s %s", show(raw), problem)
		}
		if fs.enums[i] != nil {
			if _, ok := fs.enums[i][v]; !ok {
				return "", fmt.Sprintf("%s is not one of %s", v, labelList(f.Enum))
			}
		}
		return v, ""
	case TypeBoolean:
		switch s := fold(strings.Trim(string(raw), `"`)); {
		case s == "true" || s == "false":
			if raw[0] == '"' || string(raw) == s {
				return s, ""
			}
		}
		return "", fmt.Sprintf("%s is not true or false", show(raw))
	default: // TypeStrings
		if raw[0] != '[' {
			return "", fmt.Sprintf("want %s, got %s", describeType(f), kind(raw))
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return "", fmt.Sprintf("want %s: %v", describeType(f), err)
		}
		out := make([]string, 0, len(items))
		for k, it := range items {
			s, problem := stringValue(it)
			if problem == "" {
				s, problem = fs.label(i, s)
			}
			if problem != "" {
				return "", fmt.Sprintf("item %d: %s", k+1, problem)
			}
			out = append(out, s)
		}
		return jsonArray(out), ""
	}
}

// stringValue accepts a JSON string, or a number kept as written.
func stringValue(raw json.RawMessage) (string, string) {
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err.Error()
		}
		return s, ""
	case '{', '[', 't', 'f', 'n':
		return "", "want a string, got " + kind(raw)
	default:
		return string(raw), ""
	}
}

// label maps s to its canonical label when the field has labels.
func (fs *Fields) label(i int, s string) (string, string) {
	if fs.enums[i] == nil {
		return s, ""
	}
	if c, ok := fs.enums[i][fold(s)]; ok {
		return c, ""
	}
	return "", fmt.Sprintf("%s is not one of %s", jsonString(clip(s, 40)), labelList(fs.list[i].Enum))
}

// labelList names the allowed labels, unquoted to keep the message short;
// a long list is cut, as the instruction already has it in full.
func labelList(enum []string) string {
	const max = 12
	if len(enum) > max {
		return strings.Join(enum[:max], ", ") + fmt.Sprintf(", … (%d labels)", len(enum))
	}
	return strings.Join(enum, ", ")
}

// numberText parses a decimal number and returns it in shortest form;
// problem says why it is not one ("is not a number").
func numberText(s string, integer bool) (string, string) {
	s = strings.TrimSpace(s)
	if integer {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(n, 10), ""
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || !isDecimal(s) {
		if integer {
			return "", "is not an integer"
		}
		return "", "is not a number"
	}
	if integer && f != math.Trunc(f) {
		return "", "is not an integer"
	}
	if f == 0 {
		f = 0 // no "-0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64), ""
}

// isDecimal refuses what strconv.ParseFloat accepts but JSON and people do
// not write as a number: "Inf", "NaN", hex floats, underscores.
func isDecimal(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789+-.eE", r) {
			return false
		}
	}
	return true
}

// kind names the JSON type of a value for messages.
func kind(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// show quotes a value for a message, shortened.
func show(raw json.RawMessage) string {
	return clip(string(raw), 40)
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func jsonArray(items []string) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, s := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(s))
	}
	b.WriteByte(']')
	return b.String()
}

// extractObject finds the one JSON object in a reply.
func extractObject(reply string) ([]byte, *ReplyError) {
	s := strings.TrimSpace(stripFence(strings.TrimSpace(reply)))
	if s == "" {
		return nil, replyError("the reply is empty, want a JSON object")
	}
	if json.Valid([]byte(s)) {
		if s[0] == '{' {
			return []byte(s), nil
		}
		return nil, replyError("the reply is %s, want a JSON object", kind(json.RawMessage(s)))
	}
	var found [][]byte
	var firstErr error
	for i := 0; i < len(s); {
		p := strings.IndexByte(s[i:], '{')
		if p < 0 {
			break
		}
		p += i
		q := matchBrace(s, p)
		if q < 0 {
			// Everything from here on is inside an unfinished object; an
			// inner object that looks complete is not the answer.
			if len(found) == 0 {
				return nil, replyError("the JSON object is not complete (was the reply cut off by max_tokens?)")
			}
			break
		}
		cand := []byte(s[p : q+1])
		if err := json.Unmarshal(cand, new(map[string]json.RawMessage)); err != nil {
			if firstErr == nil {
				firstErr = err
			}
		} else {
			found = append(found, cand)
		}
		i = q + 1 // past the whole group, so no inner object is taken for the answer
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return nil, replyError("the reply holds %d JSON objects, want exactly one", len(found))
	case firstErr != nil:
		return nil, replyError("the reply is not valid JSON: %v", firstErr)
	}
	return nil, replyError("the reply holds no JSON object")
}

// stripFence removes a Markdown code fence (```json … ```) around s.
func stripFence(s string) string {
	if !strings.HasPrefix(s, "```") {
		return s
	}
	nl := strings.IndexByte(s, '\n')
	if nl < 0 {
		return s
	}
	body := s[nl+1:]
	if end := strings.LastIndex(body, "```"); end >= 0 {
		body = body[:end]
	}
	return body
}

// matchBrace returns the index of the "}" closing the "{" at p, skipping
// braces inside JSON strings, or -1 if the text ends first.
func matchBrace(s string, p int) int {
	depth, inString, escaped := 0, false, false
	for i := p; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// RepairPrompt is the user message that asks the model to correct a reply
// Parse refused. It is meant to follow the refused reply as an assistant
// message (see Repair), so it names the problem and the keys rather than
// quoting the reply again.
func (fs *Fields) RepairPrompt(reply string, err error) string {
	var b strings.Builder
	if strings.TrimSpace(reply) == "" {
		b.WriteString("Your reply was empty.")
	} else {
		fmt.Fprintf(&b, "Your reply could not be used: %v.", err)
	}
	b.WriteString(" Reply again with only the corrected JSON object, with exactly these keys: ")
	for i, f := range fs.list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.Write(jsonString(f.Name))
	}
	b.WriteByte('.')
	return b.String()
}

// Repair returns the follow-up request for a refused reply: the original
// messages, the reply as the assistant's turn and RepairPrompt as the next
// user message. req is not modified. A blank reply gives back req as it
// is: there is nothing to correct, and an empty assistant message is
// something services may refuse.
func (fs *Fields) Repair(req model.Request, reply string, err error) model.Request {
	if strings.TrimSpace(reply) == "" {
		return req
	}
	msgs := make([]model.Message, 0, len(req.Messages)+2)
	msgs = append(msgs, req.Messages...)
	msgs = append(msgs,
		model.Message{Role: "assistant", Content: reply},
		model.Message{Role: "user", Content: fs.RepairPrompt(reply, err)})
	req.Messages = msgs
	return req
}
