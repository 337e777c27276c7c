"""
Path normalization (RFC 3986 6.2.2): the upstream receives exactly the normalized path
(query kept raw), and encodings that hide a different path are refused with 400 before
anything is forwarded.
"""

import pytest

from pc_checks import assert_rejected, send_raw
from pc_client import build_request, request

ROUTES = {"routes": [
    {"name": "public", "path": "/public/**", "upstream": "backend", "public": True},
]}

# raw target -> the path+query the upstream must receive
FORWARDED = [
    ("/public/%61bc", "/public/abc"),
    ("/public/%7Euser/%2D%2e%5F", "/public/~user/-._"),
    ("/public/%7euser", "/public/~user"),
    ("/public/./a/./b", "/public/a/b"),
    ("/public/a/../b", "/public/b"),
    ("/public/a/b/../../c", "/public/c"),
    ("/public/a/%2e%2e/b", "/public/b"),
    ("/public/a/%2E./b", "/public/b"),
    ("/public/a/.%2e/b", "/public/b"),
    ("/public/a/%2e/b", "/public/a/b"),
    ("/x/../public/y", "/public/y"),
    ("/public/a/b/..", "/public/a/"),
    ("/public/a/b/.", "/public/a/b/"),
    ("/public/a%20b", "/public/a%20b"),
    ("/public/a%3ab", "/public/a%3Ab"),
    ("/public/caf%c3%a9", "/public/caf%C3%A9"),
    ("/public//double", "/public//double"),
    ("/public/q?a=%2F&b=..%2f&c=%00", "/public/q?a=%2F&b=..%2f&c=%00"),
    ("/public/q?", "/public/q?"),
    ("/public/q?x=/../y", "/public/q?x=/../y"),
    ("/public/%7b%7d", "/public/%7B%7D"),
]


@pytest.mark.parametrize("raw,expected", FORWARDED, ids=[f[0] for f in FORWARDED])
def test_upstream_receives_normalized_path(gateway_factory, raw, expected):
    gw = gateway_factory(ROUTES)
    r = request(gw.port, "GET", raw)
    assert r.status == 200, r
    rec = gw.upstream.wait_requests(1)[0]
    assert rec.target == expected
    entry = gw.access_for(r.header("x-request-id"))
    assert entry["path"] == expected.split("?")[0], entry
    assert entry["route"] == "public"


REJECTED = [
    ("/public/a%2Fb", ["path_encoded_slash"]),
    ("/public/a%2fb", ["path_encoded_slash"]),
    ("/public/a%5Cb", ["path_encoded_slash", "path_backslash"]),
    ("/public/a%5cb", ["path_encoded_slash", "path_backslash"]),
    ("/public/a\\b", ["path_backslash"]),
    ("/public/a%00b", ["path_nul"]),
    ("/public/a%zzb", ["path_bad_encoding"]),
    ("/public/a%4", ["path_bad_encoding"]),
    ("/public/a%", ["path_bad_encoding"]),
    ("/public/a%%32%66", ["path_bad_encoding"]),
    ("/public/%C0%AF", ["path_bad_utf8"]),
    ("/public/%C0%AE%C0%AE/x", ["path_bad_utf8"]),
    ("/public/%E0%80%AF", ["path_bad_utf8"]),
    ("/public/%FF", ["path_bad_utf8"]),
    ("/public/%C3", ["path_bad_utf8"]),
    ("/public/%ED%A0%80", ["path_bad_utf8"]),
    ("/public/\xc0\xaf", ["path_bad_utf8", "http_bad_target", "http_bad_char"]),
    ("/public/\xff", ["path_bad_utf8", "http_bad_target", "http_bad_char"]),
    ("/..", ["path_traversal"]),
    ("/../public/x", ["path_traversal"]),
    ("/public/../../x", ["path_traversal"]),
    ("/public/%2e%2e/%2e%2e/x", ["path_traversal"]),
    ("/public/a/../../../etc/passwd", ["path_traversal"]),
    ("/public/%01", ["path_invalid", "path_bad_encoding"]),
]


@pytest.mark.parametrize("raw,reasons", REJECTED, ids=[f[0] for f in REJECTED])
def test_hiding_encodings_rejected(gateway_factory, raw, reasons):
    gw = gateway_factory(ROUTES)
    raw_req = b"GET " + raw.encode("latin-1") + b" HTTP/1.1\r\nHost: gw.test\r\n\r\n"
    _, entry = assert_rejected(gw, raw_req, 400, reasons)
    if entry["reason"].startswith("path_"):
        assert entry["phase"] == "normalize", entry


def test_normalize_errors_never_report_only(gateway_factory):
    gw = gateway_factory({"report_only": True, **ROUTES})
    raw = b"GET /public/a%2Fb HTTP/1.1\r\nHost: gw.test\r\n\r\n"
    _, entry = assert_rejected(gw, raw, 400, "path_encoded_slash")
    assert entry.get("would_deny") in (None, "", "none"), entry


def test_normalized_path_is_what_routing_sees(gateway_factory):
    """A dot-segment or encoded prefix cannot reach a path the routes do not allow,
    and an unusual spelling of an allowed path is routed (normalized) to it."""
    gw = gateway_factory(ROUTES)
    for t in ("/public/../private/x", "/public/%2e%2e/private", "/%70ublic/../private"):
        r = request(gw.port, "GET", t)
        assert r.status == 404, (t, r)
    gw.upstream.assert_nothing()
    r = request(gw.port, "GET", "/%70ublic/%61")
    assert r.status == 200
    assert gw.upstream.wait_requests(1)[0].target == "/public/a"


def test_only_one_request_forwarded_per_request(gateway_factory):
    gw = gateway_factory(ROUTES)
    raw = build_request("GET", "/public/a/./b/../c")
    r, _ = send_raw(gw.port, raw)
    assert r.status == 200
    recs = gw.upstream.wait_requests(1)
    assert len(recs) == 1 and recs[0].target == "/public/a/c"
    assert recs[0].raw_head.startswith(b"GET /public/a/c HTTP/1.1\r\n")
