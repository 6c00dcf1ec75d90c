package modeltest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// choice is one generated answer.
type choice struct {
	content   string
	reasoning string
	finish    string // "stop" or "length"
}

// reply is the simulated model output for one request.
type reply struct {
	choices          []choice
	promptTokens     int
	completionTokens int // content plus reasoning, all choices
	reasoningTokens  int
}

func (r *reply) totalTokens() int { return r.promptTokens + r.completionTokens }

// generate derives the answer from the request alone, so the same request
// always gets the same reply and usage. The text is marked as simulated and
// built from the last user message: a pseudo-translation when the prompt
// asks to translate, a small classification object in json_object mode,
// an excerpt otherwise.
func generate(req *chatRequest) reply {
	h := requestHash(req)
	user := stripMarkers(lastUser(req.messages))
	tag := "[simulated " + req.model + "] "
	task := taskPlain
	if req.jsonMode {
		task = taskJSON
	} else if asksTranslation(req.messages) {
		task = taskTranslate
	}

	rep := reply{promptTokens: promptTokens(req), choices: make([]choice, req.n)}
	for i := range rep.choices {
		hi := mix(h + uint64(i))
		var c choice
		var label string
		switch task {
		case taskJSON:
			label = labels[hi%uint64(len(labels))]
			fields := schemaFields(req.schema)
			if fields == nil {
				fields = instructionFields(req.messages)
			}
			if fields != nil {
				c.content = fieldsAnswer(fields, hi, tag+excerpt(user, 60), badJSON(req.messages))
			} else {
				c.content = jsonAnswer(label, 0.5+float64((hi>>8)%50)/100, tag+excerpt(user, 60))
			}
		case taskTranslate:
			lang := targetLanguage(req.messages, user)
			terms := glossaryTerms(req.messages)
			drop := strings.Contains(lastUser(req.messages), "[[sim:packdrop]]")
			if packed, ok := translatePacked(user, tag, lang, terms, drop); ok {
				c.content = packed
			} else {
				c.content = tag + lang + ": " + applyTerms(excerpt(translationSource(user), 80), terms)
			}
		default:
			c.content = tag + excerpt(user, 100)
		}
		if req.thinking {
			c.reasoning = reasoningText(task, user, label)
			if req.thinkingBudget > 0 {
				c.reasoning, _ = truncateTokens(c.reasoning, req.thinkingBudget)
			}
		}
		c.finish = "stop"
		if cut := firstStop(c.content, req.stop); cut >= 0 {
			c.content = c.content[:cut]
		}
		if req.maxTokens > 0 {
			var cut bool
			if c.content, cut = truncateTokens(c.content, req.maxTokens); cut {
				c.finish = "length"
			}
		}
		rt := EstimateTokens(c.reasoning)
		rep.reasoningTokens += rt
		rep.completionTokens += rt + EstimateTokens(c.content)
		rep.choices[i] = c
	}
	return rep
}

type task int

const (
	taskPlain task = iota
	taskTranslate
	taskJSON
)

var labels = []string{"positive", "negative", "neutral"}

// requestHash covers everything that may change a real model's answer.
// The seed counts only when sampling is random (temperature unset or > 0),
// as on the real service.
func requestHash(req *chatRequest) uint64 {
	f := fnv.New64a()
	var num [8]byte
	writeNum := func(v float64) {
		binary.LittleEndian.PutUint64(num[:], math.Float64bits(v))
		f.Write(num[:])
	}
	f.Write([]byte(req.model))
	for _, m := range req.messages {
		f.Write([]byte{0})
		f.Write([]byte(m.Role))
		f.Write([]byte{0})
		f.Write([]byte(m.Content))
	}
	f.Write([]byte{1})
	if req.temperature != nil {
		writeNum(*req.temperature)
	}
	if req.topP != nil {
		writeNum(*req.topP)
	}
	if req.seed != nil && (req.temperature == nil || *req.temperature > 0) {
		writeNum(float64(*req.seed))
	}
	if req.jsonMode {
		f.Write([]byte("json"))
		f.Write(req.schema)
	}
	if req.thinking {
		f.Write([]byte("think"))
	}
	return f.Sum64()
}

// mix is splitmix64's finaliser: it spreads nearby inputs (hash+i) apart.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func lastUser(msgs []message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	if len(msgs) > 0 {
		return msgs[len(msgs)-1].Content
	}
	return ""
}

// excerpt collapses white space and keeps at most max runes: the head and
// the tail of a long text, because prompt templates put the instruction
// first and the row's data last.
func excerpt(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	head := max * 2 / 5
	tail := max - head
	return string(r[:head]) + " … " + string(r[len(r)-tail:])
}

func asksTranslation(msgs []message) bool {
	for _, m := range msgs {
		if (m.Role == "system" || m.Role == "user") &&
			(containsFold(m.Content, "translat") || strings.Contains(m.Content, "翻译")) {
			return true
		}
	}
	return false
}

// languages maps a target-language code to the words that name it.
var languages = []struct {
	code  string
	words []string
}{
	{"EN", []string{"english", "英文", "英语"}},
	{"ZH", []string{"chinese", "中文", "汉语"}},
	{"JA", []string{"japanese", "日语", "日文"}},
	{"KO", []string{"korean", "韩语", "韩文"}},
	{"FR", []string{"french", "法语", "法文"}},
	{"DE", []string{"german", "德语", "德文"}},
	{"ES", []string{"spanish", "西班牙语"}},
}

// targetLanguage finds "into X", "to X", "成X" or "为X" in the system and
// user messages; without one it translates CJK text to English and other
// text to Chinese.
func targetLanguage(msgs []message, user string) string {
	for _, m := range msgs {
		if m.Role != "system" && m.Role != "user" {
			continue
		}
		text := strings.ToLower(m.Content)
		for _, l := range languages {
			for _, w := range l.words {
				for _, pre := range []string{"into ", "to ", "成", "为"} {
					if strings.Contains(text, pre+w) {
						return l.code
					}
				}
			}
		}
	}
	cjk := 0
	for _, r := range user {
		if isCJK(r) {
			cjk++
		}
	}
	if cjk*3 > utf8.RuneCountInString(user) {
		return "EN"
	}
	return "ZH"
}

// translationSource is the part of "Translate into English:\n<text>" that
// is the text: what follows the first line break, or else the first colon.
func translationSource(user string) string {
	for _, sep := range []string{"\n", ":", "："} {
		if _, rest, ok := strings.Cut(user, sep); ok && strings.TrimSpace(rest) != "" {
			return rest
		}
	}
	return user
}

func jsonAnswer(label string, confidence float64, reason string) string {
	v := struct {
		Label      string  `json:"label"`
		Confidence float64 `json:"confidence"`
		Reason     string  `json:"reason"`
	}{label, math.Round(confidence*100) / 100, reason}
	return string(marshal(v))
}

func reasoningText(t task, user, label string) string {
	s := "[simulated reasoning] The user wrote: \"" + excerpt(user, 48) + "\". "
	switch t {
	case taskTranslate:
		return s + "I should translate it faithfully and keep the tone."
	case taskJSON:
		return s + "I should answer with a JSON object; the label that fits best is \"" + label + "\"."
	}
	return s + "I should answer briefly and stay on topic."
}

// firstStop returns where the earliest stop string starts in s, or -1.
func firstStop(s string, stop []string) int {
	cut := -1
	for _, st := range stop {
		if i := strings.Index(s, st); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	return cut
}

// marshal encodes v as compact JSON without HTML escaping, as the service
// does (json.Marshal would turn "<" into "\u003c").
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only unsupported values fail, and the simulator encodes its own
		// plain structs.
		panic("modeltest: encode response: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// Markers are instructions to the simulator embedded in a user message.
const markerOpen, markerClose = "[[sim:", "]]"

// markers is what the [[sim:...]] markers of one request ask for.
type markers struct {
	fault Fault
	// times > 0 limits the fault to the first times deliveries of the same
	// request body ([[sim:500*2]]); 0 means every time.
	times int
	slow  time.Duration
}

// scanMarkers reads every [[sim:...]] marker in the user messages. The
// first fault marker wins; slow markers add up. Unknown markers are
// ignored so that a typo shows up as an ordinary reply containing it.
func scanMarkers(msgs []message) markers {
	var mk markers
	for _, m := range msgs {
		if m.Role != "user" {
			continue
		}
		s := m.Content
		for {
			i := strings.Index(s, markerOpen)
			if i < 0 {
				break
			}
			s = s[i+len(markerOpen):]
			j := strings.Index(s, markerClose)
			if j < 0 {
				break
			}
			body := s[:j]
			s = s[j+len(markerClose):]
			if d, ok := strings.CutPrefix(body, "slow="); ok {
				if dur, err := time.ParseDuration(d); err == nil && dur > 0 && dur <= time.Hour {
					mk.slow += dur
				}
				continue
			}
			name, times := body, 0
			if k := strings.LastIndexByte(body, '*'); k >= 0 {
				name = body[:k]
				times = atoiPositive(body[k+1:])
				if times == 0 {
					continue
				}
			}
			if f, ok := parseFault(name); ok && mk.fault == FaultNone {
				mk.fault, mk.times = f, times
			}
		}
	}
	return mk
}

func atoiPositive(s string) int {
	if s == "" || len(s) > 6 {
		return 0
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// stripMarkers removes the markers from text that is echoed in a reply.
func stripMarkers(s string) string {
	if !strings.Contains(s, markerOpen) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, markerOpen)
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], markerClose)
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		s = s[i+j+len(markerClose):]
	}
	b.WriteString(s)
	return b.String()
}
