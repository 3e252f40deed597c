"""Browser fixtures: the workbench served by uvicorn on a free loopback port, and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path("/tmp/kefu-shots")
OWNER = ("owner", "browser-owner-pass")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def owner_login() -> tuple[str, str]:
    return OWNER


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is required in CI")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


@contextmanager
def serve_workbench(path: Path, seed=None, owner: tuple[str, str] | None = OWNER) -> Iterator[str]:
    """Serve a workbench on a fresh SQLite database at `path` with `owner` (None: the seed makes its own users), after
    `seed(store)` if given; yields its base URL and stops the server afterwards."""
    import uvicorn

    from kefu.config import Settings
    from kefu.store.database import Store
    from kefu.web import create_app
    from kefu.web.auth import create_user

    store = Store(f"sqlite:///{path}")
    if owner is not None:
        with store.session() as session:
            create_user(session, *owner, role="owner", display_name="店主")
    if seed is not None:
        seed(store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store, Settings()), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the workbench did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.dispose()


@pytest.fixture(scope="module")
def workbench(tmp_path_factory):
    """A running workbench on a fresh SQLite database with one owner; yields its base URL."""
    with serve_workbench(tmp_path_factory.mktemp("browser") / "kefu.db") as url:
        yield url


@pytest.fixture(scope="module")
def seeded_workbench():
    """`seeded_workbench(path, seed)`: a context manager serving a workbench whose store `seed(store)` filled first."""
    return serve_workbench


@pytest.fixture(scope="module")
def sign_in():
    """`sign_in(page, base_url)`: log the owner in."""
    return log_in


def log_in(page, base: str) -> None:
    """Log the owner in on `page` and wait for the workbench."""
    page.goto(f"{base}/login")
    page.fill("#username", OWNER[0])
    page.fill("#password", OWNER[1])
    page.click("button[type=submit]")
    page.wait_for_selector("#current-user")


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def shoot():
    """Save a full-page screenshot as /tmp/kefu-shots/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        target = SHOTS / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        return target

    return take
