"""
Limits: request line -> 414, header block size or count -> 431, body -> 413 (before
anything is forwarded when Content-Length says so), a head not complete within
header_timeout_ms -> 408, a body stalled past body_timeout_ms -> 408,
max_requests_per_connection.
"""

import time

from pc_checks import assert_rejected, check_error_response, send_raw
from pc_client import Closed, Conn, build_request, chunked, request, scaled

LIMITS = {"limits": {"request_line_max_bytes": 256, "header_max_bytes": 2048,
                     "header_max_count": 10, "body_max_bytes": 1000,
                     "header_timeout_ms": 1000, "body_timeout_ms": 1000}}


def line_of(n):
    """A request line of exactly n bytes (without CRLF): 'GET /aaa... HTTP/1.1'."""
    fixed = len("GET / HTTP/1.1")
    return b"GET /" + b"a" * (n - fixed) + b" HTTP/1.1"


def test_request_line_at_limit_passes(gateway_factory):
    gw = gateway_factory(LIMITS)
    r, _ = send_raw(gw.port, line_of(256) + b"\r\nHost: gw.test\r\n\r\n")
    assert r is not None and r.status == 200, r


def test_request_line_over_limit_414(gateway_factory):
    gw = gateway_factory(LIMITS)
    assert_rejected(gw, line_of(257) + b"\r\nHost: gw.test\r\n\r\n", 414,
                    "limit_request_line")


def test_request_line_far_over_limit_without_crlf_414(gateway_factory):
    """An endless request line is refused once it passes the limit, without waiting
    for its end."""
    gw = gateway_factory(LIMITS)
    with Conn(gw.port) as c:
        c.send(b"GET /" + b"a" * 4096)
        r = c.read_response(timeout=2)
        check_error_response(r, 414, "limit_request_line")
        assert c.wait_closed(2)
    gw.upstream.assert_nothing()


def test_header_count_at_limit_passes(gateway_factory):
    gw = gateway_factory(LIMITS)
    hs = [("X-H%d" % i, "v") for i in range(9)]       # + Host = 10 fields
    r, _ = send_raw(gw.port, build_request("GET", "/a", hs))
    assert r is not None and r.status == 200, r


def test_header_count_over_limit_431(gateway_factory):
    gw = gateway_factory(LIMITS)
    hs = [("X-H%d" % i, "v") for i in range(10)]      # + Host = 11 fields
    assert_rejected(gw, build_request("GET", "/a", hs), 431, "limit_headers")


def test_header_bytes_over_limit_431(gateway_factory):
    gw = gateway_factory(LIMITS)
    assert_rejected(gw, build_request("GET", "/a", [("X-Big", "b" * 3000)]), 431,
                    "limit_headers")


def test_header_bytes_under_limit_passes(gateway_factory):
    gw = gateway_factory(LIMITS)
    r, _ = send_raw(gw.port, build_request("GET", "/a", [("X-Big", "b" * 1500)]))
    assert r.status == 200, r
    assert gw.upstream.wait_requests(1)[0].header("x-big") == "b" * 1500


def test_endless_header_block_431(gateway_factory):
    """Headers that keep coming are refused once past the limit, without waiting for
    the empty line."""
    gw = gateway_factory(LIMITS)
    with Conn(gw.port) as c:
        c.send(b"GET /a HTTP/1.1\r\nHost: gw.test\r\nX-Big: " + b"b" * 5000)
        r = c.read_response(timeout=2)
        check_error_response(r, 431, "limit_headers")
        assert c.wait_closed(2)
    gw.upstream.assert_nothing()


def test_body_at_limit_passes(gateway_factory):
    gw = gateway_factory(LIMITS)
    r = request(gw.port, "POST", "/a", body=b"x" * 1000)
    assert r.status == 200
    assert gw.upstream.wait_requests(1)[0].body == b"x" * 1000


def test_body_over_limit_413_before_forwarding(gateway_factory):
    """Content-Length over the limit: 413 at once, the body need not be sent, and
    nothing is forwarded."""
    gw = gateway_factory(LIMITS)
    raw = b"POST /a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 1001\r\n\r\n"
    assert_rejected(gw, raw, 413, "limit_body")


def test_huge_content_length_413(gateway_factory):
    gw = gateway_factory(LIMITS)
    raw = b"POST /a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 1000000000000\r\n\r\n"
    assert_rejected(gw, raw, 413, "limit_body")


def test_chunked_body_over_limit_413(gateway_factory):
    """A chunked body past the limit is refused; the upstream never sees a complete
    request."""
    gw = gateway_factory(LIMITS)
    raw = build_request("POST", "/a", [("Transfer-Encoding", "chunked")],
                        body=chunked(b"x" * 600, b"y" * 600))
    assert_rejected(gw, raw, 413, "limit_body", partial_ok=True)


def test_route_body_limit_overrides_global(gateway_factory):
    def edit(c):
        c["routes"] = [
            {"name": "small", "path": "/small/**", "upstream": "backend", "public": True,
             "body_max_bytes": 100},
            {"name": "all", "path": "/**", "upstream": "backend", "public": True},
        ]
    gw = gateway_factory(LIMITS, edit=edit)
    assert request(gw.port, "POST", "/small/x", body=b"x" * 100).status == 200
    assert request(gw.port, "POST", "/other", body=b"x" * 500).status == 200
    raw = build_request("POST", "/small/x", body=b"x" * 101)
    gw.upstream.clear()
    assert_rejected(gw, raw, 413, "limit_body")


def test_large_route_body_limit(gateway_factory):
    """A route may allow more than the global limit."""
    def edit(c):
        c["routes"][0]["body_max_bytes"] = 200000
    gw = gateway_factory(LIMITS, edit=edit)
    r = request(gw.port, "POST", "/a", body=b"z" * 150000)
    assert r.status == 200
    assert gw.upstream.wait_requests(1)[0].body_len == 150000


def test_expect_continue_over_limit_gets_413_without_100(gateway_factory):
    gw = gateway_factory(LIMITS)
    with Conn(gw.port) as c:
        c.send(b"POST /a HTTP/1.1\r\nHost: gw.test\r\nExpect: 100-continue\r\n"
               b"Content-Length: 5000\r\n\r\n")
        r = c.read_response(timeout=2)
        check_error_response(r, 413, "limit_body")
    gw.upstream.assert_nothing()


def test_incomplete_head_408(gateway_factory):
    gw = gateway_factory(LIMITS)
    with Conn(gw.port) as c:
        c.send(b"GET /a HTTP/1.1\r\nHost: gw.test\r\n")
        t0 = time.monotonic()
        r = c.read_response(timeout=5)
        el = time.monotonic() - t0
        body = check_error_response(r, 408, "timeout_request_header")
        assert 0.7 <= el <= scaled(3.0), el
        assert c.wait_closed(2)
    gw.access_for(body["request_id"])
    gw.upstream.assert_nothing()


def test_header_timeout_is_for_the_whole_head(gateway_factory):
    """Slowloris: one byte every 200 ms keeps the connection busy but the head is
    still due within header_timeout_ms from its first byte."""
    gw = gateway_factory(LIMITS)
    raw = b"GET /a HTTP/1.1\r\nHost: gw.test\r\nX-Drip: " + b"d" * 100
    with Conn(gw.port) as c:
        t0 = time.monotonic()
        status = None
        for i in range(len(raw)):
            if not c.try_send(raw[i:i + 1]):
                break
            if c.wait_closed(0.2) or c.extra:
                break
            if time.monotonic() - t0 > scaled(4):
                break
        el = time.monotonic() - t0
        data = c.extra
        if data:
            status = data.split(b" ", 2)[1]
        assert el <= scaled(3.0), "the drip kept the connection open %.1f s" % el
        assert status in (None, b"408"), data[:100]
    gw.upstream.assert_nothing()


def test_stalled_body_408(gateway_factory):
    gw = gateway_factory(LIMITS)
    with Conn(gw.port) as c:
        c.send(b"POST /a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 100\r\n\r\n" +
               b"x" * 10)
        r = c.read_response(timeout=5)
        check_error_response(r, 408, "timeout_request_body")
        assert c.wait_closed(2)
    gw.upstream.assert_no_complete()


def test_idle_connection_closed(gateway_factory):
    """A connection that never sends anything does not stay open forever."""
    gw = gateway_factory({"limits": {"header_timeout_ms": 1000, "idle_timeout_ms": 1000}})
    with Conn(gw.port) as c:
        assert c.wait_closed(4), "idle connection kept open"
        assert c.extra in (b"",) or c.extra.startswith(b"HTTP/1.1 408"), c.extra[:100]
    gw.upstream.assert_nothing()


def test_keepalive_idle_connection_closed(gateway_factory):
    gw = gateway_factory({"limits": {"idle_timeout_ms": 1000}})
    with Conn(gw.port) as c:
        c.send(build_request("GET", "/a"))
        assert c.read_response().status == 200
        t0 = time.monotonic()
        assert c.wait_closed(4), "idle keep-alive connection kept open"
        assert time.monotonic() - t0 >= 0.7
        assert c.extra == b"", "bytes sent on an idle keep-alive connection"


def test_max_requests_per_connection(gateway_factory):
    gw = gateway_factory({"limits": {"max_requests_per_connection": 3}})
    with Conn(gw.port) as c:
        for i in range(3):
            c.send(build_request("GET", "/r%d" % i))
            r = c.read_response()
            assert r.status == 200
        assert "close" in r.connection_tokens(), r
        assert c.wait_closed(2)
    assert len(gw.upstream.wait_requests(3)) == 3


def test_max_connections_sheds_excess(gateway_factory):
    """limits.max_connections is process-wide: one more connection is closed at accept,
    before a byte is read, and the gateway keeps serving the ones it holds."""
    gw = gateway_factory({"limits": {"max_connections": 4}})

    def open_served(path):
        """A connection the gateway accepted and served. A slot may still be held for a
        moment by a connection that already went away (the fixture's readiness probe is
        one): retry until it is released, never longer than the deadline."""
        deadline = time.monotonic() + scaled(3)
        while True:
            c = Conn(gw.port)
            try:
                c.send(build_request("GET", path))
                if c.read_response().status == 200:
                    return c
            except (Closed, OSError):
                pass
            c.close()
            assert time.monotonic() < deadline, "a free slot was never given"
            time.sleep(0.05)

    held = []
    try:
        for i in range(4):
            held.append(open_served("/held%d" % i))
        extra = Conn(gw.port)
        try:
            assert extra.wait_closed(scaled(3)), "connection over the cap was kept"
        finally:
            extra.close()
        for i, c in enumerate(held):    # the four it holds are still served
            c.send(build_request("GET", "/still%d" % i))
            assert c.read_response().status == 200
        held.pop().close()  # a slot frees up: a new connection is served again
        held.append(open_served("/again"))
    finally:
        for c in held:
            c.close()
    assert "/again" in [r.path for r in gw.upstream.snapshot()]
