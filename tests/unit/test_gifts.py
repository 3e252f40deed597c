from decimal import Decimal

from kefu.config import SHOP_RULE_DEFAULTS
from kefu.domain.growth.gifts import GiftItem, GiftRecipient, GiftRules, check_item, choose_gift, gift_budget

RULES = GiftRules.from_config(SHOP_RULE_DEFAULTS["gifts"])
SHOP = ("女装", "配饰")
SCARF = GiftItem("scarf", "丝巾", Decimal("25"), categories=("配饰",))
SOCKS = GiftItem("socks", "棉袜", Decimal("8"), categories=("女装",))
CONDOMS = GiftItem("condoms", "安全套", Decimal("15"), sensitivity="intimate")
PERFUME = GiftItem("perfume", "小样香水", Decimal("18"), sensitivity="personal", suits_gender="female", categories=("配饰",))
TIE = GiftItem("tie", "领带", Decimal("30"), suits_gender="male", categories=("配饰",))
MUG = GiftItem("mug", "马克杯", Decimal("12"), categories=("家居",))
TOP = GiftRecipient(value_tier="top", paid_orders=6, spend_last_year=Decimal("2400"), gender="female",
                    address_kind="office", categories_bought=("女装",))


def test_budget_scales_with_spend_and_is_capped_by_tier():
    assert gift_budget(TOP, RULES) == Decimal("60")
    small = GiftRecipient(value_tier="middle", paid_orders=3, spend_last_year=Decimal("300"))
    assert gift_budget(small, RULES) == Decimal("9.00")


def test_intimate_items_are_never_a_surprise():
    check = check_item(CONDOMS, TOP, RULES, SHOP, Decimal("60"))
    assert not check.allowed and check.reasons[0].code == "intimate"


def test_personal_items_only_to_a_known_customer_at_home():
    at_office = check_item(PERFUME, TOP, RULES, SHOP, Decimal("60"))
    assert [r.code for r in at_office.reasons] == ["opened_in_public"]
    at_home = GiftRecipient(**{**TOP.__dict__, "address_kind": "home"})
    assert check_item(PERFUME, at_home, RULES, SHOP, Decimal("60")).allowed
    unknown = GiftRecipient(**{**TOP.__dict__, "address_kind": "home", "gender": None})
    assert "personal_unknown" in [r.code for r in check_item(PERFUME, unknown, RULES, SHOP, Decimal("60")).reasons]


def test_gender_and_relation_to_the_shop_are_checked():
    assert [r.code for r in check_item(TIE, TOP, RULES, SHOP, Decimal("60")).reasons] == ["gender_mismatch"]
    assert [r.code for r in check_item(MUG, TOP, RULES, SHOP, Decimal("60")).reasons] == ["unrelated"]


def test_choice_prefers_what_the_customer_buys_within_budget():
    choice = choose_gift(TOP, [SCARF, SOCKS, CONDOMS, TIE, MUG], RULES, SHOP)
    assert choice.item == SOCKS  # related to what she bought (女装) beats the dearer scarf
    assert {c.item.key for c in choice.refused} == {"condoms", "tie", "mug"}


def test_an_open_complaint_holds_every_surprise():
    angry = GiftRecipient(**{**TOP.__dict__, "open_complaint": True})
    choice = choose_gift(angry, [SCARF, SOCKS], RULES, SHOP)
    assert choice.item is None and [r.code for r in choice.held] == ["open_complaint"]


def test_one_time_and_low_tier_buyers_get_no_surprise():
    once = GiftRecipient(value_tier="low", paid_orders=1, spend_last_year=Decimal("99"))
    assert {r.code for r in choose_gift(once, [SOCKS], RULES, SHOP).held} == {"tier", "not_repeat"}
