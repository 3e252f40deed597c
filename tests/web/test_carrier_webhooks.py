import json
import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from kefu.config import Settings
from kefu.ingest.kdniao import data_sign
from kefu.ingest.kuaidi100 import ACK, expected_sign
from kefu.store.tables import Order, Shipment, Shop, TrackingEventRow, WebhookDelivery

# The documented vectors (see tests/unit/test_kuaidi100.py and tests/unit/test_kdniao.py).
K100_PARAM = (
    '{"status":"shutdown","billstatus":"check","message":"","lastResult":{"message":"ok","state":"3","status":"200",'
    '"condition":"F00","ischeck":"1","com":"yuantong","nu":"YT0000000000001","data":[{"context":"已签收，签收人凭取货码签收。",'
    '"time":"2025-03-12 17:32:23","ftime":"2025-03-12 17:32:23"}]}}'
)
K100_SALT = "test-salt-0123456789abcdef012345"
K100_SIGN = "E5D25030D8487E7F8E9A5E3CA6992D87"
KDN_DATA = '{"EBusinessID":"1234567","PushTime":"2025-03-12 08:16:00","Count":"1","Data":[]}'
KDN_KEY = "test-api-key"
KDN_SIGN = "NmM3OWJiYTdkOGVjNjc3MjZhNzY1MWMyNzFkYTJmYzg="
KDN_ID = "1234567"
NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings() -> Settings:
    return Settings(session_secret="test-session-secret", kuaidi100_salt=K100_SALT, kdniao_api_key=KDN_KEY,
                    kdniao_ebusiness_id=KDN_ID)


def add_parcel(store, *, shop="shop-a", order_no="1", waybill="YT0000000000001", carrier="yuantong"):
    with store.session() as session:
        if session.get(Shop, shop) is None:
            session.add(Shop(id=shop, name=f"店 {shop}", platform="taobao", created_at=NOW))
            session.flush()
        session.add(Order(id=f"{shop}:{order_no}", shop_id=shop, platform="taobao", order_no=order_no,
                          status="WAIT_BUYER_CONFIRM_GOODS", source="test", receiver_province="浙江省"))
        session.flush()
        sid = f"{shop}:{order_no}:{waybill}"
        session.add(Shipment(id=sid, shop_id=shop, order_id=f"{shop}:{order_no}", carrier_code=carrier, waybill_no=waybill,
                             shipped_at=NOW - timedelta(days=1)))
    return sid


def status_of(store, sid):
    with store.session() as session:
        return session.get(Shipment, sid)


def deliveries(store, source):
    with store.session() as session:
        return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.source == source,
                                                                  WebhookDelivery.topic == "push")))


def k100(client, param=K100_PARAM, sign=K100_SIGN, query=""):
    return client.post(f"/webhooks/kuaidi100{query}", data={"param": param, "sign": sign})


def kdn(client, data=KDN_DATA, sign=KDN_SIGN, request_type="101"):
    return client.post("/webhooks/kdniao", data={"RequestData": data, "DataSign": sign, "RequestType": request_type})


def is_error_ack(answer):
    return answer["result"] is False and answer["returnCode"] == "500" and answer["message"]


# ---- Kuaidi100 ----


def test_the_documented_vector_is_taken_without_a_log_in(anon, store):
    sid = add_parcel(store)
    response = k100(anon)
    assert response.status_code == 200 and response.json() == ACK
    row = status_of(store, sid)
    assert (row.status, row.subscription_status, row.tracking_source) == ("signed", "shutdown", "kuaidi100")
    assert row.signed_at == datetime(2025, 3, 12, 9, 32, 23, tzinfo=UTC)
    assert [d.status for d in deliveries(store, "kuaidi100")] == ["processed"]


def test_a_wrong_sign_is_refused_and_logged_without_the_body(anon, store, caplog):
    sid = add_parcel(store)
    with caplog.at_level(logging.WARNING):
        wrong = k100(anon, sign=K100_SIGN[:-1] + "0")
        missing = k100(anon, sign="")
        tampered = k100(anon, param=K100_PARAM.replace("YT0000000000001", "YT0000000000009"))
    for response in (wrong, missing, tampered):
        assert response.status_code == 401 and is_error_ack(response.json())
    assert "bad sign" in caplog.text and "missing sign" in caplog.text
    assert "YT0000000000001" not in caplog.text and "签收" not in caplog.text
    assert status_of(store, sid).status is None and deliveries(store, "kuaidi100") == []


def test_without_a_salt_every_push_is_refused(anon, store, app):
    app.state.settings = Settings(session_secret="x")
    response = k100(anon)
    assert response.status_code == 401 and is_error_ack(response.json())
    assert "no salt" in response.json()["message"]


def test_a_repeated_delivery_is_taken_once(anon, store):
    add_parcel(store)
    assert k100(anon).json() == ACK
    assert k100(anon).json() == ACK
    assert len(deliveries(store, "kuaidi100")) == 1
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(TrackingEventRow)) == 1


def test_an_unknown_waybill_is_acknowledged_and_kept(anon, store):
    response = k100(anon)
    assert response.status_code == 200 and response.json() == ACK
    (delivery,) = deliveries(store, "kuaidi100")
    assert delivery.status == "unmatched" and "YT0000000000001" in delivery.error
    with store.session() as session:
        kept = session.scalar(select(WebhookDelivery).where(WebhookDelivery.topic == "parcel"))
        assert kept.status == "unmatched" and json.loads(kept.error)["update"]["waybill_no"] == "YT0000000000001"


def test_the_shop_in_the_callback_url_scopes_the_waybill(anon, store):
    a = add_parcel(store, shop="shop-a")
    b = add_parcel(store, shop="shop-b")
    assert k100(anon, query="?shop=shop-b").json() == ACK
    assert status_of(store, a).status is None and status_of(store, b).status == "signed"


def test_an_abort_push_is_recorded(anon, store, fixtures_dir):
    sid = add_parcel(store, waybill="78901234567891")
    param = (fixtures_dir / "tracking" / "kuaidi100_abort_corrected.json").read_text(encoding="utf-8")
    response = k100(anon, param=param, sign=expected_sign(param, K100_SALT))
    assert response.json() == ACK
    row = status_of(store, sid)
    assert (row.subscription_status, row.carrier_code) == ("abort", "zhongtong")


def test_a_signed_but_unreadable_param_gets_the_error_ack(anon, store):
    param = '{"status":"polling"}'
    response = k100(anon, param=param, sign=expected_sign(param, K100_SALT))
    assert response.status_code == 400 and is_error_ack(response.json())
    assert "lastResult" in response.json()["message"]


def test_an_older_push_never_moves_the_parcel_back(anon, store, fixtures_dir):
    sid = add_parcel(store, waybill="78901234567890", carrier="zhongtong")
    newer = (fixtures_dir / "tracking" / "kuaidi100_out_for_delivery.json").read_text(encoding="utf-8")
    payload = json.loads(newer)
    payload["lastResult"].update(state="0", data=payload["lastResult"]["data"][2:])
    older = json.dumps(payload, ensure_ascii=False)
    assert k100(anon, param=newer, sign=expected_sign(newer, K100_SALT)).json() == ACK
    assert k100(anon, param=older, sign=expected_sign(older, K100_SALT)).json() == ACK
    assert status_of(store, sid).status == "out_for_delivery"


# ---- Kdniao ----


def test_the_kdniao_vector_gets_the_documented_ack(anon, store):
    response = kdn(anon)
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"EBusinessID", "UpdateTime", "Success", "Reason"}
    assert (answer["EBusinessID"], answer["Success"], answer["Reason"]) == (KDN_ID, True, "")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", answer["UpdateTime"])
    assert [d.status for d in deliveries(store, "kdniao")] == ["processed"]


def test_a_kdniao_push_moves_its_parcels_and_keeps_the_unknown_one(anon, store, fixtures_dir):
    sid = add_parcel(store, waybill="78901234567890", carrier="zhongtong")
    data = (fixtures_dir / "tracking" / "kdniao_push.json").read_text(encoding="utf-8")
    sign = quote(data_sign(data, KDN_KEY), safe="")  # DataSign URL-encoded once more, as some senders do
    response = kdn(anon, data=data, sign=sign)
    assert response.status_code == 200 and response.json()["Success"] is True
    row = status_of(store, sid)
    assert (row.status, row.tracking_source) == ("out_for_delivery", "kdniao")
    with store.session() as session:
        stored = " ".join(session.scalars(select(TrackingEventRow.description)))
        kept = session.scalar(select(WebhookDelivery).where(WebhookDelivery.topic == "parcel"))
    assert "13900000000" not in stored and "138-0000-0011" not in stored
    assert kept.status == "unmatched" and "XY0000000001" in kept.error
    assert kdn(anon, data=data, sign=sign).json()["Success"] is True  # a repeat is acknowledged and changes nothing
    assert len(deliveries(store, "kdniao")) == 1


def test_kdniao_refuses_a_wrong_sign_and_other_request_types(anon, store):
    wrong = kdn(anon, sign=data_sign(KDN_DATA, "other-key"))
    assert wrong.status_code == 401 and wrong.json()["Success"] is False and wrong.json()["EBusinessID"] == KDN_ID
    other = kdn(anon, request_type="102")
    assert other.status_code == 400 and other.json()["Success"] is False and "101" in other.json()["Reason"]
    assert deliveries(store, "kdniao") == []


# ---- the workbench shows what the pushes said ----


def test_the_order_page_and_the_360_show_the_parcel(client, store):
    from kefu.store.tables import Customer

    sid = add_parcel(store)
    with store.session() as session:
        session.add(Customer(id="c1", shop_id="shop-a", platform="taobao", buyer_key="tb_kitty", buyer_nick="tb_kitty",
                             created_at=NOW))
        session.flush()
        session.get(Order, "shop-a:1").customer_id = "c1"
    assert k100(client).json() == ACK
    order_page = client.get("/orders/" + quote("shop-a:1", safe=""))
    assert order_page.status_code == 200 and "已签收" in order_page.text
    page = client.get("/customers/c1")
    assert page.status_code == 200
    assert "· 物流</div>" in page.text and "已签收，签收人凭取货码签收。" in page.text  # the vector's line names no state
    assert status_of(store, sid).status == "signed"
