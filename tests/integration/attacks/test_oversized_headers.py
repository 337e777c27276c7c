"""
Attack: memory exhaustion through huge request lines, header fields or header counts,
and huge declared bodies. Each is refused at its limit (414 / 431 / 413) without
buffering the excess, and nothing reaches the upstream.
"""

from pc_checks import assert_rejected, check_error_response, send_raw
from pc_client import Closed, Conn

LIMITS = {"limits": {"request_line_max_bytes": 1024, "header_max_bytes": 4096,
                     "header_max_count": 20, "body_max_bytes": 4096}}


def test_long_uri(gateway_factory):
    gw = gateway_factory(LIMITS)
    raw = b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: gw.test\r\n\r\n"
    assert_rejected(gw, raw, 414, "limit_request_line")


def test_long_query(gateway_factory):
    gw = gateway_factory(LIMITS)
    raw = b"GET /a?" + b"q=1&" * 2000 + b" HTTP/1.1\r\nHost: gw.test\r\n\r\n"
    assert_rejected(gw, raw, 414, "limit_request_line")


def test_one_huge_header(gateway_factory):
    gw = gateway_factory(LIMITS)
    raw = b"GET /a HTTP/1.1\r\nHost: gw.test\r\nCookie: " + b"c" * 100000 + b"\r\n\r\n"
    assert_rejected(gw, raw, 431, "limit_headers")


def test_many_small_headers(gateway_factory):
    gw = gateway_factory(LIMITS)
    raw = b"GET /a HTTP/1.1\r\nHost: gw.test\r\n" + b"".join(
        b"X-%d: 1\r\n" % i for i in range(500)) + b"\r\n"
    assert_rejected(gw, raw, 431, "limit_headers")


def test_many_empty_valued_headers(gateway_factory):
    gw = gateway_factory(LIMITS)
    raw = b"GET /a HTTP/1.1\r\nHost: gw.test\r\n" + b"X:\r\n" * 100 + b"\r\n"
    assert_rejected(gw, raw, 431, "limit_headers")


def test_stream_of_headers_cut_off(gateway_factory):
    """10 MB of headers are not read: the gateway answers 431 early and closes, so
    the flood stops being accepted long before its end."""
    gw = gateway_factory(LIMITS)
    with Conn(gw.port, timeout=3) as c:
        c.send(b"GET /a HTTP/1.1\r\nHost: gw.test\r\n")
        line = b"X-Flood: " + b"f" * 1000 + b"\r\n"
        sent = 0
        while sent < 10000 and c.try_send(line):
            sent += 1
        assert sent < 10000, "the gateway kept reading 10 MB of headers"
        try:
            r = c.read_response(timeout=2)
        except (Closed, TimeoutError):
            r = None       # the 431 may be lost to a reset: only the cut-off matters
        if r is not None:
            check_error_response(r, 431, "limit_headers")
    gw.upstream.assert_nothing()


def test_huge_declared_body(gateway_factory):
    gw = gateway_factory(LIMITS)
    raw = b"POST /a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 18446744073709551615\r\n\r\n"
    # 2^64-1: over the limit (413) or refused as a number out of range (400)
    r, _ = send_raw(gw.port, raw)
    if r.status == 413:
        check_error_response(r, 413, "limit_body")
    else:
        check_error_response(r, 400, "http_content_length_invalid")
    gw.upstream.assert_nothing()
