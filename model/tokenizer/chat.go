package tokenizer

import (
	"strings"
)

// Message is one chat message as sent to the service. It mirrors the
// caller's own message type so that this package imports nothing from the
// rest of bulkgen.
type Message struct {
	Role    string
	Content string
}

// Template is the chat template family of a model: how messages are framed
// with special tokens before the model sees them. The service bills the
// framed prompt, so the framing is part of the input token count.
type Template int

const (
	// TemplateQwen25 is plain ChatML, as in Qwen2/Qwen2.5 and Qwen3
	// instruct-only models:
	//
	//	<|im_start|>{role}\n{content}<|im_end|>\n   per message
	//	<|im_start|>assistant\n                     generation prompt
	//
	// Tool results are wrapped in "<tool_response>" text, which is not a
	// special token in the Qwen2.5 vocabulary.
	TemplateQwen25 Template = iota
	// TemplateQwen3 is the template of hybrid-thinking Qwen3 models: the
	// same ChatML, and with thinking off the generation prompt carries an
	// empty reasoning block, "<think>\n\n</think>\n\n" (4 tokens).
	// Reasoning in earlier assistant turns ("<think>…</think>" in their
	// content) is dropped, and tool results use the <tool_response>
	// special tokens.
	TemplateQwen3
)

func (t Template) String() string {
	switch t {
	case TemplateQwen25:
		return "qwen2.5"
	case TemplateQwen3:
		return "qwen3"
	}
	return "unknown"
}

// DefaultSystemPrompt is the system message the service assumes when a
// request has none (DashScope API reference; it is billed).
const DefaultSystemPrompt = "You are a helpful assistant."

// WithDefaultSystem returns msgs with a leading DefaultSystemPrompt system
// message when no message has the system role, which is what the service
// bills for such a request. CountChat does not do this by itself: whether
// a request goes to an endpoint that adds it is the caller's knowledge.
// msgs itself is not modified.
func WithDefaultSystem(msgs []Message) []Message {
	for _, m := range msgs {
		if m.Role == "system" {
			return msgs
		}
	}
	out := make([]Message, 0, len(msgs)+1)
	out = append(out, Message{Role: "system", Content: DefaultSystemPrompt})
	return append(out, msgs...)
}

// CountChat returns the number of input tokens of a chat request: msgs
// rendered with the template tmpl, followed by the generation prompt for
// the assistant's reply. thinking reports whether the request enables
// thinking; it matters for TemplateQwen3 only. An undefined Template value
// is treated as TemplateQwen25.
//
// Each message is framed as the model's Jinja chat template would frame it
// (tools and tool calls in assistant messages are not modelled). Roles
// other than system, user, assistant and tool, which the templates drop,
// are counted as if framed like user messages: an unknown role is more
// likely an error than free input, and over-counting is the safer error
// for a cost estimate.
//
// Unlike Encode, CountChat reads added-token names inside message content
// as the tokens themselves ("<|im_end|>" in a user message counts 1), as
// the Hugging Face tokenizer does when it tokenises a rendered prompt; the
// Qwen2.5 template knows only the 22 added tokens of that generation.
func (t *Tokenizer) CountChat(tmpl Template, msgs []Message, thinking bool) int {
	sc := t.pool.Get().(*scratch)
	defer t.pool.Put(sc)
	f := framer{t: t, sc: sc, text: sc.frame[:0]}
	f.frame(tmpl, msgs, thinking)
	sc.frame = f.text
	return f.n
}

// frame frames msgs with tmpl, then flushes the text that is left.
func (f *framer) frame(tmpl Template, msgs []Message, thinking bool) {
	f.added = f.t.added
	switch tmpl {
	case TemplateQwen3:
		f.qwen3(msgs, thinking)
	default:
		f.added = f.added[:min(len(f.added), qwen25Added)]
		f.qwen25(msgs)
	}
	f.flush()
}

// framer counts a rendered template. Literal text and message contents are
// collected until the next special token and tokenised together, as the
// reference tokenizer splits only at special tokens: "user\n" + content is
// one piece of text, and a newline at the start of content can merge with
// the one before it.
type framer struct {
	t     *Tokenizer
	sc    *scratch
	text  []byte
	added []string // added tokens recognised inside text
	n     int
	// shape, when set, records the framing instead of counting it (see
	// NewShape): flush hands it the collected text, special the tokens.
	shape *Shape
}

// qwen25Added is the number of added tokens of the Qwen2/Qwen2.5
// tokenizer (<|endoftext|> … <|file_sep|>, ids 151643–151664); Qwen3
// appended <tool_response>, </tool_response>, <think> and </think>.
const qwen25Added = 22

func (f *framer) str(s ...string) {
	for _, p := range s {
		f.text = append(f.text, p...)
	}
}

// special counts one added token. The name documents which one; the tests
// check that every name used here is in the vocabulary.
func (f *framer) special(name string) {
	_ = name
	f.flush()
	if f.shape != nil {
		f.shape.items = append(f.shape.items, shapeItem{special: true})
	}
	f.n++
}

// flush counts the collected text (or hands it to the shape being
// recorded).
func (f *framer) flush() {
	if len(f.text) == 0 {
		return
	}
	s := string(f.text)
	f.text = f.text[:0]
	if f.shape != nil {
		f.shape.text(f, s)
		return
	}
	f.n += countText(f.t, f.sc, f.added, s)
}

// countText counts text between special tokens: added tokens found in it
// count one each, the text between them is tokenised normally.
func countText(t *Tokenizer, sc *scratch, added []string, s string) int {
	n := 0
	for len(s) > 0 {
		at, k := findAdded(added, s)
		if at < 0 {
			return n + t.count(sc, s)
		}
		if at > 0 {
			n += t.count(sc, s[:at])
		}
		n++
		s = s[at+k:]
	}
	return n
}

// findAdded returns the position and length of the leftmost added token
// in s, preferring the longest at that position (the reference matches
// leftmost-longest), or -1.
func findAdded(added []string, s string) (at, n int) {
	for off := 0; ; {
		i := strings.IndexByte(s[off:], '<') // every added token starts with '<'
		if i < 0 {
			return -1, 0
		}
		off += i
		best := 0
		for _, a := range added {
			if len(a) > best && strings.HasPrefix(s[off:], a) {
				best = len(a)
			}
		}
		if best > 0 {
			return off, best
		}
		off++
	}
}

// plain frames one message as ChatML.
func (f *framer) plain(role, content string) {
	f.special("<|im_start|>")
	f.str(role, "\n", content)
	f.special("<|im_end|>")
	f.str("\n")
}

// toolResult frames a tool message; consecutive tool messages share one
// user turn. open and close are the wrappers: special tokens in Qwen3,
// plain text in Qwen2.5.
func (f *framer) toolResult(msgs []Message, i int, wrap func(string)) {
	if i == 0 || msgs[i-1].Role != "tool" {
		f.special("<|im_start|>")
		f.str("user")
	}
	f.str("\n")
	wrap("<tool_response>")
	f.str("\n", msgs[i].Content, "\n")
	wrap("</tool_response>")
	if i == len(msgs)-1 || msgs[i+1].Role != "tool" {
		f.special("<|im_end|>")
		f.str("\n")
	}
}

// qwen25 follows the Qwen2.5-Instruct chat template (without tools). The
// template's own default system message ("You are Qwen, created by
// Alibaba Cloud…") is not added: the service uses DefaultSystemPrompt
// instead, see WithDefaultSystem.
func (f *framer) qwen25(msgs []Message) {
	for i, m := range msgs {
		if m.Role == "tool" {
			f.toolResult(msgs, i, func(s string) { f.str(s) })
			continue
		}
		f.plain(m.Role, m.Content)
	}
	f.special("<|im_start|>")
	f.str("assistant\n")
}

// qwen3 follows the chat template shipped with the Qwen3 tokenizer
// (hybrid thinking, without tools).
func (f *framer) qwen3(msgs []Message, thinking bool) {
	// The last real user query: assistant turns after it keep their
	// reasoning, earlier ones lose it.
	lastQuery := len(msgs) - 1
	for i := len(msgs) - 1; i >= 0; i-- {
		c := msgs[i].Content
		if msgs[i].Role == "user" && !(strings.HasPrefix(c, "<tool_response>") && strings.HasSuffix(c, "</tool_response>")) {
			lastQuery = i
			break
		}
	}
	for i, m := range msgs {
		switch m.Role {
		case "assistant":
			content, reasoning := splitReasoning(m.Content)
			f.special("<|im_start|>")
			if i > lastQuery && (i == len(msgs)-1 || reasoning != "") {
				f.str("assistant\n")
				f.special("<think>")
				f.str("\n", strings.Trim(reasoning, "\n"), "\n")
				f.special("</think>")
				f.str("\n\n", strings.TrimLeft(content, "\n"))
			} else {
				f.str("assistant\n", content)
			}
			f.special("<|im_end|>")
			f.str("\n")
		case "tool":
			f.toolResult(msgs, i, f.special)
		default: // a first system message renders the same way as later ones
			f.plain(m.Role, m.Content)
		}
	}
	f.special("<|im_start|>")
	f.str("assistant\n")
	if !thinking {
		f.special("<think>")
		f.str("\n\n")
		f.special("</think>")
		f.str("\n\n")
	}
}

// splitReasoning separates "<think>reasoning</think>answer" the way the
// Qwen3 template does when a message has no separate reasoning field.
func splitReasoning(content string) (answer, reasoning string) {
	before, _, found := strings.Cut(content, "</think>")
	if !found {
		return content, ""
	}
	answer = content[strings.LastIndex(content, "</think>")+len("</think>"):]
	answer = strings.TrimLeft(answer, "\n")
	before = strings.TrimRight(before, "\n")
	if i := strings.LastIndex(before, "<think>"); i >= 0 {
		before = before[i+len("<think>"):]
	}
	return answer, strings.TrimLeft(before, "\n")
}
