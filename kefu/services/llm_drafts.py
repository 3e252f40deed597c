"""Optional: a language model rewords a composed draft through an OpenAI-compatible endpoint (off unless configured).

Set ``KEFU_LLM_BASE_URL`` (e.g. http://127.0.0.1:11434/v1), optionally ``KEFU_LLM_API_KEY``, ``KEFU_LLM_MODEL`` and
``KEFU_LLM_TIMEOUT`` (seconds). The model only rewords: it is given the composed draft and the cited facts and told to
add nothing. Its wording is used only when it keeps every cited value and the promise guard does not block it;
otherwise, and whenever the endpoint fails, the offline draft stands.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import httpx

from kefu.domain.desk.drafts import Draft

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "你是淘宝店铺的客服。把给你的回复草稿改写得更自然，保持店铺语气和买家性格类型对应的风格。"
    "只能使用草稿和事实列表里已有的信息：不要添加任何新的承诺、时间、价格、赠品或政策；"
    "不要删掉任何事实和数字。只输出改写后的回复。"
)
STYLE = {
    "dominant": "买家是力量型：简短直接，先给结论和价格。",
    "expressive": "买家是活泼型：热情，先肯定和倾听。",
    "amiable": "买家是和平型：亲切耐心，帮他做选择。",
    "analytical": "买家是完美型：条理清楚，给具体参数和准确时间。",
}


@dataclass(frozen=True)
class LlmSettings:
    base_url: str
    api_key: str | None = None
    model: str = "gpt-4o-mini"
    timeout: float = 15.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "LlmSettings | None":
        env = os.environ if environ is None else environ
        base = (env.get("KEFU_LLM_BASE_URL") or "").strip().rstrip("/")
        if not base:
            return None
        try:
            timeout = float(env.get("KEFU_LLM_TIMEOUT") or 15)
        except ValueError:
            timeout = 15.0
        return cls(base, (env.get("KEFU_LLM_API_KEY") or "").strip() or None,
                   (env.get("KEFU_LLM_MODEL") or "").strip() or "gpt-4o-mini", timeout)


def _keeps_facts(text: str, draft: Draft) -> bool:
    """Every number of the draft (times, hours, fees, sizes) is still in the reworded text."""
    import re

    return all(number in text for number in re.findall(r"\d+(?:[.:]\d+)?", draft.text))


def reword_draft(draft: Draft, message: str, settings: LlmSettings | None,
                 transport: httpx.BaseTransport | None = None) -> str | None:
    """The model's wording of the draft, or None (not configured, failed, or it dropped a fact)."""
    if settings is None or not draft.text:
        return None
    facts = "\n".join(f"- {c.title}: {c.fact}" for c in draft.citations) or "- (无)"
    user = (f"买家消息：{message}\n{STYLE.get(draft.personality or '', '')}\n事实：\n{facts}\n\n回复草稿：\n{draft.text}")
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    try:
        with httpx.Client(timeout=settings.timeout, transport=transport) as client:
            response = client.post(f"{settings.base_url}/chat/completions", headers=headers, json={
                "model": settings.model, "temperature": 0.3,
                "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]})
            response.raise_for_status()
            text = response.json()["choices"][0]["message"]["content"].strip()
    except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
        log.warning("LLM draft endpoint failed, keeping the offline draft: %s", exc)
        return None
    if not text or not _keeps_facts(text, draft):
        return None
    return text
