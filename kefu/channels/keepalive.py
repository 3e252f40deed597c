"""A lean httpx transport for workers that send many requests: kept-alive sockets, one write per request, answers read
by httptools (the C parser uvicorn uses)."""

from __future__ import annotations

import select
import socket
import ssl
from collections import deque

import httpx
import httptools

_Key = tuple[str, str, int]


def _stale(sock: socket.socket) -> bool:
    """An idle socket the server closed (or that has unread bytes) must not carry a request: readable = stale."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _Answer:
    """httptools' callbacks for one response: its headers, body and whether it is complete."""

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.headers_done = False
        self.keep_alive = False
        self.complete = False
        self.parser = httptools.HttpResponseParser(self)

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.keep_alive = self.parser.should_keep_alive()  # known here; llhttp forgets it once the message ends

    def ends_with_the_connection(self) -> bool:
        """An answer without a length or chunks: its body is whatever comes until the server closes."""
        names = {name.lower() for name, _ in self.headers}
        return self.headers_done and b"content-length" not in names and b"transfer-encoding" not in names

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


def _request_bytes(request: httpx.Request) -> bytes:
    """The request as it goes on the wire: request line, httpx's headers (names as written), body — one write, so a
    worker killed mid-request never leaves the provider a request without its body. A body httpx would have streamed
    in chunks is read whole and sent with its length."""
    body = request.read()
    lines = [request.method.encode("ascii") + b" " + request.url.raw_path + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in request.headers.raw if name.lower() != b"transfer-encoding"]
    if body and "content-length" not in request.headers:
        lines.append(b"Content-Length: " + str(len(body)).encode("ascii"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class KeepAliveTransport(httpx.BaseTransport):
    """HTTP/1.1 over sockets kept open per host and reused by any thread (httpcore's pool and h11 cost about four
    times the CPU per request, which decides a delivery worker's rate). Failures are raised as httpx's own exceptions,
    so callers classify them as with httpx's default transport; proxies stay httpx's (its mounts)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, max_idle_per_host: int = 64):
        self._ssl_context = ssl_context
        self._max_idle = max_idle_per_host
        self._idle: dict[_Key, deque[socket.socket]] = {}  # deque: append and pop are thread-safe

    def _idle_socket(self, key: _Key) -> socket.socket | None:
        idle = self._idle.get(key)
        while idle:
            try:
                sock = idle.pop()
            except IndexError:  # another thread took the last one
                return None
            if not _stale(sock):
                return sock
            sock.close()
        return None

    def _connect(self, key: _Key, timeout: float | None, request: httpx.Request) -> socket.socket:
        scheme, host, port = key
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                self._ssl_context = self._ssl_context or httpx.create_ssl_context()
                sock = self._ssl_context.wrap_socket(sock, server_hostname=host)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"{type(exc).__name__}: {exc}", request=request) from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS handshake
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}", request=request) from exc
        return sock

    def _release(self, key: _Key, sock: socket.socket) -> None:
        idle = self._idle.setdefault(key, deque())
        if len(idle) < self._max_idle:
            idle.append(sock)
        else:
            sock.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts = request.extensions.get("timeout", {})
        sock = self._idle_socket(key) or self._connect(key, timeouts.get("connect"), request)
        answer = _Answer()
        parser = answer.parser
        try:
            sock.settimeout(timeouts.get("write"))
            try:
                sock.sendall(_request_bytes(request))
            except TimeoutError as exc:
                raise httpx.WriteTimeout(str(exc), request=request) from exc
            except OSError as exc:
                raise httpx.WriteError(f"{type(exc).__name__}: {exc}", request=request) from exc
            sock.settimeout(timeouts.get("read"))
            while not answer.complete:
                try:
                    data = sock.recv(65536)
                except TimeoutError as exc:
                    raise httpx.ReadTimeout(str(exc), request=request) from exc
                except OSError as exc:
                    raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from exc
                if not data and answer.ends_with_the_connection():
                    sock.close()
                    return _response(parser.get_status_code(), answer, request)
                if not data:
                    raise httpx.RemoteProtocolError("the server closed the connection before answering in full",
                                                    request=request)
                try:
                    parser.feed_data(data)
                except httptools.HttpParserError as exc:
                    raise httpx.RemoteProtocolError(f"unreadable answer: {exc}", request=request) from exc
        except BaseException:
            sock.close()
            raise
        if answer.keep_alive:
            self._release(key, sock)
        else:
            sock.close()
        return _response(parser.get_status_code(), answer, request)

    def close(self) -> None:
        idle, self._idle = self._idle, {}
        for sockets in idle.values():
            for sock in sockets:
                sock.close()


def _response(status: int, answer: _Answer, request: httpx.Request) -> httpx.Response:
    # A stream, not content=: the client reads it once, and httpx does not merge default headers into the answer's.
    return httpx.Response(status, headers=answer.headers, stream=httpx.ByteStream(b"".join(answer.body)),
                          request=request, extensions={"http_version": b"HTTP/1.1"})


def keep_alive_client(timeout: float) -> httpx.Client:
    """An httpx client for the HTTP channels of a delivery worker: one pool of kept-alive connections per host."""
    return httpx.Client(transport=KeepAliveTransport(), timeout=timeout, follow_redirects=False)
