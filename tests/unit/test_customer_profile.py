from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kefu.domain import order_status as s
from kefu.domain.customer_profile import (
    OrderFacts,
    average_order_value,
    median_days_between_orders,
    order_spend,
    summarise_orders,
)

T0 = datetime(2025, 1, 1, 12, tzinfo=timezone.utc)


def test_spend_is_paid_minus_refunded_for_paid_orders():
    assert order_spend(s.TRADE_FINISHED, Decimal("168.00"), Decimal("18.50")) == Decimal("149.50")
    assert order_spend(s.WAIT_SELLER_SEND_GOODS, Decimal("99.90"), None) == Decimal("99.90")


def test_unpaid_orders_count_nothing():
    assert order_spend(s.WAIT_BUYER_PAY, Decimal("168.00"), None) == Decimal("0.00")
    assert order_spend(s.TRADE_CLOSED_BY_TAOBAO, Decimal("168.00"), None) == Decimal("0.00")
    assert order_spend(s.UNKNOWN, Decimal("5.00"), None) == Decimal("0.00")


def test_spend_never_goes_negative():
    assert order_spend(s.TRADE_CLOSED, Decimal("50.00"), Decimal("80.00")) == Decimal("0.00")
    assert order_spend(s.TRADE_FINISHED, None, None) == Decimal("0.00")


def test_average_order_value_is_to_the_fen():
    assert average_order_value(Decimal("100.00"), 3) == Decimal("33.33")
    assert average_order_value(Decimal("0"), 0) is None


def test_median_days_between_orders():
    times = [T0, T0 + timedelta(days=10), T0 + timedelta(days=30)]  # gaps 10 and 20
    assert median_days_between_orders(times) == 15.0
    assert median_days_between_orders(reversed(times)) == 15.0  # order of input does not matter
    assert median_days_between_orders([T0 + timedelta(days=d) for d in (0, 1, 3, 10)]) == 2.0  # gaps 1, 2, 7
    assert median_days_between_orders([T0, T0 + timedelta(hours=36)]) == 1.5


def test_median_needs_two_orders():
    assert median_days_between_orders([]) is None
    assert median_days_between_orders([T0]) is None
    assert median_days_between_orders([T0, None]) is None


def test_summary_of_a_customer():
    orders = [
        OrderFacts(s.TRADE_FINISHED, T0, Decimal("100.00")),
        OrderFacts(s.TRADE_CLOSED, T0 + timedelta(days=4), Decimal("60.00"), Decimal("60.00")),
        OrderFacts(s.WAIT_BUYER_PAY, T0 + timedelta(days=5), Decimal("30.00")),
        OrderFacts(s.WAIT_BUYER_CONFIRM_GOODS, T0 + timedelta(days=12), Decimal("50.50"), Decimal("10.00")),
    ]
    summary = summarise_orders(orders)
    assert summary.orders_count == 4
    assert summary.paid_orders_count == 3
    assert summary.total_spent == Decimal("140.50")
    assert summary.average_order_value == Decimal("46.83")
    assert summary.first_order_at == T0
    assert summary.last_order_at == T0 + timedelta(days=12)
    assert summary.refunds_count == 2
    assert summary.refunds_amount == Decimal("70.00")
    assert summary.median_days_between_orders == 6.0  # paid orders at days 0, 4, 12


def test_summary_of_nobody():
    summary = summarise_orders([])
    assert summary.orders_count == 0
    assert summary.total_spent == Decimal("0.00")
    assert summary.average_order_value is None
    assert summary.first_order_at is None


amounts = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False)


@given(st.sampled_from(s.ALL), amounts, st.one_of(st.none(), amounts))
def test_spend_is_never_negative_and_never_more_than_paid(status, paid, refunded):
    spend = order_spend(status, paid, refunded)
    assert Decimal("0") <= spend <= paid
    if status not in s.PAID:
        assert spend == 0
