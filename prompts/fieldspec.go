package prompts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file reads the two ways a job file gives its fields:
//
//	fields:                                  # shorthand, in output order
//	  label: [positive, negative, neutral]   # labels (an enum of strings)
//	  stars: [1, 2, 3, 4, 5]                 # numeric labels are integers
//	  confidence: number                     # string|number|integer|boolean|string[]
//	  reason: string?                        # ? = optional (null or missing is allowed)
//	  product: {type: "string?", description: the product concerned, in English}
//
// (Inside { } or [ ] YAML's parser refuses a bare `string?`: quote it.)
//
//	schema:                                  # a JSON Schema object, inline or a .json path
//	  type: object
//	  properties: {...}
//	  required: [...]
//
// yaml.Node is walked by hand, rather than decoded into maps, to keep the
// order of the keys (it becomes the column order) and the line of every
// mistake.

// specLoc says where a spec comes from: the job file (file == "", and
// LoadJob adds the file name) or a schema file.
type specLoc struct {
	prefix string // "fields: " or "schema: " for the job file
	file   string // schema file path, "" when inline
}

func (l specLoc) errorf(n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if l.file != "" {
		return fmt.Errorf("schema file %s line %d: %s", l.file, n.Line, msg)
	}
	return fmt.Errorf("line %d: %s%s", n.Line, l.prefix, msg)
}

// deref follows a YAML alias (*name) to the node it stands for.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// parseFieldsShorthand reads `fields:`.
func parseFieldsShorthand(n *yaml.Node) (*Fields, error) {
	l := specLoc{prefix: "fields: "}
	n = deref(n)
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return nil, l.errorf(n, "want a mapping from field name to type, e.g.\n  fields:\n    label: [positive, negative, neutral]\n    reason: string?")
	}
	var list []Field
	seen := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			return nil, l.errorf(k, "a field name must be a non-empty string")
		}
		f, err := shorthandField(l, k.Value, v)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[fold(f.Name)]; dup {
			return nil, l.errorf(k, "field %q is given twice (as %q and %q; names are compared ignoring case)", f.Name, prev, f.Name)
		}
		seen[fold(f.Name)] = f.Name
		list = append(list, f)
	}
	return newFields(list), nil
}

// shorthandField reads one `name: spec` of the shorthand: a type name, a
// list of labels, or a mapping {type, enum, description, optional}.
func shorthandField(l specLoc, name string, v *yaml.Node) (Field, error) {
	f := Field{Name: name}
	switch v.Kind {
	case yaml.ScalarNode:
		if isNull(v) {
			return f, l.errorf(v, "field %q has no type; write e.g. %s: string", name, name)
		}
		f.Type, f.Optional = typeText(v.Value)
	case yaml.SequenceNode:
		enum, typ, err := labelsNode(l, name, v)
		if err != nil {
			return f, err
		}
		f.Type, f.Enum = typ, enum
	case yaml.MappingNode:
		var typeNode *yaml.Node
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := deref(v.Content[i]), deref(v.Content[i+1])
			switch k.Value {
			case "type":
				if val.Kind != yaml.ScalarNode || isNull(val) {
					return f, l.errorf(val, "field %q: type must be one of string, number, integer, boolean, string[]", name)
				}
				typeNode = val
				var opt bool
				f.Type, opt = typeText(val.Value)
				f.Optional = f.Optional || opt
			case "enum", "labels":
				enum, typ, err := labelsNode(l, name, val)
				if err != nil {
					return f, err
				}
				f.Enum = enum
				if typeNode == nil && f.Type == "" {
					f.Type = typ
				}
			case "description":
				if val.Kind != yaml.ScalarNode {
					return f, l.errorf(val, "field %q: description must be text", name)
				}
				f.Description = strings.TrimSpace(val.Value)
			case "optional":
				var b bool
				if err := val.Decode(&b); err != nil {
					return f, l.errorf(val, "field %q: optional must be true or false", name)
				}
				f.Optional = f.Optional || b
			default:
				return f, l.errorf(k, "field %q: unknown key %q (known: type, enum, description, optional)", name, k.Value)
			}
		}
		if f.Type == "" && typeNode == nil {
			return f, l.errorf(v, "field %q needs a type or an enum", name)
		}
		// Labels given as numbers under an explicit `type: string` stay
		// strings; labels under `type: string[]` constrain the items.
	default:
		return f, l.errorf(v, "field %q: want a type (e.g. string), a list of labels or a mapping", name)
	}
	if err := checkField(&f); err != nil {
		return f, l.errorf(v, "%v", err)
	}
	return f, nil
}

// typeText reads a shorthand type such as "integer" or "string?".
func typeText(s string) (typ string, optional bool) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "?") {
		optional = true
		s = strings.TrimSpace(strings.TrimSuffix(s, "?"))
	}
	return strings.ToLower(s), optional
}

// labelsNode reads a list of labels. Its type follows the YAML values:
// all integers make an integer field, all numbers a number field,
// anything else a string field.
func labelsNode(l specLoc, name string, v *yaml.Node) ([]string, string, error) {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		return nil, "", l.errorf(v, "field %q: labels must be a non-empty list, e.g. [positive, negative]", name)
	}
	enum := make([]string, 0, len(v.Content))
	ints, nums := true, true
	for _, it := range v.Content {
		it = deref(it)
		if it.Kind != yaml.ScalarNode || isNull(it) {
			return nil, "", l.errorf(it, "field %q: each label must be a plain value", name)
		}
		ints = ints && it.Tag == "!!int"
		nums = nums && (it.Tag == "!!int" || it.Tag == "!!float")
		enum = append(enum, it.Value)
	}
	switch {
	case ints:
		return enum, TypeInteger, nil
	case nums:
		return enum, TypeNumber, nil
	}
	return enum, TypeString, nil
}

// parseSchemaSpec reads `schema:`: a JSON Schema mapping, or the path of a
// .json file relative to the job file's directory dir.
func parseSchemaSpec(n *yaml.Node, dir string) (*Fields, error) {
	l := specLoc{prefix: "schema: "}
	n = deref(n)
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str" && strings.TrimSpace(n.Value) != "":
		return loadSchemaFile(n, dir)
	case n.Kind == yaml.MappingNode:
		return schemaFields(l, n)
	}
	return nil, l.errorf(n, "want a JSON Schema object (a mapping with type: object and properties) or the path of a .json file")
}

func loadSchemaFile(n *yaml.Node, dir string) (*Fields, error) {
	p := strings.TrimSpace(n.Value)
	if !filepath.IsAbs(p) && dir != "" {
		p = filepath.Join(dir, p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("line %d: schema: %w (a relative path is read from the job file's folder)", n.Line, err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := json.Unmarshal(data, new(any)); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(data[:se.Offset], []byte("\n"))
			return nil, fmt.Errorf("line %d: schema file %s line %d: not valid JSON: %v", n.Line, p, line, err)
		}
		return nil, fmt.Errorf("line %d: schema file %s: not valid JSON: %v", n.Line, p, err)
	}
	// JSON is YAML, and reading it as YAML keeps the property order and
	// the line numbers that encoding/json would lose.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("line %d: schema file %s: %w", n.Line, p, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("line %d: schema file %s is empty", n.Line, p)
	}
	fs, err := schemaFields(specLoc{file: p}, doc.Content[0])
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return fs, nil
}

// schemaFields reads a JSON Schema of type object. Only what can be
// checked and explained to the model is accepted; keywords that would
// constrain the answer (minimum, pattern, nested objects…) are errors
// rather than silently unenforced.
func schemaFields(l specLoc, n *yaml.Node) (*Fields, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, l.errorf(n, "want a JSON Schema object with type: object and properties")
	}
	var props, required *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		switch k.Value {
		case "type":
			if v.Kind != yaml.ScalarNode || v.Value != "object" {
				return nil, l.errorf(v, "the top-level type must be object (one JSON object per row)")
			}
		case "properties":
			props = v
		case "required":
			required = v
		case "description", "title", "$schema", "$id", "$comment", "additionalProperties":
			// Descriptive, or (additionalProperties) what Parse does anyway:
			// extra keys are ignored and JSONSchema always sends false.
		default:
			return nil, l.errorf(k, "keyword %q is not supported at the top level (supported: type, properties, required, description)", k.Value)
		}
	}
	if props == nil {
		return nil, l.errorf(n, "the schema has no properties")
	}
	if props.Kind != yaml.MappingNode || len(props.Content) == 0 {
		return nil, l.errorf(props, "properties must be a non-empty mapping from name to schema")
	}
	names := map[string]bool{}
	for i := 0; i < len(props.Content); i += 2 {
		names[deref(props.Content[i]).Value] = true
	}
	req := map[string]bool{}
	if required != nil {
		if required.Kind != yaml.SequenceNode {
			return nil, l.errorf(required, "required must be a list of property names")
		}
		for _, r := range required.Content {
			r = deref(r)
			if r.Kind != yaml.ScalarNode || !names[r.Value] {
				return nil, l.errorf(r, "required lists %q, which is not a property", r.Value)
			}
			req[r.Value] = true
		}
	}
	var list []Field
	seen := map[string]string{}
	for i := 0; i+1 < len(props.Content); i += 2 {
		k, v := deref(props.Content[i]), deref(props.Content[i+1])
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			return nil, l.errorf(k, "a property name must be a non-empty string")
		}
		f, err := schemaProperty(l, k.Value, v)
		if err != nil {
			return nil, err
		}
		// JSON Schema: a property not listed in required may be missing.
		// Strict-mode schemas list every property and make the optional
		// ones nullable instead; both read the same here.
		f.Optional = f.Optional || !req[k.Value]
		if prev, dup := seen[fold(f.Name)]; dup {
			return nil, l.errorf(k, "property %q is given twice (as %q and %q; names are compared ignoring case)", f.Name, prev, f.Name)
		}
		seen[fold(f.Name)] = f.Name
		list = append(list, f)
	}
	return newFields(list), nil
}

func schemaProperty(l specLoc, name string, v *yaml.Node) (Field, error) {
	f := Field{Name: name}
	if v.Kind != yaml.MappingNode {
		return f, l.errorf(v, "property %q: want a mapping such as {type: string}", name)
	}
	var typeNode, enumNode, itemsNode *yaml.Node
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := deref(v.Content[i]), deref(v.Content[i+1])
		switch k.Value {
		case "type":
			typeNode = val
		case "enum":
			enumNode = val
		case "items":
			itemsNode = val
		case "description":
			if val.Kind != yaml.ScalarNode {
				return f, l.errorf(val, "property %q: description must be text", name)
			}
			f.Description = strings.TrimSpace(val.Value)
		case "title", "examples", "$comment":
		default:
			return f, l.errorf(k, "property %q: keyword %q is not supported (supported: type, enum, items, description)", name, k.Value)
		}
	}
	typ, nullable, err := schemaType(l, name, typeNode)
	if err != nil {
		return f, err
	}
	f.Optional = nullable
	var enum []string
	if enumNode != nil {
		var inferred string
		var enumNull bool
		if enum, inferred, enumNull, err = schemaEnum(l, name, enumNode); err != nil {
			return f, err
		}
		f.Optional = f.Optional || enumNull
		if typ == "" {
			typ = inferred
		}
	}
	switch typ {
	case "":
		return f, l.errorf(v, "property %q has no type (use string, number, integer, boolean or array)", name)
	case "array":
		if enumNode != nil {
			return f, l.errorf(enumNode, "property %q: put the labels of an array under items: {type: string, enum: [...]}", name)
		}
		f.Type = TypeStrings
		if itemsNode != nil {
			if f.Enum, err = schemaItems(l, name, itemsNode); err != nil {
				return f, err
			}
		}
	default:
		if itemsNode != nil {
			return f, l.errorf(itemsNode, "property %q: items is only for type array", name)
		}
		f.Type, f.Enum = typ, enum
	}
	if err := checkField(&f); err != nil {
		return f, l.errorf(v, "%v", err)
	}
	return f, nil
}

// schemaType reads `type:`, a name or a list such as [string, "null"].
func schemaType(l specLoc, name string, n *yaml.Node) (typ string, nullable bool, err error) {
	if n == nil {
		return "", false, nil
	}
	var names []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		names = []*yaml.Node{n}
	case yaml.SequenceNode:
		names = n.Content
	default:
		return "", false, l.errorf(n, "property %q: type must be a name or a list of names", name)
	}
	for _, t := range names {
		t = deref(t)
		switch t.Value {
		case "null":
			nullable = true
			continue
		case "string", "number", "integer", "boolean", "array":
		case "object":
			return "", false, l.errorf(t, "property %q: nested objects are not supported; flatten them into top-level properties (e.g. customer_name, customer_tier)", name)
		default:
			return "", false, l.errorf(t, "property %q: %s", name, unknownType(t.Value))
		}
		if typ != "" {
			return "", false, l.errorf(t, "property %q: give one type (plus \"null\" for optional), not %s and %s", name, typ, t.Value)
		}
		typ = t.Value
	}
	if typ == "" {
		return "", false, l.errorf(n, "property %q: type null alone leaves nothing to answer", name)
	}
	return typ, nullable, nil
}

// schemaEnum reads `enum:`; a null among the values makes the field
// optional, as strict-mode schemas write it.
func schemaEnum(l specLoc, name string, n *yaml.Node) (enum []string, typ string, null bool, err error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, "", false, l.errorf(n, "property %q: enum must be a non-empty list", name)
	}
	var values []*yaml.Node
	for _, it := range n.Content {
		it = deref(it)
		if isNull(it) {
			null = true
			continue
		}
		values = append(values, it)
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Line: n.Line, Column: n.Column, Content: values}
	enum, typ, err = labelsNode(l, name, seq)
	return enum, typ, null, err
}

// schemaItems reads `items:` of an array: strings only, maybe with labels.
func schemaItems(l specLoc, name string, n *yaml.Node) ([]string, error) {
	if n.Kind != yaml.MappingNode {
		return nil, l.errorf(n, "property %q: items must be a mapping such as {type: string}", name)
	}
	var enum []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), deref(n.Content[i+1])
		switch k.Value {
		case "type":
			if val.Kind != yaml.ScalarNode || val.Value != "string" {
				return nil, l.errorf(val, "property %q: only arrays of strings are supported", name)
			}
		case "enum":
			var err error
			if enum, _, _, err = schemaEnum(l, name, val); err != nil {
				return nil, err
			}
		case "description", "title", "$comment":
		default:
			return nil, l.errorf(k, "property %q: items keyword %q is not supported (supported: type, enum)", name, k.Value)
		}
	}
	return enum, nil
}
