"""Demo steps after the orders land: each capability adds its own invented data (chats, reviews, stock …) here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kefu.demo.generator import DemoShop
    from kefu.store.database import Store

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoContext:
    """What a demo step gets: the store, the generated shop, its id, the demo's "now" and a progress callback."""

    store: Store
    shop: DemoShop
    shop_id: str
    now: datetime  # UTC, the demo's end
    progress: Progress | None = None


# A step returns a short line for the summary (Chinese / English), e.g. "评价 / reviews: 812".
DemoStep = Callable[[DemoContext], str]


def demo_steps() -> list[DemoStep]:
    """The steps in the order they run; a capability adds one import and one entry here."""
    steps: list[DemoStep] = []
    from kefu.demo.messages import demo_messages  # lifecycle messages, first: it rebuilds the shop's outbox on the demo's clock

    steps.append(demo_messages)
    from kefu.demo.stock import add_stock  # stock levels and stockout cases (imports DemoContext from this module)

    steps.append(add_stock)
    from kefu.demo.reviews import demo_reviews  # here: kefu.demo.reviews imports DemoContext from this module

    steps.append(demo_reviews)
    from kefu.demo.cases import demo_cases  # complaint cases (imports DemoContext from this module)

    steps.append(demo_cases)
    from kefu.demo.growth import demo_growth  # segments, gifts, listings, visits, a 差评师 (imports DemoContext from here)

    steps.append(demo_growth)
    from kefu.demo.desk import build_desk  # service desk: knowledge base, chats, follow-ups (imports DemoContext from here)

    steps.append(build_desk)
    from kefu.demo.returns import add_returns  # return requests (imports DemoContext from this module)

    steps.append(add_returns)
    return steps


def run_demo_steps(context: DemoContext) -> list[str]:
    """Run every step and collect its summary line."""
    return [step(context) for step in demo_steps()]
