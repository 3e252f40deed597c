"""Listing self-audit: findings in a listing's title, freight and description that break a promise or leave a buyer
guessing, each with its fix. Pure; the shop's settings come in as `ShopPromises`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

FREE_SHIPPING = re.compile(r"包邮|免运费|免邮")
FREE_SHIPPING_LIMITED = re.compile(r"(偏远|新疆|西藏|港澳台).{0,8}(除外|不包邮|补运费|加运费)|部分地区(不)?包邮")
SIZE_NUMBERS = re.compile(r"(尺码|衣长|胸围|腰围|肩宽|袖长|裤长|臀围|码数)[^。\n]{0,20}\d")
SIZE_METHOD = re.compile(r"平铺|测量方法|手工测量|人工测量|误差|量法|测量方式")
WARRANTY = re.compile(r"保修|质保|包换|三包")
WARRANTY_PARTS = re.compile(r"(范围|部件|零件|不含|不包括|人为损坏|包括)")
WARRANTY_FREIGHT = re.compile(r"(运费|邮费).{0,8}(承担|负责|卖家|买家|我们|包)|(卖家|买家|我们|双方).{0,4}承担.{0,4}(运费|邮费)")
WARRANTY_PERIOD = re.compile(r"(\d+|一|二|两|三|六|十二)\s*(个月|年|天|日)")
SAME_DAY = re.compile(r"当天发|当日发|今天发|秒发|闪电发货|极速发货|(\d{1,2})\s*(小时|h|H)\s*(内)?发(货|出)|次日达|隔天到")
RETURN_FACTS = re.compile(r"七天无理由|7天无理由|七日无理由|7日无理由|无理由退|退换货|退货政策|不支持.{0,4}无理由")


@dataclass(frozen=True)
class Listing:
    """A listing as imported: the words a buyer reads and the freight that applies."""

    key: str
    title: str
    description: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    freight_free_everywhere: bool | None = None  # None: the freight template is unknown
    freight_charged_regions: tuple[str, ...] = ()
    category: str | None = None


@dataclass(frozen=True)
class ShopPromises:
    """What the shop can keep, from its settings/knowledge base."""

    same_day_shipping: bool
    ship_promise_hours: int
    ship_cutoff: str | None = None  # "16:00": same-day shipping holds only for orders paid before it
    return_exempt_categories: tuple[str, ...] = ()  # e.g. made to order: must say 不支持七天无理由
    return_exempt_keywords: tuple[str, ...] = ()  # title words that make a listing exempt (定制, 刻字 …)


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, what it says, why it matters, and the fix."""

    code: str
    severity: str  # high | medium | low
    field: str  # title | description | attributes | freight
    excerpt: str
    zh: str
    en: str
    fix_zh: str
    fix_en: str


def _excerpt(text: str, match: re.Match[str], width: int = 16) -> str:
    start, end = max(0, match.start() - width), min(len(text), match.end() + width)
    return text[start:end].strip()


def _text_of(listing: Listing) -> str:
    attrs = "；".join(f"{k}：{v}" for k, v in listing.attributes.items())
    return "\n".join(part for part in (listing.title, listing.description, attrs) if part)


def audit_listing(listing: Listing, shop: ShopPromises) -> list[Finding]:
    """Every finding for one listing, most severe first."""
    findings: list[Finding] = []
    text = _text_of(listing)
    free = FREE_SHIPPING.search(listing.title) or FREE_SHIPPING.search(listing.description)
    if free and listing.freight_free_everywhere is False and not FREE_SHIPPING_LIMITED.search(text):
        where = "、".join(listing.freight_charged_regions) or "部分地区"
        findings.append(Finding(
            "free_shipping_claim", "high", "title" if FREE_SHIPPING.search(listing.title) else "description",
            _excerpt(listing.title if FREE_SHIPPING.search(listing.title) else listing.description, free),
            f"写了“包邮”，但运费模板对{where}收运费", f"says free shipping, but the freight template charges {where}",
            f"标题改为“包邮（{where}除外）”，或把运费模板改成全国包邮",
            f"write “free shipping (except {where})” or make the freight template free everywhere"))
    sizes = SIZE_NUMBERS.search(text)
    if sizes and not SIZE_METHOD.search(text):
        findings.append(Finding(
            "size_without_method", "medium", "description", _excerpt(text, sizes),
            "给了尺寸数字，但没说怎么量", "gives sizes without saying how they are measured",
            "在尺码表下写明“平铺测量，单位厘米，误差 1–3 cm”", "add “measured flat, in cm, ±1–3 cm” under the size chart"))
    warranty = WARRANTY.search(text)
    if warranty:
        missing = [name for name, pattern in (("范围", WARRANTY_PARTS), ("运费由谁承担", WARRANTY_FREIGHT),
                                              ("期限", WARRANTY_PERIOD)) if not pattern.search(text)]
        if missing:
            findings.append(Finding(
                "warranty_without_scope", "medium", "description", _excerpt(text, warranty),
                f"写了保修/质保，但缺少：{'、'.join(missing)}", "mentions a warranty without its "
                + ", ".join({"范围": "scope", "运费由谁承担": "who pays freight", "期限": "period"}[m] for m in missing),
                "写清保修范围（哪些部件、人为损坏是否包括）、来回运费谁付、保修多久",
                "state the parts covered (and whether accidental damage is), who pays freight both ways, and how long"))
    fast = SAME_DAY.search(text)
    if fast:
        hours = fast.group(1)
        promised = int(hours) if hours else 0
        keeps = shop.same_day_shipping if not hours else promised >= shop.ship_promise_hours
        cutoff_named = shop.ship_cutoff and (shop.ship_cutoff in text or re.search(
            rf"{int(shop.ship_cutoff.split(':')[0])}\s*(点|:|：|时)", text))
        if keeps and not hours and shop.ship_cutoff and not cutoff_named:
            findings.append(Finding(
                "unqualified_same_day", "medium", "title" if SAME_DAY.search(listing.title) else "description",
                _excerpt(text, fast), f"写了“{fast.group(0)}”，但没写截单时间（{shop.ship_cutoff} 后付款当天发不出）",
                f"says “{fast.group(0)}” without the cut-off (orders paid after {shop.ship_cutoff} leave the next day)",
                f"写明“{shop.ship_cutoff} 前付款当天发”", f"say “paid before {shop.ship_cutoff}, shipped the same day”"))
        if not keeps:
            findings.append(Finding(
                "unkeepable_promise", "high", "title" if SAME_DAY.search(listing.title) else "description",
                _excerpt(text, fast), f"承诺“{fast.group(0)}”，店铺设置做不到（发货承诺 {shop.ship_promise_hours} 小时）",
                f"promises “{fast.group(0)}”, which the shop's settings cannot keep ({shop.ship_promise_hours} h)",
                f"改为“{shop.ship_promise_hours} 小时内发货”，或先调整店铺的发货设置",
                f"say “ships within {shop.ship_promise_hours} h”, or change the shop's shipping settings first"))
    if not RETURN_FACTS.search(text):
        exempt = listing.category in shop.return_exempt_categories or any(
            word in listing.title for word in shop.return_exempt_keywords)
        findings.append(Finding(
            "missing_return_facts", "high" if exempt else "low", "description", listing.title[:30],
            "没有写退换货规则" + ("（定制等不适用七天无理由的商品必须写明）" if exempt else ""),
            "no return policy stated" + (" (required: this item is exempt from 7-day no-reason returns)" if exempt else ""),
            "写明“不支持七天无理由退货（定制商品）”及质量问题的处理" if exempt else "写明“支持七天无理由退换货”及运费规则",
            "state “no 7-day no-reason returns (made to order)” and how quality problems are handled" if exempt
            else "state “7-day no-reason returns” and who pays return freight"))
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def audit_listings(listings: Sequence[Listing], shop: ShopPromises) -> dict[str, list[Finding]]:
    """Findings per listing key (listings without findings are left out)."""
    found = {listing.key: audit_listing(listing, shop) for listing in listings}
    return {key: items for key, items in found.items() if items}
