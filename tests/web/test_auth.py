"""Log-in, sessions, roles, passwords and the session secret."""

from __future__ import annotations

import base64
import re

import pytest

from kefu.config import Settings
from kefu.store.tables import AuditEntry, User
from kefu.web.auth import (
    UserError,
    authenticate,
    create_user,
    ensure_owner,
    hash_password,
    session_secret,
    set_active,
    set_password,
    verify_password,
)


def test_password_hash_is_salted_scrypt_and_verifies():
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first.startswith("scrypt$16384$8$1$")
    assert first != second  # a fresh salt every time
    assert verify_password("s3cret-pass", first)
    assert not verify_password("s3cret-pasS", first)
    assert not verify_password("s3cret-pass", "garbage")


def test_users_are_validated(store):
    with store.session() as session:
        create_user(session, "agent_01", "long-enough", role="agent")
        with pytest.raises(UserError, match="已存在"):
            create_user(session, "agent_01", "long-enough")
        with pytest.raises(UserError, match="至少"):
            create_user(session, "agent_02", "short")
        with pytest.raises(UserError, match="owner 或 agent"):
            create_user(session, "agent_03", "long-enough", role="admin")
        with pytest.raises(UserError, match="用户名不合法"):
            create_user(session, "a b", "long-enough")


def test_authenticate_checks_password_and_active_flag(store):
    with store.session() as session:
        create_user(session, "owner1", "owner-pass-1", role="owner")
        create_user(session, "agent1", "agent-pass-1")
    with store.session() as session:
        assert authenticate(session, "agent1", "agent-pass-1").last_login_at is not None
        assert authenticate(session, "agent1", "wrong") is None
        assert authenticate(session, "nobody", "agent-pass-1") is None
        set_active(session, "agent1", False)
        assert authenticate(session, "agent1", "agent-pass-1") is None
        with pytest.raises(UserError, match="唯一的店主"):
            set_active(session, "owner1", False)


def test_first_owner_gets_a_generated_password_once(store):
    with store.session() as session:
        owner, password = ensure_owner(session, Settings())
        assert owner.username == "owner" and owner.role == "owner"
        assert password and len(password) >= 12
        assert ensure_owner(session, Settings()) is None  # users exist: nothing happens
    with store.session() as session:
        assert authenticate(session, "owner", password) is not None


def test_owner_from_environment_settings(store):
    with store.session() as session:
        owner, password = ensure_owner(session, Settings(owner_username="laoban", owner_password="from-env-123"))
    assert password is None and owner.username == "laoban"
    with store.session() as session:
        assert authenticate(session, "laoban", "from-env-123") is not None


def test_session_secret_is_generated_once_and_persisted(store):
    first = session_secret(store, Settings())
    assert len(first) >= 40
    assert session_secret(store, Settings()) == first
    assert session_secret(store, Settings(session_secret="given")) == "given"


def test_pages_redirect_to_login_and_api_answers_401(anon):
    page = anon.get("/orders?status=TRADE_FINISHED", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/orders%3Fstatus%3DTRADE_FINISHED"
    api = anon.get("/api/orders")
    assert api.status_code == 401
    assert api.headers["www-authenticate"].startswith("Basic")
    htmx = anon.post("/reveal/order/x/receiver_phone", headers={"HX-Request": "true"})
    assert htmx.headers.get("hx-redirect", "").startswith("/login")


def test_login_page_is_chinese_and_failed_login_says_so(anon, users, web):
    page = anon.get("/login")
    assert page.status_code == 200
    assert "登录" in page.text and 'lang="zh-CN"' in page.text
    failed = web.log_in(anon, web.owner[0], "wrong-password")
    assert failed.status_code == 401
    assert "用户名或密码不正确" in failed.text
    assert anon.get("/orders", follow_redirects=False).status_code == 303


def test_login_goes_to_next_and_logout_ends_session(anon, users, store, web):
    response = anon.post("/login", data={"username": web.agent[0], "password": web.agent[1], "next": "/orders"},
                         follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/orders"
    assert anon.get("/orders").status_code == 200
    assert anon.post("/logout", follow_redirects=False).headers["location"] == "/login"
    assert anon.get("/orders", follow_redirects=False).status_code == 303
    with store.session() as session:
        assert session.query(AuditEntry).filter_by(action="login").count() == 1


def test_login_never_redirects_off_site(anon, users, web):
    response = anon.post("/login", data={"username": web.agent[0], "password": web.agent[1], "next": "//evil.example/x"},
                         follow_redirects=False)
    assert response.headers["location"] == "/"


def test_password_reset_ends_other_sessions(client, store, web):
    assert client.get("/orders").status_code == 200
    with store.session() as session:
        set_password(session, web.owner[0], "a-new-password")
    assert client.get("/orders", follow_redirects=False).status_code == 303


def test_disabled_user_is_logged_out(agent, store, web):
    with store.session() as session:
        set_active(session, web.agent[0], False)
    assert agent.get("/orders", follow_redirects=False).status_code == 303


def test_tampered_session_cookie_is_ignored(users, web):
    with web.new_client() as c:
        web.log_in(c, *web.owner)
        cookie = c.cookies.get("kefu_session")
        c.cookies.clear()
        c.cookies.set("kefu_session", cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB"))
        assert c.get("/orders", follow_redirects=False).status_code == 303


def test_http_basic_works_for_the_api_only(anon, users, web):
    token = base64.b64encode(f"{web.agent[0]}:{web.agent[1]}".encode()).decode()
    assert anon.get("/api/orders", headers={"Authorization": f"Basic {token}"}).status_code == 200
    assert anon.get("/orders", headers={"Authorization": f"Basic {token}"}, follow_redirects=False).status_code == 303
    bad = base64.b64encode(f"{web.agent[0]}:nope".encode()).decode()
    assert anon.get("/api/orders", headers={"Authorization": f"Basic {bad}"}).status_code == 401


def test_cross_origin_writes_are_refused(client):
    response = client.post("/reveal/order/x/receiver_phone", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    same_site = client.post("/reveal/order/x/receiver_phone", headers={"Origin": "http://testserver"})
    assert same_site.status_code == 404  # let through, and there is no such order


def test_agents_cannot_open_owner_pages(agent, client):
    assert agent.get("/users").status_code == 403
    assert agent.get("/audit").status_code == 403
    assert client.get("/users").status_code == 200
    assert client.get("/audit").status_code == 200


def test_owner_adds_an_agent_on_the_users_page(client, store, web):
    page = client.post("/users", data={"username": "xiaoli", "display_name": "小李", "role": "agent"})
    assert page.status_code == 200
    assert "xiaoli" in page.text
    with store.session() as session:
        user = session.query(User).filter_by(username="xiaoli").one()
        assert user.role == "agent"
    # the page shows the generated password once; it works for log-in
    import re

    password = re.search(r'id="new-password">([^<]+)<', page.text).group(1)
    with web.new_client() as other:
        assert web.log_in(other, "xiaoli", password).status_code == 303


def test_language_switch_is_remembered_in_a_cookie(client):
    assert "客户" in client.get("/orders").text
    switched = client.get("/lang/en?next=/orders", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/orders"
    english = client.get("/orders").text
    assert "Customers" in english and 'lang="en"' in english
    client.get("/lang/zh?next=/")
    assert 'lang="zh-CN"' in client.get("/orders").text


# ---------------------------------------------------------------- the CLI: kefu user …, kefu serve


def _cli(args, input=None):
    from typer.testing import CliRunner

    from kefu.cli import app

    return CliRunner().invoke(app, args, input=input)


def test_cli_adds_agents_and_resets_passwords(tmp_path):
    from kefu.store.database import Store

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    added = _cli(["--db", db, "user", "add", "xiaomei", "--role", "agent", "-n", "小美"], input="agent-pass-1\nagent-pass-1\n")
    assert added.exit_code == 0, added.output
    generated = _cli(["--db", db, "user", "add", "xiaoli", "--generate"])
    password = re.search(r"shown once\): (\S+)", generated.output).group(1)
    assert _cli(["--db", db, "user", "add", "xiaomei", "--generate"]).exit_code == 1  # taken
    assert _cli(["--db", db, "user", "add", "x2", "--role", "boss", "--generate"]).exit_code == 1
    reset = _cli(["--db", db, "user", "passwd", "xiaomei"], input="brand-new-pass\nbrand-new-pass\n")
    assert reset.exit_code == 0, reset.output
    assert _cli(["--db", db, "user", "passwd", "nobody", "--generate"]).exit_code == 1
    assert "xiaoli" in _cli(["--db", db, "user", "list"]).output
    store = Store(db)
    with store.session() as session:
        assert authenticate(session, "xiaomei", "brand-new-pass").display_name == "小美"
        assert authenticate(session, "xiaomei", "agent-pass-1") is None
        assert authenticate(session, "xiaoli", password).role == "agent"
    store.dispose()


def test_serve_creates_the_owner_once_and_runs_uvicorn(tmp_path, monkeypatch):
    import uvicorn

    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append((app, kw)))
    monkeypatch.delenv("KEFU_OWNER_PASSWORD", raising=False)
    monkeypatch.delenv("KEFU_OWNER_USERNAME", raising=False)
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    first = _cli(["--db", db, "serve", "--port", "8123"])
    assert first.exit_code == 0, first.output
    password = re.search(r"password:\s+(\S+)", first.output).group(1)
    assert "http://127.0.0.1:8123/" in first.output
    app, options = runs[0]
    assert options["host"] == "127.0.0.1" and options["port"] == 8123
    assert app.state.store is not None
    second = _cli(["--db", db, "serve"])
    assert "password" not in second.output  # printed once only
    with app.state.store.session() as session:
        assert authenticate(session, "owner", password).role == "owner"


def test_serve_takes_the_owner_from_the_environment(tmp_path, monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    monkeypatch.setenv("KEFU_OWNER_USERNAME", "laoban")
    monkeypatch.setenv("KEFU_OWNER_PASSWORD", "env-owner-pass")
    result = _cli(["--db", f"sqlite:///{tmp_path / 'env.db'}", "serve"])
    assert "laoban" in result.output and "env-owner-pass" not in result.output


def test_serve_demo_builds_the_demo_only_into_an_empty_database(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import uvicorn

    import kefu.demo
    from kefu.services.shops import get_or_create_shop
    from kefu.store.tables import Order

    built = []

    def fake_demo(store, **kwargs):
        with store.session() as session:
            shop = get_or_create_shop(session, "小桃子的衣橱")
            session.add(Order(id=f"{shop.id}:1", shop_id=shop.id, platform="taobao", order_no="1", status="TRADE_FINISHED",
                              source="demo"))
        built.append(kwargs)
        return SimpleNamespace(shop_name="小桃子的衣橱", orders=1, customers=0)

    monkeypatch.setattr(kefu.demo, "build_demo_shop", fake_demo)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    monkeypatch.delenv("KEFU_OWNER_PASSWORD", raising=False)
    monkeypatch.setenv("KEFU_OWNER_USERNAME", "ignored-for-demo")
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    first = _cli(["--db", db, "serve", "--demo"])
    assert first.exit_code == 0, first.output
    assert "小桃子的衣橱" in first.output and re.search(r"username: owner", first.output)
    _cli(["--db", db, "serve", "--demo"])
    assert len(built) == 1


def test_repeated_failed_logins_are_throttled(anon, users, web):
    for _ in range(10):
        assert web.log_in(anon, web.agent[0], "wrong-password").status_code == 401
    blocked = web.log_in(anon, web.agent[0], web.agent[1])
    assert blocked.status_code == 429 and "10 分钟" in blocked.text
    assert web.log_in(anon, web.owner[0], web.owner[1]).status_code == 303  # other names are not affected


def test_pages_carry_security_headers(anon):
    response = anon.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_shopify_webhook_is_not_behind_the_login(anon):
    from kefu.web.app import shopify_webhook_router

    if shopify_webhook_router() is None:
        pytest.skip("the Shopify webhook module is not installed")
    response = anon.post("/webhooks/shopify", content=b'{"id": 1}',
                         headers={"X-Shopify-Hmac-Sha256": "bad", "X-Shopify-Topic": "orders/create"},
                         follow_redirects=False)
    assert response.status_code == 401  # the webhook's own signature check, not a redirect to /login
    assert "location" not in response.headers and "signature" in response.text


def test_a_signed_shopify_webhook_lands_through_the_workbench_app(store):
    from kefu.web.app import create_app, shopify_webhook_router

    if shopify_webhook_router() is None:
        pytest.skip("the Shopify webhook module is not installed")
    from starlette.testclient import TestClient

    from kefu.store.tables import Order

    app = create_app(store, Settings(session_secret="s", shopify_webhook_secrets=("hush-test-secret",)))
    body = b'{"id":820982911946154508,"name":"#1001","financial_status":"paid"}'
    with TestClient(app) as c:
        response = c.post("/webhooks/shopify", content=body, headers={
            "X-Shopify-Hmac-Sha256": "w3RDSusBUWn6e5hnQqt2DoSt3F2JCVCkPIgrfEsYqg0=",
            "X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": "demo.myshopify.com",
            "X-Shopify-Webhook-Id": "wh-1", "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    with store.session() as session:
        assert session.query(Order).filter_by(order_no="820982911946154508").count() == 1


def test_serve_refuses_several_workers_on_sqlite(tmp_path, monkeypatch):
    import uvicorn

    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append(app))
    result = _cli(["--db", f"sqlite:///{tmp_path / 'one.db'}", "serve", "--workers", "3"])
    assert result.exit_code == 2 and "PostgreSQL" in result.output and not runs


@pytest.mark.postgres
def test_serve_runs_several_workers_by_name_on_postgresql(postgres_store, monkeypatch):
    import uvicorn

    from kefu.web.app import app_from_env

    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append((app, kw)))
    monkeypatch.setenv("KEFU_OWNER_PASSWORD", "env-owner-pass")
    result = _cli(["--db", postgres_store.url, "serve", "--workers", "3", "--no-access-log"])
    assert result.exit_code == 0, result.output
    (target, options), = runs
    assert target == "kefu.web.app:app_from_env" and options["factory"] and options["workers"] == 3
    assert options["access_log"] is False
    worker_app = app_from_env()  # what each worker builds, from the URL the parent put in the environment
    assert worker_app.state.store.url == postgres_store.url
    worker_app.state.store.dispose()
