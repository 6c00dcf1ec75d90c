package modeltest

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// jsonField is one key a JSON-mode reply should carry.
type jsonField struct {
	name  string
	typ   string // string, number, integer, boolean, array
	enum  []string
	quote bool // enum values are JSON strings
}

// responseSchema returns the object schema of response_format
// {"type":"json_schema","json_schema":{"schema":{...}}}, or nil.
func responseSchema(raw json.RawMessage) json.RawMessage {
	var rf struct {
		JSONSchema struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if json.Unmarshal(raw, &rf) != nil {
		return nil
	}
	return rf.JSONSchema.Schema
}

// schemaFields reads the properties of an object schema, in file order.
func schemaFields(schema json.RawMessage) []jsonField {
	var top map[string]json.RawMessage
	if json.Unmarshal(schema, &top) != nil || top["properties"] == nil {
		return nil
	}
	// Keys in order: walk the properties object token by token.
	pd := json.NewDecoder(bytes.NewReader(top["properties"]))
	if t, err := pd.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []jsonField
	for pd.More() {
		k, err := pd.Token()
		if err != nil {
			return nil
		}
		var prop struct {
			Type  json.RawMessage `json:"type"`
			Enum  []any           `json:"enum"`
			Items struct {
				Enum []any `json:"enum"`
			} `json:"items"`
		}
		if pd.Decode(&prop) != nil {
			return nil
		}
		f := jsonField{name: k.(string), typ: "string", quote: true}
		var types []string
		var one string
		if json.Unmarshal(prop.Type, &one) == nil {
			types = []string{one}
		} else {
			_ = json.Unmarshal(prop.Type, &types)
		}
		for _, t := range types {
			if t != "null" {
				f.typ = t
			}
		}
		enum := prop.Enum
		if f.typ == "array" {
			enum = prop.Items.Enum
		}
		for _, e := range enum {
			switch v := e.(type) {
			case string:
				f.enum = append(f.enum, v)
			case float64:
				f.enum, f.quote = append(f.enum, strconv.FormatFloat(v, 'f', -1, 64)), false
			}
		}
		out = append(out, f)
	}
	return out
}

// instructionLine matches one key line of bulkgen's JSON instruction:
//
//   - "sentiment" (why): exactly one of "positive", "negative", "neutral".
var instructionLine = regexp.MustCompile(`^- ("(?:[^"\\]|\\.)*")(?: \(.*\))?: (.+?)(?:, or null if it does not apply)?\.$`)

// instructionFields reads the keys a system or user message asks for in
// the form bulkgen's label and extract jobs use. A real model reads any
// wording; the simulator understands this one.
func instructionFields(msgs []message) []jsonField {
	for _, m := range msgs {
		if m.Role != "system" && m.Role != "user" {
			continue
		}
		var out []jsonField
		for _, line := range strings.Split(m.Content, "\n") {
			sub := instructionLine.FindStringSubmatch(strings.TrimSpace(line))
			if sub == nil {
				continue
			}
			var name string
			if json.Unmarshal([]byte(sub[1]), &name) != nil {
				continue
			}
			out = append(out, describedField(name, sub[2]))
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

func describedField(name, desc string) jsonField {
	f := jsonField{name: name, typ: "string", quote: true}
	list := func(s string) {
		s = strings.TrimSuffix(s, " ([] if none applies)")
		if strings.HasPrefix(s, `"`) {
			var vals []string
			if json.Unmarshal([]byte("["+s+"]"), &vals) == nil {
				f.enum = vals
			}
			return
		}
		for _, v := range strings.Split(s, ", ") {
			f.enum = append(f.enum, strings.TrimSpace(v))
		}
		f.quote = false
		f.typ = "number"
	}
	switch {
	case strings.HasPrefix(desc, "an array of labels, each one of "):
		f.typ = "array"
		list(strings.TrimPrefix(desc, "an array of labels, each one of "))
		f.typ = "array"
	case desc == "an array of strings":
		f.typ = "array"
	case strings.HasPrefix(desc, "exactly one of "):
		list(strings.TrimPrefix(desc, "exactly one of "))
	case desc == "a number":
		f.typ = "number"
	case desc == "an integer":
		f.typ = "integer"
	case desc == "true or false":
		f.typ = "boolean"
	}
	return f
}

// fieldsAnswer builds a deterministic object with the asked keys; bad
// makes it invalid the way models go wrong (a label outside the set).
func fieldsAnswer(fields []jsonField, hi uint64, text string, bad bool) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(f.name)
		b.Write(name)
		b.WriteByte(':')
		h := mix(hi + uint64(i)*7919)
		switch {
		case len(f.enum) > 0 && bad && i == firstEnum(fields):
			b.WriteString(`"unsure"`)
		case len(f.enum) > 0:
			v := f.enum[h%uint64(len(f.enum))]
			if f.quote {
				q, _ := json.Marshal(v)
				v = string(q)
			}
			if f.typ == "array" {
				v = "[" + v + "]"
			}
			b.WriteString(v)
		case f.typ == "number":
			b.WriteString(strconv.FormatFloat(0.5+float64(h%50)/100, 'f', -1, 64))
		case f.typ == "integer":
			b.WriteString(strconv.FormatUint(h%100, 10))
		case f.typ == "boolean":
			b.WriteString(strconv.FormatBool(h&1 == 1))
		case f.typ == "array":
			b.WriteString(`["simulated"]`)
		default:
			q, _ := json.Marshal(text)
			b.Write(q)
		}
	}
	if bad && firstEnum(fields) < 0 {
		// No label to get wrong: leave the object unfinished.
		return b.String()
	}
	b.WriteByte('}')
	return b.String()
}

func firstEnum(fields []jsonField) int {
	for i, f := range fields {
		if len(f.enum) > 0 {
			return i
		}
	}
	return -1
}

// badJSON reports the [[sim:badjson]] markers: the reply is invalid on a
// first ask (no assistant turn yet) or, with badjson-always, every time.
func badJSON(msgs []message) bool {
	asked := false
	for _, m := range msgs {
		if m.Role == "assistant" {
			asked = true
		}
	}
	for _, m := range msgs {
		if m.Role != "user" {
			continue
		}
		if strings.Contains(m.Content, "[[sim:badjson-always]]") {
			return true
		}
		if strings.Contains(m.Content, "[[sim:badjson]]") && !asked {
			return true
		}
	}
	return false
}
