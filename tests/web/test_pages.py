"""The workbench pages: imports upload and runs, orders list and detail, users, audit, language, shop switch."""

from __future__ import annotations

import re

from sqlalchemy import select

from kefu.services.shops import get_or_create_shop
from kefu.store.tables import ImportRun, Order

UPLOAD = "web_upload_ExportOrderList202503121030.csv"


def text_of(html: str) -> str:
    """The visible text of a page, whitespace collapsed (enough for assertions)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def upload(client, fixtures_dir, **form):
    data = (fixtures_dir / "taobao" / UPLOAD).read_bytes()
    return client.post("/imports", files=[("files", (UPLOAD, data, "text/csv"))], data=form)


# ---------------------------------------------------------------- imports


def test_upload_runs_the_importer_and_shows_the_rejected_row(client, fixtures_dir, store):
    page = upload(client, fixtures_dir)
    assert page.status_code == 200
    text = text_of(page.text)
    assert UPLOAD in text
    assert "读取行数 6" in text and "成功 5" in text and "新增 5" in text and "拒绝 1" in text
    # the rejected row: file, line and reason
    assert re.search(rf"{re.escape(UPLOAD)} 6 买家实际支付金额 '5x.00'", text.replace("&#39;", "'"))
    with store.session() as session:
        run = session.scalar(select(ImportRun))
        assert run.created_by == "boss" and run.rows_rejected == 1
        assert session.scalar(select(Order).where(Order.order_no == "3901000000000000013")).buyer_nick == "tb_summer_rain"


def test_upload_into_a_named_new_shop(client, fixtures_dir, store):
    upload(client, fixtures_dir, new_shop_name="第二家店")
    with store.session() as session:
        order = session.scalar(select(Order).limit(1))
        assert get_or_create_shop(session, "第二家店").id == order.shop_id


def test_upload_without_files_or_of_the_wrong_type_is_refused(client):
    empty = client.post("/imports", data={"shop_name": ""})
    assert empty.status_code == 400 and "请先选择要导入的文件" in empty.text
    wrong = client.post("/imports", files=[("files", ("photo.png", b"\x89PNG", "image/png"))])
    assert wrong.status_code == 400 and "CSV 或 xlsx" in wrong.text


def test_import_history_and_run_page_list_rejections(client, imported):
    run_id = imported[0].run_id
    history = client.get("/imports")
    assert f"/imports/{run_id}" in history.text
    detail = text_of(client.get(f"/imports/{run_id}").text)
    assert "被拒绝的行" in detail and "5x.00" in detail
    assert "138****0015" in detail and "13800000015" not in detail  # raw rows keep phones redacted
    assert client.get("/imports/nope").status_code == 404


# ---------------------------------------------------------------- orders


def test_orders_list_filters_by_status_and_search(client, imported):
    everything = text_of(client.get("/orders").text)
    assert "3901000000000000011" in everything and "3901000000000000014" in everything
    to_ship = text_of(client.get("/orders", params={"status": "WAIT_SELLER_SEND_GOODS,SELLER_CONSIGNED_PART"}).text)
    assert "3901000000000000013" in to_ship and "3901000000000000011" not in to_ship
    by_nick = text_of(client.get("/orders", params={"q": "小鹿"}).text)
    assert "3901000000000000011" in by_nick and "3901000000000000012" in by_nick
    assert "3901000000000000013" not in by_nick
    by_number = text_of(client.get("/orders", params={"q": "3901000000000000014"}).text)
    assert "zhangxy_66" in by_number and "tb_summer_rain" not in by_number


def test_orders_table_is_an_htmx_fragment_and_paginates(client, imported):
    fragment = client.get("/orders", params={"q": "小鹿"}, headers={"HX-Request": "true", "HX-Target": "orders-table"})
    assert "<html" not in fragment.text and "3901000000000000011" in fragment.text
    assert "共 2 条" in text_of(fragment.text)


def test_orders_list_masks_receivers(client, imported):
    page = client.get("/orders").text
    assert "陈*" in page
    assert "13800000011" not in page


def test_order_detail_shows_message_memo_waybill_and_masked_receiver(client, imported, store):
    with store.session() as session:
        order = session.scalar(select(Order).where(Order.order_no == "3901000000000000011"))
    page = client.get(f"/orders/{order.id}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "周六前要到" in text and "老客送小样" in text
    assert "75000000000011" in text and "中通快递" in text
    assert "¥89.00" in text
    assert "138****0011" in text and "13800000011" not in page.text
    assert f'hx-post="/reveal/order/{order.id.replace(":", "%3A")}/receiver_phone"' in page.text
    assert client.get("/orders/nope:1").status_code == 404


# ---------------------------------------------------------------- shell


def test_english_switch_translates_the_page(client, imported):
    client.get("/lang/en")
    text = text_of(client.get("/orders").text)
    assert "Orders" in text and "Buyer message" in text and "Awaiting payment" in text
    assert "订单编号" not in text


def test_shop_switcher_appears_with_several_shops_and_switches(client, imported, store, fixtures_dir):
    with store.session() as session:
        other = get_or_create_shop(session, "另一家店")
    page = client.get("/orders")
    assert 'id="shop-select"' in page.text
    switched = client.post("/shop", data={"shop_id": other.id, "next": "/orders"}, follow_redirects=False)
    assert switched.headers["location"] == "/orders"
    assert "没有符合条件的订单" in client.get("/orders").text


def test_audit_page_lists_reveals_with_user_and_field(client, imported, store):
    with store.session() as session:
        order = session.scalar(select(Order).where(Order.order_no == "3901000000000000011"))
    client.post(f"/reveal/order/{order.id}/receiver_phone")
    text = text_of(client.get("/audit").text)
    assert "查看隐私信息" in text and "收货手机" in text and "店主" in text


def test_docs_page_lists_the_api_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/api/orders/{order_id}" in page.text and "/api/imports" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/openapi.json").json()["info"]["title"].startswith("kefu")


def test_static_assets_are_served_locally(anon):
    assert anon.get("/static/vendor/htmx.min.js").status_code == 200
    assert anon.get("/static/vendor/chart.umd.min.js").status_code == 200
    assert anon.get("/static/css/kefu.css").status_code == 200


# ---------------------------------------------------------------- translations


def test_both_catalogs_have_the_same_keys_and_every_used_key_exists():
    from pathlib import Path

    from kefu.domain import order_status
    from kefu.web import i18n
    from kefu.web.auth import ROLES
    from kefu.web.reveal import REVEALABLE

    zh, en = i18n.catalog("zh"), i18n.catalog("en")
    assert set(zh) == set(en)
    assert all(value.strip() for value in [*zh.values(), *en.values()])
    web_dir = Path(i18n.__file__).parent
    sources = [p.read_text(encoding="utf-8") for p in [*web_dir.rglob("*.html"), *web_dir.rglob("pages/*.py")]]
    used = {key for text in sources for key in re.findall(r"\bt\(['\"]([a-z_]+\.[a-z_.0-9]*[a-z_0-9])['\"]", text)}
    used |= {key for text in sources for key in re.findall(r"['\"]((?:tab|imports|customer|login)\.[a-z_]+)['\"]", text)}
    used -= {"login.html"}
    assert used - set(zh) == set()
    dynamic = {f"status.{s}" for s in order_status.ALL} | {f"role.{r}" for r in ROLES}
    dynamic |= {f"tier.{t}" for t in ("top", "middle", "low", "none")}
    dynamic |= {f"field.{f}" for _, fields in REVEALABLE.values() for f in fields}
    dynamic |= {f"audit.kind.{k}" for k in (*REVEALABLE, "user")}
    dynamic |= {f"customers.by.{o}" for o in ("total_spent", "last_order_at", "orders_count")}
    assert dynamic - set(zh) == set()


def test_translate_fills_placeholders_and_falls_back():
    from kefu.web.i18n import translate

    assert translate("zh", "pager.summary", total=3, page=1, pages=1) == "共 3 条 · 第 1/1 页"
    assert translate("en", "pager.summary", total=3, page=1, pages=1) == "3 in all · page 1 of 1"
    assert translate("en", "no.such.key") == "no.such.key"


# ---------------------------------------------------------------- dashboard


def test_dashboard_has_totals_the_80_20_line_and_chart_data(client, imported):
    import json

    page = client.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "前20%客户贡献了84%的销售额" in text  # 小鹿乱撞 238.00 of 283.90
    assert "小鹿乱撞_2020" in text
    data = json.loads(re.search(r'<script type="application/json" id="daily-data">(.*?)</script>', page.text, re.DOTALL).group(1))
    assert len(data["labels"]) == 90 and data["labels"][-1] == "2025-03-12"  # figures end at the newest order
    by_day = dict(zip(data["labels"], data["revenue"]))
    assert by_day["2025-03-09"] == "149.00" and by_day["2025-03-11"] == "45.90"
    assert "/static/vendor/chart.umd.min.js" in page.text


def test_dashboard_without_data_points_to_imports(client):
    text = text_of(client.get("/").text)
    assert "还没有数据" in text and "去导入" in text


# ---------------------------------------------------------------- customers


def _customer_id(store, nick: str) -> str:
    from kefu.store.tables import Customer

    with store.session() as session:
        return session.scalar(select(Customer.id).where(Customer.buyer_nick == nick))


def test_customer_list_searches_and_filters(client, imported):
    everything = text_of(client.get("/customers").text)
    assert everything.index("小鹿乱撞_2020") < everything.index("tb_summer_rain")  # biggest spender first
    fragment = client.get("/customers", params={"q": "summer"}, headers={"HX-Request": "true", "HX-Target": "customers-table"})
    assert "<html" not in fragment.text and "tb_summer_rain" in fragment.text and "小鹿乱撞" not in fragment.text
    top = text_of(client.get("/customers", params={"tier": "top"}).text)
    assert "小鹿乱撞_2020" in top and "tb_summer_rain" not in top
    sichuan = text_of(client.get("/customers", params={"province": "四川省"}).text)
    assert "tb_summer_rain" in sichuan and "zhangxy_66" not in sichuan
    assert client.get("/customers", params={"tier": "bogus", "order_by": "password"}).status_code == 200


def test_customer_360_shows_figures_masked_contact_and_orders(client, imported, store):
    cid = _customer_id(store, "小鹿乱撞_2020")
    page = client.get(f"/customers/{cid}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "¥238.00" in text and "¥119.00" in text  # spend and average order value
    assert "2 / 2" in text and "高价值" in text
    assert "上海 上海市 浦东新区" in text
    assert "138****0011" in text and "13800000011" not in page.text
    assert "陈*" in text
    assert "3901000000000000011" in text and "3901000000000000012" in text
    assert 'hx-post="/reveal/order/' in page.text
    assert client.get("/customers/nope").status_code == 404


def test_tags_are_added_and_removed_in_place(client, imported, store):
    cid = _customer_id(store, "tb_summer_rain")
    added = client.post(f"/customers/{cid}/tags", data={"add": "学生，老客 大码"}, headers={"HX-Request": "true"})
    assert added.status_code == 200 and "<html" not in added.text
    assert all(tag in added.text for tag in ("学生", "老客", "大码"))
    removed = client.post(f"/customers/{cid}/tags", data={"remove": "老客"})
    assert "老客" not in text_of(removed.text) and "学生" in removed.text
    too_long = client.post(f"/customers/{cid}/tags", data={"add": "长" * 61})
    assert "60" in text_of(too_long.text)
    tagged = text_of(client.get("/customers", params={"tag": "学生"}).text)
    assert "tb_summer_rain" in tagged and "小鹿乱撞_2020" not in tagged


def test_notes_are_signed_by_the_agent(agent, imported, store):
    cid = _customer_id(store, "tb_summer_rain")
    answer = agent.post(f"/customers/{cid}/notes", data={"body": "不要发申通，发中通"})
    assert answer.status_code == 200
    assert "不要发申通，发中通" in answer.text and "小美" in answer.text
    empty = agent.post(f"/customers/{cid}/notes", data={"body": "   "})
    assert "备注不能为空" in empty.text
    assert "不要发申通，发中通" in agent.get(f"/customers/{cid}").text


def test_profile_is_edited_in_place_and_bad_values_are_named(client, imported, store):
    from kefu.store.tables import Customer

    cid = _customer_id(store, "tb_summer_rain")
    form = client.get(f"/customers/{cid}/profile", params={"edit": 1})
    assert 'name="birthday"' in form.text and "<html" not in form.text
    saved = client.post(f"/customers/{cid}/profile", data={"gender": "female", "birthday": "1996-05-20",
                                                           "hobbies": "露营", "marketing_consent": "1"})
    assert saved.status_code == 200 and "1996-05-20" in saved.text and "露营" in saved.text
    with store.session() as session:
        customer = session.get(Customer, cid)
        assert (customer.gender, customer.hobbies, customer.marketing_consent) == ("female", "露营", True)
    bad = client.post(f"/customers/{cid}/profile", data={"birthday": "2099-01-01"})
    assert "birthday" in bad.text and 'name="birthday"' in bad.text  # the form stays open with the error
    with store.session() as session:
        assert session.get(Customer, cid).birthday.isoformat() == "1996-05-20"  # nothing changed


def test_orders_of_one_customer(client, imported, store):
    cid = _customer_id(store, "小鹿乱撞_2020")
    text = text_of(client.get("/orders", params={"customer": cid}).text)
    assert "3901000000000000011" in text and "3901000000000000013" not in text
