"""The demo shop's carrier scans: one Kuaidi100 push (`param` JSON) per shipped order, the same for the same shop (pure).

Parcels leave the shop's warehouse in 广州. Transit depends on the carrier (顺丰 fastest, 邮政 slowest but rarely in
trouble) and on the destination (neighbouring provinces a day, the north-east three, 新疆/西藏/青海 two to four days
more), so the courier scoreboard has something to rank. Finished orders end signed; recent ones are wherever the
clock leaves them. A handful are made to need a person: stalled at a hub (last scan 60–100 hours before the demo's
end), a problem scan (疑难/派件异常), one or two rejected (拒签), some refunds that came back (退签), and one parcel
marked shipped that no courier ever picked up (虚假发货 risk). Courier phones in the scans are invented
(139000000xx), so the redaction of phones in track text has something to do.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from random import Random

from kefu.config import shop_rules
from kefu.demo.export_writer import BEIJING
from kefu.demo.generator import (
    CLOSED,
    CLOSED_REFUND_REASON,
    FINISHED,
    SENT,
    DemoShop,
    OrderRow,
    demo_end,
)
from kefu.domain.carriers import carrier_code
from kefu.domain.rules.watch import province_key, watch_policy

ORIGIN_CITY = "广州"
COURIER_PHONE_PREFIX = "139000000"  # invented numbers only: 13900000000 … 13900000099

# Kinds of track, as DemoPush.kind.
SIGNED = "signed"  # delivered and signed for
MOVING = "moving"  # still on its way at the demo's end (collected, in transit, out for delivery, at a 驿站)
STALLED = "stalled"  # no scan for 60–100 hours before the demo's end
PROBLEM = "problem"  # a 疑难 scan (派件异常, 无法联系, 滞留, 破损)
REJECTED = "rejected"  # the buyer refused it (拒签)
RETURNED = "returned"  # refused, sent back and signed for by the shop (退签)
NO_PICKUP = "no_pickup"  # marked shipped, only the e-waybill exists: no pickup scan
KINDS = (SIGNED, MOVING, STALLED, PROBLEM, REJECTED, RETURNED, NO_PICKUP)

# Hours from the pickup scan to the delivery branch for a typical 通达系 carrier, by how far the province is from 广州.
_DISTANCE_HOURS = {
    "广东": 14, "广西": 30, "福建": 30, "湖南": 30, "江西": 32, "海南": 40,
    "浙江": 40, "江苏": 42, "上海": 40, "湖北": 36, "四川": 44, "重庆": 42, "贵州": 40, "云南": 46, "安徽": 42,
    "河南": 44, "北京": 50, "天津": 52, "河北": 52, "山东": 50, "陕西": 50, "山西": 54,
    "辽宁": 60, "吉林": 64, "黑龙江": 66, "内蒙古": 66, "甘肃": 62, "宁夏": 64,
    "新疆": 72, "西藏": 76, "青海": 66,
}
REMOTE = frozenset({"新疆", "西藏", "青海"})
# Where a parcel changes trucks on the long haul (beyond the origin and the destination's hubs).
_VIA = {"北方": "郑州", "东北": "沈阳", "西北": "西安", "西部": "兰州", "西南": "成都"}
_REGION_VIA = {"北京": "北方", "天津": "北方", "河北": "北方", "山东": "北方", "山西": "北方", "辽宁": "东北", "吉林": "东北",
               "黑龙江": "东北", "内蒙古": "东北", "陕西": "西北", "甘肃": "西北", "宁夏": "西北", "新疆": "西部",
               "青海": "西部", "西藏": "西南"}
# The capital's hub serves a province's other cities.
_CAPITALS = {"广东": "广州", "浙江": "杭州", "江苏": "南京", "山东": "济南", "四川": "成都", "福建": "福州", "湖北": "武汉",
             "河南": "郑州", "湖南": "长沙", "安徽": "合肥", "陕西": "西安", "河北": "石家庄", "辽宁": "沈阳", "江西": "南昌",
             "广西": "南宁", "云南": "昆明", "黑龙江": "哈尔滨", "吉林": "长春", "山西": "太原", "贵州": "贵阳", "海南": "海口",
             "内蒙古": "呼和浩特", "甘肃": "兰州", "宁夏": "银川", "青海": "西宁", "新疆": "乌鲁木齐", "西藏": "拉萨"}


@dataclass(frozen=True)
class CarrierStyle:
    speed: float  # multiplies the distance hours
    remote_extra: tuple[float, float]  # extra hours to 新疆/西藏/青海
    trouble: float  # relative chance of a stall, problem or loss
    hub: str  # how the carrier names its sorting centres
    branch: str  # and its delivery branches


_STYLES = {
    "shunfeng": CarrierStyle(0.6, (24, 48), 0.5, "中转场", "营业点"),
    "zhongtong": CarrierStyle(1.0, (48, 96), 1.0, "分拨中心", "网点"),
    "yuantong": CarrierStyle(1.05, (48, 96), 1.0, "转运中心", "营业部"),
    "yunda": CarrierStyle(1.1, (48, 96), 1.2, "分拨中心", "服务部"),
    "shentong": CarrierStyle(1.2, (56, 96), 1.5, "转运中心", "网点"),
    "jtexpress": CarrierStyle(1.15, (56, 96), 1.6, "转运中心", "网点"),
    "youzhengguonei": CarrierStyle(1.45, (36, 60), 0.3, "邮件处理中心", "揽投部"),
}
_DEFAULT_STYLE = _STYLES["zhongtong"]
_COURIER_NAMES = ("王师傅", "李师傅", "张师傅", "刘师傅", "陈师傅", "杨师傅", "黄师傅", "赵师傅", "周师傅", "吴师傅")
_PICKUP_POINTS = ("菜鸟驿站", "妈妈驿站", "兔喜生活", "快递超市", "丰巢智能柜")
# (statusCode, the scan text) of a 疑难 parcel: sub-states of 2 (派件异常, 无法联系, 滞留, 破损).
_PROBLEMS = (
    ("204", "快件派送不成功，原因：收件地址不详，已联系寄件方核实"),
    ("206", "快件派送不成功，原因：电话无人接听，无法联系收件人，待再次派送"),
    ("208", "快件因天气原因滞留在{branch}，恢复后将尽快派送"),
    ("209", "快件外包装破损，已做异常登记，请联系寄件方处理"),
)


# The demo seller's own postage deals (yuan per parcel), written into the shop's settings so /couriers can rank by price:
# 邮政 is cheap to the far west, where the 通达系 charge extra.
DEMO_COURIER_PRICES = {"zhongtong": 11, "yuantong": 12, "yunda": 11.5, "shentong": 15, "jtexpress": 10, "shunfeng": 20,
                       "youzhengguonei": 13}
DEMO_PROVINCE_PRICES = {
    "新疆": {"zhongtong": 22, "yuantong": 23, "yunda": 22, "shentong": 25, "jtexpress": 21, "shunfeng": 35,
             "youzhengguonei": 16},
    "西藏": {"zhongtong": 24, "yuantong": 25, "yunda": 24, "shentong": 27, "jtexpress": 23, "shunfeng": 38,
             "youzhengguonei": 17},
    "青海": {"zhongtong": 16, "yuantong": 17, "yunda": 16, "shentong": 18, "jtexpress": 15, "shunfeng": 28,
             "youzhengguonei": 14},
}


@dataclass(frozen=True)
class DemoPush:
    """The latest Kuaidi100 push for one shipped demo order: `param` is the JSON body field Kuaidi100 posts."""

    order_no: str
    waybill_no: str
    carrier_code: str
    province: str  # short name: 新疆
    kind: str  # one of KINDS
    param: str
    picked_up_at: datetime | None  # Beijing time
    signed_at: datetime | None


def _place(order: OrderRow) -> tuple[str, str, str]:
    """(short province, city without 市, district or "") from `浙江省 杭州市 西湖区 文三路***号`."""
    parts = order.receiver_address.split()
    province = province_key(parts[0]) or parts[0]
    city = parts[1].removesuffix("市") if len(parts) > 1 else province
    district = parts[2] if len(parts) > 3 and "*" not in parts[2] else ""
    return province, city, district


def _fmt(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _daytime(moment: datetime, rng: Random) -> datetime:
    """A delivery round starts in working hours: a parcel reaching the branch at night goes out the next morning."""
    local = moment.astimezone(BEIJING)
    if 7 <= local.hour < 17:
        return moment
    day = local.date() + timedelta(days=1) if local.hour >= 17 else local.date()
    return datetime.combine(day, time(8), tzinfo=BEIJING) + timedelta(minutes=rng.randrange(0, 150))


class _Track:
    """A parcel's scans in time order, each (moment, status name, status code, text)."""

    def __init__(self) -> None:
        self.scans: list[tuple[datetime, str, str, str]] = []

    def add(self, at: datetime, status: str, code: str, text: str) -> None:
        self.scans.append((at, status, code, text))

    def until(self, end: datetime) -> list[tuple[datetime, str, str, str]]:
        return [s for s in self.scans if s[0] <= end]


def _route(rng: Random, code: str, province: str, city: str, district: str, picked: datetime,
           hours: float) -> tuple[_Track, datetime, str]:
    """Scans from pickup to the delivery branch; returns them, the arrival at the branch and the branch's name."""
    style = _STYLES.get(code, _DEFAULT_STYLE)
    track = _Track()
    track.add(picked, "揽收", "1", f"【{ORIGIN_CITY}市】快件已揽收，揽收网点：{ORIGIN_CITY}白云区{style.branch}")
    hubs = [f"{ORIGIN_CITY}{style.hub}"]
    via = _VIA.get(_REGION_VIA.get(province, ""))
    if via and hours > 40:
        hubs.append(f"{via}{style.hub}")
    capital = _CAPITALS.get(province, city)
    if capital != ORIGIN_CITY:
        hubs.append(f"{capital}{style.hub}")
    if city != capital and city != ORIGIN_CITY:
        hubs.append(f"{city}{style.hub}")
    branch = f"{city}{district}{style.branch}" if district else f"{city}{style.branch}"
    # Spread the travel over the legs; no leg longer than ~26 h so a healthy parcel never looks stalled.
    legs = max(len(hubs), math.ceil(hours / 26))
    while len(hubs) < legs:
        hubs.insert(-1 if len(hubs) > 1 else 1, hubs[-1] if len(hubs) > 1 else hubs[0])
    moment = picked + timedelta(hours=rng.uniform(1, 3))
    step = max(hours - 3, 4) / legs
    for leg, (here, there) in enumerate(zip(hubs, [*hubs[1:], branch])):
        if leg:
            moment += timedelta(hours=step * rng.uniform(0.8, 1.2))
        if here == there:
            track.add(moment, "在途", "1002", f"快件在 【{here}】 完成分拣，准备发往下一站")
        else:
            track.add(moment, "在途", "1002", f"快件离开 【{here}】 已发往 【{there}】")
    moment += timedelta(hours=step * rng.uniform(0.8, 1.2))
    track.add(moment, "到达派件城市", "1001", f"【{city}市】快件已到达 {branch}")
    return track, moment, branch


def _courier(rng: Random) -> str:
    return f"{rng.choice(_COURIER_NAMES)},{COURIER_PHONE_PREFIX}{rng.randrange(100):02d}"


def _deliver(track: _Track, rng: Random, city: str, arrived: datetime, latest: datetime | None) -> datetime:
    """Out for delivery, then signed (by hand, or left at a 驿站 and collected); returns the signing moment."""
    out = _daytime(arrived + timedelta(hours=rng.uniform(0.5, 3)), rng)
    signed = out + timedelta(hours=rng.uniform(0.5, 5))
    drop_point = rng.random() < 0.45
    picked_up_later = timedelta(hours=rng.uniform(2, 30)) if drop_point else timedelta(0)
    if latest is not None and signed + picked_up_later > latest:  # the buyer confirmed receipt by then
        shift = signed + picked_up_later - latest + timedelta(hours=rng.uniform(1, 12))
        out, signed = out - shift, signed - shift
        out = max(out, arrived + timedelta(minutes=20))
        signed = min(max(signed, out + timedelta(minutes=20)), latest - timedelta(minutes=10))
        out = min(out, signed - timedelta(minutes=10))
        picked_up_later = timedelta(0)
    track.add(out, "派件", "5", f"【{city}市】快递员[{_courier(rng)}]正在为您派件，请保持电话畅通")
    if drop_point:
        point = rng.choice(_PICKUP_POINTS)
        track.add(signed, "投柜或驿站", "501", f"【{city}市】您的快件已存放至【{point}】，请凭取货码及时取件")
        signed += picked_up_later
        track.add(signed, "投柜或站签收", "304", "已签收，签收人凭取货码签收")
    else:
        who = rng.choice(("本人", "本人", "家人", "门卫", "前台"))
        track.add(signed, "本人签收" if who == "本人" else "代签", "301" if who == "本人" else "303",
                  f"【{city}市】您的快件已签收，签收人：{who}，如有疑问请联系快递员[{_courier(rng)}]")
    return signed


def _param(com: str, number: str, scans: list[tuple[datetime, str, str, str]], *, state: str, ischeck: bool,
           status: str = "polling", message: str = "") -> str:
    data = [{"context": text, "time": _fmt(at), "ftime": _fmt(at), "status": name, "statusCode": code}
            for at, name, code, text in sorted(scans, key=lambda s: s[0], reverse=True)]
    payload = {
        "status": status,
        "billstatus": "check" if ischeck else "got",
        "message": message,
        "autoCheck": "0",
        "comOld": "",
        "comNew": "",
        "lastResult": {"message": "ok", "nu": number, "ischeck": "1" if ischeck else "0", "condition": "F00",
                       "com": com, "status": "200", "state": state, "data": data},
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _transit_hours(rng: Random, code: str, province: str) -> float:
    style = _STYLES.get(code, _DEFAULT_STYLE)
    hours = _DISTANCE_HOURS.get(province, 48) * style.speed
    if province in REMOTE:
        hours += rng.uniform(*style.remote_extra)
    return hours * rng.lognormvariate(0, 0.15)


def _stall_limit(rules: dict, code: str, province: str) -> float:
    return watch_policy(rules, code, province).stall_hours


def demo_pushes(shop: DemoShop) -> list[DemoPush]:
    """The latest Kuaidi100 push of every shipped order of the demo shop, in order-number order (deterministic)."""
    end = demo_end(shop.today)
    rules = shop_rules(None)
    picker = Random(f"kefu-demo-tracking:{shop.seed}:{shop.today.isoformat()}")
    shipped = sorted((o for o, _lines in shop.orders if o.waybill_no and o.shipped_at), key=lambda o: o.order_no)
    sent = [o for o in shipped if o.status_text == SENT]

    def trouble(order: OrderRow) -> float:
        return _STYLES.get(carrier_code(order.carrier) or "", _DEFAULT_STYLE).trouble

    def pick(pool: list[OrderRow], count: int, taken: set[str]) -> list[OrderRow]:
        chosen: list[OrderRow] = []
        pool = [o for o in pool if o.order_no not in taken]
        while pool and len(chosen) < count:
            weights = [trouble(o) for o in pool]
            order = picker.choices(pool, weights)[0]
            pool.remove(order)
            chosen.append(order)
            taken.add(order.order_no)
        return chosen

    special: dict[str, str] = {}
    taken: set[str] = set()
    # One parcel marked shipped a day or more ago that no courier picked up (not to a province with longer limits).
    no_pickup_pool = [o for o in sent if timedelta(hours=30) <= end - o.shipped_at <= timedelta(hours=96)
                      and watch_policy(rules, carrier_code(o.carrier), _place(o)[0]).pickup_hours <= 24]
    for order in pick(no_pickup_pool, 1, taken):
        special[order.order_no] = NO_PICKUP
    # Stalled: shipped long enough ago to have gone quiet for 60–100 hours; about 1.5 % of the parcels on the way.
    stall_pool = [o for o in sent if end - o.shipped_at >= timedelta(hours=110)
                  and _stall_limit(rules, carrier_code(o.carrier), _place(o)[0]) <= 72]
    for order in pick(stall_pool, max(3, round(len(sent) * 0.015)), taken):
        special[order.order_no] = STALLED
    problem_pool = [o for o in sent if end - o.shipped_at >= timedelta(hours=36)]
    for order in pick(problem_pool, max(3, len(sent) // 60), taken):
        special[order.order_no] = PROBLEM
    rejected_pool = [o for o in sent if end - o.shipped_at >= timedelta(hours=72) and _place(o)[0] not in REMOTE]
    for order in pick(rejected_pool, picker.choice((1, 2)), taken):
        special[order.order_no] = REJECTED
    # About a third of the refunds after shipping were parcels the buyer refused, now back at the shop.
    refunded = [o for o in shipped if o.status_text == CLOSED and o.close_reason == CLOSED_REFUND_REASON
                and end - o.shipped_at >= timedelta(days=12) and _place(o)[0] not in REMOTE]
    for order in pick(refunded, len(refunded) // 3, taken):
        special[order.order_no] = RETURNED

    return [_push(order, special.get(order.order_no), shop, end, rules) for order in shipped]


def _push(order: OrderRow, special: str | None, shop: DemoShop, end: datetime, rules: dict) -> DemoPush:
    rng = Random(f"{shop.seed}:{order.order_no}")
    code = carrier_code(order.carrier) or order.carrier
    province, city, district = _place(order)
    shipped = order.shipped_at
    picked = shipped + timedelta(hours=rng.uniform(0.3, 5))
    hours = _transit_hours(rng, code, province)
    if order.status_text == FINISHED and order.finished_at is not None:  # signed before the buyer confirmed receipt
        hours = max(6.0, min(hours, (order.finished_at - picked).total_seconds() / 3600 - 10))

    def result(kind: str, scans, *, state: str, ischeck: bool = False, status: str = "polling",
               signed_at: datetime | None = None, picked_at: datetime | None = picked) -> DemoPush:
        return DemoPush(order.order_no, order.waybill_no, code, province, kind,
                        _param(code, order.waybill_no, scans, state=state, ischeck=ischeck, status=status),
                        picked_at, signed_at)

    if special == NO_PICKUP:
        scans = [(shipped, "待揽收", "102", f"【{ORIGIN_CITY}市】商家已打印电子面单，等待快递员上门揽收")]
        return result(NO_PICKUP, scans, state="102", picked_at=None)

    track, arrived, branch = _route(rng, code, province, city, district, picked, hours)
    latest = order.finished_at if order.status_text == FINISHED else None
    while latest is not None and arrived > latest - timedelta(hours=14) and hours > 6:  # buyer confirmed early
        hours = max(6.0, hours * 0.7)
        track, arrived, branch = _route(rng, code, province, city, district, picked, hours)

    if special == STALLED:
        # The next scan of its route is the last one anybody saw: left a hub, or reached the branch, then silence.
        limit = _stall_limit(rules, code, province)
        last = end - timedelta(hours=rng.uniform(max(60.0, limit + 6), 100.0))
        before = [s for s in track.scans if s[0] < last - timedelta(hours=1)]
        if len(before) < len(track.scans):
            _at, name, status_code, text = track.scans[len(before)]
        else:
            name, status_code, text = "在途", "1002", f"【{city}市】{branch} 快件积压，等待安排派送"
        return result(STALLED, [*before, (last, name, status_code, text)], state=status_code)

    if special == PROBLEM:
        code_no, words = _PROBLEMS[rng.randrange(len(_PROBLEMS))]
        out = _daytime(arrived + timedelta(hours=rng.uniform(0.5, 3)), rng)
        problem_at = out + timedelta(hours=rng.uniform(1, 6))
        if problem_at > end:  # went wrong before it reached the branch
            problem_at = end - timedelta(hours=rng.uniform(2, 20))
            scans = [s for s in track.scans if s[0] < problem_at]
        else:
            scans = list(track.scans)
            scans.append((out, "派件", "5", f"【{city}市】快递员[{_courier(rng)}]正在为您派件"))
        scans.append((problem_at, "疑难", code_no, f"【{city}市】" + words.format(branch=branch)))
        return result(PROBLEM, scans, state=code_no)

    if special in (REJECTED, RETURNED):
        out = _daytime(arrived + timedelta(hours=rng.uniform(0.5, 3)), rng)
        refused = out + timedelta(hours=rng.uniform(1, 5))
        if special == REJECTED and refused > end:
            shift = refused - end + timedelta(hours=rng.uniform(2, 12))
            out, refused = out - shift, refused - shift
        scans = [s for s in track.scans if s[0] < out]
        scans.append((out, "派件", "5", f"【{city}市】快递员[{_courier(rng)}]正在为您派件"))
        scans.append((refused, "拒签", "14", f"【{city}市】收件人拒收，原因：买家不想要了，快件将退回寄件方"))
        if special == REJECTED:
            return result(REJECTED, scans, state="14")
        back = refused + timedelta(hours=hours * rng.uniform(0.9, 1.2))
        scans.append((refused + timedelta(hours=rng.uniform(2, 8)), "退回", "6", f"【{city}市】快件已退回，发往 {ORIGIN_CITY}"))
        scans.append((back, "退签", "4", f"【{ORIGIN_CITY}市】退回件已签收，签收人：寄件人"))
        scans = [s for s in scans if s[0] <= end]
        state = scans[-1][2]
        return result(RETURNED, scans, state=state, status="shutdown" if state == "4" else "polling")

    signed = _deliver(track, rng, city, arrived, latest)
    scans = track.until(end)
    if signed <= end:
        return result(SIGNED, scans, state=scans[-1][2], ischeck=True, status="shutdown", signed_at=signed)
    return result(MOVING, scans, state=scans[-1][2])


__all__ = ["DEMO_COURIER_PRICES", "DEMO_PROVINCE_PRICES", "KINDS", "DemoPush", "demo_pushes"]
