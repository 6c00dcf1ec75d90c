package tokenizer

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// benchText returns about size bytes of mixed Chinese and English prose
// with numbers, punctuation and line breaks, the same on every run.
func benchText(size int) string {
	zh := []string{
		"数据", "模型", "我们", "需要", "对", "成千上万条", "记录", "进行", "批量", "处理", "翻译",
		"商品标题", "客服工单", "生成摘要", "根据", "表格中的字段", "撰写", "产品描述", "情感分类",
		"每一次请求", "都会", "按照", "输入和输出的", "数量", "计费", "服务端", "配额", "自动退避",
		"重试", "可靠性", "网络", "会抖动", "进程", "可能被中断", "通义千问", "具有强大的能力",
		"阿里巴巴", "实验室", "自主研发", "超大规模", "语言模型", "帮助你", "回答问题", "创作文字",
	}
	zhPunct := []string{"，", "。", "、", "；", "：", "！", "？", "（", "）", "“", "”"}
	en := []string{
		"the", "model", "tokens", "input", "output", "price", "per", "million", "request", "rate",
		"limit", "retry", "with", "backoff", "and", "jitter", "for", "every", "row", "of", "a",
		"spreadsheet", "translate", "summarise", "classify", "reviews", "it's", "don't", "we'll",
		"context", "window", "batch", "discount", "streaming", "usage", "billing", "estimate",
	}
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.Grow(size + 256)
	for b.Len() < size {
		if r.IntN(3) > 0 { // a Chinese sentence
			for n := 2 + r.IntN(12); n > 0; n-- {
				b.WriteString(zh[r.IntN(len(zh))])
				switch k := r.IntN(10); {
				case k == 0:
					b.WriteString(zhPunct[r.IntN(len(zhPunct))])
				case k == 1:
					b.WriteString(strconv.Itoa(r.IntN(100000)))
				case k == 2:
					b.WriteString(en[r.IntN(len(en))])
				}
			}
			b.WriteString("。")
		} else { // an English sentence
			for n := 4 + r.IntN(16); n > 0; n-- {
				w := en[r.IntN(len(en))]
				if n == 1 || r.IntN(8) == 0 {
					w = strings.ToUpper(w[:1]) + w[1:]
				}
				b.WriteString(w)
				switch k := r.IntN(12); {
				case k == 0:
					b.WriteString(",")
				case k == 1:
					b.WriteString(" " + strconv.FormatFloat(r.Float64()*1000, 'f', 2, 64))
				}
				b.WriteByte(' ')
			}
			b.WriteString(". ")
		}
		if r.IntN(6) == 0 {
			b.WriteString("\n\n")
		}
	}
	return b.String()
}

func BenchmarkCount(b *testing.B) {
	tok := qwen(b)
	text := benchText(1 << 20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		tok.Count(text)
	}
}

// Per-row counting, as bulkgen does it: many short strings.
func BenchmarkCountRows(b *testing.B) {
	tok := qwen(b)
	text := benchText(1 << 20)
	rows := strings.SplitAfter(text, "。")
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		for _, row := range rows {
			tok.Count(row)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	tok := qwen(b)
	text := benchText(1 << 20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		tok.Encode(text)
	}
}

func BenchmarkCountChat(b *testing.B) {
	tok := qwen(b)
	msgs := []Message{
		{Role: "system", Content: "你是一名专业翻译。只输出译文。"},
		{Role: "user", Content: benchText(600)},
	}
	b.ReportAllocs()
	for b.Loop() {
		tok.CountChat(TemplateQwen3, msgs, false)
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := load(qwenData); err != nil {
			b.Fatal(err)
		}
	}
}

// The system prompt and template of the per-row benchmarks.
const (
	benchSystem = "You are a sentiment classifier for Chinese e-commerce product reviews.\n\n" +
		"Reply with a JSON object only, with exactly these keys:\n" +
		"- \"sentiment\": one of \"positive\", \"negative\", \"neutral\"\n" +
		"- \"reason\": one short sentence on why, in English, or null\n"
	benchPrompt = "Classify the sentiment of the customer review below.\n" +
		"A review that praises the product but complains about delivery or service is\n" +
		"judged by its overall tone.\n\nReview:\n"
)

// Per-row chat counting as `bulkgen estimate` does it: the same system
// prompt and template lines on every row, a different value in each.
func BenchmarkCountChatRows(b *testing.B) {
	tok := qwen(b)
	rows := strings.SplitAfter(benchText(1<<20), "。")
	size := 0
	msgs := make([][]Message, len(rows))
	for i, row := range rows {
		msgs[i] = []Message{
			{Role: "system", Content: benchSystem},
			{Role: "user", Content: benchPrompt + row + "\n"},
		}
		size += len(msgs[i][0].Content) + len(msgs[i][1].Content)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			tok.CountChat(TemplateQwen3, m, false)
		}
	}
}
