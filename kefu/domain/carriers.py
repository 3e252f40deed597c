"""Courier names as sellers write them (中通快递, 圆通速递…) mapped to Kuaidi100 and Kdniao codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Carrier:
    code: str  # Kuaidi100 code, kefu's canonical carrier code
    name: str  # short Chinese name
    kdniao: str | None
    aliases: tuple[str, ...]


CARRIERS: tuple[Carrier, ...] = (
    Carrier("shunfeng", "顺丰", "SF", ("顺丰速运", "顺丰快递", "顺丰", "SF", "SF Express")),
    Carrier("zhongtong", "中通", "ZTO", ("中通快递", "中通", "ZTO")),
    Carrier("yuantong", "圆通", "YTO", ("圆通速递", "圆通快递", "圆通", "YTO")),
    Carrier("shentong", "申通", "STO", ("申通快递", "申通", "STO")),
    Carrier("yunda", "韵达", "YD", ("韵达快递", "韵达速递", "韵达", "YD")),
    Carrier("ems", "EMS", "EMS", ("EMS", "邮政EMS", "中国邮政EMS", "E邮宝")),
    Carrier("youzhengguonei", "邮政", "YZPY", ("邮政国内", "邮政包裹", "中国邮政", "邮政快递包裹", "邮政")),
    Carrier("jd", "京东", "JD", ("京东快递", "京东物流", "京东", "JD")),
    Carrier("jtexpress", "极兔", "JTSD", ("极兔速递", "极兔快递", "极兔", "J&T")),
    Carrier("debangwuliu", "德邦", "DBL", ("德邦快递", "德邦物流", "德邦")),
    Carrier("huitongkuaidi", "百世", "HTKY", ("百世快递", "百世汇通", "汇通快递", "百世")),
    Carrier("zhaijisong", "宅急送", "ZJS", ("宅急送",)),
    Carrier("youshuwuliu", "优速", "UC", ("优速快递", "优速物流", "优速")),
    Carrier("annengwuliu", "安能", "ANE", ("安能物流", "安能快递", "安能")),
    Carrier("kuayue", "跨越", "KYSY", ("跨越速运", "跨越")),
    Carrier("fengwang", "丰网", "FWX", ("丰网速运", "丰网")),
    Carrier("zhongtongkuaiyun", "中通快运", "ZTOKY", ("中通快运",)),
    Carrier("shunfengkuaiyun", "顺丰快运", None, ("顺丰快运",)),
    Carrier("jingdongkuaiyun", "京东快运", None, ("京东快运",)),
)

_BY_ALIAS: dict[str, Carrier] = {}
for _carrier in CARRIERS:
    for _alias in (_carrier.code, _carrier.name, *_carrier.aliases):
        _BY_ALIAS[_alias.lower()] = _carrier
    if _carrier.kdniao:
        _BY_ALIAS.setdefault(_carrier.kdniao.lower(), _carrier)
# Longest aliases first so 中通快运 wins over 中通.
_ALIASES_LONGEST_FIRST = sorted(_BY_ALIAS, key=len, reverse=True)


def carrier_for(name: str | None) -> Carrier | None:
    """The carrier a courier name or code refers to, or None when it is not known."""
    if not name:
        return None
    key = name.strip().lower()
    if key in _BY_ALIAS:
        return _BY_ALIAS[key]
    for alias in _ALIASES_LONGEST_FIRST:
        if len(alias) >= 2 and alias in key:
            return _BY_ALIAS[alias]
    return None


def carrier_code(name: str | None) -> str | None:
    carrier = carrier_for(name)
    return carrier.code if carrier else None


def by_kdniao_code(code: str) -> Carrier | None:
    code = code.strip().upper()
    return next((c for c in CARRIERS if c.kdniao == code), None)
