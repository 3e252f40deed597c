"""Lifecycle templates of a shop: its own wording over the built-in one, voice and persona settings, live preview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.messaging.review_invite import review_reward_problem
from kefu.domain.messaging.rules import VOICES, MessagingRules, RulesProblem, messaging_rules
from kefu.domain.messaging.templates import (
    BUILT_IN,
    SAMPLE_VARIABLES,
    TemplateProblem,
    check_template,
    render_template,
    spec,
)
from kefu.ids import new_id
from kefu.store.messaging_tables import MessageTemplateRow
from kefu.store.tables import Shop


@dataclass(frozen=True)
class TemplateView:
    key: str
    purpose: str
    voice: str
    body: str
    built_in: str
    customised: bool
    preview: str


def rules_of(shop: Shop | None) -> MessagingRules:
    return messaging_rules(shop_rules(shop.settings if shop else None))


def shop_messaging_rules(session: Session, shop_id: str) -> MessagingRules:
    return rules_of(session.get(Shop, shop_id))


def template_body(session: Session, shop_id: str, key: str, voice: str) -> tuple[str, bool]:
    """The body a shop sends for this template and voice, and whether it is the shop's own wording."""
    own = session.scalar(select(MessageTemplateRow.body).where(
        MessageTemplateRow.shop_id == shop_id, MessageTemplateRow.template_key == key, MessageTemplateRow.voice == voice))
    return (own, True) if own is not None else (spec(key).body(voice), False)


def render_for_shop(session: Session, shop_id: str, key: str, variables: Mapping[str, Any], *,
                    voice: str | None = None, body: str | None = None,
                    rules: MessagingRules | None = None) -> tuple[str, str]:
    """(voice, text) of a template rendered for a shop in its voice (or the one given), persona and form of address."""
    rules = rules or shop_messaging_rules(session, shop_id)
    voice = voice or rules.voice
    source = body if body is not None else template_body(session, shop_id, key, voice)[0]
    playful = voice == "playful"
    text = render_template(source, variables, persona=rules.persona_name if playful else None,
                           form_of_address=rules.form_of_address if playful else None)
    return voice, text


def list_templates(session: Session, shop_id: str, voice: str | None = None) -> list[TemplateView]:
    """Every lifecycle template in a voice (the shop's by default), with its wording and a preview on the sample order."""
    rules = shop_messaging_rules(session, shop_id)
    voice = voice if voice in VOICES else rules.voice
    own = dict(session.execute(select(MessageTemplateRow.template_key, MessageTemplateRow.body).where(
        MessageTemplateRow.shop_id == shop_id, MessageTemplateRow.voice == voice)).all())
    shop = session.get(Shop, shop_id)
    sample = {**SAMPLE_VARIABLES, "shop_name": shop.name if shop else ""}
    views = []
    for t in BUILT_IN:
        body = own.get(t.key, t.body(voice))
        try:
            preview = render_for_shop(session, shop_id, t.key, sample, voice=voice, body=body, rules=rules)[1]
        except TemplateProblem as exc:
            preview = str(exc)
        views.append(TemplateView(t.key, t.purpose, voice, body, t.body(voice), t.key in own, preview))
    return views


def check_wording(key: str, body: str) -> None:
    """TemplateProblem unless the body renders; a review invitation must not offer a reward or ask for a good review."""
    check_template(body)
    if spec(key).key == "review.invite":
        problem = review_reward_problem(render_template(body, SAMPLE_VARIABLES))
        if problem:
            raise TemplateProblem(problem)


def preview_template(session: Session, shop_id: str, key: str, voice: str, body: str,
                     variables: Mapping[str, Any] | None = None) -> str:
    """The text this body would send for the sample order (or the variables given); TemplateProblem when it cannot."""
    check_wording(key, body)
    shop = session.get(Shop, shop_id)
    sample = {**SAMPLE_VARIABLES, "shop_name": shop.name if shop else "", **(variables or {})}
    return render_for_shop(session, shop_id, key, sample, voice=voice, body=body)[1]


def save_template(session: Session, shop_id: str, key: str, voice: str, body: str, *, actor: str | None,
                  now: datetime) -> None:
    """Keep the shop's own wording of a template (checked first); the built-in wording when it equals that."""
    if voice not in VOICES:
        raise TemplateProblem(f"未知语气 / unknown voice: {voice}")
    body = body.strip()
    check_wording(key, body)
    row = session.scalar(select(MessageTemplateRow).where(
        MessageTemplateRow.shop_id == shop_id, MessageTemplateRow.template_key == key, MessageTemplateRow.voice == voice))
    if body == spec(key).body(voice):
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = MessageTemplateRow(id=new_id(), shop_id=shop_id, template_key=key, voice=voice)
        session.add(row)
    row.body, row.updated_at, row.updated_by = body, now, actor
    session.flush()


def reset_template(session: Session, shop_id: str, key: str, voice: str) -> None:
    session.execute(delete(MessageTemplateRow).where(
        MessageTemplateRow.shop_id == shop_id, MessageTemplateRow.template_key == key, MessageTemplateRow.voice == voice))


def messaging_settings(session: Session, shop_id: str) -> dict[str, Any]:
    """The shop's messaging settings as shown on the templates page (defaults with the shop's overrides)."""
    shop = session.get(Shop, shop_id)
    return dict(shop_rules(shop.settings if shop else None)["messaging"])


def save_messaging_settings(session: Session, shop_id: str, changes: Mapping[str, Any]) -> MessagingRules:
    """Lay changes (voice, persona_name, form_of_address, quiet_hours, daily_cap …) over the shop's messaging settings;
    RulesProblem naming the field when the result cannot be read, and nothing is stored then."""
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise RulesProblem(f"no such shop: {shop_id}")
    settings = dict(shop.settings or {})
    merged = {**(settings.get("messaging") or {}), **changes}
    rules = messaging_rules(shop_rules({**settings, "messaging": merged}))
    settings["messaging"] = merged
    shop.settings = settings  # a new dict, so the JSON column sees the change
    session.flush()
    return rules
