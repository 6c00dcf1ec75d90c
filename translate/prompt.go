package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Packing sends several cells in one request as a JSON object keyed "1".."N"
// and expects an object with the same keys back.
//
// An object rather than an array: with keys, a reply that drops, merges or
// splits a cell is caught by name ("key 7 missing") instead of silently
// shifting every later translation by one, which an array of the right
// length cannot reveal once a merge and a split cancel out. Keys also let
// the model see which cell it is on in long packs.

// languagePhrase names the source language for a prompt; "" means the
// model detects it.
func languagePhrase(from string) (string, error) {
	if from == "" {
		return "", nil
	}
	name, err := LanguageName(from)
	if err != nil {
		return "", fmt.Errorf("source language: %w", err)
	}
	// A plain "zh" source may be either script; only the target needs
	// to be pinned to one.
	if base, sub := splitCode(from); base == "zh" && sub == "" {
		name = "Chinese"
	}
	return " from " + name, nil
}

func targetName(to string) (string, error) {
	if to == "" {
		return "", errors.New("target language: empty: pass --to, e.g. --to en")
	}
	name, err := LanguageName(to)
	if err != nil {
		return "", fmt.Errorf("target language: %w", err)
	}
	return name, nil
}

// rules are the instructions shared by both prompts. They name the things
// models most often "fix" in spreadsheet text.
const rules = `Keep numbers, codes, URLs, e-mail addresses, placeholders such as {name} or %s, and line breaks as they are.
Do not add explanations, notes or quotes.
`

// SinglePrompt returns the system and user messages that translate one cell.
// from may be "" (auto-detect); to is required. terms are the glossary
// entries found in the cell (see [Glossary.Match]). The reply is the
// translation alone; pass it through [ParseSingle].
func SinglePrompt(cell, from, to string, terms []Term) (system, user string, err error) {
	src, err := languagePhrase(from)
	if err != nil {
		return "", "", err
	}
	dst, err := targetName(to)
	if err != nil {
		return "", "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "You are a professional translator. Translate the user's text%s into %s.\n", src, dst)
	b.WriteString(rules)
	b.WriteString(PromptSnippet(terms))
	b.WriteString("Reply with the translation only.\n")
	return b.String(), cell, nil
}

// PackPrompt returns the system and user messages that translate cells in
// one request. Every cell must be non-empty ([ParsePacked] treats an empty
// translation as a failure). terms are the glossary entries found in any
// of the cells.
func PackPrompt(cells []string, from, to string, terms []Term) (system, user string, err error) {
	if len(cells) == 0 {
		return "", "", errors.New("pack: no cells")
	}
	src, err := languagePhrase(from)
	if err != nil {
		return "", "", err
	}
	dst, err := targetName(to)
	if err != nil {
		return "", "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "You are a professional translator. The user sends a JSON object whose values are spreadsheet cells. Translate each value%s into %s.\n", src, dst)
	fmt.Fprintf(&b, "Reply with a JSON object with exactly the same keys, \"1\" to \"%d\", each mapped to the translation of that cell as a string. Translate every cell separately: never merge, split, reorder or skip cells.\n", len(cells))
	b.WriteString(rules)
	b.WriteString(PromptSnippet(terms))
	b.WriteString("Reply with the JSON object only.\n")

	// Built by hand to keep the keys in numeric order ("10" after "9"),
	// which encoding/json's sorted map keys would not.
	var u bytes.Buffer
	u.WriteString("{\n")
	for i, c := range cells {
		if strings.TrimSpace(c) == "" {
			return "", "", fmt.Errorf("pack: cell %d is empty: skip empty cells before packing", i+1)
		}
		fmt.Fprintf(&u, "  %q: %s", strconv.Itoa(i+1), jsonString(c))
		if i < len(cells)-1 {
			u.WriteByte(',')
		}
		u.WriteByte('\n')
	}
	u.WriteString("}")
	return b.String(), u.String(), nil
}

// jsonString encodes s without HTML escaping, so that "<b>" and "&" reach the
// model as written instead of as \u003c escapes it might copy.
func jsonString(s string) string {
	if plainJSON(s) {
		return `"` + s + `"` // what the encoder writes for it, without its work
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// ParsePacked checks a reply to [PackPrompt] for n cells and returns the
// translations in cell order. It tolerates a reasoning block
// (<think>…</think>), a ```json fence and text around the object. Anything
// else is an error naming the problem, and the caller should translate the
// cells one by one: invalid JSON, a duplicate, missing or extra key, a value
// that is not a string, or an empty translation.
func ParsePacked(reply string, n int) ([]string, error) {
	body := unwrap(reply)
	start, end := strings.IndexByte(body, '{'), strings.LastIndexByte(body, '}')
	if start < 0 || end < start {
		return nil, fmt.Errorf("packed reply: no JSON object in %q", abbrev(reply))
	}
	obj := body[start : end+1]
	if out, ok := parsePlainPacked(obj, n); ok {
		return out, nil
	}
	return parseDecoded(obj, n)
}

// parseDecoded is ParsePacked by encoding/json's decoder, token by token,
// which finds duplicate keys and names every problem.
func parseDecoded(obj string, n int) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(obj))
	if _, err := dec.Token(); err != nil { // the '{' found above
		return nil, fmt.Errorf("packed reply: %w", err)
	}
	out := make([]string, n)
	have := make([]bool, n)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("packed reply: invalid JSON: %w", err)
		}
		key, _ := tok.(string) // object keys are always strings
		i, err := strconv.Atoi(strings.TrimSpace(key))
		if err != nil || i < 1 || i > n {
			return nil, fmt.Errorf("packed reply: unexpected key %q: want \"1\" to \"%d\"", key, n)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("packed reply: key %q: invalid JSON: %w", key, err)
		}
		s, ok := v.(string)
		switch {
		case have[i-1]:
			return nil, fmt.Errorf("packed reply: key %q appears twice", key)
		case !ok:
			return nil, fmt.Errorf("packed reply: key %q: want a string, got %s", key, jsonType(v))
		case strings.TrimSpace(s) == "":
			return nil, fmt.Errorf("packed reply: key %q: empty translation", key)
		}
		out[i-1], have[i-1] = s, true
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("packed reply: invalid JSON: %w", err)
	}
	if rest := strings.TrimSpace(obj[dec.InputOffset():]); rest != "" {
		return nil, fmt.Errorf("packed reply: more than one JSON object (%q after the first)", abbrev(rest))
	}
	var missing []string
	for i, ok := range have {
		if !ok {
			missing = append(missing, strconv.Itoa(i+1))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("packed reply: %d of %d cells missing (keys %s)", len(missing), n, strings.Join(missing, ", "))
	}
	return out, nil
}

// parsePlainPacked is ParsePacked's fast path for the usual reply: an
// object whose keys are "1" to "n", each once, and whose values are
// non-blank strings without escapes, control characters or invalid UTF-8,
// so that each is its text between the quotes. Anything else reports
// false, and the decoder reads the reply (and names what is wrong).
func parsePlainPacked(obj string, n int) ([]string, bool) {
	out := make([]string, n)
	i := 1                         // past '{'
	str := func() (string, bool) { // a plain string at obj[i]
		if i >= len(obj) || obj[i] != '"' {
			return "", false
		}
		j := strings.IndexByte(obj[i+1:], '"')
		if j < 0 {
			return "", false
		}
		v := obj[i+1 : i+1+j]
		if !plainJSON(v) {
			return "", false
		}
		i += j + 2
		return v, true
	}
	ws := func() {
		for i < len(obj) && (obj[i] == ' ' || obj[i] == '\t' || obj[i] == '\n' || obj[i] == '\r') {
			i++
		}
	}
	seen := 0
	for {
		ws()
		key, ok := str()
		if !ok {
			return nil, false
		}
		k, err := strconv.Atoi(strings.TrimSpace(key))
		if err != nil || k < 1 || k > n || out[k-1] != "" {
			return nil, false
		}
		ws()
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i++
		ws()
		v, ok := str()
		if !ok || strings.TrimSpace(v) == "" {
			return nil, false
		}
		out[k-1] = v
		seen++
		ws()
		if i < len(obj) && obj[i] == ',' {
			i++
			continue
		}
		// The object ends here: obj ends with its '}'.
		return out, i == len(obj)-1 && seen == n
	}
}

// plainJSON reports whether s is valid UTF-8 with nothing that JSON
// escapes: no quote, backslash or control character, and no U+2028 or
// U+2029 (which encoding/json escapes for JavaScript's sake).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
		if c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// ParseSingle cleans a reply to [SinglePrompt]: it drops a reasoning block
// and a code fence the model may have added and trims surrounding
// whitespace (use [KeepSpace] to give the cell's own back). An empty result
// is an error.
func ParseSingle(reply string) (string, error) {
	s := unwrap(reply)
	if s == "" {
		return "", errors.New("reply: empty translation")
	}
	return s, nil
}

// unwrap removes a leading <think>…</think> block and one surrounding
// ``` fence (with or without a language tag).
func unwrap(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<think>") {
		if _, after, ok := strings.Cut(s, "</think>"); ok {
			s = strings.TrimSpace(after)
		}
	}
	if strings.HasPrefix(s, "```") && strings.HasSuffix(s, "```") && len(s) >= 6 {
		s = strings.TrimSuffix(s[3:], "```")
		// drop the language tag line ("json")
		if nl := strings.IndexByte(s, '\n'); nl >= 0 && !strings.ContainsAny(s[:nl], "{[\"") {
			s = s[nl+1:]
		}
		s = strings.TrimSpace(s)
	}
	return s
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// abbrev shortens s for an error message.
func abbrev(s string) string {
	const max = 80
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + "…"
}
