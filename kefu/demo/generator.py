"""The demo shop's data from a seed: catalogue, customers and a year of orders, the same every time (pure)."""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from random import Random

from kefu.demo.export_writer import (
    BEIJING,
    NO_REFUND,
    NOT_CLOSED,
    REFUNDED,
    CatalogRow,
    LineRow,
    OrderRow,
)

# 订单状态 as the export words them.
WAIT_PAY = "等待买家付款"
WAIT_SEND = "买家已付款，等待卖家发货"
SENT = "卖家已发货，等待买家确认"
FINISHED = "交易成功"
CLOSED = "交易关闭"
CLOSED_UNPAID_REASON = "买家未付款"
CLOSED_REFUND_REASON = "退款"
STATUS_TEXTS = (WAIT_PAY, WAIT_SEND, SENT, FINISHED, CLOSED)

DEMO_PHONE_PREFIX = "138000000"  # invented numbers only: 13800000000 … 13800000099
CENT = Decimal("0.01")

# -- the catalogue -----------------------------------------------------------------------------------
# (category, title, base price, colours, sizes, season, popularity)
_ALL_SIZES = ("S", "M", "L", "XL")
_PRODUCTS: tuple[tuple[str, str, int, tuple[str, ...], tuple[str, ...], str, float], ...] = (
    ("上衣", "法式复古方领泡泡袖衬衫女夏季新款设计感小众上衣", 129, ("白色", "杏色", "浅蓝"), _ALL_SIZES, "summer", 1.2),
    ("上衣", "纯棉圆领短袖T恤女宽松百搭基础款打底衫", 49, ("白色", "黑色", "灰色", "奶黄"), _ALL_SIZES, "summer", 3.5),
    ("上衣", "小香风粗花呢短款针织开衫女秋冬外搭", 159, ("粉色", "米白"), ("S", "M", "L"), "winter", 1.0),
    ("上衣", "冰丝针织短袖女夏季薄款修身显瘦上衣", 69, ("黑色", "白色", "雾霾蓝", "燕麦色"), ("S", "M", "L"), "summer", 1.8),
    ("上衣", "条纹长袖T恤女春秋宽松显瘦打底衫", 59, ("蓝白条", "黑白条", "红白条"), _ALL_SIZES, "all", 1.6),
    ("上衣", "雪纺V领衬衫女长袖职业通勤气质上衣", 119, ("白色", "香槟色"), (*_ALL_SIZES, "2XL"), "all", 1.1),
    ("上衣", "高领羊毛打底衫女秋冬修身内搭毛衣", 189, ("黑色", "驼色", "米白", "酒红"), ("S", "M", "L"), "winter", 1.3),
    ("上衣", "亚麻短袖衬衫女夏季宽松休闲棉麻上衣", 99, ("白色", "卡其", "豆绿"), ("M", "L", "XL"), "summer", 0.9),
    ("上衣", "吊带背心女外穿内搭夏季百搭螺纹小背心", 29, ("白色", "黑色", "肤色"), ("均码",), "summer", 2.0),
    ("上衣", "卫衣女春秋薄款连帽宽松休闲上衣", 139, ("灰色", "藏青", "燕麦色"), ("M", "L", "XL", "2XL"), "all", 1.2),
    ("连衣裙", "碎花雪纺连衣裙女夏季新款收腰显瘦中长款裙子", 169, ("蓝色碎花", "黄色碎花"), _ALL_SIZES, "summer", 2.4),
    ("连衣裙", "法式复古方领连衣裙女收腰显瘦气质长裙", 229, ("黑色", "酒红"), ("S", "M", "L"), "all", 1.2),
    ("连衣裙", "针织连衣裙女秋冬内搭打底长裙修身毛衣裙", 199, ("燕麦色", "灰色", "黑色"), ("S", "M", "L"), "winter", 1.1),
    ("连衣裙", "小黑裙赫本风连衣裙女气质收腰及膝裙", 259, ("黑色",), _ALL_SIZES, "all", 0.8),
    ("连衣裙", "棉麻宽松连衣裙女大码文艺长裙", 149, ("米白", "灰蓝", "墨绿"), ("M", "L", "XL", "2XL"), "summer", 1.0),
    ("连衣裙", "吊带裙女夏季缎面法式度假长裙", 139, ("香槟色", "墨绿", "黑色"), ("S", "M", "L"), "summer", 1.0),
    ("连衣裙", "衬衫裙女春秋新款腰带收腰中长款连衣裙", 189, ("白色", "卡其", "浅蓝"), _ALL_SIZES, "all", 0.9),
    ("连衣裙", "伴娘服连衣裙女姐妹裙仙气长款", 299, ("雾霾蓝", "香芋紫", "豆沙粉"), _ALL_SIZES, "all", 0.5),
    ("裤装", "高腰直筒牛仔裤女春秋宽松显瘦阔腿长裤", 139, ("浅蓝", "深蓝", "黑色"), ("25", "26", "27", "28", "29", "30"), "all", 2.2),
    ("裤装", "冰丝阔腿裤女夏季垂感高腰休闲裤", 89, ("黑色", "灰色", "米色"), _ALL_SIZES, "summer", 2.6),
    ("裤装", "西装裤女直筒高腰垂感通勤九分裤", 129, ("黑色", "咖色"), _ALL_SIZES, "all", 1.3),
    ("裤装", "瑜伽裤女高腰提臀运动紧身裤", 79, ("黑色", "灰色", "藏青"), ("S", "M", "L"), "all", 1.4),
    ("裤装", "工装裤女美式复古宽松束脚休闲裤", 109, ("军绿", "卡其", "黑色"), _ALL_SIZES, "all", 0.9),
    ("裤装", "牛仔短裤女夏季高腰显瘦A字热裤", 79, ("浅蓝", "白色"), ("25", "26", "27", "28", "29"), "summer", 1.2),
    ("裤装", "加绒打底裤女冬季外穿高腰保暖裤", 59, ("黑色",), ("均码", "加大码"), "winter", 2.2),
    ("外套", "双面羊绒大衣女中长款秋冬高端毛呢外套", 599, ("驼色", "黑色", "燕麦色"), ("S", "M", "L"), "winter", 0.9),
    ("外套", "短款羽绒服女冬季新款白鸭绒面包服", 399, ("黑色", "白色", "奶咖"), _ALL_SIZES, "winter", 1.4),
    ("外套", "西装外套女春秋韩版休闲小西服", 239, ("黑色", "杏色", "格纹"), _ALL_SIZES, "all", 1.0),
    ("外套", "风衣女中长款春秋英伦风大衣", 329, ("卡其", "黑色"), _ALL_SIZES, "all", 0.8),
    ("外套", "牛仔外套女春秋宽松短款夹克", 169, ("浅蓝", "深蓝"), ("S", "M", "L"), "all", 0.9),
    ("外套", "防晒衣女夏季冰丝防紫外线薄款外套", 69, ("白色", "粉色", "浅蓝", "黑色"), ("均码",), "summer", 2.6),
    ("配饰", "珍珠发夹女后脑勺抓夹气质发饰", 19, ("白色珍珠", "金色"), (), "all", 1.6),
    ("配饰", "真丝小方巾女百搭丝巾领巾", 59, ("蓝色印花", "红色印花", "米色"), (), "all", 0.8),
    ("配饰", "针织毛线帽女秋冬保暖护耳帽", 39, ("米白", "灰色", "黑色"), (), "winter", 1.0),
    ("配饰", "复古帆布托特包女大容量单肩包", 79, ("米白", "黑色"), (), "all", 1.0),
    ("配饰", "纯银耳钉女小众设计感耳饰", 49, ("银色",), (), "all", 0.9),
    ("家居", "纯棉睡衣女春秋长袖家居服套装", 129, ("粉色格纹", "蓝色格纹", "灰色"), ("M", "L", "XL"), "all", 1.5),
    ("家居", "珊瑚绒睡袍女冬季加厚长款浴袍", 159, ("粉色", "灰色"), ("M", "L", "XL"), "winter", 0.9),
    ("家居", "加厚珊瑚绒四件套冬季床上用品", 228, ("灰色", "粉色"), ("1.5m床", "1.8m床"), "winter", 0.8),
    ("家居", "香薰蜡烛礼盒卧室助眠家用", 69, ("白茶", "无花果", "雪松"), (), "all", 0.9),
    ("家居", "毛绒拖鞋女冬季室内家用防滑棉拖", 39, ("粉色", "灰色", "米色"), ("35-36", "37-38", "39-40"), "winter", 1.3),
    ("家居", "竹纤维毛巾两条装家用洗脸巾", 29, ("白色", "灰色"), (), "all", 1.0),
)
_CATEGORY_CODES = {"上衣": "SY", "连衣裙": "LYQ", "裤装": "KZ", "外套": "WT", "配饰": "PS", "家居": "JJ"}
_SIZE_WEIGHTS = {"S": 20, "M": 35, "L": 25, "XL": 15, "2XL": 5, "加大码": 30, "均码": 70}
_SIZE_SURCHARGE = {"2XL": Decimal(10), "加大码": Decimal(5), "1.8m床": Decimal(40)}
LARGE_SIZES = frozenset({"XL", "2XL", "加大码", "29", "30"})


@dataclass(frozen=True)
class CatalogSku:
    color: str
    size: str
    outer_sku_id: str
    price: Decimal
    stock: int
    weight: float

    @property
    def properties(self) -> str:
        """颜色分类：白色;尺码：XL, as the line report writes a SKU."""
        return f"颜色分类：{self.color};尺码：{self.size}" if self.size else f"颜色分类：{self.color}"


@dataclass(frozen=True)
class CatalogProduct:
    item_id: str  # 商品ID
    outer_id: str  # 商家编码
    title: str
    category: str
    season: str  # summer | winter | all
    popularity: float
    skus: tuple[CatalogSku, ...]

    @property
    def price(self) -> Decimal:
        return min(s.price for s in self.skus)

    def catalog_rows(self) -> Iterator[CatalogRow]:
        for sku in self.skus:
            yield CatalogRow(self.item_id, self.outer_id, self.title, self.category, sku.price, sku.color, sku.size,
                             sku.outer_sku_id, sku.stock)


def build_catalog(rng: Random) -> tuple[CatalogProduct, ...]:
    """About forty products of a women's clothing & lifestyle shop, each with its colour/size SKUs and stock."""
    products = []
    used_ids: set[str] = set()
    counters: dict[str, int] = defaultdict(int)
    for category, title, base, colors, sizes, season, popularity in _PRODUCTS:
        item_id = str(rng.randrange(600_000_000_000, 800_000_000_000))
        while item_id in used_ids:
            item_id = str(rng.randrange(600_000_000_000, 800_000_000_000))
        used_ids.add(item_id)
        counters[category] += 1
        outer_id = f"XTZ-{_CATEGORY_CODES[category]}{counters[category]:03d}"
        skus = []
        for ci, color in enumerate(colors, start=1):
            color_weight = 2.0 if ci == 1 else 1.0
            for size in sizes or ("",):
                stock = rng.randrange(0, 6) if rng.random() < 0.08 else rng.randrange(20, 260)
                size_code = size.replace(".", "").replace("-", "").replace("床", "C").replace("均码", "F").replace("加大码", "XXL")
                skus.append(CatalogSku(
                    color=color,
                    size=size,
                    outer_sku_id=f"{outer_id}-{ci:02d}{size_code}",
                    price=Decimal(base) + _SIZE_SURCHARGE.get(size, Decimal(0)),
                    stock=stock,
                    weight=color_weight * _SIZE_WEIGHTS.get(size, 20),
                ))
        products.append(CatalogProduct(item_id, outer_id, title, category, season, popularity, tuple(skus)))
    return tuple(products)


# -- places ------------------------------------------------------------------------------------------
# (province as exports print it, weight, {city: districts}); municipalities print as `上海 上海市 …`.
_REGIONS: tuple[tuple[str, float, dict[str, tuple[str, ...]]], ...] = (
    ("广东省", 14, {"广州市": ("天河区", "越秀区", "海珠区", "白云区", "番禺区"), "深圳市": ("南山区", "福田区", "宝安区", "龙岗区"),
                 "佛山市": ("顺德区", "南海区"), "珠海市": ("香洲区",)}),
    ("浙江省", 12, {"杭州市": ("西湖区", "拱墅区", "滨江区", "余杭区", "萧山区"), "宁波市": ("鄞州区", "海曙区"),
                 "温州市": ("鹿城区", "瓯海区"), "金华市": ("义乌市", "婺城区")}),
    ("江苏省", 11, {"南京市": ("建邺区", "鼓楼区", "江宁区", "玄武区"), "苏州市": ("姑苏区", "吴中区", "昆山市"),
                 "无锡市": ("梁溪区", "滨湖区"), "常州市": ("武进区",)}),
    ("上海", 9, {"上海市": ("浦东新区", "徐汇区", "闵行区", "静安区", "杨浦区", "长宁区")}),
    ("北京", 7, {"北京市": ("朝阳区", "海淀区", "丰台区", "东城区", "西城区")}),
    ("山东省", 5, {"济南市": ("历下区", "市中区"), "青岛市": ("市南区", "崂山区", "黄岛区")}),
    ("四川省", 5, {"成都市": ("武侯区", "锦江区", "青羊区", "双流区"), "绵阳市": ("涪城区",)}),
    ("福建省", 4, {"福州市": ("鼓楼区", "台江区"), "厦门市": ("思明区", "湖里区")}),
    ("湖北省", 4, {"武汉市": ("洪山区", "武昌区", "江汉区")}),
    ("河南省", 3.5, {"郑州市": ("金水区", "二七区", "中原区")}),
    ("湖南省", 3, {"长沙市": ("岳麓区", "雨花区", "开福区")}),
    ("安徽省", 3, {"合肥市": ("蜀山区", "包河区")}),
    ("天津", 2, {"天津市": ("南开区", "和平区", "河西区")}),
    ("重庆", 2, {"重庆市": ("渝中区", "江北区", "南岸区")}),
    ("陕西省", 2, {"西安市": ("雁塔区", "碑林区", "未央区")}),
    ("河北省", 2, {"石家庄市": ("长安区", "裕华区"), "保定市": ("竞秀区",)}),
    ("辽宁省", 2, {"沈阳市": ("和平区", "浑南区"), "大连市": ("沙河口区",)}),
    ("江西省", 1.8, {"南昌市": ("红谷滩区", "东湖区")}),
    ("广西壮族自治区", 1.5, {"南宁市": ("青秀区", "西乡塘区")}),
    ("云南省", 1.5, {"昆明市": ("五华区", "盘龙区")}),
    ("黑龙江省", 1, {"哈尔滨市": ("南岗区", "道里区")}),
    ("吉林省", 0.9, {"长春市": ("朝阳区", "南关区")}),
    ("山西省", 1, {"太原市": ("小店区", "迎泽区")}),
    ("贵州省", 0.9, {"贵阳市": ("云岩区", "观山湖区")}),
    ("海南省", 0.7, {"海口市": ("龙华区", "美兰区")}),
    ("内蒙古自治区", 0.6, {"呼和浩特市": ("赛罕区", "新城区")}),
    ("甘肃省", 0.5, {"兰州市": ("城关区", "七里河区")}),
    ("宁夏回族自治区", 0.3, {"银川市": ("兴庆区",)}),
    ("青海省", 0.2, {"西宁市": ("城西区",)}),
    ("新疆维吾尔自治区", 0.35, {"乌鲁木齐市": ("天山区", "沙依巴克区")}),
    ("西藏自治区", 0.12, {"拉萨市": ("城关区",)}),
)
# Postage the shop charges where it does not ship free (偏远地区不包邮).
_POST_FEES = {"新疆维吾尔自治区": Decimal("20.00"), "西藏自治区": Decimal("20.00"), "青海省": Decimal("10.00"),
              "宁夏回族自治区": Decimal("10.00"), "内蒙古自治区": Decimal("10.00"), "甘肃省": Decimal("10.00")}
REMOTE_PROVINCES = frozenset(_POST_FEES)
_ROADS = ("文三路", "体育西路", "人民路", "解放路", "中山路", "建设路", "学院路", "南京西路", "淮海中路", "科技园路", "天府大道",
          "长江路", "黄河路", "和平路", "新华路", "东风路", "五一路", "花园路", "湖滨路", "江南大道", "望江路", "青年路")
_SUBDISTRICTS = ("沙洲街道", "望京街道", "文新街道", "城关镇", "五里墩街道", "莲花街道", "湖滨街道", "紫金港街道", "南湖街道")


@dataclass(frozen=True)
class Address:
    province: str
    city: str
    district: str
    street: str  # masked as the export shows it

    @property
    def text(self) -> str:
        """`浙江省 杭州市 西湖区 文三路***号`, or `上海 上海市 ***` when the district is masked too."""
        if not self.district:
            return f"{self.province} {self.city} {self.street}"
        return f"{self.province} {self.city} {self.district} {self.street}"


def _address(rng: Random, province_pick: int) -> Address:
    province, _weight, cities = _REGIONS[province_pick]
    city = rng.choice(sorted(cities))
    district = rng.choice(cities[city])
    style = rng.random()
    if style < 0.62:
        street = f"{rng.choice(_ROADS)}***号"
    elif style < 0.95:
        street = f"{rng.choice(_SUBDISTRICTS)}****"
    else:
        street = "***"
        if province in ("上海", "北京", "天津", "重庆"):
            district = ""
    return Address(province, city, district, street)


# -- people ------------------------------------------------------------------------------------------
_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗",
             "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡",
             "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁", "沈", "姚", "卢", "钟", "姜", "崔", "谭", "陆",
             "范", "汪", "廖", "石", "金", "贾", "夏", "方", "邹", "熊", "白", "孟", "秦", "江", "欧阳", "上官")
_PINYIN = ("wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu",
           "guo", "lin", "luo", "gao", "zheng", "liang", "xie", "song", "tang", "han", "deng", "cao", "peng", "xiao")
_INITIALS = ("xm", "yy", "jj", "ll", "xy", "mm", "qq", "tt", "xx", "ying", "jing", "fang", "lei", "na", "min", "yu",
             "xiaoyu", "meimei", "tingting", "lulu", "jiajia", "")
_ENGLISH = ("kitty", "coco", "lily", "cherry", "nana", "vivi", "amy", "judy", "sunny", "momo", "candy", "echo", "yoyo")
_NICK_HEADS = ("洛洛", "小鹿", "糖糖", "喵喵", "桃子", "柠檬", "阿紫", "小雨", "七七", "木木", "朵朵", "苏苏", "安安", "甜甜",
               "圆圆", "小鱼", "可可", "芒果", "橙子", "樱桃", "奶茶", "西瓜", "小胖橘", "南风", "夏天", "月亮", "栗子", "豆豆",
               "小熊", "布丁", "一只", "阿狸", "青柠", "晴天", "小仙女", "兔兔", "星星", "团子", "果冻", "饭团")
_NICK_TAILS = ("的小店铺", "的衣橱", "的日记", "的小屋", "爱吃鱼", "酱", "不加糖", "吃不胖", "在路上", "呀", "小可爱", "要减肥",
               "的夏天", "0520", "1998", "2019", "的宝藏", "爱逛街", "不睡觉", "本人", "大王", "宝宝", "同学", "姐姐")

_BUYER_MESSAGES = (
    ("请发中通谢谢", "中通快递", None),
    ("不要发申通", None, "申通快递"),
    ("只发顺丰，邮费可以补", "顺丰速运", None),
    ("周六前要到，麻烦早点发", None, None),
    ("送人的，不要放发票", None, None),
    ("送人的，麻烦包装好看一点，不要放价格单", None, None),
    ("麻烦帮我检查一下有没有线头", None, None),
    ("能不能多送个小礼物呀", None, None),
    ("尺码不确定，偏大的话帮我换小一码", None, None),
    ("急用，今天能发吗", None, None),
    ("请用纸箱包装，别压皱了", None, None),
    ("放驿站就行，不用打电话", None, None),
    ("白色的不要有色差哦", None, None),
    ("上次买的很好穿，再来一件", None, None),
    ("发圆通吧，我们这边圆通快", "圆通速递", None),
)
_SELLER_MEMOS = (
    "赠品：发圈x1",
    "老客户，送小样",
    "已核对尺码，按留言发货",
    "客户要求周六前到，已加急",
    "改地址，已按新地址发",
    "换货单，原单尺码偏大",
    "仓库缺货，已联系客户延迟2天发",
    "检查线头后再发",
    "包装加固，送礼用",
    "已备注不放发票和价格单",
)
_GIFT_MESSAGES = frozenset({"送人的，不要放发票", "送人的，麻烦包装好看一点，不要放价格单"})
_INVOICE_TITLES = ("个人", "个人", "杭州示例文化传媒有限公司", "上海演示信息科技有限公司")
_HOBBIES = ("瑜伽", "露营", "烘焙", "追剧", "摄影", "旅行", "跑步", "看书", "插花", "撸猫", "健身", "咖啡", "手账", "穿搭")
_NOTE_AUTHORS = ("客服小美", "客服阿杰", "店长小桃")
_NOTES = (
    "喜欢宽松版型，平时穿M码，肩宽建议L",
    "老顾客，大促必来，记得送小样",
    "对快递很在意，尽量发顺丰或中通",
    "皮肤敏感，只买纯棉款",
    "给妈妈买过两次，偏爱深色",
    "学生党，价格敏感，有券先通知",
    "问过秋冬外套到货时间，到货后通知她",
    "沟通很愉快，愿意晒图",
    "曾经因物流慢给过中评，后来追评改了好评",
    "伴娘服咨询过，明年5月有需求",
    "个子160，体重50kg，连衣裙选S",
    "不喜欢电话联系，有事旺旺留言",
)
_REFUND_NOTE = "退过一次货（尺码不合适），推荐时提醒她先看尺码表"
_LARGE_SIZE_NOTE = "平时穿XL，偏爱宽松款，推荐大码系列"


@dataclass(frozen=True)
class AgentNote:
    author: str
    body: str
    written_at: datetime  # aware


@dataclass(frozen=True)
class CustomerProfile:
    """What agents have learned about a customer and wrote into the 360."""

    gender: str | None  # female | male
    birthday: date | None
    hobbies: str | None
    tags: tuple[str, ...]
    notes: tuple[AgentNote, ...]


@dataclass(frozen=True)
class DemoCustomer:
    nick: str
    receiver_name: str  # masked: 张*
    phone: str | None  # invented 138000000xx, or None (most exports mask it)
    addresses: tuple[Address, ...]
    habit: str  # once | few | frequent
    order_count: int
    basket_factor: float
    churn_day: int | None  # the customer stops buying after this day index (流失)
    profile: CustomerProfile | None = None


def _nick(rng: Random) -> str:
    style = rng.random()
    if style < 0.45:
        return rng.choice(_NICK_HEADS) + rng.choice(_NICK_TAILS)
    if style < 0.72:
        name = rng.choice(_PINYIN) + rng.choice(_INITIALS)
        sep = rng.choice(("_", "", ""))
        return f"{name}{sep}{rng.choice((rng.randrange(10, 100), rng.randrange(1985, 2008), 520, 666, 888))}"
    if style < 0.82:
        return f"{rng.choice(_ENGLISH)}{rng.randrange(1990, 2010)}"
    return f"tb_{rng.randrange(10_000_000, 999_999_999)}"


def _masked_name(rng: Random) -> str:
    surname = rng.choice(_SURNAMES)
    given = 2 if rng.random() < 0.7 else 1
    return surname[0] + "*" * (len(surname) - 1 + given)


def _customers(rng: Random, count: int, days: int) -> list[DemoCustomer]:
    nicks: set[str] = set()
    province_weights = list(itertools.accumulate(w for _p, w, _c in _REGIONS))
    phone_owners = set(rng.sample(range(count), min(100, count // 10 or 1)))
    customers = []
    for index in range(count):
        nick = _nick(rng)
        while nick in nicks:
            nick = _nick(rng) + str(rng.randrange(10))
        nicks.add(nick)
        province = bisect.bisect_left(province_weights, rng.random() * province_weights[-1])
        addresses = [_address(rng, province)]
        if rng.random() < 0.15:  # home and office, or a parent's home
            other = province if rng.random() < 0.6 else bisect.bisect_left(province_weights, rng.random() * province_weights[-1])
            addresses.append(_address(rng, other))
        habit_roll = rng.random()
        if habit_roll < 0.58:
            habit, orders = "once", 1
        elif habit_roll < 0.80:
            habit, orders = "few", rng.choice((2, 2, 2, 3, 3))
        else:
            habit, orders = "frequent", min(40, 3 + int(rng.paretovariate(1.2) * 2.6))
        basket = rng.lognormvariate(0.25 if habit == "frequent" else 0.0, 0.35)
        churn = rng.randrange(days // 3, days * 3 // 4) if habit == "frequent" and rng.random() < 0.25 else None
        phone = f"{DEMO_PHONE_PREFIX}{len([p for p in phone_owners if p < index]):02d}" if index in phone_owners else None
        customers.append(DemoCustomer(
            nick=nick, receiver_name=_masked_name(rng), phone=phone, addresses=tuple(addresses), habit=habit,
            order_count=orders, basket_factor=basket, churn_day=churn,
        ))
    return customers


# -- time --------------------------------------------------------------------------------------------
_MONTH_FACTOR = {1: 0.85, 2: 0.75, 3: 1.1, 4: 1.1, 5: 1.15, 6: 1.25, 7: 1.1, 8: 0.9, 9: 1.0, 10: 1.05, 11: 1.35, 12: 1.1}
_WEEKDAY_FACTOR = (1.0, 0.95, 0.95, 1.0, 0.95, 1.1, 1.2)  # Monday … Sunday
_FESTIVAL_DAYS = {(11, 11): 7.0, (11, 10): 2.0, (11, 12): 1.8, (12, 12): 2.5, (6, 18): 3.5, (6, 17): 1.6, (6, 19): 1.4,
                  (3, 8): 2.2, (5, 20): 1.3, (2, 14): 1.3, (8, 8): 1.4, (9, 9): 1.3}
_SPRING_FESTIVALS = (date(2023, 1, 22), date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6),
                     date(2028, 1, 26), date(2029, 2, 13), date(2030, 2, 3), date(2031, 1, 23), date(2032, 2, 11))
_HOUR_WEIGHTS = (0.6, 0.3, 0.15, 0.1, 0.08, 0.1, 0.2, 0.4, 0.6, 0.9, 1.2, 1.1, 1.0, 1.1, 1.2, 1.2, 1.1, 1.0, 0.9, 1.1,
                 1.5, 1.8, 1.7, 1.2)
_HOUR_CUMULATIVE = list(itertools.accumulate(_HOUR_WEIGHTS))


def day_weight(day: date) -> float:
    """How busy a day is: season, weekday, 双11/618 and friends, and the Spring Festival lull (couriers stop)."""
    weight = _MONTH_FACTOR[day.month] * _WEEKDAY_FACTOR[day.weekday()] * _FESTIVAL_DAYS.get((day.month, day.day), 1.0)
    for festival in _SPRING_FESTIVALS:
        if abs((day - festival).days) <= 7:
            weight *= 0.35
            break
    return weight


_SEASON_FACTOR = {"summer": {5: 2.0, 6: 2.6, 7: 2.6, 8: 2.0, 4: 1.2, 9: 1.0, 11: 0.2, 12: 0.15, 1: 0.15, 2: 0.2, 3: 0.6, 10: 0.4},
                  "winter": {11: 2.6, 12: 2.6, 1: 2.2, 10: 1.6, 2: 1.4, 3: 0.6, 9: 0.6, 5: 0.15, 6: 0.1, 7: 0.1, 8: 0.2, 4: 0.3}}


# -- the shop ----------------------------------------------------------------------------------------

@dataclass
class DemoShop:
    """Everything the demo writes to files, plus what agents know about customers."""

    seed: int
    today: date
    shop_name: str
    platform_shop_id: str  # 店铺Id
    exported_at: datetime  # when the (pretend) export was taken, Beijing time
    catalog: tuple[CatalogProduct, ...]
    customers: list[DemoCustomer]
    orders: list[tuple[OrderRow, list[LineRow]]] = field(default_factory=list)

    def order_rows(self) -> Iterator[OrderRow]:
        return (order for order, _lines in self.orders)

    def line_rows(self) -> Iterator[LineRow]:
        return (line for _order, lines in self.orders for line in lines)

    def catalog_rows(self) -> Iterator[CatalogRow]:
        return (row for product in self.catalog for row in product.catalog_rows())

    def revenue_by_buyer(self) -> dict[str, Decimal]:
        """Paid minus refunded per buyer nick, over orders that were paid."""
        revenue: dict[str, Decimal] = defaultdict(Decimal)
        for order, _lines in self.orders:
            if order.paid_at is not None:
                revenue[order.buyer_nick] += order.paid_amount - order.refunded_amount
        return dict(revenue)


def _pick(rng: Random, cumulative: Sequence[float]) -> int:
    return bisect.bisect_left(cumulative, rng.random() * cumulative[-1])


# Waybill shapes per courier: prefix and digit count.
_WAYBILL_SHAPES = {"中通快递": ("7", 13), "圆通速递": ("YT", 13), "韵达快递": ("43", 13), "申通快递": ("77", 13),
                   "顺丰速运": ("SF", 13), "极兔速递": ("JT", 13), "邮政快递包裹": ("98", 11)}


class _Numbers:
    """Unique 19-digit order numbers and carrier-shaped waybill numbers."""

    def __init__(self, rng: Random):
        self.rng = rng
        self.used: set[str] = set()

    def order_no(self) -> str:
        while True:
            number = str(self.rng.randrange(2_000_000_000_000_000_000, 4_000_000_000_000_000_000))
            if number not in self.used:
                self.used.add(number)
                return number

    def waybill(self, carrier: str) -> str:
        prefix, digits = _WAYBILL_SHAPES[carrier]
        while True:
            number = prefix + str(self.rng.randrange(10 ** (digits - 1), 10**digits))
            if number not in self.used:
                self.used.add(number)
                return number


_CARRIERS = ("中通快递", "圆通速递", "韵达快递", "申通快递", "极兔速递", "顺丰速运", "邮政快递包裹")
_CARRIER_CUMULATIVE = list(itertools.accumulate((30, 20, 15, 10, 12, 8, 5)))


# Extra days before a buyer confirms receipt, on top of the usual 2–10: parcels to 新疆/西藏/青海 and by 邮政 travel longer.
_SLOW_DESTINATIONS = frozenset({"新疆维吾尔自治区", "西藏自治区", "青海省"})


def _confirm_lag_days(province: str, carrier: str) -> float:
    return (3.0 if province in _SLOW_DESTINATIONS else 0.0) + (1.5 if carrier == "邮政快递包裹" else 0.0)


def _allocate(total: Decimal, parts: Sequence[Decimal]) -> list[Decimal]:
    """Split an amount over lines in proportion to their goods value, to the fen, summing exactly."""
    whole = sum(parts)
    if whole == 0:
        return [Decimal("0.00") for _ in parts]
    shares = [(total * p / whole).quantize(CENT) for p in parts[:-1]]
    return [*shares, total - sum(shares, Decimal("0.00"))]


def _discount(rng: Random, goods: Decimal, festival: bool) -> Decimal:
    if rng.random() > (0.9 if festival else 0.6):
        return Decimal("0.00")
    for threshold, off in ((399, 50), (299, 30), (199, 20), (99, 10)):
        if goods >= threshold:
            return Decimal(off + (10 if festival else 0)).quantize(CENT)
    return Decimal(rng.choice((0, 3, 5))).quantize(CENT)


class _OrderMaker:
    """Turns a (customer, creation time) into an order row and its line rows, status decided by the clock."""

    def __init__(self, rng: Random, shop: DemoShop, end: datetime):
        self.rng = rng
        self.shop = shop
        self.end = end
        self.numbers = _Numbers(rng)
        self.product_cumulative = {
            month: list(itertools.accumulate(
                p.popularity * (_SEASON_FACTOR[p.season][month] if p.season != "all" else 1.0) for p in shop.catalog
            ))
            for month in range(1, 13)
        }
        self.sku_cumulative = [list(itertools.accumulate(s.weight for s in p.skus)) for p in shop.catalog]
        self.previous_orders: dict[str, int] = defaultdict(int)

    def _lines_of(self, customer: DemoCustomer, month: int) -> list[tuple[CatalogProduct, CatalogSku, int]]:
        rng = self.rng
        roll = rng.random() / min(customer.basket_factor, 1.8)
        kinds = 1 if roll > 0.4 else 2 if roll > 0.13 else 3 if roll > 0.04 else 4
        chosen: list[tuple[CatalogProduct, CatalogSku, int]] = []
        seen: set[int] = set()
        while len(chosen) < kinds:
            index = _pick(rng, self.product_cumulative[month])
            if index in seen:
                continue
            seen.add(index)
            product = self.shop.catalog[index]
            sku = product.skus[_pick(rng, self.sku_cumulative[index])]
            quantity_roll = rng.random()
            quantity = 1 if quantity_roll < 0.88 else 2 if quantity_roll < 0.98 else 3
            chosen.append((product, sku, quantity))
        return chosen

    def _message_and_carrier(self, customer: DemoCustomer, address: Address) -> tuple[str, str]:
        rng = self.rng
        message, wanted, avoided = "", None, None
        if rng.random() < 0.13:
            message, wanted, avoided = rng.choice(_BUYER_MESSAGES)
            if customer.phone and rng.random() < 0.1:
                message = f"{message}，到了打我电话{customer.phone}"
        if wanted:
            return message, wanted
        while True:
            carrier = "邮政快递包裹" if address.province in REMOTE_PROVINCES and rng.random() < 0.5 else \
                _CARRIERS[_pick(rng, _CARRIER_CUMULATIVE)]
            if carrier != avoided:
                return message, carrier

    def make(self, customer: DemoCustomer, created: datetime) -> tuple[OrderRow, list[LineRow]]:
        rng, end = self.rng, self.end
        address = customer.addresses[0] if len(customer.addresses) == 1 or rng.random() < 0.75 else customer.addresses[1]
        chosen = self._lines_of(customer, created.month)
        goods_parts = [sku.price * quantity for _p, sku, quantity in chosen]
        goods = sum(goods_parts, Decimal("0.00"))
        post_fee = _POST_FEES.get(address.province, Decimal("0.00"))
        total = goods + post_fee
        festival = (created.month, created.day) in ((11, 11), (6, 18), (12, 12))
        paid_goods = goods - _discount(rng, goods, festival)
        message, carrier = self._message_and_carrier(customer, address)
        receiver_name = customer.receiver_name
        if message in _GIFT_MESSAGES:
            receiver_name = _masked_name(rng)
        memo = ""
        if rng.random() < 0.08 or (message and rng.random() < 0.25):
            memo = rng.choice(_SELLER_MEMOS)
            if self.previous_orders[customer.nick] >= 3 and rng.random() < 0.5:
                memo = "老客户，送小样"
        self.previous_orders[customer.nick] += 1

        paid_at = shipped_at = finished_at = None
        close_reason = NOT_CLOSED
        refund_whole = False
        refunded_line: int | None = None
        # Some buyers never pay; and a buyer who ordered in the last hours may simply not have paid yet.
        unpaid = rng.random() < (0.07 if customer.habit == "once" else 0.03) or (
            end - created < timedelta(hours=12) and rng.random() < 0.25)
        if unpaid:
            status = WAIT_PAY if end - created < timedelta(hours=24) else CLOSED
            if status == CLOSED:
                close_reason = CLOSED_UNPAID_REASON
        else:
            paid_at = created + timedelta(seconds=rng.randrange(5, 600) if rng.random() < 0.9 else rng.randrange(600, 7200))
            if paid_at >= end:
                paid_at = None
                status = WAIT_PAY
            else:
                shipped_at = self._ship_time(paid_at)
                refund_roll = rng.random()
                if refund_roll < 0.045:  # refunded in full: before or after the parcel left
                    if rng.random() < 0.4:
                        refund_at = paid_at + timedelta(hours=rng.uniform(0.5, 20))
                        shipped_after_refund = shipped_at >= refund_at
                    else:
                        refund_at = shipped_at + timedelta(days=rng.uniform(3, 10))
                        shipped_after_refund = False
                    if refund_at < end:
                        refund_whole = True
                        if shipped_after_refund:
                            shipped_at = None
                if refund_whole:
                    status, close_reason, finished_at = CLOSED, CLOSED_REFUND_REASON, None
                elif shipped_at >= end:
                    status, shipped_at = WAIT_SEND, None
                else:
                    # Buyers confirm after the parcel arrives: later to far provinces and by the slow post.
                    finished_at = shipped_at + timedelta(days=rng.uniform(2, 10) + _confirm_lag_days(address.province, carrier),
                                                         minutes=rng.randrange(0, 600))
                    if finished_at >= end:
                        status, finished_at = SENT, None
                    else:
                        status = FINISHED
                        if len(chosen) > 1 and refund_roll > 0.94:
                            refunded_line = rng.randrange(len(chosen))
        paid_amount = (paid_goods + post_fee) if paid_at else Decimal("0.00")
        line_paid = _allocate(paid_goods, goods_parts) if paid_at else [Decimal("0.00")] * len(chosen)

        order_no = self.numbers.order_no()
        waybill = self.numbers.waybill(carrier) if shipped_at else ""
        lines: list[LineRow] = []
        refunded_total = Decimal("0.00")
        for index, ((product, sku, quantity), paid_line) in enumerate(zip(chosen, line_paid)):
            refunded = None
            refund_status = NO_REFUND
            line_status = status
            if refund_whole or index == refunded_line:
                refunded = paid_line + (post_fee if refund_whole and index == 0 else Decimal("0.00"))
                refund_status = REFUNDED
                line_status = CLOSED
                refunded_total += refunded
            lines.append(LineRow(
                order_no=order_no,
                title=product.title,
                price=sku.price,
                quantity=quantity,
                status_text=line_status,
                properties=sku.properties,
                outer_id=product.outer_id,
                outer_sku_id=sku.outer_sku_id,
                sub_order_no=order_no if len(chosen) == 1 else self.numbers.order_no(),
                item_id=product.item_id,
                paid_amount=paid_line,
                refund_status=refund_status,
                refunded_amount=refunded,
                shipped_at=shipped_at,
            ))
        invoice = rng.choice(_INVOICE_TITLES) if rng.random() < 0.03 else ""
        order = OrderRow(
            order_no=order_no,
            buyer_nick=customer.nick,
            goods_amount=goods,
            post_fee=post_fee,
            total_amount=total,
            paid_amount=paid_amount,
            status_text=status,
            created_at=created,
            titles=[product.title for product, _s, _q in chosen],
            item_count=sum(quantity for _p, _s, quantity in chosen),
            paid_at=paid_at,
            shipped_at=shipped_at,
            finished_at=finished_at,
            close_reason=close_reason,
            buyer_message=message,
            seller_memo=memo,
            receiver_name=receiver_name,
            receiver_address=address.text,
            mobile=customer.phone or "",
            waybill_no=waybill,
            carrier=carrier if waybill else "",
            refunded_amount=refunded_total,
            alipay_account=f"{customer.phone[:3]}****{customer.phone[-4:]}" if customer.phone else "",
            invoice_title=invoice,
            is_mobile=rng.random() < 0.85,
            shop_id=self.shop.platform_shop_id,
            shop_name=self.shop.shop_name,
        )
        return order, lines

    def _ship_time(self, paid_at: datetime) -> datetime:
        """Parcels leave in the warehouse's afternoon round: same day when paid early, else the next days."""
        rng = self.rng
        roll = rng.random()
        days = 0 if paid_at.hour < 14 and roll < 0.55 else 1 if roll < 0.85 else 2 if roll < 0.96 else rng.randrange(3, 6)
        day = paid_at.date() + timedelta(days=days)
        moment = datetime.combine(day, time(14), tzinfo=BEIJING) + timedelta(minutes=rng.randrange(0, 330))
        return max(moment, paid_at + timedelta(minutes=30))


def _profile(rng: Random, customer: DemoCustomer, orders: list[tuple[OrderRow, list[LineRow]]], end: datetime) -> CustomerProfile | None:
    paid = [o for o, _l in orders if o.paid_at is not None]
    chance = {"frequent": 0.75, "few": 0.25, "once": 0.07}[customer.habit]
    if not orders or rng.random() > chance:
        return None
    gender = "female" if rng.random() < 0.93 else "male"
    birthday = None
    if rng.random() < 0.6:
        birthday = date(rng.randrange(1975, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
    hobbies = "、".join(rng.sample(_HOBBIES, rng.randrange(1, 4))) if rng.random() < 0.5 else None
    sizes = [line.properties.rsplit("尺码：", 1)[-1] for _o, lines in orders for line in lines if "尺码：" in line.properties]
    large = sum(1 for s in sizes if s in LARGE_SIZES)
    gift = any(o.buyer_message in _GIFT_MESSAGES for o, _l in orders)
    refunded = any(o.refunded_amount > 0 for o in paid)
    tags: list[str] = []
    if len(paid) >= 4:
        tags.append("老客")
    if sizes and large * 2 >= len(sizes):
        tags.append("大码")
    if gift:
        tags.append("送礼")
    if birthday and end.year - birthday.year <= 22:
        tags.append("学生")
    if gender == "female" and rng.random() < 0.12:
        tags.append("宝妈")
    if rng.random() < 0.08:
        tags.append("爱晒图")
    first = min(o.created_at for o, _l in orders)
    bodies: list[str] = []
    if refunded and rng.random() < 0.7:
        bodies.append(_REFUND_NOTE)
    if "大码" in tags and rng.random() < 0.5:
        bodies.append(_LARGE_SIZE_NOTE)
    for _ in range(rng.choice((0, 1, 1, 2)) if customer.habit != "once" else rng.choice((0, 1))):
        body = rng.choice(_NOTES)
        if body not in bodies:
            bodies.append(body)
    span = max((end - first).total_seconds(), 3600.0)
    notes = tuple(
        AgentNote(rng.choice(_NOTE_AUTHORS), body, first + timedelta(seconds=rng.randrange(600, int(span) + 601)))
        for body in bodies
    )
    return CustomerProfile(gender, birthday, hobbies, tuple(tags), tuple(sorted(notes, key=lambda n: n.written_at)))


def demo_end(today: date) -> datetime:
    """The demo's "now": orders run up to midnight at the start of `today`, Beijing time."""
    return datetime.combine(today, time(0), tzinfo=BEIJING)


def generate_demo_shop(*, seed: int = 7, today: date, shop_name: str = "小桃子的衣橱", customers: int = 2000) -> DemoShop:
    """The whole demo shop for (seed, today): the same catalogue, customers and orders every time."""
    if customers < 1:
        raise ValueError("the demo needs at least one customer")
    rng = Random(seed)
    end = demo_end(today)
    days = 365
    first_day = today - timedelta(days=days)
    shop = DemoShop(
        seed=seed,
        today=today,
        shop_name=shop_name,
        platform_shop_id=str(rng.randrange(100_000_000, 999_999_999)),
        exported_at=datetime.combine(today, time(9, 30), tzinfo=BEIJING),
        catalog=build_catalog(rng),
        customers=_customers(rng, customers, days),
    )
    day_cumulative = list(itertools.accumulate(day_weight(first_day + timedelta(days=i)) for i in range(days)))

    def moment(customer: DemoCustomer) -> datetime:
        for _ in range(20):
            day_index = _pick(rng, day_cumulative)
            if customer.churn_day is None or day_index <= customer.churn_day:
                break
        day = first_day + timedelta(days=day_index)
        hour = _pick(rng, _HOUR_CUMULATIVE)
        return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=BEIJING)

    planned = [(moment(c), index) for index, c in enumerate(shop.customers) for _ in range(c.order_count)]
    planned.sort()
    maker = _OrderMaker(rng, shop, end)
    by_customer: dict[int, list[tuple[OrderRow, list[LineRow]]]] = defaultdict(list)
    for created, index in planned:
        pair = maker.make(shop.customers[index], created)
        shop.orders.append(pair)
        by_customer[index].append(pair)
    shop.customers = [
        replace(c, profile=_profile(rng, c, by_customer[i], end)) for i, c in enumerate(shop.customers)
    ]
    return shop


# -- the benchmark stream ----------------------------------------------------------------------------

def _bench_baskets(rng: Random, catalog: Sequence[CatalogProduct], count: int) -> list[tuple]:
    """Precomputed baskets: (line templates, titles, goods value, item count), ~1.5 lines each."""
    skus = [(p.title, s.price, s.properties, p.outer_id, s.outer_sku_id, p.item_id) for p in catalog for s in p.skus]
    line_counts = (1,) * 10 + (2,) * 4 + (3,) * 2  # mean 1.5
    baskets = []
    for _ in range(count):
        chosen = rng.sample(skus, rng.choice(line_counts))
        lines = [(title, price, 1 if rng.random() < 0.9 else 2, props, outer, outer_sku, item)
                 for title, price, props, outer, outer_sku, item in chosen]
        goods = sum((price * quantity for _t, price, quantity, *_rest in lines), Decimal("0.00"))
        baskets.append((lines, [line[0] for line in lines], goods, sum(line[2] for line in lines)))
    return baskets


def bench_orders(n_orders: int, seed: int) -> Iterator[tuple[OrderRow, list[LineRow]]]:
    """n_orders plausible (order, lines) pairs, ~1.5 lines each, from precomputed pools: fast and constant-memory."""
    rng = Random(seed)
    baskets = _bench_baskets(rng, build_catalog(Random(seed)), 4096)
    province_weights = list(itertools.accumulate(w for _p, w, _c in _REGIONS))
    buyers = []
    for index in range(8192):
        address = _address(rng, bisect.bisect_left(province_weights, rng.random() * province_weights[-1]))
        phone = f"{DEMO_PHONE_PREFIX}{index % 100:02d}" if index % 23 == 0 else ""
        buyers.append((_nick(rng), _masked_name(rng), address.text, _POST_FEES.get(address.province, Decimal("0.00")), phone))
    # (status, close reason, paid?, shipped?, finished?, refunded?) in proportion
    kinds = ([(FINISHED, NOT_CLOSED, True, True, True, False)] * 46 + [(SENT, NOT_CLOSED, True, True, False, False)] * 6
             + [(WAIT_SEND, NOT_CLOSED, True, False, False, False)] * 4 + [(WAIT_PAY, NOT_CLOSED, False, False, False, False)]
             + [(CLOSED, CLOSED_UNPAID_REASON, False, False, False, False)] * 4
             + [(CLOSED, CLOSED_REFUND_REASON, True, True, False, True)] * 3)
    kinds_count = len(kinds)
    messages = tuple(m for m, _w, _a in _BUYER_MESSAGES)
    carriers = _CARRIERS
    zero = Decimal("0.00")
    discounts = tuple(Decimal(d).quantize(CENT) for d in (0, 0, 0, 5, 10, 20, 0, 0))
    paid_delay, ship_delay, finish_delay = timedelta(seconds=37), timedelta(hours=20), timedelta(days=6)
    base = datetime(2025, 1, 1)
    step = 31_536_000 / max(n_orders, 1)
    first_number = 3_000_000_000_000_000_000 + (seed % 1000) * 10**13
    for i in range(n_orders):
        bits = rng.getrandbits(64)
        nick, name, address, post_fee, phone = buyers[bits & 0x1FFF]
        status, reason, paid, shipped, finished, refunded = kinds[(bits >> 13 & 0xFFFF) % kinds_count]
        templates, titles, goods, items = baskets[bits >> 29 & 0xFFF]
        created = base + timedelta(0, int(i * step) + (bits >> 41 & 0x3F))
        number = first_number + i * 9973
        order_no = str(number)
        single = len(templates) == 1
        lines = [LineRow(order_no, title, price, quantity, status, props, outer, outer_sku,
                         order_no if single else str(number + k + 1), item)
                 for k, (title, price, quantity, props, outer, outer_sku, item) in enumerate(templates)]
        spare = bits >> 47
        paid_amount = goods + post_fee - discounts[spare & 7] if paid else zero
        order = OrderRow(
            order_no, f"{nick}{spare >> 3 & 31}", goods, post_fee, goods + post_fee, paid_amount, status, created,
            titles, items, created + paid_delay if paid else None, created + ship_delay if shipped else None,
            created + finish_delay if finished else None, reason,
            messages[spare >> 8 & 7] if spare & 0x3800 == 0 else "", "", name, address, phone, "",
            f"7{i:013d}" if shipped else "", carriers[spare % 7] if shipped else "",
            paid_amount if refunded else zero,
        )
        yield order, lines
