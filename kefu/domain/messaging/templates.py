"""Lifecycle templates: the built-in wording in two voices, variables with fallbacks, and rendering in a Jinja2 sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from jinja2 import TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment


@dataclass(frozen=True)
class TemplateSpec:
    """One lifecycle template: its key (= the event), why it is sent, and the built-in wording in each voice."""

    key: str
    purpose: str  # transactional | marketing
    plain: str
    playful: str

    def body(self, voice: str) -> str:
        return self.playful if voice == "playful" else self.plain


BUILT_IN: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        "order.paid", "transactional",
        "{{ nickname }}，您在{{ shop_name }}的订单{{ order_no }}已付款成功，我们会尽快为您发货。",
        "{{ address }}～{{ persona }}收到您的订单{{ order_no }}啦！正在飞速打包，请等{{ persona }}的好消息哦～",
    ),
    TemplateSpec(
        "order.shipped", "transactional",
        "{{ nickname }}，您的{{ item }}已由{{ courier }}发出，运单号{{ waybill }}，请留意查收。",
        "{{ address }}，您的{{ item }}已经坐上{{ courier }}出发啦！运单号{{ waybill }}，{{ persona }}会一路盯着它的～",
    ),
    TemplateSpec(
        "parcel.delayed", "transactional",
        "{{ nickname }}，非常抱歉，您的包裹（{{ courier }} {{ waybill }}）在途中耽搁了，我们已在催促快递，有进展会第一时间告诉您。",
        "呜呜{{ address }}对不起！您的包裹（{{ courier }} {{ waybill }}）在路上耽搁了一会儿，{{ persona }}已经去催快递小哥啦，一有消息马上告诉您！",
    ),
    TemplateSpec(
        "parcel.out_for_delivery", "transactional",
        "{{ nickname }}，您的包裹正在派送中（{{ courier }} {{ waybill }}），请保持电话畅通。",
        "{{ address }}！您的包裹今天就到啦，快递小哥正在派送（{{ courier }} {{ waybill }}），记得接电话哦～",
    ),
    TemplateSpec(
        "parcel.signed", "transactional",
        "{{ nickname }}，您的包裹已签收。使用中有任何问题请随时联系我们，{{ shop_name }}祝您生活愉快。",
        "{{ address }}，包裹已经签收啦～有任何不满意都可以来找{{ persona }}，{{ persona }}一直在！",
    ),
    TemplateSpec(
        "review.invite", "marketing",
        "{{ nickname }}，{{ item }}用得还好吗？方便时请在订单里留下您真实的评价，您的意见对我们很重要。",
        "{{ address }}，{{ item }}还合心意吗？{{ persona }}想听听您的真实感受，方便时在订单里写几句评价就好～",
    ),
    # Care and follow-ups (kefu.services.care, kefu.services.coupons).
    TemplateSpec(
        "care.after_signing", "transactional",
        "{{ nickname }}，{{ item }}收到几天了，穿着/用着还合适吗？有任何问题随时找我们，{{ shop_name }}一直在。",
        "{{ address }}，{{ item }}到您身边几天啦，还合心意吗？有一点点不满意也要告诉{{ persona }}哦～",
    ),
    TemplateSpec(
        "care.birthday", "marketing",
        "{{ nickname }}，{{ shop_name }}祝您生日快乐！感谢一直以来的支持，愿新的一岁顺心如意。",
        "{{ address }}生日快乐！🎂 {{ persona }}偷偷记下了今天，祝您新的一岁美美的、开开心心～",
    ),
    TemplateSpec(
        "care.winback", "marketing",
        "{{ nickname }}，好久不见，{{ shop_name }}上了些新品，想起您上次买的{{ item }}，有空回来看看。",
        "{{ address }}好久不见！{{ persona }}想您啦，店里来了新宝贝，和您上次的{{ item }}很搭哦～",
    ),
    TemplateSpec(
        "coupon.offer", "marketing",
        "{{ nickname }}，送您一张满{{ threshold }}减{{ amount }}元的老客券，{{ expires }}前有效，感谢回来看我们。",
        "{{ address }}，{{ persona }}给您留了一张满{{ threshold }}减{{ amount }}元的专属券，{{ expires }}前都能用哦～",
    ),
)
TEMPLATE_KEYS: tuple[str, ...] = tuple(t.key for t in BUILT_IN)
_BY_KEY = {t.key: t for t in BUILT_IN}

# Every variable a template may use, with what it renders as when the order or customer has no value for it.
FALLBACKS: Mapping[str, str] = {
    "nickname": "亲",
    "address": "亲",
    "persona": "小蜜",
    "shop_name": "本店",
    "order_no": "",
    "item": "宝贝",
    "courier": "快递",
    "waybill": "（可在订单详情查看）",
    "amount": "",
    "threshold": "",
    "expires": "有效期内",
}
VARIABLES: tuple[str, ...] = tuple(FALLBACKS)
MAX_BODY = 500  # characters of template source; an SMS is billed per 67–70 characters

SAMPLE_VARIABLES: Mapping[str, str] = {
    "nickname": "tb_kitty2019", "shop_name": "示例小店", "order_no": "3791234567890123456", "item": "纯棉T恤",
    "courier": "中通快递", "waybill": "78912345678901",
}


class TemplateProblem(ValueError):
    """A template that cannot be used as written: bad syntax, an unknown variable, unsafe code, too long."""


def spec(key: str) -> TemplateSpec:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise TemplateProblem(f"未知模板 / unknown template: {key}") from None


_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)


def check_template(body: str) -> None:
    """Raise TemplateProblem (naming the line or the variable) unless the body is a usable template."""
    if len(body) > MAX_BODY:
        raise TemplateProblem(f"模板过长：{len(body)} 字 / template too long: {len(body)} > {MAX_BODY} characters")
    if not body.strip():
        raise TemplateProblem("模板为空 / the template is empty")
    try:
        parsed = _ENV.parse(body)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"第 {exc.lineno} 行语法错误 / line {exc.lineno}: {exc.message}") from None
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(VARIABLES))
    if unknown:
        raise TemplateProblem(
            f"未知变量 / unknown variable: {', '.join(unknown)}（可用 / available: {', '.join(VARIABLES)}）")


def template_context(variables: Mapping[str, Any], *, persona: str | None = None,
                     form_of_address: str | None = None) -> dict[str, str]:
    """Variables with fallbacks: a missing or empty value renders as its fallback (a missing nickname as 亲)."""
    context = dict(FALLBACKS)
    if persona:
        context["persona"] = persona
    nickname = str(variables.get("nickname") or "").strip()
    if form_of_address:
        context["address"] = form_of_address
    for name, value in variables.items():
        text = "" if value is None else str(value).strip()
        if text and name in FALLBACKS:
            context[name] = text
    if nickname and not form_of_address:
        context["address"] = nickname
    return context


def render_template(body: str, variables: Mapping[str, Any], *, persona: str | None = None,
                    form_of_address: str | None = None) -> str:
    """The message text: the body rendered in a sandbox with fallbacks; TemplateProblem on anything unsafe or broken."""
    check_template(body)
    try:
        text = _ENV.from_string(body).render(template_context(variables, persona=persona, form_of_address=form_of_address))
    except SecurityError as exc:
        raise TemplateProblem(f"模板不安全 / unsafe template: {exc}") from None
    except TemplateError as exc:
        raise TemplateProblem(f"模板无法渲染 / template cannot render: {exc}") from None
    return " ".join(text.split())
