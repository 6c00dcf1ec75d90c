package samplegen

import "time"

type product struct {
	sku, name, desc, category string
	price                     float64
	stock                     int
	listed                    time.Time
}

// Descriptions shared by variants of one item (colour, size, length). Real
// catalogues repeat them like this, and the pipeline's dedupe is meant to
// send each distinct prompt to the model only once.
const (
	descTee      = "100% 新疆长绒棉，220g 重磅面料，不易变形。宽松版型，男女同款。"
	descKeyboard = "87 键紧凑布局，白色背光，全键无冲，Type-C 可拆卸线缆。"
	descCable    = "尼龙编织线身，支持 60W 快充与数据传输，通过 20000 次弯折测试。"
	descPan      = "麦饭石不粘涂层，少油烟，燃气灶与电磁炉通用。"
	descHoodie   = "320g 加绒面料，袖口与下摆罗纹收口，保暖不臃肿。"
)

// products is the 商品 sheet: 40 rows, SKUs grouped by category with gaps as
// in a catalogue that has grown over time.
var products = []product{
	// 茶叶
	{"SKU-10001", "西湖龙井明前特级礼盒 250g", "明前采摘的西湖龙井，扁平光滑，豆花香清幽。铁罐密封，附手提礼袋，适合送礼。", "茶叶", 598, 120, day(2025, time.March, 15)},
	{"SKU-10002", "云南普洱熟茶饼 357g", "勐海大叶种晒青毛茶发酵压制，汤色红浓，陈香醇厚。", "茶叶", 168, 340, day(2024, time.November, 2)},
	{"SKU-10003", "安溪铁观音清香型 500g", "安溪原产铁观音，兰花香馥郁，回甘持久。真空小泡袋独立包装。", "茶叶", 139, 415, day(2024, time.October, 18)},
	{"SKU-10004", "福鼎白茶饼 寿眉 350g", "福鼎高山寿眉紧压成饼，口感清甜，越陈越香，适合长期存放。", "茶叶", 229, 86, day(2024, time.September, 5)},
	{"SKU-10005", "武夷山金骏眉红茶 200g", "桐木关芽尖制作，汤色金黄，带蜜薯香，耐冲泡。", "茶叶", 318, 64, day(2025, time.January, 20)},
	{"SKU-10006", "横县茉莉花茶 特级 250g", "采用“七窨一提”工艺，花香鲜灵，茶汤爽口。", "茶叶", 88, 560, day(2025, time.February, 14)},
	{"SKU-10007", "高山乌龙茶试喝装（6 种口味）", "内含蜜兰香、鸭屎香、东方美人等六种乌龙，每种两泡，适合初次尝试。", "茶叶", 59.9, 900, day(2025, time.March, 1)},
	{"SKU-10008", "洞庭碧螺春 250g", "洞庭山碧螺春，条索纤细卷曲，白毫显露，花果香明显。", "茶叶", 256, 140, day(2025, time.March, 22)},

	// 数码电子
	{"SKU-10011", "主动降噪蓝牙耳机 Pro", "支持 -42dB 主动降噪与通透模式，单次续航 8 小时，配合充电盒共 32 小时。", "数码电子", 399, 230, day(2024, time.December, 6)},
	{"SKU-10012", "20000mAh 快充移动电源", "支持 PD 22.5W 双向快充，可为手机充电约 4 次，可随身携带登机。", "数码电子", 129, 780, day(2024, time.October, 9)},
	{"SKU-10013", "87 键机械键盘 青轴", descKeyboard, "数码电子", 259, 150, day(2024, time.November, 11)},
	{"SKU-10014", "87 键机械键盘 红轴", descKeyboard, "数码电子", 259, 98, day(2024, time.November, 11)},
	{"SKU-10015", "Type-C 编织快充数据线 1m", descCable, "数码电子", 29.9, 2400, day(2024, time.September, 20)},
	{"SKU-10016", "Type-C 编织快充数据线 2m", descCable, "数码电子", 39.9, 1650, day(2024, time.September, 20)},
	{"SKU-10017", "智能运动手环 5", "1.47 英寸 AMOLED 彩屏，支持心率、血氧与睡眠监测，50 米防水。", "数码电子", 199, 410, day(2025, time.January, 8)},
	{"SKU-10018", "便携蓝牙音箱 户外防水款", "IPX7 防水，360° 环绕音效，续航 24 小时，适合露营与骑行。", "数码电子", 239, 175, day(2025, time.February, 26)},
	{"SKU-10019", "15W 磁吸无线充电板", "兼容 Qi 协议的手机，带过温保护，指示灯夜间自动调暗。", "数码电子", 89, 520, day(2024, time.December, 18)},
	{"SKU-10020", "铝合金平板支架", "可折叠铝合金支架，角度与高度可调，适用 4 至 13 英寸平板与手机。", "数码电子", 69, 660, day(2024, time.October, 30)},
	{"SKU-10021", "2.4G 无线静音鼠标", "静音按键，1600 DPI 三档可调，一节五号电池可用约 12 个月。", "数码电子", 49, 1300, day(2024, time.September, 12)},
	{"SKU-10022", "65W 氮化镓多口充电器", "两个 USB-C 口加一个 USB-A 口，可同时为笔记本电脑和手机快充。", "数码电子", 149, 380, day(2025, time.March, 10)},

	// 服装
	{"SKU-10031", "纯棉圆领短袖T恤 白色", descTee, "服装", 79, 1200, day(2025, time.March, 5)},
	{"SKU-10032", "纯棉圆领短袖T恤 黑色", descTee, "服装", 79, 980, day(2025, time.March, 5)},
	{"SKU-10033", "纯棉圆领短袖T恤 灰色", descTee, "服装", 79, 0, day(2025, time.March, 5)},
	{"SKU-10034", "轻薄连帽羽绒服", "90% 白鸭绒填充，充绒量 120g，可收进随附的收纳袋，适合春秋与初冬。", "服装", 459, 210, day(2024, time.October, 25)},
	{"SKU-10035", "修身弹力牛仔裤", "棉混纺弹力面料，修身直筒版型，出厂前经过预缩处理。", "服装", 199, 340, day(2024, time.November, 20)},
	{"SKU-10036", "桑蚕丝印花围巾", "100% 桑蚕丝，手工卷边，花卉印花，附精美礼盒。", "服装", 268, 95, day(2024, time.December, 1)},
	{"SKU-10037", "商务免烫长袖衬衫", "棉涤混纺免烫面料，标准领，适合通勤与正式场合。", "服装", 159, 430, day(2024, time.September, 28)},
	{"SKU-10038", "加绒连帽卫衣 黑色", descHoodie, "服装", 139, 510, day(2024, time.November, 5)},
	{"SKU-10039", "加绒连帽卫衣 燕麦色", descHoodie, "服装", 139, 275, day(2024, time.November, 5)},
	{"SKU-10040", "轻量缓震跑步鞋", "EVA 缓震中底，透气网面鞋身，适合日常慢跑与健走。", "服装", 329, 260, day(2025, time.February, 18)},

	// 厨房用品
	{"SKU-10041", "1.7L 不锈钢电热水壶", "304 不锈钢内胆，1800W 快速烧水，干烧自动断电。", "厨房用品", 129, 640, day(2024, time.September, 16)},
	{"SKU-10042", "麦饭石不粘炒锅 30cm", descPan, "厨房用品", 189, 300, day(2024, time.October, 12)},
	{"SKU-10043", "麦饭石不粘煎锅 26cm", descPan, "厨房用品", 149, 280, day(2024, time.October, 12)},
	{"SKU-10044", "4L IH 智能电饭煲", "IH 电磁加热，支持 24 小时预约与多种米饭模式，内胆可机洗。", "厨房用品", 499, 120, day(2024, time.December, 12)},
	{"SKU-10045", "5.5L 大容量空气炸锅", "无油空气炸，带可视窗口，80 至 200 摄氏度温控，配防粘烤篮。", "厨房用品", 369, 190, day(2025, time.January, 15)},
	{"SKU-10046", "316 不锈钢保温杯 500ml", "316 不锈钢内胆，保温 12 小时、保冷 24 小时，一键弹盖。", "厨房用品", 99, 870, day(2024, time.November, 28)},
	{"SKU-10047", "德式不锈钢主厨刀 8 英寸", "德国 1.4116 钢材，一体锻造，刀刃锋利耐用。", "厨房用品", 219, 150, day(2025, time.February, 8)},
	{"SKU-10048", "景德镇陶瓷功夫茶具套装", "白瓷一壶六杯，附公道杯与竹制茶盘，适合家庭与办公室待客。", "厨房用品", 288, 75, day(2025, time.January, 3)},
	{"SKU-10049", "陶瓷砂锅 2.5L", "耐高温陶土烧制，受热均匀，适合炖汤与煲粥，可明火使用。", "厨房用品", 79, 230, day(2024, time.December, 22)},
	{"SKU-10050", "竹制砧板三件套", "整竹压制，不易开裂，大中小三种尺寸，生熟分开使用。", "厨房用品", 69, 45, day(2025, time.March, 18)},
}

// notes is the 说明 sheet, one line per row; the first line is a title.
var notes = []string{
	"商品目录（示例数据）",
	"本工作簿是 bulkgen 的演示数据，商品、价格与库存均为虚构。",
	"「商品」表：第一行为表头，每行一个商品。价格单位为人民币元（含税），库存为当前可售数量。",
	"同一款式的不同颜色或规格共用一段描述，批量翻译时相同的提示词只需调用一次模型。",
	"「汇率」表：用于把价格换算成外币，汇率为示意值，不可用于结算。",
	"重新生成：在仓库根目录运行 go run ./samples/gen",
}

type rate struct {
	name, code string
	cny        float64
	updated    time.Time
}

// rates is the 汇率 sheet.
var rates = []rate{
	{"美元", "USD", 7.1782, day(2025, time.March, 31)},
	{"欧元", "EUR", 7.7656, day(2025, time.March, 31)},
	{"英镑", "GBP", 9.2807, day(2025, time.March, 31)},
	{"日元", "JPY", 0.0480, day(2025, time.March, 31)},
	{"港币", "HKD", 0.9226, day(2025, time.March, 31)},
}
