package modeltest

import (
	"encoding/json"
	"slices"
	"testing"
)

// bulkgen's instruction for a label job (prompts.Fields.Instruction).
const labelInstruction = `Classify.
Reply with a single JSON object and nothing else: no Markdown code fence, no text before or after it. The object has exactly these keys:
- "sentiment": exactly one of "positive", "negative", "neutral".
- "score": a number.
- "stars": exactly one of 1, 2, 3.
- "tags" (topics): an array of labels, each one of "price", "delivery" ([] if none applies).
- "urgent": true or false.
- "reason" (one short sentence): a string, or null if it does not apply.`

func TestJSONModeAnswersTheAskedFields(t *testing.T) {
	tests := []struct {
		name string
		req  *chatRequest
	}{
		{"instruction", &chatRequest{model: "qwen-plus", n: 1, jsonMode: true,
			messages: []message{{Role: "system", Content: labelInstruction}, {Role: "user", Content: "好评"}}}},
		{"json_schema", &chatRequest{model: "qwen-plus", n: 1, jsonMode: true,
			schema:   json.RawMessage(`{"type":"object","properties":{"sentiment":{"type":"string","enum":["positive","negative","neutral"]},"score":{"type":"number"},"stars":{"type":"integer","enum":[1,2,3]},"tags":{"type":"array","items":{"type":"string","enum":["price","delivery"]}},"urgent":{"type":"boolean"},"reason":{"type":["string","null"]}}}`),
			messages: []message{{Role: "user", Content: "json please: 好评"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := generate(tt.req)
			var got map[string]any
			if err := json.Unmarshal([]byte(rep.choices[0].content), &got); err != nil {
				t.Fatalf("reply %q: %v", rep.choices[0].content, err)
			}
			if s, _ := got["sentiment"].(string); !slices.Contains([]string{"positive", "negative", "neutral"}, s) {
				t.Errorf("sentiment %v", got["sentiment"])
			}
			if _, ok := got["score"].(float64); !ok {
				t.Errorf("score %v", got["score"])
			}
			if s, _ := got["stars"].(float64); s < 1 || s > 3 {
				t.Errorf("stars %v", got["stars"])
			}
			if tags, ok := got["tags"].([]any); !ok || len(tags) != 1 {
				t.Errorf("tags %v", got["tags"])
			}
			if _, ok := got["urgent"].(bool); !ok {
				t.Errorf("urgent %v", got["urgent"])
			}
			if _, ok := got["reason"].(string); !ok {
				t.Errorf("reason %v", got["reason"])
			}
			if len(got) != 6 {
				t.Errorf("keys %v", got)
			}
		})
	}
}

func TestBadJSONMarker(t *testing.T) {
	first := &chatRequest{model: "qwen-plus", n: 1, jsonMode: true,
		messages: []message{{Role: "system", Content: labelInstruction}, {Role: "user", Content: "x [[sim:badjson]]"}}}
	if c := generate(first).choices[0].content; !json.Valid([]byte(c)) || !containsFold(c, `"unsure"`) {
		t.Errorf("first ask: %s, want a label outside the set", c)
	}
	repair := &chatRequest{model: "qwen-plus", n: 1, jsonMode: true, messages: append(append([]message{}, first.messages...),
		message{Role: "assistant", Content: "{}"}, message{Role: "user", Content: "fix it"})}
	if c := generate(repair).choices[0].content; containsFold(c, "unsure") {
		t.Errorf("repair ask: %s, want a valid label", c)
	}
	always := &chatRequest{model: "qwen-plus", n: 1, jsonMode: true, messages: append(append([]message{}, repair.messages...),
		message{Role: "user", Content: "[[sim:badjson-always]]"})}
	if c := generate(always).choices[0].content; !containsFold(c, "unsure") {
		t.Errorf("badjson-always: %s", c)
	}
}

func TestPackedTranslationAndGlossary(t *testing.T) {
	sys := "You are a professional translator. Translate each value from Chinese into English.\nUse these translations for the following terms:\n- 商品 → product\n- 订单 → order (note: noun)\nReply with the JSON object only."
	req := &chatRequest{model: "qwen-plus", n: 1, messages: []message{{Role: "system", Content: sys}, {Role: "user", Content: "{\n  \"1\": \"商品\",\n  \"2\": \"订单 加急\",\n  \"10\": \"第十\"\n}"}}}
	got := generate(req).choices[0].content
	var m map[string]string
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if m["1"] != "[simulated qwen-plus] EN: product" || m["2"] != "[simulated qwen-plus] EN: order 加急" || m["10"] != "[simulated qwen-plus] EN: 第十" || len(m) != 3 {
		t.Errorf("packed reply %s", got)
	}
	req.messages[1].Content = "{\"1\": \"a\", \"2\": \"b [[sim:packdrop]]\"}"
	if got := generate(req).choices[0].content; got != `{"1":"[simulated qwen-plus] EN: a"}` {
		t.Errorf("packdrop reply %s", got)
	}
	single := &chatRequest{model: "qwen-plus", n: 1, messages: []message{{Role: "system", Content: sys}, {Role: "user", Content: "商品订单"}}}
	if c := generate(single).choices[0].content; !containsFold(c, "EN: productorder") {
		t.Errorf("single reply %q", c)
	}
}
