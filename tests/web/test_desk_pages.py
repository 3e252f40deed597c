"""Inbox, knowledge base and KPI pages, and the conversations REST API, on both stores."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from kefu.services import conversations as conv
from kefu.services.knowledge import save_entry
from kefu.services.shops import get_or_create_shop

SHIPPING = "cutoff: 16:00\nsame_day: 是\nfree_shipping: 是\nexcluded_provinces: 新疆、西藏\nremote_fee: 15\ncash_on_delivery: 否"


@pytest.fixture(autouse=True)
def keyword_analysis(monkeypatch):
    """Keyword analysis (the text model trains for seconds per process; the browser test runs the real one)."""
    monkeypatch.setattr(conv, "analyse_message", conv.analyse_message_by_keywords)
    monkeypatch.setattr(conv, "analyse_messages", lambda texts: [conv.analyse_message_by_keywords(t) for t in texts])


@pytest.fixture
def shop(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "小桃子").id
        save_entry(s, shop_id=shop_id, kind="shipping", title="发货与快递", data=SHIPPING)
    return shop_id


def inbound(client, buyer="tb_小红", text="今天能发货吗？发新疆，货到付款"):
    response = client.post("/api/conversations/inbound", json={"buyer": buyer, "text": text})
    assert response.status_code == 201, response.text
    return response.json()["conversation"]["id"]


def test_inbox_shows_the_chat_the_buyer_card_and_a_draft_citing_facts(agent, shop):
    cid = inbound(agent)
    page = agent.get("/inbox")
    assert page.status_code == 200
    assert "tb_小红" in page.text and 'id="buyer-card"' in page.text and "今天能发货吗" in page.text
    draft = agent.get(f"/inbox/{cid}/draft", headers={"HX-Request": "true"})
    assert draft.status_code == 200
    assert "新疆不在包邮范围内" in draft.text and "发货与快递" in draft.text and "cash_on_delivery" in draft.text
    assert 'class="guard allow"' in draft.text


def test_a_risky_reply_is_blocked_with_safer_wording_and_a_safe_one_is_sent(agent, shop):
    cid = inbound(agent)
    risky = agent.post(f"/inbox/{cid}/reply", data={"text": "今天一定发，新疆包邮，支持货到付款"}, follow_redirects=False)
    assert risky.status_code == 422
    assert 'class="guard block"' in risky.text and 'class="safer"' in risky.text
    sent = agent.post(f"/inbox/{cid}/reply", data={"text": "亲，16:00前付款当天发出，新疆需补运费15元。"},
                      follow_redirects=False)
    assert sent.status_code == 303
    chat = agent.get(sent.headers["location"]).text
    assert "新疆需补运费15元" in chat and "小美" in chat


def test_missing_facts_become_tasks_listed_until_done(agent, shop):
    cid = inbound(agent, "tb_乙", "伴娘服穿什么码，尺码表有吗")
    draft = agent.get(f"/inbox/{cid}/draft").text
    assert 'id="draft-missing"' in draft
    page = agent.get("/inbox").text
    task_id = re.search(r'/inbox/tasks/([0-9a-f]+)/done', page).group(1)
    assert agent.post(f"/inbox/tasks/{task_id}/done", data={"next": "/inbox"}, follow_redirects=False).status_code == 303
    assert f"/inbox/tasks/{task_id}/done" not in agent.get("/inbox").text


def test_personality_override_from_the_card(agent, shop):
    cid = inbound(agent)
    response = agent.post(f"/inbox/{cid}/personality", data={"kind": "dominant"}, follow_redirects=False)
    assert response.status_code == 303
    assert "力量型" in agent.get(f"/inbox?c={cid}").text
    assert agent.post(f"/inbox/{cid}/personality", data={"kind": "nope"}).status_code == 422


def test_chat_upload_reports_bad_lines_by_file_and_line(agent, shop):
    body = "tb_丙 (2025-03-18 10:00:00):\n在吗\n小桃子:小美 (2025-03-18 10:01:00):\n在的\n".encode("gbk")
    response = agent.post("/inbox/import", files={"file": ("聊天记录.txt", b"junk\n" + body, "text/plain")})
    assert response.status_code == 200
    assert 'id="import-result"' in response.text and "聊天记录.txt:1" in response.text and "tb_丙" in response.text


def test_knowledge_page_saves_validates_and_searches(client, shop):
    saved = client.post("/knowledge", data={"kind": "faq", "title": "洗涤保养", "body": "冷水手洗，反面晾干", "data": "",
                                            "active": "1"}, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get("/knowledge")
    assert "洗涤保养" in page.text and "发货与快递" in page.text and 'id="kb-facts"' in page.text
    assert "洗涤保养" in client.get("/knowledge", params={"q": "怎么洗涤"}).text.split('id="kb-hits"')[1][:400]
    bad = client.post("/knowledge", data={"kind": "faq", "title": " ", "body": "x", "data": ""})
    assert bad.status_code == 422 and "title" in bad.text
    warned = client.post("/knowledge", data={"kind": "shipping", "title": "周末", "data": "cutoff: 晚上"})
    assert warned.status_code == 200 and "cutoff" in warned.text


def test_kpis_page_and_api(client, store, shop):
    now = datetime.now(UTC)
    with store.session() as s:
        conversation = conv.conversation_for(s, shop, "tb_丁", now=now)
        start = now - timedelta(hours=2)
        conv.add_message(s, conversation, sender="buyer", text="在吗", sent_at=start, now=now)
        conv.add_message(s, conversation, sender="seller", text="在的", sent_at=start + timedelta(seconds=50),
                         author="小美", now=now)
    page = client.get("/kpis")
    assert page.status_code == 200 and 'id="kpi-rate"' in page.text
    data = client.get("/api/kpis/response").json()
    assert data["rules"]["target_seconds"] == 180 and data["conversion"]["inquiries"] in (0, 1)


def test_api_messages_inbound_and_guarded_replies(agent, shop):
    cid = inbound(agent)
    blocked = agent.post(f"/api/conversations/{cid}/messages", json={"text": "新疆包邮，货到付款没问题"})
    assert blocked.status_code == 422 and blocked.json()["detail"]["guard"]["action"] == "block"
    sent = agent.post(f"/api/conversations/{cid}/messages", json={"text": "亲，本店暂不支持货到付款。"})
    assert sent.status_code == 201 and sent.json()["message"]["sender"] == "seller"
    buyer = agent.post(f"/api/conversations/{cid}/messages", json={"text": "好的", "sender": "buyer"})
    assert buyer.status_code == 201
    one = agent.get(f"/api/conversations/{cid}").json()
    assert [m["sender"] for m in one["messages"]] == ["buyer", "seller", "buyer"]
    draft = agent.get(f"/api/conversations/{cid}/draft").json()
    assert "citations" in draft and draft["guard"]["action"] in ("allow", "warn")
    assert agent.get("/api/conversations", params={"status": "all"}).json()["total"] == 1
    assert agent.get("/api/conversations/nope").status_code == 404


def test_api_needs_a_log_in_and_accepts_basic_auth(anon, web, users, shop):
    assert anon.post("/api/conversations/inbound", json={"buyer": "x", "text": "在吗"}).status_code == 401
    token = base64.b64encode(f"{web.agent[0]}:{web.agent[1]}".encode()).decode()
    response = anon.post("/api/conversations/inbound", json={"buyer": "tb_脚本", "text": "在吗"},
                         headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 201


def test_an_angry_message_becomes_a_complaint_case_from_the_card(agent, shop):
    cid = inbound(agent, "tb_怒", "发错颜色了！投诉！")
    response = agent.post(f"/inbox/{cid}/case", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/cases/")
    again = agent.post(f"/inbox/{cid}/case", follow_redirects=False)
    assert again.headers["location"] == response.headers["location"]  # one case per message
    assert 'id="open-case"' in agent.get(f"/inbox?c={cid}").text


def test_knowledge_entries_are_edited_and_deleted_in_place(client, store, shop):
    from sqlalchemy import select

    from kefu.store.desk_tables import KnowledgeEntry

    with store.session() as s:
        entry_id = s.scalars(select(KnowledgeEntry.id)).one()
    form = client.get("/knowledge", params={"edit": entry_id}).text
    assert 'value="发货与快递"' in form and "cutoff: 16:00" in form
    changed = client.post("/knowledge", data={"entry_id": entry_id, "kind": "shipping", "title": "发货与快递",
                                              "data": SHIPPING.replace("16:00", "17:00"), "active": "1"},
                          follow_redirects=False)
    assert changed.status_code == 303
    assert "17:00" in client.get("/api/knowledge").json()["items"][0]["data"]["cutoff"]
    assert client.post(f"/knowledge/{entry_id}/delete", follow_redirects=False).status_code == 303
    assert client.get("/api/knowledge").json()["items"] == []
    assert client.get("/knowledge", params={"edit": entry_id}).status_code == 404
