"""The web workbench: FastAPI pages with Jinja2 + HTMX, and the REST API (see `kefu.web.app.create_app`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kefu.config import Settings
    from kefu.store.database import Store


def create_app(store: Store, settings: Settings | None = None) -> FastAPI:
    """The workbench application (imported lazily so `kefu.web.*` modules can be imported on their own)."""
    from kefu.web.app import create_app as build

    return build(store, settings)


__all__ = ["create_app"]
