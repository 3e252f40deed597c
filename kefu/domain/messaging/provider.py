"""A template key mapped to the SMS provider's registered template code and its parameters (from configuration)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class ProviderTemplate:
    code: str | None
    params: dict[str, str]


def provider_template(mapping: Mapping[str, Mapping[str, Any]], channel: str, template_key: str | None,
                      variables: Mapping[str, str]) -> ProviderTemplate:
    """The provider's template code and parameter values for this message, or (None, {}) when none is configured.
    Named parameters (Aliyun) map the provider's name to a kefu variable; a list (Tencent) is positional ("1", "2" …).
    Values are always strings (Aliyun refuses others)."""
    entry = (mapping.get(channel) or {}).get(template_key or "") if template_key else None
    if not entry:
        return ProviderTemplate(None, {})
    params = entry.get("params") or {}
    if isinstance(params, list):
        values = {str(i): str(variables.get(name, "")) for i, name in enumerate(params, start=1)}
    else:
        values = {str(k): str(variables.get(v, "")) for k, v in params.items()}
    return ProviderTemplate(str(entry.get("code")) if entry.get("code") else None, values)
