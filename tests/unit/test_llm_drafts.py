"""The optional LLM rewording: off without configuration, used only when it keeps every fact, never on failure."""

from __future__ import annotations

import json

import httpx

from kefu.domain.desk.drafts import Citation, Draft
from kefu.services.llm_drafts import LlmSettings, reword_draft

DRAFT = Draft("亲，每天16:00前付款当天发出。新疆需要补运费15元。", (Citation("e", "shipping", "发货", "cutoff: 16:00"),), (),
              "dominant", False, False)
SETTINGS = LlmSettings("http://llm.test/v1", "sk-test", "local-model")


def transport(reply: str | None, status: int = 200, seen: list | None = None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if reply is None:
            return httpx.Response(status)
        return httpx.Response(status, json={"choices": [{"message": {"content": reply}}]})

    return httpx.MockTransport(handle)


def test_off_unless_the_base_url_is_set():
    assert LlmSettings.from_env({}) is None
    settings = LlmSettings.from_env({"KEFU_LLM_BASE_URL": "http://x/v1/", "KEFU_LLM_TIMEOUT": "oops"})
    assert (settings.base_url, settings.timeout, settings.model) == ("http://x/v1", 15.0, "gpt-4o-mini")
    assert reword_draft(DRAFT, "今天能发吗", None) is None


def test_the_models_wording_is_used_when_it_keeps_every_number():
    seen: list = []
    text = reword_draft(DRAFT, "今天能发吗", SETTINGS, transport("亲，16:00前付款今天就发；发新疆要补15元运费哦。", seen=seen))
    assert text == "亲，16:00前付款今天就发；发新疆要补15元运费哦。"
    body = json.loads(seen[0].content)
    assert seen[0].url == "http://llm.test/v1/chat/completions" and seen[0].headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "local-model" and "cutoff: 16:00" in body["messages"][1]["content"]


def test_a_dropped_fact_or_a_failing_endpoint_keeps_the_offline_draft():
    assert reword_draft(DRAFT, "今天能发吗", SETTINGS, transport("亲，今天就发，包邮哦！")) is None
    assert reword_draft(DRAFT, "今天能发吗", SETTINGS, transport(None, status=500)) is None
    garbled = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>gateway</html>"))
    assert reword_draft(DRAFT, "今天能发吗", SETTINGS, garbled) is None
