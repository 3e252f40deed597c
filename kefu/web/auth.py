"""Who may use the workbench: users, scrypt passwords, owner/agent roles, signed-cookie sessions, `current_user`.

Passwords are hashed with `hashlib.scrypt` (n=2**14, r=8, p=1) and a random 16-byte salt per user, stored as
``scrypt$n$r$p$<salt b64>$<hash b64>``.

Sessions are Starlette's `SessionMiddleware`: the session dict is signed with `itsdangerous` and kept in the
``kefu_session`` cookie (HttpOnly, SameSite=Lax, 14 days). The signing secret is ``KEFU_SESSION_SECRET``
(`Settings.session_secret`) when set; otherwise one is generated on first start and persisted in the database
(table ``app_settings``, key ``session_secret``), so log-ins survive restarts and every process serving the same
database signs alike. A session also carries a fingerprint of the user's password hash: resetting a password
(`kefu user passwd`) ends that user's other sessions.

Scripts may use HTTP Basic auth on ``/api`` instead of the cookie. Pages answer a missing log-in with a redirect to
``/login``; ``/api`` answers 401. Cookie-authenticated writes must come from the same origin (Origin header check),
on top of SameSite=Lax.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.config import Settings
from kefu.ids import new_id
from kefu.store.database import Store
from kefu.store.tables import AppSetting, User

ROLES = ("owner", "agent")
SESSION_COOKIE = "kefu_session"
SESSION_MAX_AGE = 14 * 24 * 3600
SESSION_SECRET_KEY = "session_secret"
MIN_PASSWORD_LENGTH = 8

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,40}$")


class UserError(ValueError):
    """A user could not be created or changed; the message says why (in Chinese and English)."""


class LoginRequired(Exception):
    """Raised by `current_user` when nobody is logged in; pages redirect to /login, /api answers 401."""

    def __init__(self, next_path: str = "/"):
        super().__init__("login required")
        self.next_path = next_path


@dataclass(frozen=True)
class SignedInUser:
    """The person behind a request."""

    id: str
    username: str
    display_name: str | None
    role: str

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    @property
    def label(self) -> str:
        return self.display_name or self.username


# ---------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    """The storable scrypt hash of a password, with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    b64 = lambda raw: base64.b64encode(raw).decode("ascii")
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether the password matches a hash made by `hash_password` (constant-time compare)."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        digest = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(digest, expected)


def generate_password() -> str:
    """A random password to print once (about 72 bits, no look-alike characters)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(14))


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash, kept in the session so a password reset ends old sessions."""
    return hashlib.sha256(password_hash.encode("ascii")).hexdigest()[:16]


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 位 / password must have at least {MIN_PASSWORD_LENGTH} characters")


# ---------------------------------------------------------------- users


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip()))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role.desc(), User.username)))


def has_users(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)))


def create_user(
    session: Session, username: str, password: str, *, role: str = "agent", display_name: str | None = None
) -> User:
    """A new active user; raises UserError for a taken or malformed name, an unknown role or a short password."""
    username = (username or "").strip()
    if not _USERNAME.match(username):
        raise UserError(f"用户名不合法: {username!r}（2–40 个字母、数字、汉字或 _.-）/ invalid username")
    if role not in ROLES:
        raise UserError(f"角色只能是 owner 或 agent / role must be owner or agent, not {role!r}")
    _check_password(password)
    if find_user(session, username):
        raise UserError(f"用户名已存在: {username} / username already taken")
    user = User(
        id=new_id(),
        username=username,
        display_name=(display_name or "").strip() or None,
        password_hash=hash_password(password),
        role=role,
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    """Give a user a new password (their other sessions end); raises UserError for an unknown user."""
    user = find_user(session, username)
    if user is None:
        raise UserError(f"没有这个用户: {username} / no such user")
    _check_password(password)
    user.password_hash = hash_password(password)
    session.flush()
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    """Enable or disable a user's log-in; the last active owner cannot be disabled."""
    user = find_user(session, username)
    if user is None:
        raise UserError(f"没有这个用户: {username} / no such user")
    if not active and user.role == "owner":
        owners = session.scalar(select(func.count()).select_from(User).where(User.role == "owner", User.active.is_(True)))
        if owners <= 1:
            raise UserError("不能停用唯一的店主 / cannot disable the only owner")
    user.active = active
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password (their last log-in time updated), else None."""
    user = find_user(session, username or "")
    if user is None or not user.active:
        hash_password(password or "")  # spend the same time whether or not the user exists
        return None
    if not verify_password(password or "", user.password_hash):
        return None
    user.last_login_at = datetime.now(UTC)
    return user


def ensure_owner(session: Session, settings: Settings, *, username: str | None = None) -> tuple[User, str | None] | None:
    """Create the owner when there is no user yet: (owner, generated password or None if it came from settings).

    Returns None when users already exist. The owner's name is `username`, else KEFU_OWNER_USERNAME, else "owner";
    the password is KEFU_OWNER_PASSWORD when set, else a generated one the caller must print once.
    """
    if has_users(session):
        return None
    name = username or settings.owner_username or "owner"
    generated = None if settings.owner_password else generate_password()
    owner = create_user(session, name, settings.owner_password or generated, role="owner", display_name="店主")
    return owner, generated


class LoginThrottle:
    """Refuses log-in attempts for a name from an address after too many recent failures (kept in memory)."""

    def __init__(self, limit: int = 10, window_seconds: float = 600.0):
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def blocked(self, address: str, username: str) -> bool:
        with self._lock:
            return len(self._recent((address, username.lower()), time.monotonic())) >= self.limit

    def failed(self, address: str, username: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent((address, username.lower()), now).append(now)

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._failures.pop((address, username.lower()), None)


# ---------------------------------------------------------------- session secret


def session_secret(store: Store, settings: Settings) -> str:
    """The secret that signs session cookies: from settings, else the one persisted in the database (made once)."""
    if settings.session_secret:
        return settings.session_secret
    with store.session() as session:
        row = session.get(AppSetting, SESSION_SECRET_KEY)
        if row is not None:
            return row.value
        value = secrets.token_urlsafe(48)
        session.add(AppSetting(key=SESSION_SECRET_KEY, value=value, updated_at=datetime.now(UTC)))
    with store.session() as session:  # two processes may race on first start: everyone uses the stored one
        return session.get(AppSetting, SESSION_SECRET_KEY).value


# ---------------------------------------------------------------- requests


def log_in(request: Request, user: User) -> None:
    """Start a session for the user (a fresh session dict, so nothing from before log-in carries over)."""
    request.session.clear()
    request.session["uid"] = user.id
    request.session["pw"] = password_fingerprint(user.password_hash)


def log_out(request: Request) -> None:
    request.session.clear()


def is_api_request(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def _signed_in(user: User | None) -> SignedInUser | None:
    if user is None or not user.active:
        return None
    return SignedInUser(id=user.id, username=user.username, display_name=user.display_name, role=user.role)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def _same_origin(request: Request) -> bool:
    """Whether a write comes from our own pages: its Origin (else Referer) names this host; scripts send neither."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return True
    if origin == "null":
        return False
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


def _next_path(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


def current_user(request: Request) -> SignedInUser:
    """FastAPI dependency: the logged-in user (session cookie, or HTTP Basic on /api); else LoginRequired."""
    store: Store = request.app.state.store
    uid = request.session.get("uid") if "session" in request.scope else None
    if uid:
        with store.session() as session:
            user = session.get(User, uid)
            signed_in = _signed_in(user)
            valid = signed_in is not None and request.session.get("pw") == password_fingerprint(user.password_hash)
        if valid:
            return _accept(request, signed_in)
        request.session.clear()
    if is_api_request(request):
        credentials = _basic_credentials(request)
        if credentials:
            with store.session() as session:
                signed_in = _signed_in(authenticate(session, *credentials))
            if signed_in:
                return _accept(request, signed_in)
    raise LoginRequired(_next_path(request))


def _accept(request: Request, user: SignedInUser) -> SignedInUser:
    """Let the user through, unless a browser is sending a write from another site (CSRF)."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(request):
        raise HTTPException(status_code=403, detail="cross-origin request refused / 拒绝跨站请求")
    request.state.user = user
    return user


def require_owner(request: Request) -> SignedInUser:
    """FastAPI dependency: the logged-in owner; agents get 403."""
    user = current_user(request)
    if not user.is_owner:
        raise HTTPException(status_code=403, detail="owner only / 仅店主可用")
    return user


def login_redirect_target(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


def safe_next(next_path: str | None) -> str:
    """A local path to go to after log-in (never another site)."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return "/"
    return next_path
