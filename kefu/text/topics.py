"""Complaint topics in buyer text: product quality (colour, material, size, style), promotions, logistics, service.

Pure: `find_topics(text)` returns the topic codes a complaint is about, in TOPICS order. A topic needs a complaint
wording, not just the subject: "有别的颜色吗" names no topic, "色差太大" is quality.colour.
"""

from __future__ import annotations

import re

from kefu.text.tokenize import normalize

TOPICS: tuple[str, ...] = (
    "quality.colour", "quality.material", "quality.size", "quality.style",
    "promotion.unclear", "promotion.return_freight",
    "logistics.slow", "logistics.courier_attitude", "logistics.damaged",
    "service.attitude",
)  # fmt: skip

TOPIC_NAMES_ZH: dict[str, str] = {
    "quality.colour": "颜色/色差", "quality.material": "材质/做工", "quality.size": "尺码", "quality.style": "款式",
    "promotion.unclear": "活动规则不清", "promotion.return_freight": "退货运费误解",
    "logistics.slow": "物流慢", "logistics.courier_attitude": "快递员态度", "logistics.damaged": "运输破损",
    "service.attitude": "客服态度",
}  # fmt: skip

_BAD = r"(?:不对|不一样|不符|差|太|好|很|有点|严重|明显|完全|根本|怎么|发错)"

_PATTERNS: dict[str, re.Pattern[str]] = {
    "quality.colour": re.compile(
        r"色差|掉色|褪色|退色|染色|串色|颜色.{0,6}(?:不对|不一样|不符|差|深|浅|暗|发错|错了|不正|偏|和图|跟图|难看)"
        r"|(?:和|跟|与)(?:图片|图|照片|模特).{0,4}颜色|发黄|变色|洗.{0,3}(?:掉色|褪色)"
    ),
    "quality.material": re.compile(
        r"起球|起毛|掉毛|线头|开线|脱线|开胶|脱胶|做工.{0,3}(?:差|粗糙|不好|太烂|一般)|面料.{0,4}(?:差|薄|硬|粗糙|扎|不好|透)"
        r"|材质.{0,4}(?:差|不对|不好|一般|和描述)|料子.{0,4}(?:差|薄|硬|不好)|太薄|很薄|透光|一洗就|缩水|变形了?|劣质"
        r"|塑料味|异味|刺鼻|味道.{0,3}(?:大|重|难闻|刺鼻)|甲醛|胶开|掉胶|扎人|粗糙|质量.{0,3}(?:差|太差|不好|堪忧|很烂|一般)|质量问题|不结实|很廉价|廉价感"
        r"|破洞|断了|裂了|裂开"
    ),
    "quality.size": re.compile(
        r"尺码.{0,4}(?:不准|不对|偏|有问题|太|错)|码数.{0,4}(?:不准|不对|偏|太|错)|偏大|偏小|(?<!差)太大了|太小了|大了一|小了一"
        r"|穿不上|穿不进|太紧|太松|勒|短了|长了|太短|太长|不合身|尺寸.{0,4}(?:不对|不符|不准|偏|太|差)|大一码都|小一码都"
    ),
    "quality.style": re.compile(
        r"款式.{0,4}(?:不对|不一样|不符|难看|发错|错了|和图)|版型.{0,3}(?:差|不好|难看|奇怪|不对)|货不对板|不对版|和图片.{0,3}不一样"
        r"|跟图片.{0,3}不一样|(?:和|跟)(?:图|描述|详情).{0,3}(?:不一样|不符|差太多|差距)|实物.{0,4}(?:丑|难看|差|不一样)|很丑|太丑|土气|难看死"
    ),
    "promotion.unclear": re.compile(
        r"(?:优惠券|券|满减|活动|优惠|折扣|赠品|红包|积分|保价|价保|降价|差价).{0,8}(?:没|不能用|用不了|不给|不对|不算|不生效|骗|说清|不清楚|套路|怎么算|少了|没到)"
        r"|(?:说好|不是说).{0,6}(?:送|赠|优惠|便宜|减|包邮)|买一送一.{0,8}(?:只|没|结果)|刚买就降价|买完就降价|降价了|(?:活动|规则).{0,4}(?:看不懂|不明白|坑|忽悠)|虚假(?:宣传|优惠|活动)"
        r"|价格.{0,4}(?:不对|不一样)|原价.{0,6}(?:骗|虚)"
    ),
    "promotion.return_freight": re.compile(
        r"运费险.{0,8}(?:没|不|怎么|为什么|多少|赔)|退货.{0,4}(?:运费|邮费|快递费).{0,6}(?:谁|自己|我出|凭什么|为什么|要我|让我)"
        r"|(?:运费|邮费|快递费).{0,6}(?:谁出|谁承担|凭什么|为什么要我|要我出|让我出|自己出|我来出)|来回运费|退回.{0,3}运费"
        r"|(?:说好|不是说).{0,6}(?:运费险|包退)|运费险.{0,4}(?:骗|坑)|包邮.{0,6}退货.{0,6}(?:运费|邮费)"
    ),
    "logistics.slow": re.compile(
        r"(?:物流|快递|包裹|件).{0,6}(?:太慢|好慢|真慢|慢死|很慢|慢得|慢|不动|没动|停|没更新|不更新|卡)"
        r"|(?:几|好几|\d+|两|三|四|五|六|七|十)天.{0,4}(?:了|都|还).{0,4}(?:没到|不到|没收到|没动|不动|没更新|在路上)"
        r"|怎么还(?:没|不)到|还没到|还不到|一直没(?:到|动|更新)|蜗牛|龟速|乌龟"
    ),
    "logistics.courier_attitude": re.compile(
        r"(?:快递员|快递小哥|派送员|送货的|小哥|配送员|快递那边|驿站).{0,10}(?:态度|凶|骂|不送|不上门|放|扔|丢|不接|不打电话|乱签|代签|没打电话|催|拒绝|不耐烦|差)"
        r"|不送(?:货)?上门|没有?送上门|放(?:在)?驿站|扔(?:在)?门口|丢(?:在)?门口|没(?:经过|经)我同意.{0,4}(?:签收|放)|(?:被|别人)代签|虚假签收|没收到.{0,4}显示签收|显示签收.{0,6}没收到"
    ),
    "logistics.damaged": re.compile(
        r"压坏|摔坏|压扁|压烂|碎了|破损|(?<![写填])漏了|漏液|洒了|撒了|盒子.{0,3}(?:烂|破|坏|瘪)|包装.{0,4}(?:烂|破|坏|瘪|湿)|箱子.{0,3}(?:烂|破|坏)|外包装.{0,3}(?:破|烂)|磕坏|磕碰|被压"
    ),
    "service.attitude": re.compile(
        r"客服.{0,8}(?:态度|不回|不理|敷衍|凶|骂|不耐烦|推|踢皮球|爱答不理|不负责|机器人|差劲|垃圾|不专业|拖)"
        r"|(?:态度|服务).{0,3}(?:很差|太差|恶劣|差劲|不好|敷衍)|什么服务态度|什么态度|说话.{0,2}(?:冲|凶|难听)|不理人|不回(?:消息|复|我)|没人回|半天不回|爱答不理|踢皮球|敷衍|推卸|互相推"
    ),
}

_ANY_TOPIC = re.compile("|".join(f"(?:{pattern.pattern})" for pattern in _PATTERNS.values()))  # one pass first

_NEGATED = re.compile(r"(?:没有|没|无|不)(?:什么)?(?:色差|起球|线头|异味|破损|掉色|问题)")


def find_topics(text: str) -> tuple[str, ...]:
    """The complaint topic codes the text is about, in TOPICS order (empty when it complains about none)."""
    return topics_of_normalised(normalize(text))


_CLAUSE = re.compile(r"[^,，。!！?？;；\s~～]+")
_QUESTION = re.compile(r"还是|会不会|是不是|吗$")  # "偏大还是偏小" asks, it does not complain
_NOT_LOGISTICS = re.compile(r"退款|钱|款")  # "退款…怎么还没到" is about money, not the parcel
_PARCEL = re.compile(r"快递|物流|包裹|件|货")
_COLOUR = re.compile(r"颜色|色差")


def topics_of_normalised(normalised: str) -> tuple[str, ...]:
    """find_topics on text already passed through tokenize.normalize (clause by clause, questions skipped)."""
    cleaned = _NEGATED.sub(" ", normalised)  # "没有色差" praises, it does not complain
    if not _ANY_TOPIC.search(cleaned):
        return ()  # most messages name no topic: one combined search instead of ten per clause
    clauses = [c for c in _CLAUSE.findall(cleaned) if not _QUESTION.search(c)]
    found: set[str] = set()
    for clause in clauses:
        for code in TOPICS:
            if code not in found and _PATTERNS[code].search(clause):
                if code == "logistics.slow" and _NOT_LOGISTICS.search(normalised) and not _PARCEL.search(clause):
                    continue
                if code == "quality.style" and _COLOUR.search(clause):
                    continue  # "颜色跟图片不一样" is about the colour
                found.add(code)
    return tuple(code for code in TOPICS if code in found)
