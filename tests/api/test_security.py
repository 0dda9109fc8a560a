"""docs/design.md, *Security*, through a real server: Host check, cross-origin writes, CORS, body limits."""

from __future__ import annotations

import contextlib
import socket

from tests.conftest import LiveServer

UI = "http://localhost:5720"


def test_foreign_host_header_is_refused(live_server: LiveServer) -> None:
    for host in ("evil.example", "evil.example:5723", "127.0.0.1.evil.example"):
        reply = live_server.get("/health", headers={"Host": host})
        assert reply.status_code == 400, host
        assert reply.json()["error"] == "invalid_host"


def test_local_host_names_are_accepted(live_server: LiveServer) -> None:
    port = live_server.settings.port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost", f"[::1]:{port}"):
        assert live_server.get("/health", headers={"Host": host}).status_code == 200, host


def test_cross_origin_post_is_refused_and_changes_nothing(live_server: LiveServer) -> None:
    before = live_server.get("/parameters/global").json()
    reply = live_server.post(
        "/parameters/global", json={"rms_window_ms": 200}, headers={"Origin": "http://evil.example"}
    )
    assert reply.status_code == 403
    assert "access-control-allow-origin" not in reply.headers
    reply = live_server.post("/parameters/global", json={"rms_window_ms": 200}, headers={"Origin": "null"})
    assert reply.status_code == 403
    reply = live_server.post(
        "/parameters/global", json={"rms_window_ms": 200}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert reply.status_code == 403
    assert live_server.get("/parameters/global").json() == before


def test_same_origin_and_ui_origin_posts_pass(live_server: LiveServer) -> None:
    own = f"http://127.0.0.1:{live_server.settings.port}"
    assert live_server.post("/parameters/global", json={}, headers={"Origin": own}).status_code == 200
    reply = live_server.post("/parameters/global", json={}, headers={"Origin": UI, "Sec-Fetch-Site": "cross-site"})
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == UI


def test_cors_only_for_wkmp_ui(live_server: LiveServer) -> None:
    assert live_server.get("/health", headers={"Origin": UI}).headers["access-control-allow-origin"] == UI
    assert (
        "access-control-allow-origin" not in live_server.get("/health", headers={"Origin": "http://x.example"}).headers
    )
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = live_server.client.options("/parameters/global", headers={"Origin": UI, **preflight})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == UI
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "Content-Type" in ok.headers["access-control-allow-headers"]
    bad = live_server.client.options("/parameters/global", headers={"Origin": "http://evil.example", **preflight})
    assert bad.status_code == 403
    assert "access-control-allow-origin" not in bad.headers


def test_non_json_body_is_415(live_server: LiveServer) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"content-type": content_type} if content_type else {}
        reply = live_server.post("/parameters/global", content=b'{"rms_window_ms": 200}', headers=headers)
        assert reply.status_code == 415, content_type
        assert reply.json() == {"error": "Content-Type must be application/json"}
    ok = live_server.post(
        "/parameters/global", content=b"{}", headers={"content-type": "application/json; charset=utf-8"}
    )
    assert ok.status_code == 200


def test_body_over_1_mib_is_413_and_the_server_stays_up(live_server: LiveServer) -> None:
    big = b'{"x": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    reply = live_server.post("/parameters/global", content=big, headers={"content-type": "application/json"})
    assert reply.status_code == 413
    assert reply.json() == {"error": "Request body too large", "max_size": "1MB"}
    assert live_server.get("/health").status_code == 200


def test_chunked_body_over_the_cap_is_413(live_server: LiveServer) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"x": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    reply = live_server.post("/parameters/global", content=chunks(), headers={"content-type": "application/json"})
    assert reply.status_code == 413
    assert live_server.get("/health").status_code == 200


def test_lying_content_length_cannot_pass_the_cap(live_server: LiveServer) -> None:
    # Content-Length says 10 bytes; we send far more on a raw socket. The server must not read past the cap.
    body = b'{"a":"' + b"b" * (2 * 1024 * 1024) + b'"}'
    request = (
        f"POST /parameters/global HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}x\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", live_server.settings.port), timeout=5) as sock:
        sock.sendall(request)
        with contextlib.suppress(OSError):
            sock.sendall(body[:65536])
        answer = sock.recv(4096)
    assert answer.split(b" ", 2)[1] in {b"400", b"413"}
    assert live_server.get("/health").status_code == 200
