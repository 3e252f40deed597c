"""A lean httpx transport over the standard library's keep-alive connections, for workers that send many requests."""

from __future__ import annotations

import http.client
import select
import ssl
from collections import deque
from collections.abc import Callable

import httpx

_Key = tuple[str, str, int]


def _stale(connection: http.client.HTTPConnection) -> bool:
    """An idle connection the server closed (or that has unread bytes) must not carry a request: readable = stale."""
    sock = connection.sock
    if sock is None:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class KeepAliveTransport(httpx.BaseTransport):
    """HTTP/1.1 over `http.client` connections kept open per host and reused by any thread (httpcore's pool costs
    about four times the CPU per request, which decides a worker's rate). Network failures are raised as httpx's own
    exceptions, so callers classify them as with httpx's default transport; proxies stay httpx's (its mounts)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, max_idle_per_host: int = 64):
        self._ssl_context = ssl_context
        self._max_idle = max_idle_per_host
        self._idle: dict[_Key, deque[http.client.HTTPConnection]] = {}  # deque: append and pop are thread-safe

    def _connection(self, key: _Key, connect_timeout: float | None) -> http.client.HTTPConnection:
        """An idle connection to the host that is still open, or a new one (connected when first used)."""
        idle = self._idle.get(key)
        while idle:
            try:
                connection = idle.pop()
            except IndexError:  # another thread took the last one
                break
            if not _stale(connection):
                return connection
            connection.close()
        scheme, host, port = key
        if scheme == "https":
            self._ssl_context = self._ssl_context or httpx.create_ssl_context()
            return http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=self._ssl_context)
        return http.client.HTTPConnection(host, port, timeout=connect_timeout)

    def _release(self, key: _Key, connection: http.client.HTTPConnection) -> None:
        idle = self._idle.setdefault(key, deque())
        if len(idle) < self._max_idle:
            idle.append(connection)
        else:
            connection.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts = request.extensions.get("timeout", {})
        connection = self._connection(key, timeouts.get("connect"))
        sent = False
        try:
            if connection.sock is None:
                connection.connect()
            connection.sock.settimeout(timeouts.get("read"))
            connection.request(request.method, url.raw_path.decode("ascii"), body=request.read(),
                               headers={k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers.raw})
            sent = True
            answer = connection.getresponse()
            content = answer.read()
        except BaseException as exc:
            connection.close()
            raise _httpx_error(exc, sent=sent, request=request) from exc
        if answer.will_close:
            connection.close()
        else:
            self._release(key, connection)
        return httpx.Response(answer.status, headers=answer.getheaders(), content=content, request=request,
                              extensions={"http_version": b"HTTP/1.1"})

    def close(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


def _httpx_error(exc: BaseException, *, sent: bool, request: httpx.Request) -> BaseException:
    """The httpx exception httpcore would have raised for the same failure (non-network errors pass through)."""
    kinds: list[tuple[type[BaseException] | tuple[type[BaseException], ...], Callable[..., BaseException]]] = [
        (TimeoutError, httpx.ReadTimeout if sent else httpx.ConnectTimeout),
        ((http.client.RemoteDisconnected, http.client.IncompleteRead, http.client.BadStatusLine),
         httpx.RemoteProtocolError),
        (ssl.SSLError, httpx.ConnectError),
        (OSError, httpx.ReadError if sent else httpx.ConnectError),
        (http.client.HTTPException, httpx.RemoteProtocolError),
    ]
    for kind, error in kinds:
        if isinstance(exc, kind):
            return error(f"{type(exc).__name__}: {exc}", request=request)
    return exc


def keep_alive_client(timeout: float) -> httpx.Client:
    """An httpx client for the HTTP channels of a delivery worker: one pool of kept-alive connections per host."""
    return httpx.Client(transport=KeepAliveTransport(), timeout=timeout, follow_redirects=False)
