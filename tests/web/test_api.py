"""The REST API: orders, imports, customers and stats as JSON, masked by default, session or Basic auth."""

from __future__ import annotations

import base64

from sqlalchemy import select

from kefu.store.tables import Customer, Order

UPLOAD = "web_upload_ExportOrderList202503121030.csv"


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_import_by_upload_then_read_the_run(anon, users, web, fixtures_dir):
    auth = basic(*web.agent)
    data = (fixtures_dir / "taobao" / UPLOAD).read_bytes()
    response = anon.post("/api/imports", headers=auth, files=[("files", (UPLOAD, data, "text/csv"))],
                         data={"shop": "接口小店"})
    assert response.status_code == 200
    [run] = response.json()["runs"]
    assert (run["rows_read"], run["rows_landed"], run["rows_new"], run["rows_rejected"]) == (6, 5, 5, 1)
    assert run["rejections"] == [{"file": UPLOAD, "line_no": 6, "reason": "买家实际支付金额 '5x.00' 不是金额 / is not an amount"}]
    detail = anon.get(f"/api/imports/{run['run_id']}", headers=auth).json()
    assert detail["status"] == "done" and detail["created_by"] == web.agent[0]
    assert detail["rejections"][0]["line_no"] == 6
    assert anon.get("/api/imports", headers=auth).json()["runs"][0]["run_id"] == run["run_id"]
    assert anon.get("/api/imports/nope", headers=auth).status_code == 404


def test_import_upload_needs_a_file_of_the_right_type(client):
    assert client.post("/api/imports", files=[("files", ("x.png", b"png", "image/png"))]).status_code == 400
    assert client.post("/api/imports", data={"shop": "x"}).status_code == 422  # the files field is required


def test_orders_list_filters_and_keeps_numbers_exact(client, imported):
    everything = client.get("/api/orders").json()
    assert everything["total"] == 5 and everything["pages"] == 1
    first = everything["items"][0]
    assert first["order_no"] == "3901000000000000014"  # newest first
    to_ship = client.get("/api/orders", params={"status": "WAIT_SELLER_SEND_GOODS"}).json()
    assert [o["order_no"] for o in to_ship["items"]] == ["3901000000000000013"]
    assert to_ship["items"][0]["paid_amount"] == "45.90" and to_ship["items"][0]["post_fee"] == "6.00"
    by_nick = client.get("/api/orders", params={"q": "小鹿乱撞", "per_page": 1}).json()
    assert by_nick["total"] == 2 and by_nick["pages"] == 2 and len(by_nick["items"]) == 1
    assert client.get("/api/orders", params={"per_page": 1000}).status_code == 422


def test_order_detail_has_shipments_and_masked_receiver(client, imported, store):
    with store.session() as session:
        order_id = session.scalar(select(Order.id).where(Order.order_no == "3901000000000000012"))
    order = client.get(f"/api/orders/{order_id}").json()
    assert order["buyer_message"] == "请发中通谢谢"
    assert order["shipments"][0]["waybill_no"] == "75000000000012"
    assert order["shipments"][0]["carrier_name"] == "中通快递"
    assert order["receiver_phone"] == "138****0011"
    assert order["created_at"].startswith("2025-03-09T13:05:44")  # 21:05:44 Beijing time, stored as UTC
    assert client.get("/api/orders/nope:1").status_code == 404


def test_api_needs_a_login(anon):
    assert anon.get("/api/orders").status_code == 401
    assert anon.post("/api/imports").status_code == 401


# ---------------------------------------------------------------- customers and stats



def _customer_id(store, nick: str) -> str:
    with store.session() as session:
        return session.scalar(select(Customer.id).where(Customer.buyer_nick == nick))


def test_customers_search_and_filters(client, imported):
    everything = client.get("/api/customers").json()
    assert everything["total"] == 4
    assert everything["items"][0]["buyer_nick"] == "小鹿乱撞_2020"  # biggest spender first
    assert everything["items"][0]["total_spent"] == "238.00"
    top = client.get("/api/customers", params={"tier": "top"}).json()
    assert [c["buyer_nick"] for c in top["items"]] == ["小鹿乱撞_2020"]
    by_nick = client.get("/api/customers", params={"q": "summer"}).json()
    assert [c["buyer_nick"] for c in by_nick["items"]] == ["tb_summer_rain"]
    by_province = client.get("/api/customers", params={"province": "四川省"}).json()
    assert [c["buyer_nick"] for c in by_province["items"]] == ["tb_summer_rain"]


def test_customer_360_json_is_masked(client, imported, store):
    cid = _customer_id(store, "小鹿乱撞_2020")
    view = client.get(f"/api/customers/{cid}").json()
    assert view["total_spent"] == "238.00"
    assert view["pii_masked"] is True
    assert "13800000011" not in str(view)
    assert client.get("/api/customers/nope").status_code == 404


def test_patch_profile_notes_and_tags(client, imported, store):
    cid = _customer_id(store, "tb_summer_rain")
    patched = client.patch(f"/api/customers/{cid}", json={"gender": "female", "birthday": "1995-06-01",
                                                          "hobbies": "瑜伽、露营"})
    assert patched.status_code == 200
    with store.session() as session:
        customer = session.get(Customer, cid)
        assert (customer.gender, customer.birthday.isoformat(), customer.hobbies) == ("female", "1995-06-01", "瑜伽、露营")
    bad = client.patch(f"/api/customers/{cid}", json={"gender": "robot"})
    assert bad.status_code == 422 and "gender" in bad.text
    note = client.post(f"/api/customers/{cid}/notes", json={"body": "要求发中通"})
    assert note.status_code == 201 and note.json()["author"] == "店主"
    assert client.post(f"/api/customers/{cid}/notes", json={"body": ""}).status_code == 422
    tags = client.put(f"/api/customers/{cid}/tags", json={"tags": ["学生", "老客"]})
    assert sorted(tags.json()["tags"]) == ["学生", "老客"]
    assert client.patch("/api/customers/nope", json={"gender": "male"}).status_code == 404


def test_stats_give_counts_split_and_daily_figures(client, imported):
    figures = client.get("/api/stats", params={"days": 30}).json()
    assert figures["shop"]["name"] == "测试小店"
    assert figures["counts"]["orders"] == 5 and figures["counts"]["customers"] == 4
    assert len(figures["daily"]) == 30
    assert "value_split" in figures and "regions" in figures


def test_stats_answer_when_there_is_no_shop(client):
    figures = client.get("/api/stats").json()
    assert figures["shop"] is None and figures["counts"]["orders"] == 0
