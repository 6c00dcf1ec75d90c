package samplegen

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// categoryText holds the handbook's reusable text for one category. Each
// product takes some of the entries, chosen by its position, so that
// neighbouring products read differently while the output stays
// deterministic.
type categoryText struct {
	en      string   // English name of the category
	intro   []string // Chinese selling points
	summary []string // English summary sentences; %s is the SKU
	faq     [][4]string
	care    []string // Chinese care and after-sales notes
	careEN  []string
}

var handbookCategories = map[string]categoryText{
	"茶叶": {
		en: "Tea",
		intro: []string{
			"茶叶属于农产品，每一批次的香气和口感会随产地天气略有差异，这是正常现象，请在详情页中如实说明。",
			"建议用 80 至 85 摄氏度的水冲泡绿茶，水温过高会把嫩芽烫熟，汤色发黄、滋味发苦。",
			"乌龙茶和红茶可以用沸水冲泡，前两泡出汤要快，之后每泡延长 5 到 10 秒。",
			"茶叶怕潮、怕光、怕异味，开封后请用密封罐保存，放在阴凉干燥处，远离香水和调料。",
			"礼盒装商品出库前会检查外包装是否完好，并随箱附赠手提袋，方便顾客直接送礼。",
			"白茶和普洱茶适合长期存放，存放环境的湿度应保持在 70% 以下，避免受潮发霉。",
			"客服在推荐茶叶时，应先询问顾客的口味偏好：喜欢清香的推荐绿茶和白茶，喜欢浓香的推荐红茶和熟普。",
		},
		summary: []string{
			"%s is a tea product. Every harvest tastes slightly different, because tea is an agricultural product; the listing says so plainly.",
			"Customers who buy %s often ask about brewing. Green tea wants water at 80 to 85 °C; black and oolong tea can take boiling water.",
			"%s ships in a sealed package. Once opened, it keeps best in an airtight tin, away from light, moisture and strong smells.",
			"Gift boxes such as %s are checked for dents before they leave the warehouse, and a gift bag goes into the parcel.",
			"For %s, recommend lighter teas to customers who like a fresh taste and darker teas to those who like a rich one.",
		},
		faq: [][4]string{
			{"保质期多久？", "绿茶建议 18 个月内饮用，白茶和普洱茶适合长期存放，包装上印有生产日期。", "How long does it keep?", "Drink green tea within 18 months; white tea and pu-erh keep for years. The production date is printed on the pack."},
			{"可以开发票吗？", "可以，下单时填写发票抬头和税号，电子发票会在发货后 3 天内发送到邮箱。", "Can I get an invoice?", "Yes. Enter the invoice details when ordering; the e-invoice is emailed within 3 days of shipping."},
			{"为什么今年的茶颜色比去年深？", "春季气温和采摘时间不同会影响茶叶颜色，只要没有异味和霉点，就不影响品质。", "Why is this year's tea darker?", "Spring weather and picking dates change the colour. Without off smells or mould, the quality is fine."},
			{"能否单独购买礼盒？", "礼盒不单独出售，需要空礼盒的顾客可以联系客服登记，我们会在补货时统一安排。", "Can I buy the gift box alone?", "Empty gift boxes are not sold on their own; customer service can note a request for the next restock."},
			{"孕妇可以喝吗？", "茶叶含有咖啡因，孕期饮用前请咨询医生，我们无法给出医疗建议。", "Is it safe during pregnancy?", "Tea contains caffeine. Please ask a doctor; we cannot give medical advice."},
			{"开封后还能退吗？", "食品类商品开封后不支持无理由退货，如有质量问题请在签收后 48 小时内拍照联系客服。", "Can I return it once opened?", "Opened food cannot be returned without a reason. For quality problems, send photos within 48 hours of delivery."},
		},
		care: []string{
			"售后：如收到的茶叶有受潮、结块或异味，请拍照联系客服，核实后免费补发或退款。",
			"储存：开封后 1 个月内饮用口感最佳，长期存放请使用双层密封袋并放入冰箱冷藏。",
			"提示：茶叶为易碎品，外包装运输中可能有轻微挤压，只要茶叶本身完好，不影响品质。",
		},
		careEN: []string{
			"After-sales: damp, caked or smelly tea is replaced or refunded once the photos are checked.",
			"Storage: best within a month of opening; for long storage, double-bag it and keep it in the fridge.",
			"Note: a slightly dented outer box does not mean the tea is damaged.",
		},
	},
	"数码电子": {
		en: "Electronics",
		intro: []string{
			"数码产品享受 7 天无理由退货和 1 年质保，质保期内非人为损坏可免费维修或更换。",
			"所有电子产品出库前都会通电测试，并在包装上贴封条，顾客收货时请检查封条是否完好。",
			"锂电池类商品不能空运到部分偏远地区，这些地区会改走陆运，到货时间会多出 2 到 3 天。",
			"详情页必须写清接口类型、功率和兼容机型，避免顾客买错型号，这是数码类退货的第一原因。",
			"首次使用前建议将设备充满电，并在官方应用中升级固件，可以修复已知问题、延长续航。",
			"客服遇到“无法连接”的咨询时，先请顾客重启设备并删除旧的配对记录，大部分问题可以当场解决。",
			"电子产品的包装盒请保留 15 天，退换货时需要连同配件和说明书一起寄回。",
		},
		summary: []string{
			"%s comes with a 7-day no-questions return and a one-year warranty against defects.",
			"Every unit of %s is powered on and tested before it ships, and the box is sealed; customers should check the seal on delivery.",
			"Because %s contains or charges a lithium battery, some remote areas receive it by land, which adds two or three days.",
			"Most returns of products like %s come from buying the wrong model, so the listing spells out ports, power and compatibility.",
			"When a customer cannot connect %s, the first steps are a restart and removing the old pairing.",
		},
		faq: [][4]string{
			{"支持哪些手机？", "支持 iOS 和安卓的主流机型，具体兼容列表见详情页最后一张图。", "Which phones does it support?", "Current iOS and Android phones; the full list is the last image of the listing."},
			{"保修怎么申请？", "在订单页点击“申请售后”，选择“质量问题”，上传故障视频，审核通过后寄回即可。", "How do I claim the warranty?", "Open the order, choose 'after-sales' and 'quality problem', upload a video, then send it back once approved."},
			{"可以带上飞机吗？", "额定能量低于 100Wh 的充电宝可以随身携带登机，但不能托运。", "Can I take it on a plane?", "Power banks under 100 Wh may go in hand luggage, never in checked bags."},
			{"为什么充电变慢了？", "请使用原装线缆和支持快充协议的充电头，低温环境下充电速度也会自动降低。", "Why has charging become slow?", "Use the original cable and a fast-charging adapter; charging also slows down in the cold."},
			{"有没有英文说明书？", "包装内附中英文说明书，电子版也可以在详情页下载。", "Is there an English manual?", "The printed manual is in Chinese and English, and a PDF is on the product page."},
			{"发票能开公司抬头吗？", "可以，下单时选择“单位”并填写税号即可。", "Can the invoice name my company?", "Yes, choose 'company' at checkout and enter the tax number."},
		},
		care: []string{
			"售后：质保期内出现非人为故障，可免费维修或更换；人为损坏或进水不在质保范围内。",
			"使用：请勿在高温、潮湿环境中充电，长期不用时每 3 个月充一次电，保护电池寿命。",
			"提示：退货时请保持配件齐全、包装完整，缺少配件会按价格扣减退款金额。",
		},
		careEN: []string{
			"After-sales: defects within the warranty are repaired or replaced free; drops and water damage are not covered.",
			"Use: do not charge in heat or damp; if unused, charge every three months to protect the battery.",
			"Note: returns must include every accessory; missing parts are deducted from the refund.",
		},
	},
	"服装": {
		en: "Clothing",
		intro: []string{
			"服装类商品的尺码以详情页尺码表为准，同一尺码在不同款式之间可能相差 2 厘米左右。",
			"顾客反馈部分 T 恤偏大一码，详情页已注明“宽松版型”，身材偏瘦的顾客建议选小一码。",
			"浅色衣物首次洗涤时请与深色衣物分开，冷水手洗或使用洗衣袋机洗，不可漂白。",
			"服装支持 7 天无理由退换，吊牌未拆、未洗涤、不影响二次销售即可办理。",
			"因拍摄光线和显示器差异，实物颜色可能与图片略有不同，详情页需附自然光下的实拍图。",
			"羽绒服和卫衣等季节性商品在换季时库存变化快，请每天核对库存，避免超卖。",
			"同一款式的不同颜色共用一段描述，批量翻译时相同内容只需翻译一次。",
		},
		summary: []string{
			"%s follows the size chart on its listing; sizes can differ by about 2 cm between styles.",
			"Some customers find the T-shirts a size large, so listings like %s now say 'relaxed fit'.",
			"%s can be returned or exchanged within 7 days if the tags are on and it has not been washed.",
			"Colours of %s may look slightly different on screen, so the listing includes photos taken in daylight.",
			"Seasonal stock such as %s changes fast; the team checks the numbers every day to avoid overselling.",
		},
		faq: [][4]string{
			{"会掉色吗？", "深色衣物首次洗涤可能有轻微浮色，属于正常现象，建议冷水单独洗涤。", "Will the colour run?", "Dark clothes may bleed a little in the first wash; wash them alone in cold water."},
			{"可以换尺码吗？", "每个订单可免费换码一次，在订单页申请换货并寄回原商品即可。", "Can I change the size?", "One free size exchange per order: request it on the order page and send the item back."},
			{"有没有实体店？", "目前只在线上销售，暂无实体门店。", "Is there a shop I can visit?", "We only sell online for now."},
			{"会缩水吗？", "纯棉面料已做预缩处理，按洗标要求洗涤，缩水率在 3% 以内。", "Will it shrink?", "The cotton is pre-shrunk; washed as the label says, it shrinks less than 3%."},
			{"尺码表怎么量？", "平铺测量衣服的胸围和衣长，与自己合身的衣服对比后选择尺码。", "How do I use the size chart?", "Measure a well-fitting garment laid flat, chest and length, and compare."},
			{"能开发票吗？", "可以，服装类商品支持开具电子普通发票。", "Can I get an invoice?", "Yes, an electronic invoice is available for clothing."},
		},
		care: []string{
			"洗护：请参照洗标，冷水洗涤，不可漂白，低温熨烫，避免长时间暴晒。",
			"售后：收到商品如有破损、污渍或发错尺码，请在 48 小时内联系客服，运费由我们承担。",
			"提示：羽绒服请勿机洗甩干，可送专业干洗，或手洗后平铺晾干并轻拍恢复蓬松。",
		},
		careEN: []string{
			"Care: follow the label, wash cold, no bleach, iron on low, keep out of strong sun.",
			"After-sales: damage, stains or a wrong size reported within 48 hours are fixed at our cost.",
			"Note: do not spin-dry down jackets; dry-clean, or hand-wash, dry flat and pat them back into shape.",
		},
	},
	"厨房用品": {
		en: "Kitchenware",
		intro: []string{
			"厨房用品直接接触食物，所有商品均提供食品接触材料检测报告，可在详情页查看。",
			"不粘锅请使用木铲或硅胶铲，避免钢丝球刷洗，中小火烹饪可以延长涂层寿命。",
			"电器类商品支持 1 年质保，插头为国标，海外顾客使用时需要确认当地电压。",
			"陶瓷和玻璃制品在运输中易碎，出库时使用气泡膜和加厚纸箱包装，破损包赔。",
			"新锅首次使用前请用温水和中性洗洁精清洗，擦干后薄涂一层食用油再使用。",
			"刀具属于管制类商品，收货时需要本人签收，部分快递不支持寄送到快递柜。",
			"保温杯请勿装碳酸饮料和牛奶长时间存放，每次使用后及时清洗并晾干。",
		},
		summary: []string{
			"%s touches food, so its food-contact test report is shown on the listing.",
			"Customers who buy %s are told to use wooden or silicone tools and medium heat to protect the coating.",
			"%s uses a Chinese mains plug; overseas customers must check their local voltage.",
			"Fragile items like %s are packed in bubble wrap and a double-walled box, and breakage is refunded.",
			"Before first use, %s should be washed in warm water with mild detergent and dried.",
		},
		faq: [][4]string{
			{"可以用洗碗机吗？", "不锈钢和陶瓷制品可以用洗碗机，不粘锅和木制品建议手洗。", "Is it dishwasher safe?", "Steel and ceramics are; non-stick pans and wood should be washed by hand."},
			{"电磁炉能用吗？", "锅底带有导磁层的商品可以用于电磁炉，详情页标有“电磁炉适用”。", "Does it work on induction?", "Products with a magnetic base do; the listing says 'induction ready'."},
			{"收到破损怎么办？", "请拍下外箱和商品照片联系客服，核实后补发或全额退款，无需寄回。", "What if it arrives broken?", "Send photos of the box and the item; we resend or refund in full, no return needed."},
			{"涂层会脱落吗？", "正常使用下涂层寿命约 2 至 3 年，使用金属铲或干烧会加速磨损。", "Will the coating peel?", "With normal use it lasts two to three years; metal tools and dry heating wear it faster."},
			{"保修多久？", "小家电整机保修 1 年，锅具和刀具的质量问题 30 天内可换新。", "How long is the warranty?", "Small appliances have one year; pans and knives with defects are replaced within 30 days."},
			{"能送到国外吗？", "海外站开通前暂不支持国际配送。", "Do you ship abroad?", "Not until the overseas store opens."},
		},
		care: []string{
			"清洁：使用后待锅体冷却再清洗，避免冷热骤变导致变形或涂层开裂。",
			"售后：小家电如出现不加热、漏电等问题，请立即停止使用并联系客服。",
			"提示：刀具请放在刀架上，远离儿童，切勿用来撬开罐头或砍骨头。",
		},
		careEN: []string{
			"Cleaning: let pans cool before washing; sudden temperature changes warp them and crack the coating.",
			"After-sales: if an appliance stops heating or leaks current, stop using it and contact us at once.",
			"Note: keep knives in a block, out of children's reach, and never use them on cans or bones.",
		},
	},
}

// handbookOrder is the order of the chapters.
var handbookOrder = []string{"茶叶", "数码电子", "服装", "厨房用品"}

// WriteHandbook writes the long sample document: a product handbook in
// Chinese with English summaries, one section per product of the
// catalogue. It is long enough (about 30,000 Qwen tokens) that a small
// --chunk-tokens or a small model context has to split it.
func WriteHandbook(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format+"\n\n", args...) }

	p("# 商品知识手册（客服与运营内部资料）")
	p("Product knowledge handbook — internal, for customer service and operations")
	p("版本 2025.1，更新于 2025 年 3 月 31 日。本手册汇总店铺在售商品的卖点、常见问题与售后规则，客服回答顾客咨询时以本手册为准；手册与详情页不一致时，请以详情页为准并通知商品组修改本手册。")
	p("This handbook collects the selling points, frequent questions and after-sales rules of every product we sell. Customer service answers from it; where it disagrees with a product page, the page wins and the product team fixes the handbook.")
	p("## 目录 Contents")
	var toc strings.Builder
	for i, cat := range handbookOrder {
		fmt.Fprintf(&toc, "%d. %s %s\n", i+1, cat, handbookCategories[cat].en)
	}
	fmt.Fprintf(&toc, "%d. 通用规则 General rules", len(handbookOrder)+1)
	p("%s", toc.String())

	for ci, cat := range handbookOrder {
		ct := handbookCategories[cat]
		p("## %d. %s %s", ci+1, cat, ct.en)
		p("本章共 %d 个商品。%s", countCategory(cat), ct.intro[ci%len(ct.intro)])
		n := 0
		for _, prod := range products {
			if prod.category != cat {
				continue
			}
			writeProductSection(p, ct, prod, n)
			n++
		}
	}

	p("## %d. 通用规则 General rules", len(handbookOrder)+1)
	general := [][2]string{
		{"发货时间：工作日 16:00 前付款的订单当天发货，之后的订单次日发货；节假日前后以店铺公告为准。",
			"Shipping: orders paid before 4 pm on working days ship the same day; holiday times are announced on the store page."},
		{"配送范围：目前仅配送中国大陆地区，港澳台及海外地区暂不支持，海外站计划于 5 月开通。",
			"Delivery area: mainland China only for now; the overseas store is planned for May."},
		{"退换货：除食品开封、定制商品外，均支持 7 天无理由退货；质量问题退换的运费由店铺承担。",
			"Returns: 7 days without a reason, except opened food and custom items; we pay the postage for defects."},
		{"退款时效：退货入库后 3 至 5 个工作日原路退回，优惠券按比例扣减，不单独退还。",
			"Refunds: 3 to 5 working days after the return reaches the warehouse, to the original payment method."},
		{"发票：所有商品均可开具电子普通发票，需要增值税专用发票的企业顾客请联系客服。",
			"Invoices: every product has an e-invoice; companies that need a VAT special invoice contact customer service."},
		{"隐私：客服不得在聊天中索要顾客的银行卡号、验证码或密码，发现可疑情况请立即上报。",
			"Privacy: never ask customers for card numbers, codes or passwords; report anything suspicious at once."},
	}
	for _, g := range general {
		p("- %s\n  %s", g[0], g[1])
	}
	p("本手册由商品组维护，如发现错误或需要补充的问题，请在周会上提出，或直接联系陈晓。")
	p("The product team maintains this handbook. Raise mistakes or missing questions at the weekly meeting or with Chen Xiao.")
	return bw.Flush()
}

// writeProductSection writes one product: facts, selling points, English
// summary, questions and after-sales notes. n is the product's position in
// its category and picks the entries of the category text.
func writeProductSection(p func(string, ...any), ct categoryText, prod product, n int) {
	p("### %s %s", prod.sku, prod.name)
	stock := fmt.Sprintf("库存 %d 件", prod.stock)
	if prod.stock == 0 {
		stock = "当前缺货"
	}
	p("类目：%s ｜ 价格：¥%.2f ｜ %s ｜ 上架日期：%s", prod.category, prod.price, stock, prod.listed.Format("2006-01-02"))
	p("**商品介绍**：%s%s%s%s", prod.desc, ct.intro[n%len(ct.intro)], ct.intro[(n+3)%len(ct.intro)], ct.intro[(n+5)%len(ct.intro)])
	p("**English summary**: %s %s %s %s",
		fmt.Sprintf(ct.summary[n%len(ct.summary)], prod.sku),
		thisProduct(ct.summary[(n+2)%len(ct.summary)]),
		thisProduct(ct.summary[(n+4)%len(ct.summary)]),
		fmt.Sprintf("The price is %.2f yuan, and %s.", prod.price, stockEN(prod.stock)))
	p("**常见问题 FAQ**")
	var faq strings.Builder
	for k := range 4 {
		// A step of 5 visits 4 different questions of 6.
		q := ct.faq[(n+5*k)%len(ct.faq)]
		fmt.Fprintf(&faq, "- 问：%s\n  答：%s\n  Q: %s\n  A: %s\n", q[0], q[1], q[2], q[3])
	}
	p("%s", strings.TrimSuffix(faq.String(), "\n"))
	p("**客服话术 Suggested reply**")
	p("> 您好！感谢您关注%s。这款商品目前售价 %.2f 元，%s。%s如还有其他问题，欢迎随时咨询，祝您购物愉快！\n>\n> Hello, and thank you for your interest in %s (%s). It costs %.2f yuan, and %s. %s Let us know if there is anything else we can help with.",
		prod.name, prod.price, stockZH(prod.stock), ct.intro[(n+1)%len(ct.intro)],
		prod.sku, ct.en, prod.price, stockEN(prod.stock), thisProduct(ct.summary[(n+1)%len(ct.summary)]))
	p("**售后与保养 Care and after-sales**")
	for k := range 2 {
		i := (n + k) % len(ct.care)
		p("- %s\n  %s", ct.care[i], ct.careEN[i])
	}
}

// thisProduct fills a summary template with "this product", capitalised at
// the start of the sentence.
func thisProduct(tmpl string) string {
	if strings.HasPrefix(tmpl, "%s") {
		return fmt.Sprintf(tmpl, "This product")
	}
	return fmt.Sprintf(tmpl, "this product")
}

func stockZH(n int) string {
	if n == 0 {
		return "暂时缺货，您可以点击“到货提醒”，补货后我们会第一时间通知您"
	}
	return fmt.Sprintf("现有库存 %d 件，下单后当天即可发货", n)
}

func stockEN(n int) string {
	if n == 0 {
		return "it is out of stock (customers can ask to be told when it is back)"
	}
	return fmt.Sprintf("%d units are in stock", n)
}

func countCategory(cat string) int {
	n := 0
	for _, p := range products {
		if p.category == cat {
			n++
		}
	}
	return n
}
