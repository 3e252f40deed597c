"""What a buyer's message asks about, read by keywords: provinces, cash on delivery, invoices, and a fallback intent.

`kefu.text.understand.analyze` is the real reader of intent, sentiment and anger; `fallback_intent` and
`fallback_anger` only keep the desk working offline when that module is not installed. The asks found here
(province, 货到付款, 发票, 包邮) are extra needs a draft must answer whatever the main intent is.
"""

from __future__ import annotations

from dataclasses import dataclass

PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾",
    "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)

_INTENT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("complaint", ("投诉", "差评", "举报", "骗子", "垃圾", "什么态度")),
    ("quality_problem", ("质量", "破了", "破洞", "开线", "掉色", "起球", "坏了", "瑕疵", "有味", "脱线", "色差")),
    ("refund", ("退款", "退钱")),
    ("return_exchange", ("退货", "换货", "退换", "换一个", "换个码", "七天无理由", "7天无理由")),
    ("urge_shipping", ("催", "怎么还没发", "还不发", "快点发", "什么时候发货啊")),
    ("where_is_parcel", ("物流", "快递到哪", "到哪了", "单号", "没收到", "还没到", "查一下快递")),
    ("change_address", ("改地址", "修改地址", "地址写错", "换地址")),
    ("invoice", ("发票", "开票")),
    ("size_spec", ("尺码", "尺寸", "多大", "码数", "身高", "体重", "穿什么码", "偏大", "偏小", "胸围", "腰围", "衣长")),
    ("stock", ("有货", "有没有货", "库存", "缺货", "还有吗", "补货")),
    ("shipping_time", ("发货", "几天到", "多久到", "什么时候到", "今天能发", "哪个快递", "发什么快递")),
    ("free_shipping", ("包邮", "运费", "邮费")),
    ("bargaining", ("便宜", "优惠", "打折", "少点", "便宜点", "券", "满减", "活动")),
    ("authenticity", ("正品", "真的假的", "假货", "专柜")),
    ("thanks", ("谢谢", "感谢", "辛苦了")),
)
_ANGER_WORDS = ("气死", "太差", "垃圾", "骗子", "投诉", "差评", "什么态度", "！！", "!!", "无语", "恶心", "再也不", "退款")


@dataclass(frozen=True)
class Asks:
    """The extra needs a message names besides its main intent."""

    province: str | None = None
    cash_on_delivery: bool = False
    invoice: bool = False
    free_shipping: bool = False
    same_day: bool = False
    courier: bool = False


def find_province(text: str) -> str | None:
    """The first province named in the text (新疆, 西藏 …), as its short name."""
    hits = [(text.find(name), name) for name in PROVINCES if name in text]
    return min(hits)[1] if hits else None


def find_asks(text: str) -> Asks:
    return Asks(
        province=find_province(text),
        cash_on_delivery="货到付款" in text or "到付" in text,
        invoice="发票" in text or "开票" in text,
        free_shipping="包邮" in text or "运费" in text or "邮费" in text,
        same_day=any(w in text for w in ("今天能发", "今天发", "当天发", "今天可以发", "马上发")),
        courier=any(w in text for w in ("什么快递", "哪个快递", "哪家快递", "发顺丰", "发中通", "发圆通", "发韵达")),
    )


def fallback_intent(text: str) -> str:
    """The first intent whose words appear (an ordered keyword list), else "other"."""
    for intent, cues in _INTENT_WORDS:
        if any(cue in text for cue in cues):
            return intent
    return "other"


def fallback_anger(text: str) -> float:
    """0–1 from anger words and exclamation marks (a crude stand-in for the text module's model)."""
    hits = sum(1 for w in _ANGER_WORDS if w in text) + min(text.count("！") + text.count("!"), 3) * 0.5
    return min(1.0, hits / 3)
