package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"bulkgen/model/tokenizer"
)

// tokenizerText returns about size bytes of mixed Chinese and English text
// cut into rows of one to three sentences, the shape bulkgen counts: one
// prompt per row.
func tokenizerText(size int) []string {
	zh := []string{"数据", "模型", "我们", "需要", "对", "成千上万条", "记录", "进行", "批量", "处理", "翻译", "商品标题",
		"客服工单", "生成摘要", "根据", "表格中的字段", "撰写", "产品描述", "情感分类", "服务端", "配额", "自动退避", "重试",
		"通义千问", "阿里巴巴", "超大规模", "语言模型", "帮助你", "回答问题"}
	en := []string{"the", "model", "tokens", "input", "output", "price", "per", "million", "request", "rate", "limit",
		"retry", "with", "backoff", "and", "jitter", "for", "every", "row", "of", "a", "spreadsheet", "it's", "don't",
		"Translate", "Summarise", "USB-C", "waterproof"}
	punct := []string{"，", "。", "、", "：", "！", "？"}
	r := rand.New(rand.NewPCG(8, 8))
	var rows []string
	total := 0
	for total < size {
		var b strings.Builder
		for s := 1 + r.IntN(3); s > 0; s-- {
			if r.IntN(3) > 0 {
				for n := 3 + r.IntN(12); n > 0; n-- {
					b.WriteString(zh[r.IntN(len(zh))])
					switch r.IntN(8) {
					case 0:
						b.WriteString(punct[r.IntN(len(punct))])
					case 1:
						b.WriteString(strconv.Itoa(r.IntN(10000)))
					case 2:
						b.WriteString(" " + en[r.IntN(len(en))] + " ")
					}
				}
				b.WriteString("。")
			} else {
				for n := 4 + r.IntN(14); n > 0; n-- {
					b.WriteString(en[r.IntN(len(en))])
					if r.IntN(10) == 0 {
						b.WriteString(",")
					}
					b.WriteByte(' ')
				}
				b.WriteString(". ")
			}
		}
		rows = append(rows, b.String())
		total += b.Len()
	}
	return rows
}

func caseTokenizer(ctx context.Context, b *bench, rep *caseReport) error {
	tok, err := tokenizer.Qwen()
	if err != nil {
		return fmt.Errorf("load the Qwen tokenizer: %w", err)
	}
	rows := tokenizerText(8 << 20)
	size := 0
	for _, r := range rows {
		size += len(r)
	}
	// Warm up (caches, page faults), then count the whole text as often
	// as fits in two seconds, on one goroutine.
	for _, r := range rows[:len(rows)/10] {
		tok.Count(r)
	}
	var bytes, tokens int
	start := time.Now()
	for time.Since(start) < 2*time.Second && ctx.Err() == nil {
		for _, r := range rows {
			tokens += tok.Count(r)
		}
		bytes += size
	}
	el := time.Since(start)
	rate := float64(bytes) / 1e6 / el.Seconds()
	rep.figures = append(rep.figures, figure{
		name:  "Tokenizer: MB/s counting mixed Chinese/English rows, one goroutine (model/tokenizer Count)",
		value: rate, format: "%.1f MB/s", target: atLeast(20, " MB/s"), command: reproduce("tokenizer"),
	})
	rep.notes = append(rep.notes,
		fmt.Sprintf("- In process: `tokenizer.Qwen().Count` over %d rows of generated mixed Chinese/English text (%.1f MB, %.2f bytes per token), repeated for %v: %.1f MB counted.",
			len(rows), float64(size)/1e6, float64(bytes)/float64(tokens), el.Round(time.Millisecond), float64(bytes)/1e6),
	)
	return nil
}

// goBenchPackages are the hot paths whose Go benchmarks -gobench runs.
var goBenchPackages = []string{"./readers", "./writers", "./prompts", "./pipeline", "./model/tokenizer"}

// goBenchmarks runs the packages' Go benchmarks and returns their output
// as markdown.
func (b *bench) goBenchmarks(ctx context.Context) (string, error) {
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchtime", "200ms"}, goBenchPackages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = b.root
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	b.logf("  go %s: %v", strings.Join(args, " "), time.Since(t0).Round(100*time.Millisecond))
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	md := fmt.Sprintf("`go %s` (%v):\n\n```\n%s```\n", strings.Join(quoted, " "), time.Since(t0).Round(time.Second), out)
	if err != nil {
		return md, fmt.Errorf("go test -bench: %w", err)
	}
	return md, nil
}
