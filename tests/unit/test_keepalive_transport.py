"""The keep-alive transport of the delivery workers against a local HTTP/1.1 server: connections are reused, a closed
one is replaced, failures surface as httpx's exceptions (so channels classify them as before), and the webhook channel
speaks the same signed wire format through it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import pytest

from kefu.channels import http as channel_http
from kefu.channels.base import NETWORK, TIMEOUT, Delivery
from kefu.channels.keepalive import keep_alive_client
from kefu.channels.webhook import WebhookChannel, verify_signature


class Server(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the answer says close
    peers: set[tuple[str, int]] = set()
    seen: list[tuple[str, dict[str, str], bytes]] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Server.peers.add(self.client_address)
        Server.seen.append((self.path, dict(self.headers.items()), body))
        if self.path == "/slow":
            time.sleep(1.0)
        data = json.dumps({"id": f"p-{len(Server.seen)}", "path": self.path}).encode()
        self.send_response(503 if self.path == "/busy" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)


class Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # the client that timed out on /slow has gone: its broken pipe is expected


@pytest.fixture()
def server() -> Iterator[tuple[str, ThreadingHTTPServer]]:
    Server.peers, Server.seen = set(), []
    httpd = Quiet(("127.0.0.1", 0), Server)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    httpd.shutdown()
    httpd.server_close()


def test_requests_reuse_one_connection_and_carry_body_and_headers(server):
    url, _ = server
    client = keep_alive_client(5.0)
    answers = [client.post(url + "/hook", content=b'{"n": %d}' % i, headers={"X-Kefu-Message-Id": f"m{i}"})
               for i in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert answers[-1].json() == {"id": "p-5", "path": "/hook"}
    assert answers[-1].headers["content-type"] == "application/json"
    assert len(Server.peers) == 1  # one kept-alive connection for five requests
    path, headers, body = Server.seen[2]
    assert (path, headers["X-Kefu-Message-Id"], body) == ("/hook", "m2", b'{"n": 2}')


def test_form_bodies_go_as_httpx_encodes_them(server):
    url, _ = server
    keep_alive_client(5.0).post(url + "/form", data={"Action": "SendSms", "PhoneNumbers": "13800000001"})
    _, headers, body = Server.seen[0]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(body.decode()) == {"Action": ["SendSms"], "PhoneNumbers": ["13800000001"]}


def test_a_streamed_body_goes_whole_with_its_length(server):
    url, _ = server
    answer = keep_alive_client(5.0).post(url + "/stream", content=iter([b'{"a": ', b'1}']))
    assert answer.status_code == 200
    _, headers, body = Server.seen[0]
    assert (body, headers["Content-Length"], "Transfer-Encoding" in headers) == (b'{"a": 1}', "8", False)


def test_a_connection_the_server_closed_is_replaced(server):
    url, _ = server
    client = keep_alive_client(5.0)
    assert client.post(url + "/close", content=b"{}").status_code == 200  # answered with Connection: close
    assert client.post(url + "/again", content=b"{}").status_code == 200
    assert len(Server.peers) == 2


def test_an_idle_connection_closed_behind_the_clients_back_is_not_used():
    """A server that drops idle connections (as providers' load balancers do): the next request gets a fresh one."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    served: list[int] = []

    def serve() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
            served.append(1)
            conn.close()  # no Connection: close header: the client believes it may reuse it

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = keep_alive_client(5.0)
    assert client.post(f"http://127.0.0.1:{port}/", content=b"{}").status_code == 200
    time.sleep(0.1)
    assert client.post(f"http://127.0.0.1:{port}/", content=b"{}").status_code == 200
    thread.join(timeout=5)
    listener.close()
    assert len(served) == 2


def test_an_answer_that_ends_with_the_connection_is_read_whole():
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + b'{"id": "p-1"}')
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    answer = keep_alive_client(5.0).post(f"http://127.0.0.1:{listener.getsockname()[1]}/", content=b"{}")
    thread.join(timeout=5)
    listener.close()
    assert (answer.status_code, answer.json()) == (200, {"id": "p-1"})


def test_a_connection_dropped_before_the_answer_is_a_protocol_error():
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    with pytest.raises(httpx.RemoteProtocolError):
        keep_alive_client(5.0).post(f"http://127.0.0.1:{listener.getsockname()[1]}/", content=b"{}")
    listener.close()


def test_failures_are_httpx_exceptions_that_channels_classify_as_before(server):
    url, _ = server
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    refused = channel_http.post(keep_alive_client(5.0), f"http://127.0.0.1:{port}/", channel="t", resend_safe=False,
                                content=b"{}")
    assert (refused.error_code, refused.retryable) == (NETWORK, True)
    with pytest.raises(httpx.ReadTimeout):
        keep_alive_client(0.2).post(url + "/slow", content=b"{}")
    slow = channel_http.post(keep_alive_client(0.2), url + "/slow", channel="t", resend_safe=False, content=b"{}")
    assert (slow.error_code, slow.retryable) == (TIMEOUT, False)  # the provider may have sent it


def test_many_threads_share_the_pool(server):
    url, _ = server
    client = keep_alive_client(5.0)
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda i: client.post(url + "/t", content=b"%d" % i).status_code, range(80)))
    assert codes == [200] * 80
    assert len(Server.peers) <= 8


def test_the_webhook_channel_signs_and_reads_answers_through_it(server):
    url, _ = server
    channel = WebhookChannel(url=url + "/hook", secret="s3cret", http=keep_alive_client(5.0),
                             clock=lambda: 1_763_800_000)
    result = channel.send(Delivery(message_id="m-1", text="您的包裹已发出", to_phone="13800000001"))
    assert result.ok and result.provider_message_id == "p-1"
    _, headers, body = Server.seen[0]
    assert verify_signature("s3cret", headers["X-Kefu-Timestamp"], body, headers["X-Kefu-Signature"])
    assert json.loads(body)["text"] == "您的包裹已发出"
    busy = WebhookChannel(url=url + "/busy", secret="s3cret", http=keep_alive_client(5.0)).send(
        Delivery(message_id="m-2", text="x"))
    assert (busy.ok, busy.retryable, busy.error_code) == (False, True, "http_503")
