from datetime import UTC, datetime

import pytest

from kefu.domain.tracking import ParcelState
from kefu.ingest.shopify import parse_fulfillment
from kefu.ingest.shopify_tracking import carrier_for, fulfillment_updates, state_for

S = ParcelState


def fulfillment(**changes):
    payload = {
        "id": 4400000000001,
        "order_id": 5829301847261,
        "status": "success",
        "shipment_status": "in_transit",
        "tracking_company": "SF Express",
        "tracking_numbers": ["SF1400000000001"],
        "created_at": "2025-03-11T10:00:00+08:00",
        "updated_at": "2025-03-12T09:30:00+08:00",
        **changes,
    }
    return parse_fulfillment(payload)


@pytest.mark.parametrize(
    "shipment_status, state",
    [
        ("label_printed", S.AWAITING_PICKUP),
        ("label_purchased", S.AWAITING_PICKUP),
        ("confirmed", S.AWAITING_PICKUP),
        ("carrier_picked_up", S.COLLECTED),
        ("in_transit", S.IN_TRANSIT),
        ("out_for_delivery", S.OUT_FOR_DELIVERY),
        ("attempted_delivery", S.PROBLEM),
        ("ready_for_pickup", S.AT_PICKUP_POINT),
        ("picked_up", S.SIGNED),
        ("delivered", S.SIGNED),
        ("failure", S.PROBLEM),
        ("delayed", S.PROBLEM),
        ("DELIVERED", S.SIGNED),
        ("something_new", S.UNKNOWN),
        (None, S.UNKNOWN),
    ],
)
def test_shipment_status_mapping(shipment_status, state):
    assert state_for(shipment_status) is state


def test_a_fulfillment_is_one_update_with_one_event():
    (update,) = fulfillment_updates(fulfillment())
    assert (update.carrier_code, update.waybill_no, update.state, update.raw_state) == (
        "shunfeng", "SF1400000000001", S.IN_TRANSIT, "in_transit",
    )
    assert not update.is_terminal and update.subscription is None
    (event,) = update.events
    assert event.at == datetime(2025, 3, 12, 1, 30, tzinfo=UTC) and event.state is S.IN_TRANSIT
    assert event.description == "Shopify: in_transit"
    # the same fulfillment version always gives the same line, so repeated webhooks de-duplicate
    assert fulfillment_updates(fulfillment())[0].events[0].dedupe_key == event.dedupe_key


def test_delivered_is_terminal_and_every_tracking_number_counts():
    updates = fulfillment_updates(fulfillment(shipment_status="delivered", tracking_numbers=["A1", "B2", "A1", " "]))
    assert [(u.waybill_no, u.state, u.is_terminal) for u in updates] == [("A1", S.SIGNED, True), ("B2", S.SIGNED, True)]


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "cancelled"},
        {"shipment_status": None},
        {"shipment_status": "something_new"},
        {"tracking_numbers": [], "tracking_number": None},
    ],
)
def test_nothing_known_gives_no_update(changes):
    assert fulfillment_updates(fulfillment(**changes)) == []


def test_without_times_there_is_a_state_but_no_event():
    (update,) = fulfillment_updates(fulfillment(created_at=None, updated_at=None))
    assert update.state is S.IN_TRANSIT and update.events == ()


@pytest.mark.parametrize(
    "company, code",
    [("SF Express", "shunfeng"), ("中通快递", "zhongtong"), ("UPS", "ups"), ("  DHL   Express ", "dhl express"), (None, "other")],
)
def test_carrier_codes(company, code):
    assert carrier_for(company) == code
