"""Buyer-message intents: the e-commerce intent set and the precise keyword rules that point at an intent.

Pure: `rule_scores(text)` returns every intent whose rule fires with the rule's weight. The rules do not decide alone:
they enter the intent classifier (intent_model.py) as features beside character n-grams, so how far each rule is
trusted is learned from the labelled messages in kefu/text/data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Intent = Literal[
    "shipping_time", "where_is_parcel", "change_address", "return_exchange", "refund", "invoice", "bargaining",
    "free_shipping", "authenticity", "size_spec", "stock", "quality_problem", "complaint", "urge_shipping", "thanks",
    "other",
]  # fmt: skip

INTENTS: tuple[str, ...] = (
    "shipping_time", "where_is_parcel", "change_address", "return_exchange", "refund", "invoice", "bargaining",
    "free_shipping", "authenticity", "size_spec", "stock", "quality_problem", "complaint", "urge_shipping", "thanks",
    "other",
)  # fmt: skip

INTENT_NAMES_ZH: dict[str, str] = {
    "shipping_time": "发货时间", "where_is_parcel": "查物流", "change_address": "改地址", "return_exchange": "退换货",
    "refund": "退款", "invoice": "发票", "bargaining": "议价/优惠", "free_shipping": "包邮", "authenticity": "正品",
    "size_spec": "尺码规格", "stock": "库存", "quality_problem": "质量问题", "complaint": "投诉",
    "urge_shipping": "催发货", "thanks": "感谢", "other": "其他",
}  # fmt: skip


@dataclass(frozen=True)
class IntentRule:
    """One precise rule: the intent, the pattern that names it, and its weight (the value of its feature column)."""

    intent: str
    pattern: re.Pattern[str]
    weight: float = 1.0


def _rule(intent: str, pattern: str, weight: float = 1.0) -> IntentRule:
    return IntentRule(intent, re.compile(pattern), weight)


# Patterns run on normalised text (NFKC, lower case). They are deliberately narrow: the n-grams cover paraphrases,
# the rules pin down wordings that leave little doubt.
RULES: tuple[IntentRule, ...] = (
    _rule("complaint", r"投诉|12315|工商局?|消协|举报|曝光你|维权|找小二|平台介入|差评(?!师)|骗子|黑店|坑人|坑死|什么破店|破快递|虚假宣传|无良|奸商|二手货当|什么态度|服务态度|态度(?:差|极差|恶劣|好冲)|爱答不理|不理人|骂人|机器人回复|没人管|说好.{0,8}结果|凭什么|到底发没发|糊弄|忽悠", 1.3),
    _rule("refund", r"退款|退钱|把钱退|钱退|退我钱|仅退款|退差价|退回.{0,3}钱|钱.{0,4}退回|什么时候退(?!货)|怎么还没退(?!货)|款退|退了吗", 1.2),
    _rule("return_exchange", r"退货|换货|退换|换一件|换个|换成|换一个|换码|换大|换小|寄回|退回去|七天无理由|7天无理由|包退|退了吧", 1.1),
    _rule("change_address", r"改.{0,3}地址|地址.{0,6}(?:改|错|换|填错|写错|不对|变)|修改.{0,2}收货|换.{0,2}收货地|收件人.{0,4}改|电话.{0,3}(?:写错|填错)|寄到.{0,6}(?:公司|单位|家里)吧", 1.2),
    _rule("invoice", r"发票|开票|税号|抬头|普票|专票|增值税", 1.2),
    _rule("urge_shipping", r"催|(?:快|赶紧|尽快|早点|麻烦|抓紧)(?:点|些)?(?:给我|帮我)?(?:发货|发出|发走|寄出|发)|怎么还(?:没|不)(?:发|寄)|还不发|还没发|咋还没发|几天了?(?:还|都)?没发|拍了.{0,6}(?:还|都)没发|急用|等着用|(?:一定|务必|必须|拜托|求求?).{0,4}(?:发|寄)|求快|快一点|加急|先发我|优先.{0,3}发|赶时间|多久才发|发不发|待发货|未发货|没发货|急急", 1.1),
    _rule("where_is_parcel", r"物流|快递.{0,4}(?:到哪|在哪|怎么|没动|不动|停|信息)|到哪了|到哪里了|在哪了|单号|查一下.{0,2}(?:快递|包裹)|包裹.{0,4}(?:呢|哪|没到|还没)|还没(?:到|收到)|没收到|怎么还不到|显示签收|没更新|(?:包裹|快递|件).{0,3}丢|中转|快件|派件|揽收|发出来了吗|驿站|签收", 1.0),
    _rule("shipping_time", r"什么时候发|几时发|多久发|何时发|哪天发|今天.{0,3}(?:能|可以|会)?发|明天.{0,2}(?:能|可以|会)?发|几天.{0,2}(?:能|可以)?发|发货时间|多久(?:能|可以)?到|几天(?:能|可以)?到|什么时候(?:能)?到|当天发|发什么快递|发哪个快递|用什么快递|来得及|截单|发货快不快|周[末一二三四五六日]发|指定.{0,4}发", 0.9),
    _rule("free_shipping", r"包邮|免邮|运费|邮费|快递费|偏远地区|新疆|西藏", 0.9),
    _rule("bargaining", r"便宜|优惠|少点|少一点|折扣|打折|讲价|砍价|抹零|优惠券|券|满减|最低价|老顾客|老客户|送点|送个|送啥|赠品|有没有活动|活动价|降价|价格.{0,3}(?:能|可以)|半价|抹.{0,2}零|最低|团购|批发|内部价|实价|改价|贵|(?:行不行|可以吗).{0,3}(?:行|就)拍|什么活动|有活动", 0.9),
    _rule("authenticity", r"正品|真的吗|真货|假货|假的|是真的|原装|专柜|验货|防伪|授权|高仿|a货|水货|山寨|品牌方|真假|真伪|仿的|正规渠道|凭证|货源|假一", 1.0),
    _rule("stock", r"有货|有没有货|没货|缺货|库存|还有吗|现货|补货|到货|断货|卖完|售罄|预售|还剩|备齐|拍不了|买不到|能买到|下架|没了吗|还有没有", 1.0),
    _rule("size_spec", r"尺码|码数|穿多大|多大码|几码|什么码|偏大|偏小|尺寸|规格|多长|多宽|多高|多重|多少克|身高|体重|斤|腰围|胸围|大一码|小一码|参数|型号|适合.{0,4}(?:岁|宝宝|孩子)|几个人|几人份|容量|多少毫升|ml|cm|厘米|几片|几个装|说明书|怎么用|能用多久|保质期|洗碗机|微波炉|能放|材质|面料|什么料|加绒|功率|电压|几升", 0.8),
    _rule("quality_problem", r"质量.{0,3}(?:差|不好|问题|太差|堪忧)|坏了|坏的|破了|破洞|开线|开胶|脱线|掉色|褪色|起球|起毛|有色差|色差|线头|有异味|味道.{0,2}(?:大|重|难闻)|漏了|漏水|不能用|用不了|不工作|打不开|不亮|不制冷|碎了|裂了|裂开|划痕|瑕疵|污渍|脏了|发霉|变质|过期|少了.{0,2}(?:个|件|配件)|少发|漏发|发错(?:货|了|颜色|尺码|款)|不对版|货不对板|烂了|鼓包|污点|裂缝|硬邦邦|扎人|太薄|好薄|没声音|没反应|死机|不保温|开线|起球", 1.0),
    _rule("thanks", r"谢谢|感谢|多谢|thx|thanks|3q|辛苦了|好评|赞|给力|满意|五星|点赞|好的收到|收到了很|很喜欢|挺好的", 0.8),
)


def rule_scores(normalised: str) -> dict[str, float]:
    """Each intent whose rule fires on the normalised text, with its weight (at most one entry per intent)."""
    scores: dict[str, float] = {}
    for rule in RULES:
        if rule.intent not in scores and rule.pattern.search(normalised):
            scores[rule.intent] = rule.weight
    return scores


def rule_intents(normalised: str) -> tuple[str, ...]:
    """The intents whose rules fire, strongest first."""
    scores = rule_scores(normalised)
    return tuple(sorted(scores, key=lambda intent: -scores[intent]))
