package modeltest

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// translatePacked answers a packed translation request: a user message
// that is a JSON object of numbered strings gets an object with the same
// keys, each value "[simulated model] LANG: <text>" (glossary terms applied). ok is false
// for any other message. drop leaves out the last key, the way a model
// merges or skips a cell ([[sim:packdrop]]).
func translatePacked(user, tag, lang string, terms [][2]string, drop bool) (string, bool) {
	user = strings.TrimSpace(user)
	if !strings.HasPrefix(user, "{") {
		return "", false
	}
	var cells map[string]string
	if json.Unmarshal([]byte(user), &cells) != nil || len(cells) == 0 {
		return "", false
	}
	keys := make([]string, 0, len(cells))
	for k := range cells {
		if _, err := strconv.Atoi(k); err != nil {
			return "", false
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, _ := strconv.Atoi(keys[i])
		b, _ := strconv.Atoi(keys[j])
		return a < b
	})
	if drop && len(keys) > 1 {
		keys = keys[:len(keys)-1]
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kq, _ := json.Marshal(k)
		vq := marshal(tag + lang + ": " + applyTerms(cells[k], terms))
		b.Write(kq)
		b.WriteByte(':')
		b.Write(vq)
	}
	b.WriteByte('}')
	return b.String(), true
}

// glossaryTerms reads "- source → target" lines from the system and user
// messages, the way a translation prompt lists its glossary; the
// simulated translation uses them, as a real model is asked to.
func glossaryTerms(msgs []message) [][2]string {
	var out [][2]string
	for _, m := range msgs {
		if m.Role != "system" {
			continue
		}
		for _, line := range strings.Split(m.Content, "\n") {
			line = strings.TrimSpace(line)
			rest, ok := strings.CutPrefix(line, "- ")
			if !ok {
				continue
			}
			src, tgt, ok := strings.Cut(rest, " → ")
			if !ok {
				continue
			}
			if i := strings.Index(tgt, " (note:"); i >= 0 {
				tgt = tgt[:i]
			}
			out = append(out, [2]string{src, tgt})
		}
	}
	// Longest source first, so that a longer term wins over its part.
	sort.SliceStable(out, func(i, j int) bool { return len(out[i][0]) > len(out[j][0]) })
	return out
}

func applyTerms(s string, terms [][2]string) string {
	for _, t := range terms {
		s = strings.ReplaceAll(s, t[0], t[1])
	}
	return s
}
