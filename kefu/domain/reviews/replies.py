"""Reply drafts (解释) in the shop's voice, written for the future buyers who will read them under the review."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from kefu.domain.reviews.aspects import aspect_words

# Wording per topic: what the shop does about it (the fix a future buyer wants to read).
FIX_OF_TOPIC: dict[str, str] = {
    "quality.colour": "颜色我们已重新对照实物校色，详情页也补充了自然光实拍图",
    "quality.material": "这批货我们已逐件复检，有问题的会直接为您换新或退款",
    "quality.size": "详情页已补充更细的尺码表和试穿建议，拿不准时可以先问客服推荐尺码",
    "quality.style": "我们已更新实拍图，保证所见即所得",
    "promotion.unclear": "活动规则我们已在详情页写清楚，下单前也可以随时找客服确认",
    "promotion.return_freight": "退换货运费的规则我们已写在详情页显眼位置，并为您核对本单的运费",
    "logistics.slow": "我们已和快递公司沟通时效，偏远地区也会提前告知预计到货时间",
    "logistics.courier_attitude": "我们已向快递公司反馈派送问题，也可以在下单时备注指定快递",
    "logistics.damaged": "我们已加固包装（加厚纸箱和防撞填充），破损的会第一时间补发",
    "service.attitude": "我们已对客服做了培训，之后的咨询一定耐心答复",
}
GENERAL_FIX = "我们已记录您说的问题并在改进"


@dataclass(frozen=True)
class ReplyVoice:
    """How the shop speaks: its name, a sign-off and how it addresses buyers (亲)."""

    shop_name: str = ""
    sign_off: str = ""
    buyer_word: str = "亲"


@dataclass(frozen=True)
class ReviewForReply:
    """What a reply draft is written from."""

    review_id: str
    result: str  # good | neutral | bad
    sentiment: str | None  # positive | neutral | negative
    flagged: bool  # a good rating with negative text
    aspects: tuple[str, ...]  # praised aspects (aspects.praised_aspects)
    topics: tuple[str, ...]  # problem topics
    item_title: str | None = None
    is_follow_up: bool = False


def _pick(options: tuple[str, ...], review_id: str) -> str:
    """One of the options, always the same one for the same review (so a redraft does not flip wording)."""
    index = int(hashlib.blake2b(review_id.encode(), digest_size=2).hexdigest(), 16) % len(options)
    return options[index]


def _signed(text: str, voice: ReplyVoice) -> str:
    if voice.sign_off:
        return f"{text}{voice.sign_off}"
    if voice.shop_name:
        return f"{text}——{voice.shop_name}"
    return text


def thanks_reply(review: ReviewForReply, voice: ReplyVoice) -> str:
    """Thanks that name what the buyer liked."""
    who = voice.buyer_word
    liked = aspect_words(review.aspects)
    if liked:
        praise = _pick((
            f"感谢{who}的好评！很高兴您喜欢它的{'和'.join(liked)}，",
            f"谢谢{who}认可我们的{'、'.join(liked)}！",
            f"{who}，看到您夸{'、'.join(liked)}，我们整个团队都很开心！",
        ), review.review_id)  # fmt: skip
    else:
        praise = _pick((f"感谢{who}的好评和支持！", f"谢谢{who}的认可！", f"{who}，感谢您抽空写下评价！"), review.review_id)
    if review.is_follow_up:
        close = "用了一段时间还愿意回来追评，对我们和后来的买家都特别有帮助。"
    else:
        close = _pick((
            "我们会一直保持品质，期待您再次光临。",
            "使用中有任何问题随时找我们，期待下次再见。",
            "您的评价也能帮到后面挑选的朋友，欢迎常来。",
        ), review.review_id)  # fmt: skip
    return _signed(praise + close, voice)


def apology_reply(review: ReviewForReply, voice: ReplyVoice) -> str:
    """An apology, the fix, and an invitation to talk: for neutral and bad reviews, and flagged good ones."""
    who = voice.buyer_word
    fixes = [FIX_OF_TOPIC[topic] for topic in review.topics if topic in FIX_OF_TOPIC][:2] or [GENERAL_FIX]
    opening = "感谢您的好评，也谢谢您把不满意的地方说出来。" if review.result == "good" else (
        f"{who}，非常抱歉这次没有让您满意，给您添麻烦了。"
    )
    fix = "，".join(fixes) + "。"
    invite = _pick((
        "麻烦您联系在线客服，我们一定给您一个满意的处理。",
        "请您旺旺联系我们，我们会一对一跟进，直到问题解决。",
        "希望您给我们一次弥补的机会，联系客服我们马上处理。",
    ), review.review_id)  # fmt: skip
    return _signed(opening + fix + invite, voice)


def draft_reply(review: ReviewForReply, voice: ReplyVoice = ReplyVoice()) -> str:
    """The draft for one review: thanks for a good one that reads positive, else an apology with the fix."""
    negative_good = review.result == "good" and (review.flagged or review.sentiment == "negative")
    if review.result == "good" and not negative_good:
        return thanks_reply(review, voice)
    return apology_reply(review, voice)


def reply_deadline(review_created: datetime, window_days: int) -> datetime:
    """The last moment the shop can post its explanation under the review."""
    return review_created + timedelta(days=window_days)
