"""The promise guard: every outgoing reply checked against what the shop can keep, with reasons and safer wording.

Pure: `check_text(text, facts, context)` returns a GuardVerdict: allow / warn / block, one GuardReason per problem
(code, Chinese and English message, a safer wording), and every firm promise the text makes (what, due when) so it
can be tracked. It catches ship-today and dated-delivery promises past the cut-off or beyond the region's transit
time, 包邮 to provinces the freight template charges, invoices only against a surcharge (or refused), gifts not on
offer, guaranteed outcomes the shop does not back, cash on delivery where it is not supported, and — always blocked —
any reward tied to writing, changing or deleting a review; couriers the shop does not use and a same-day cut-off
stated later than the shop's are warned about. A high-risk buyer turns every warning into a block.

The shop's facts come from configuration (`ShopFacts.from_rules(shop_rules(...))`, key `promise_guard`) or from the
knowledge base (services.shop_facts). Hedged wording (一般/预计/尽量…), negations (不包邮, 暂不支持货到付款) and
conditions (16点前付款当天发) are not promises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from kefu.domain.carriers import CARRIERS, carrier_code
from kefu.domain.promises.wording import (
    clauses_of,
    is_conditional,
    is_hedged,
    is_negated,
    number_of,
    sentences_of,
)

Action = Literal["allow", "warn", "block"]
_ORDER = {"allow": 0, "warn": 1, "block": 2}

DEFAULT_REMOTE_PROVINCES = ("新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃")


@dataclass(frozen=True)
class ShopFacts:
    """What the shop can keep: shipping, freight, payment, invoices, gifts, couriers and backed guarantees."""

    timezone: str = "Asia/Shanghai"
    same_day_shipping: bool = True  # orders paid before ship_cutoff leave the same day
    ship_cutoff: time | None = time(16, 0)  # local time; None = no same-day cut-off known
    ship_promise_hours: int = 48  # the listing's promise: paid → shipped
    ships_on_weekends: bool = True
    free_shipping: bool = True
    free_shipping_excluded_provinces: tuple[str, ...] = DEFAULT_REMOTE_PROVINCES  # the freight template charges these
    remote_provinces: tuple[str, ...] = DEFAULT_REMOTE_PROVINCES  # slower transit
    min_transit_days: int = 1  # fastest courier transit to an ordinary province (days after the ship day)
    remote_min_transit_days: int = 4  # ... and to a remote one
    cash_on_delivery: bool = False
    invoices: bool = True  # invoices issued on request, free (never "补差价")
    gifts: tuple[str, ...] = ()  # gifts actually on offer, as sellers write them (e.g. 袜子, 小样)
    couriers: tuple[str, ...] = ()  # couriers the shop ships with (names or codes); empty = not checked
    backed_guarantees: tuple[str, ...] = ()  # guarantee wordings the shop really backs (e.g. 假一赔三, 正品保证)

    @classmethod
    def from_rules(cls, rules: Mapping[str, Any]) -> ShopFacts:
        """Facts from a shop's rules (kefu.config.shop_rules): the `promise_guard` section plus the timezone."""
        section = dict(rules.get("promise_guard") or {})
        section.setdefault("timezone", rules.get("timezone", "Asia/Shanghai"))
        return cls.from_mapping(section)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ShopFacts:
        """Facts from a plain mapping (JSON): unknown keys refused, "16:00" read as a time, lists as tuples."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown shop fact {unknown[0]!r}; known: {', '.join(sorted(known))}")
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key == "ship_cutoff":
                kwargs[key] = _time_of(value)
            elif key in ("free_shipping_excluded_provinces", "remote_provinces", "gifts", "couriers",
                         "backed_guarantees"):
                if isinstance(value, str) or not isinstance(value, Iterable):
                    raise ValueError(f"shop fact {key!r} must be a list, got {value!r}")
                kwargs[key] = tuple(str(item) for item in value)
            elif key in ("ship_promise_hours", "min_transit_days", "remote_min_transit_days"):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"shop fact {key!r} must be a whole number ≥ 0, got {value!r}")
                kwargs[key] = value
            elif key == "timezone":
                ZoneInfo(str(value))  # raises for an unknown zone
                kwargs[key] = str(value)
            else:
                if not isinstance(value, bool):
                    raise ValueError(f"shop fact {key!r} must be true or false, got {value!r}")
                kwargs[key] = value
        return cls(**kwargs)


def _time_of(value: Any) -> time | None:
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"shop fact 'ship_cutoff' must be HH:MM, got {value!r}")
    return time(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class GuardContext:
    """Who the reply goes to and when: the buyer's province, the time now (aware; naive = UTC), high-risk buyer."""

    province: str | None = None
    now: datetime | None = None
    high_risk: bool = False


@dataclass(frozen=True)
class GuardReason:
    """One problem: a stable code, why (zh and en), a wording the shop can keep, and this reason's own action."""

    code: str
    message_zh: str
    message_en: str
    safer_wording: str
    action: Action = "warn"


@dataclass(frozen=True)
class PromiseFound:
    """One firm promise the reply makes: its kind, the words that made it, and when it falls due (None = unknown)."""

    kind: str
    text: str
    due_at: datetime | None = None


@dataclass(frozen=True)
class GuardVerdict:
    """The guard's answer for one reply."""

    risky: bool
    action: Action
    reasons: tuple[GuardReason, ...] = ()
    promises: tuple[PromiseFound, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (due times as ISO 8601)."""
        return {
            "risky": self.risky,
            "action": self.action,
            "reasons": [
                {"code": r.code, "action": r.action, "message_zh": r.message_zh, "message_en": r.message_en,
                 "safer_wording": r.safer_wording}
                for r in self.reasons
            ],
            "promises": [
                {"kind": p.kind, "text": p.text, "due_at": p.due_at.isoformat() if p.due_at else None}
                for p in self.promises
            ],
        }


# ---------------------------------------------------------------- the shop's clock


@dataclass(frozen=True)
class _Clock:
    now: datetime | None  # in the shop's timezone
    zone: ZoneInfo

    @property
    def today(self) -> date | None:
        return self.now.date() if self.now else None

    def end_of(self, day: date) -> datetime:
        return datetime.combine(day, time(23, 59, 59), tzinfo=self.zone)


def _clock(facts: ShopFacts, now: datetime | None) -> _Clock:
    zone = ZoneInfo(facts.timezone)
    if now is None:
        return _Clock(None, zone)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return _Clock(now.astimezone(zone), zone)


def earliest_ship_day(facts: ShopFacts, clock: _Clock) -> date | None:
    """The first day an order paid now can leave: today before the cut-off (same-day shops), else the next day."""
    if clock.now is None:
        return None
    day = clock.now.date()
    before_cutoff = facts.ship_cutoff is not None and clock.now.time() < facts.ship_cutoff
    if not (facts.same_day_shipping and before_cutoff):
        day += timedelta(days=1)
    while not facts.ships_on_weekends and day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _matches_province(name: str, provinces: Iterable[str]) -> bool:
    return any(name.startswith(p) or p.startswith(name) for p in provinces if p)


def _provinces_named(text: str, facts: ShopFacts, context: GuardContext) -> list[str]:
    names = [p for p in dict.fromkeys((*facts.free_shipping_excluded_provinces, *facts.remote_provinces)) if p in text]
    if context.province:
        names.append(context.province.strip())
    return names


# ---------------------------------------------------------------- time words

_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_DAY_WORD = re.compile(
    r"(?P<rel>今天|今日|当天|当日|明天|明日|次日|后天|大后天)"
    r"|(?:这|本|下)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天末])"
    r"|(?:(?P<month>\d{1,2})月)?(?P<dom>\d{1,2})(?:号|日)"
    r"|(?P<span>\d+|[一二两三四五六七八九十]+)(?P<unit>个?小时|天|日)(?:之?内)?"
)
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "当天": 0, "当日": 0, "明天": 1, "明日": 1, "次日": 1, "后天": 2, "大后天": 3}


def due_in(clause: str, clock: _Clock) -> tuple[datetime | None, str | None]:
    """When a clause's time words fall due (end of that day, or now + hours), and the words; (None, None) if none."""
    match = _DAY_WORD.search(clause)
    if not match:
        if re.search(r"马上|立刻|立即|现在|尽快|稍后|一会儿?", clause):
            return (clock.end_of(clock.today) if clock.today else None), "today"
        return None, None
    words = match.group(0)
    if clock.now is None:
        return None, words
    today = clock.now.date()
    if match["rel"]:
        return clock.end_of(today + timedelta(days=_RELATIVE_DAYS[match["rel"]])), words
    if match["wd"]:
        target = _WEEKDAY[match["wd"]]
        ahead = (target - today.weekday()) % 7
        if words.startswith("下"):
            ahead += 7 if ahead else 7
        return clock.end_of(today + timedelta(days=ahead)), words
    if match["dom"]:
        day, month = int(match["dom"]), int(match["month"]) if match["month"] else today.month
        year = today.year
        try:
            target = date(year, month, day)
            if target < today and not match["month"]:
                target = date(year + (month == 12), month % 12 + 1, day)
            elif target < today:
                target = date(year + 1, month, day)
        except ValueError:
            return None, words
        return clock.end_of(target), words
    amount = number_of(match["span"])
    if amount is None:
        return None, words
    if "小时" in match["unit"]:
        return clock.now + timedelta(hours=amount), words
    return clock.end_of(today + timedelta(days=amount)), words


# ---------------------------------------------------------------- patterns

_CLOSED = re.compile(r"截单|截止|停止发货|来不及|赶不上|发不了|发不出|不发货|暂停发货|休息")  # "今天的发货已截单" is no promise
_SHIP_VERB = r"(?:发货|发出|发走|寄出|出库|发(?=[了吧哦哈呢啦的给出。，,!！~\s]|$))"
_SHIP_TODAY = re.compile(r"(?:今天|今日|当天|当日|马上|立刻|立即|现在)[^，,。]{0,8}?" + _SHIP_VERB)
_SHIP_ANY = re.compile(
    r"(?:今天|今日|当天|当日|明天|明日|次日|后天|周[一二三四五六日天末]|星期[一二三四五六日天]|\d{1,2}[号日]"
    r"|\d+个?小时|[一二两三]天|马上|立刻|立即|现在|尽快)[^，,。]{0,8}?" + _SHIP_VERB
)
_DELIVER = re.compile(
    r"(?:今天|今日|当天|明天|明日|次日|后天|大后天|周[一二三四五六日天末]|星期[一二三四五六日天]|礼拜[一二三四五六日天]"
    r"|\d{1,2}[号日]|\d+天|[一二两三四五六七]天)[^，,。]{0,8}?(?:送到|送达|到货|收到|能到|就到|可到|会到|必到|到(?=[了吧哦哈呢啦的家手您你。，,!！~\s]|$))"
)
_FREE_SHIPPING = re.compile(r"包邮|免运费|免邮|不收运费|不要运费|运费(?:我们|我|店里|店铺)?(?:出|承担|包了)")
_NATIONWIDE = re.compile(r"全国(?:都)?包邮|哪里都包邮|都包邮|全部包邮|偏远.{0,4}(?:也|都)包邮")
_COD = re.compile(r"货到付款|货到付|cod\b|收到货?再(?:付款|付钱|给钱)|先发货后付款|到了再付|(?<![运邮费])到付")
_FREIGHT_WORDS = re.compile(r"运费|邮费|快递费")  # "运费到付" is freight collect, not cash on delivery
_EXCLUSION = re.compile(r"除|以外|之外|不包括|不含|不在")  # "包邮（新疆西藏除外）" names the exclusion honestly
_REGIONAL = re.compile(r"江浙沪|江浙皖?|珠三角|长三角|省内|同城|市内|本市|本省|部分地区|指定地区")
_INVOICE = re.compile(r"发票|开票|专票|普票|税票")
_INVOICE_SURCHARGE = re.compile(r"补差价|补(?:个|点)?税|税点|税费|算钱|加价|加(?:\d+|[一二两三四五六七八九十几]+)?个?点|另(?:外)?(?:收|加|付)|加钱|加收|额外|收费|手续费|要加|需加|得加|多付")
_INVOICE_REFUSED = re.compile(r"(?:不开|开不了|不提供|不能开|没法开|无法开|不给开|不支持开)(?:具)?(?:发票|票)|(?:发票|票)(?:开不了|不开|不提供|没有)")
_GIFT = re.compile(
    r"(?:送|赠送|赠|附送|加送|额外送|再送|多送)(?!货|到|达|上门|出|件|过去|来|回|您到|你到|人|给朋友|礼|品)"
    r"(?:您|你|给您|给你)?(?:[一二两三四五1-9]|个|份|只|张|件|套|盒|瓶|包|双|对|袋)*(?P<item>[\u4e00-\u9fffa-z]{1,8})"
)
_GUARANTEE = re.compile(
    r"保证(?:不|没有?)?(?:掉色|褪色|起球|缩水|变形|坏|过敏|有效|满意|效果|瘦|白|好用|质量|治好|不会)"
    r"|(?:百分百|百分之百|100%)(?:满意|有效|正品|好评|没问题|不(?:掉色|褪色|起球|过敏))"
    r"|绝对(?:不会|没有|正品|不掉色|满意|有效|没问题|不起球|不过敏)|假一(?:罚|赔)(?:十|百|万|三|\d+)"
    r"|永不(?:褪色|掉色|变形|起球|坏)|终身(?:保修|质保|包换|包退)|包(?:好|治|瘦|满意|用到)"
    r"|无效(?:全额)?退款|不满意(?:全额)?退款"
)
_REVIEW = re.compile(r"好评|差评|中评|评价|追评|评论|五星|5星|晒图|评分")
_REVIEW_ACTION = re.compile(r"改|删|撤|追加|修改|换成|给个|给|打|写|晒|留|发|返现")
_REWARD = re.compile(
    r"返现|返还|返(?:您|你)|红包|补偿|退(?:您|你)|优惠券|券|礼物|赠品|送|奖励|现金|\d+元|块钱|\d+块|报销|免单|退款|退差价|好处|返利|打款|转(?:您|你)"
)
_CARRIER_NAMES = sorted(
    {alias.lower() for c in CARRIERS for alias in (c.name, *c.aliases) if re.fullmatch(r"[\u4e00-\u9fff]+(?:ems)?|ems|sf", alias.lower())},
    key=len, reverse=True,
)
_COURIER_PROMISE = re.compile(
    r"(?:发|走|用|安排|换成?|改成?)(?:您|你)?(?P<name>" + "|".join(re.escape(n) for n in _CARRIER_NAMES) + r")"
)
_STATED_CUTOFF = re.compile(
    r"(?P<noon>下午|晚上)?(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?(?:点|时)(?:半)?(?:之?前|以前)[^,，。]{0,4}(?:付款|下单|拍|支付)[^,，。]{0,6}(?:当天|当日|今天)"
)
_PROMISE_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("refund", re.compile(r"(?:给您|给你|帮您|帮你|会|马上|立即|今天|已经在)?.{0,3}(?:退款|退钱|把钱退|退给您|退给你|退差价)")),
    ("reship", re.compile(r"补发|重新(?:给您|给你)?发|再(?:给您|给你)?发一(?:个|件|份)")),
    ("exchange", re.compile(r"(?:给您|给你|帮您|帮你)换|换(?:个|一个|一件)新的|换新")),
    ("callback", re.compile(r"(?:稍后|等下|一会儿?|明天|尽快|马上|核实后|查一下再?)[^，,。]{0,4}(?:回复|答复|联系您|联系你|回电|回您|回你|给您消息|给您答复)")),
    ("compensation", re.compile(r"补偿|赔(?:您|你|偿)|(?:给您|给你)(?:发|补)?(?:个|一个)?(?:红包|优惠券)")),
    ("invoice", re.compile(r"(?:给您|给你|帮您|帮你|会|可以)?(?:开|寄|补开|开具)(?:好)?(?:电子)?(?:发票|票)")),
)


@dataclass
class _Found:
    reasons: dict[str, GuardReason] = field(default_factory=dict)
    promises: list[PromiseFound] = field(default_factory=list)

    def add(self, code: str, action: Action, zh: str, en: str, safer: str) -> None:
        current = self.reasons.get(code)
        if current is None or _ORDER[action] > _ORDER[current.action]:
            self.reasons[code] = GuardReason(code, zh, en, safer, action)

    def promise(self, kind: str, text: str, due_at: datetime | None) -> None:
        if not any(p.kind == kind and p.text == text for p in self.promises):
            self.promises.append(PromiseFound(kind, text, due_at))


def _cutoff_words(facts: ShopFacts) -> str:
    return facts.ship_cutoff.strftime("%H:%M") if facts.ship_cutoff else "截单时间"


# ---------------------------------------------------------------- checks


def _check_shipping(clause: str, facts: ShopFacts, clock: _Clock, found: _Found) -> None:
    for match in _SHIP_ANY.finditer(clause):
        if is_negated(clause, match.start()) or is_conditional(clause) or is_hedged(clause) or _CLOSED.search(clause):
            continue
        due, _ = due_in(match.group(0), clock)
        found.promise("ship", clause, due)
        if not _SHIP_TODAY.search(match.group(0)):
            continue
        first_day = earliest_ship_day(facts, clock)
        cutoff = _cutoff_words(facts)
        if not facts.same_day_shipping:
            found.add("ship_same_day", "block", "本店不支持当天发货，不能承诺今天发。",
                      "The shop does not ship the same day; do not promise shipping today.",
                      f"亲，我们会在付款后{facts.ship_promise_hours}小时内发出，发出后第一时间同步单号给您哦。")
        elif first_day is None:
            found.add("ship_same_day", "warn", f"当天发货取决于是否在{cutoff}前付款，请确认时间后再承诺。",
                      f"Same-day shipping depends on payment before {cutoff}; check the time before promising.",
                      f"亲，{cutoff}前付款的订单当天发出，之后付款的次日发出哦。")
        elif clock.today is not None and first_day > clock.today:
            found.add("ship_same_day", "block", f"已过今天{cutoff}的截单时间，今天发不出，不能承诺今天发。",
                      f"Past today's {cutoff} cut-off: the parcel cannot leave today.",
                      f"亲，今天的发货已截单，您的订单会在{first_day.month}月{first_day.day}日发出，发出后同步单号给您。")


def _check_delivery(clause: str, text: str, facts: ShopFacts, context: GuardContext, clock: _Clock,
                    found: _Found) -> None:
    for match in _DELIVER.finditer(clause):
        if is_negated(clause, match.start()) or is_hedged(clause):
            continue
        due, _ = due_in(match.group(0), clock)
        found.promise("deliver", clause, due)
        provinces = _provinces_named(text, facts, context)
        remote = any(_matches_province(p, facts.remote_provinces) for p in provinces)
        transit = facts.remote_min_transit_days if remote else facts.min_transit_days
        first_day = earliest_ship_day(facts, clock)
        where = "偏远地区" if remote else "该地区"
        if due is not None and first_day is not None and due.date() < first_day + timedelta(days=transit):
            earliest = first_day + timedelta(days=transit)
            found.add("delivery_date", "block",
                      f"最早{first_day.month}月{first_day.day}日发出，{where}运输至少{transit}天，{match.group(0)}做不到。",
                      f"The parcel leaves {first_day.isoformat()} at the earliest and needs {transit}+ days in transit; "
                      f"'{match.group(0)}' cannot be kept.",
                      f"亲，预计{earliest.month}月{earliest.day}日左右送达，具体以快递实际派送为准哦。")
        else:
            found.add("delivery_date", "warn", "到货时间由快递决定，店铺不能保证具体日期。",
                      "Delivery dates depend on the courier; the shop cannot guarantee a day.",
                      "亲，一般发出后1-3天送达（偏远地区会久一些），具体以快递实际派送为准哦。")


def _check_free_shipping(clause: str, text: str, facts: ShopFacts, context: GuardContext, found: _Found) -> None:
    for match in _FREE_SHIPPING.finditer(clause):
        if is_negated(clause, match.start()) or is_conditional(clause):
            continue
        if not facts.free_shipping:
            found.add("free_shipping", "block", "本店商品不包邮，承诺包邮属于违背承诺。",
                      "The shop does not offer free shipping; promising it is a broken promise.",
                      "亲，运费按页面运费模板计算，下单时会显示具体运费哦。")
            return
        if _EXCLUSION.search(clause) or _REGIONAL.search(clause):
            found.promise("free_shipping", clause, None)
            continue
        named = [p for p in _provinces_named(clause, facts, context) if _matches_province(p, facts.free_shipping_excluded_provinces)]
        if not named and context.province is None:
            named = [p for p in _provinces_named(text, facts, context)
                     if _matches_province(p, facts.free_shipping_excluded_provinces)]
        if named:
            found.add("free_shipping_remote", "block", f"{named[0]}不在包邮范围内，运费模板会另收运费。",
                      f"{named[0]} is outside the free-shipping area: the freight template charges it.",
                      f"亲，{named[0]}属于偏远地区，不在包邮范围，需要补运费，下单时会显示具体金额哦。")
        elif _NATIONWIDE.search(clause) and facts.free_shipping_excluded_provinces:
            excluded = "、".join(facts.free_shipping_excluded_provinces)
            found.add("free_shipping_remote", "warn", f"并非全国包邮：{excluded}需补运费。",
                      f"Not free everywhere: {excluded} pay freight.",
                      f"亲，除{excluded}等偏远地区外包邮哦。")
        found.promise("free_shipping", clause, None)


def _check_cod(clause: str, facts: ShopFacts, found: _Found) -> None:
    match = _COD.search(clause)
    if match and match.group(0) == "到付" and _FREIGHT_WORDS.search(clause):
        return
    if match and not is_negated(clause, match.start()) and not facts.cash_on_delivery:
        found.add("cash_on_delivery", "block", "本店不支持货到付款。", "The shop does not support cash on delivery.",
                  "亲，本店暂不支持货到付款，拍下付款后我们尽快发出，平台担保交易，确认收货后卖家才收到款项，请放心哦。")


def _check_invoice(clause: str, facts: ShopFacts, found: _Found) -> None:
    if not _INVOICE.search(clause):
        return
    if _INVOICE_SURCHARGE.search(clause) and not re.search(r"不(?:需要|用|会|收)(?:补|加|另|额外)", clause):
        found.add("invoice_surcharge", "block", "开发票不能要求补差价或加收税点，这属于违背承诺。",
                  "Charging extra (补差价 / tax points) for an invoice is a broken promise under platform rules.",
                  "亲，发票可以正常开具，不收任何额外费用，麻烦提供抬头和税号哦。")
    elif _INVOICE_REFUSED.search(clause):
        found.add("invoice_refused", "block", "拒绝开具发票属于违背承诺。",
                  "Refusing an invoice is a broken promise under platform rules.",
                  "亲，发票可以开具的，麻烦提供抬头和税号，我们开好后发给您。")


def _check_gift(clause: str, facts: ShopFacts, found: _Found) -> None:
    for match in _GIFT.finditer(clause):
        if is_negated(clause, match.start()) or is_hedged(clause) or (is_conditional(clause) and "满" not in clause):
            continue
        item = match["item"]
        if re.match(r"(?:达|货|到|出|给您|的|上门|快递)", item):
            continue
        on_offer = [gift for gift in facts.gifts if gift and gift in clause]
        found.promise("gift", clause, None)
        if not on_offer:
            offered = "、".join(facts.gifts) if facts.gifts else "无"
            found.add("gift_not_offered", "warn", f"“{item}”不在店铺赠品清单中（当前赠品：{offered}）。",
                      f"'{item}' is not a gift the shop offers (gifts on offer: {', '.join(facts.gifts) or 'none'}).",
                      "亲，赠品以活动页面为准，我帮您备注一下您的需求哦。")


def _check_courier(clause: str, facts: ShopFacts, found: _Found) -> None:
    if not facts.couriers:
        return
    shop_codes = {carrier_code(name) or name for name in facts.couriers}
    for match in _COURIER_PROMISE.finditer(clause):
        if is_negated(clause, match.start()) or clause.rstrip().endswith(("吗", "?", "？")):
            continue
        code = carrier_code(match["name"])
        if code and code not in shop_codes:
            offered = "、".join(facts.couriers)
            found.add("courier_not_available", "warn", f"本店不走{match['name']}（合作快递：{offered}）。",
                      f"The shop does not ship with {match['name']} (couriers: {', '.join(facts.couriers)}).",
                      f"亲，我们合作的快递是{offered}，我帮您备注优先安排哦。")


def _check_stated_cutoff(clause: str, facts: ShopFacts, found: _Found) -> None:
    match = _STATED_CUTOFF.search(clause)
    if not match:
        return
    hour = int(match["hour"]) + (12 if match["noon"] and int(match["hour"]) < 12 else 0)
    stated = time(min(23, hour), int(match["minute"] or (30 if "半" in match.group(0) else 0)))
    if not facts.same_day_shipping or (facts.ship_cutoff is not None and stated > facts.ship_cutoff):
        real = _cutoff_words(facts) if facts.same_day_shipping else None
        found.add("ship_cutoff_misstated", "warn",
                  f"说的截单时间晚于店铺实际（{real}）。" if real else "本店不支持当天发货。",
                  f"The stated cut-off is later than the shop's ({real})." if real else "The shop does not ship the same day.",
                  f"亲，{real}前付款的订单当天发出，之后付款的次日发出哦。" if real
                  else f"亲，我们会在付款后{facts.ship_promise_hours}小时内发出哦。")


def _check_guarantee(clause: str, facts: ShopFacts, found: _Found) -> None:
    for match in _GUARANTEE.finditer(clause):
        if is_negated(clause, match.start()):
            continue
        if any(backed and backed in clause for backed in facts.backed_guarantees):
            continue
        found.add("guaranteed_outcome", "warn", f"“{match.group(0)}”是店铺没有承诺过的保证，做不到就是违背承诺。",
                  f"'{match.group(0)}' guarantees an outcome the shop does not back.",
                  "亲，我们的商品都经过质检，收到后有任何问题随时联系我们，按平台规则为您处理哦。")


def _check_review_reward(sentence: str, found: _Found) -> None:
    review = _REVIEW.search(sentence)
    if not review:
        return
    if "好评返现" in sentence or "返现" in sentence:
        rewarded = True
    else:
        rewarded = bool(_REWARD.search(sentence)) and bool(_REVIEW_ACTION.search(sentence))
    if rewarded and not is_negated(sentence, review.start(), window=10):
        found.add("review_reward", "block", "用返现、红包、退款、赠品等换取好评或修改/删除评价违反平台规则。",
                  "Tying money, coupons, refunds or gifts to a review (writing, changing or deleting it) breaks "
                  "platform rules.",
                  "亲，给您带来不便非常抱歉，问题我们会负责处理好；评价请您根据真实体验填写就好。")


def _extract_other_promises(clause: str, clock: _Clock, found: _Found) -> None:
    if is_hedged(clause) or is_conditional(clause) or clause.rstrip().endswith(("吗", "?", "？", "呢")):
        return
    for kind, pattern in _PROMISE_KINDS:
        match = pattern.search(clause)
        if match and not is_negated(clause, match.start() + len(match.group(0)) - 2, window=8):
            due, _ = due_in(clause, clock)
            found.promise(kind, clause, due)


def check_text(text: str, facts: ShopFacts | None = None, context: GuardContext | None = None) -> GuardVerdict:
    """Check one outgoing reply against the shop's facts; see the module docstring for what is caught."""
    facts = facts or ShopFacts()
    context = context or GuardContext()
    normalised = _normalise(text)
    clock = _clock(facts, context.now)
    found = _Found()
    for sentence in sentences_of(normalised):
        _check_review_reward(sentence, found)
        for clause in clauses_of(sentence):
            _check_shipping(clause, facts, clock, found)
            _check_delivery(clause, normalised, facts, context, clock, found)
            _check_free_shipping(clause, normalised, facts, context, found)
            _check_cod(clause, facts, found)
            _check_invoice(clause, facts, found)
            _check_gift(clause, facts, found)
            _check_guarantee(clause, facts, found)
            _check_courier(clause, facts, found)
            _check_stated_cutoff(clause, facts, found)
            _extract_other_promises(clause, clock, found)
    reasons = []
    for reason in found.reasons.values():
        if context.high_risk and reason.action == "warn":
            reason = GuardReason(reason.code, reason.message_zh + "（高风险买家，已升级为拦截）",
                                 reason.message_en + " (high-risk buyer: blocked)", reason.safer_wording, "block")
        reasons.append(reason)
    action: Action = max((r.action for r in reasons), key=lambda a: _ORDER[a], default="allow")
    return GuardVerdict(action != "allow", action, tuple(reasons), tuple(found.promises))


def _normalise(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text or "").lower().replace("\u3000", " ").strip()


__all__ = [
    "GuardContext",
    "GuardReason",
    "GuardVerdict",
    "PromiseFound",
    "ShopFacts",
    "check_text",
    "earliest_ship_day",
]
