"""Web fixtures: the workbench app on the `store` fixture (SQLite and PostgreSQL) and logged-in test clients."""

from __future__ import annotations

import warnings

import pytest

from kefu.config import Settings
from kefu.web import create_app
from kefu.web.auth import create_user

OWNER = ("boss", "owner-pass-123")
AGENT = ("xiaomei", "agent-pass-123")
UPLOAD_FIXTURE = "web_upload_ExportOrderList202503121030.csv"

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)


def _test_client(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        return TestClient(app, base_url="http://testserver")


def log_in(client, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password, "next": "/"}, follow_redirects=False)


class Web:
    """What web tests share: the credentials, new clients and logging in."""

    owner = OWNER
    agent = AGENT

    def __init__(self, app):
        self.app = app
        self._clients = []

    def new_client(self):
        client = _test_client(self.app)
        self._clients.append(client)
        return client

    @staticmethod
    def log_in(client, username: str, password: str):
        return log_in(client, username, password)

    def close(self):
        for client in self._clients:
            client.close()


@pytest.fixture
def web(app):
    helper = Web(app)
    yield helper
    helper.close()


@pytest.fixture
def settings() -> Settings:
    return Settings(session_secret="test-session-secret")


@pytest.fixture
def app(store, settings):
    return create_app(store, settings)


@pytest.fixture
def users(store):
    """An owner and an agent."""
    with store.session() as session:
        create_user(session, OWNER[0], OWNER[1], role="owner", display_name="店主")
        create_user(session, AGENT[0], AGENT[1], role="agent", display_name="小美")


@pytest.fixture
def anon(app):
    """A client nobody has logged in with."""
    with _test_client(app) as client:
        yield client


@pytest.fixture
def client(app, users):
    """A client logged in as the owner."""
    with _test_client(app) as client:
        assert log_in(client, *OWNER).status_code == 303
        yield client


@pytest.fixture
def agent(app, users):
    """A client logged in as an agent."""
    with _test_client(app) as client:
        assert log_in(client, *AGENT).status_code == 303
        yield client


@pytest.fixture
def imported(store, fixtures_dir):
    """The small upload fixture imported into the store (5 orders land, one row is rejected)."""
    from kefu.services.import_orders import import_taobao_files

    return import_taobao_files(store, [fixtures_dir / "taobao" / UPLOAD_FIXTURE], "测试小店")
