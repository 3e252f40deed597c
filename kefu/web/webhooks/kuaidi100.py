"""POST /webhooks/kuaidi100: check Kuaidi100's sign over `param`, then land the parcel update (de-duplicated, recorded)."""

from __future__ import annotations

import codecs
import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from kefu.domain.privacy import redact_phones
from kefu.ingest import kuaidi100
from kefu.services.tracking import IncomingPush
from kefu.web.webhooks.push_batcher import PushBatcher

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

SOURCE = "kuaidi100"
REFUSED_STATUS = 401  # a push that does not prove it came from Kuaidi100 (like the Shopify webhook's bad HMAC)


def _form_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _unquote(raw: bytes) -> str:
    """One form value, percent- and plus-decoded in C (codecs.escape_decode); ValueError on a malformed % escape."""
    raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        raw = codecs.escape_decode(raw.replace(b"\\", b"\\\\").replace(b"%", b"\\x"))[0]
    return raw.decode("utf-8", errors="replace")


def urlencoded_fields(body: bytes) -> dict[str, str]:
    """A form-urlencoded body as {name: first value}, as parse_qsl reads it but about ten times faster on a long `param`."""
    fields: dict[str, str] = {}
    try:
        pairs = [(_unquote(name), _unquote(value)) for name, _, value in (p.partition(b"=") for p in body.split(b"&") if p)]
    except ValueError:  # a malformed escape: let the standard parser say what it makes of it
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


async def _param_and_sign(request: Request, body: bytes) -> tuple[str | None, str | None]:
    """The `param` and `sign` form fields: a urlencoded body (what Kuaidi100 sends) is read directly, anything else as a form."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        fields = urlencoded_fields(body)
        return fields.get("param"), fields.get("sign")
    form = await request.form()
    return _form_text(form.get("param")), _form_text(form.get("sign"))


def _batcher(request: Request) -> PushBatcher:
    """The app's batcher of Kuaidi100 pushes (one per process), made on first use."""
    batcher = getattr(request.app.state, "kuaidi100_batcher", None)
    if batcher is None or batcher.store is not request.app.state.store:
        batcher = request.app.state.kuaidi100_batcher = PushBatcher(request.app.state.store, SOURCE)
    return batcher


@router.post("/webhooks/kuaidi100", summary="快递100 物流推送 / Kuaidi100 tracking pushes")
async def kuaidi100_push(
    request: Request,
    shop: str | None = Query(None, description="店铺 ID，限定运单匹配范围 / shop id that scopes the waybill lookup"),
) -> JSONResponse:
    """Kuaidi100 posts form fields `param` (JSON) and `sign` (md5(param + salt)); answers its ack, or its error ack."""
    body = await request.body()
    param, sign = await _param_and_sign(request, body)
    settings = getattr(request.app.state, "settings", None)
    salt = getattr(settings, "kuaidi100_salt", None)
    scope = (shop or "").strip() or None
    if not salt or param is None or not kuaidi100.verify_sign(param, sign or "", salt):
        reason = "no salt configured" if not salt else ("missing param" if param is None else ("missing sign" if not sign else "bad sign"))
        log.warning("kuaidi100 push refused (%s): shop=%s bytes=%d", reason, redact_phones(scope), len(body))
        return JSONResponse(kuaidi100.error_ack(f"签名校验失败 / push refused: {reason}"), status_code=REFUSED_STATUS)
    outcome = await _batcher(request).submit(IncomingPush(body=body, parse=lambda: [kuaidi100.parse_push(param)], shop_id=scope))
    if not outcome.accepted:
        log.warning("kuaidi100 push rejected: shop=%s: %s", redact_phones(scope), redact_phones(outcome.detail))
        return JSONResponse(kuaidi100.error_ack(f"无法读取 / unreadable push: {outcome.detail}"), status_code=400)
    return JSONResponse(kuaidi100.ACK)
