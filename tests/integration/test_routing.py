"""
Routing: method + path template ({param}, trailing ** = zero or more segments) + optional
host; the most specific route wins; no route -> 404 and nothing reaches the upstream.
A path that exists with another method is also 404 (no route leak); the access log
keeps the precise reason.
"""

import pytest

from pc_checks import check_error_response
from pc_client import Closed, Conn, build_request, request


def R(name, path, methods=None, host=None):
    r = {"name": name, "path": path, "upstream": "backend", "public": True}
    if methods:
        r["methods"] = methods
    if host:
        r["host"] = host
    return r


ROUTES = {"routes": [
    # deliberately not in precedence order: the file order must not matter
    R("a_wild", "/a/**"),
    R("a_param", "/a/{id}"),
    R("a_fixed", "/a/fixed"),
    R("a_param_sub", "/a/{id}/edit"),
    R("health", "/health", ["GET"]),
    R("items", "/items/{id}", ["GET", "PUT"]),
    R("h_any", "/h/**"),
    R("h_host", "/h/**", host="api.example.com"),
    R("any", "/any/**"),
]}

CASES = [
    ("GET", "/health", None, "health"),
    ("GET", "/health/", None, "route_not_found"),
    ("GET", "/healthz", None, "route_not_found"),
    ("POST", "/health", None, "route_method_not_allowed"),
    ("GET", "/items/42", None, "items"),
    ("PUT", "/items/42", None, "items"),
    ("DELETE", "/items/42", None, "route_method_not_allowed"),
    ("GET", "/items", None, "route_not_found"),
    ("GET", "/items/", None, "route_not_found"),
    ("GET", "/items/42/x", None, "route_not_found"),
    ("GET", "/a/fixed", None, "a_fixed"),
    ("GET", "/a/other", None, "a_param"),
    ("GET", "/a/x/edit", None, "a_param_sub"),
    ("GET", "/a/x/y", None, "a_wild"),
    ("GET", "/a", None, "a_wild"),
    ("GET", "/a/x/edit/more", None, "a_wild"),
    ("GET", "/ab", None, "route_not_found"),
    ("GET", "/", None, "route_not_found"),
    ("GET", "/h/x", "api.example.com", "h_host"),
    ("GET", "/h/x", "API.Example.COM:8080", "h_host"),
    ("GET", "/h/x", "other.test", "h_any"),
    ("GET", "/h/x", "api.example.com.evil.test", "h_any"),
    ("DELETE", "/any/x", None, "any"),
    ("PATCH", "/any", None, "any"),
    ("FOO", "/any/x", None, "any"),
]


@pytest.mark.parametrize("method,path,host,expect", CASES,
                         ids=["%s %s %s" % c[:3] for c in CASES])
def test_route_selection(gateway_factory, method, path, host, expect):
    gw = gateway_factory(ROUTES)
    r = request(gw.port, method, path, host=host or "gw.test",
                body=b"" if method in ("POST", "PUT", "PATCH") else None)
    if expect.startswith("route_"):
        body = check_error_response(r, 404, ["route_not_found", "route_method_not_allowed"])
        entry = gw.access_for(body["request_id"])
        assert entry["status"] == 404 and entry["reason"] == expect, entry
        assert entry["phase"] == "route", entry
        gw.upstream.assert_nothing()
    else:
        assert r.status == 200, r
        entry = gw.access_for(r.header("x-request-id"))
        assert entry["route"] == expect, entry
        rec = gw.upstream.wait_requests(1)[0]
        assert rec.method == method and rec.path == path


def test_method_not_allowed_looks_like_not_found(gateway_factory):
    """Only the access log tells a wrong method from a missing path: same status, same
    error text, and no Allow header."""
    gw = gateway_factory(ROUTES)
    a = request(gw.port, "POST", "/health", body=b"")
    b = request(gw.port, "POST", "/nothing-here", body=b"")
    assert a.status == b.status == 404
    assert a.json()["error"] == b.json()["error"]
    assert a.header("allow") is None and b.header("allow") is None


def test_404_keeps_the_connection(gateway_factory):
    """A 404 is not a malformed request: the keep-alive connection stays usable."""
    gw = gateway_factory(ROUTES)
    with Conn(gw.port) as c:
        c.send(build_request("GET", "/nowhere"))
        assert c.read_response().status == 404
        c.send(build_request("GET", "/health"))
        assert c.read_response().status == 200
    assert [x.path for x in gw.upstream.wait_requests(1)] == ["/health"]


def test_404_with_body_does_not_desync(gateway_factory):
    """A refused request with a body: the body is consumed (or the connection closed),
    never parsed as the next request."""
    gw = gateway_factory(ROUTES)
    smuggled = b"GET /health HTTP/1.1\r\nHost: gw.test\r\nX-Smuggled: 1\r\n\r\n"
    with Conn(gw.port) as c:
        c.send(build_request("POST", "/nowhere", body=smuggled))
        assert c.read_response().status == 404
        if c.try_send(build_request("GET", "/a/x")):
            try:
                r = c.read_response()
                assert r.status == 200, r
            except Closed:
                pass  # closing the connection instead is acceptable
    for rec in gw.upstream.snapshot():
        assert rec.header("x-smuggled") is None, rec


def test_route_upstreams(gateway_factory, upstream_factory):
    """Each route forwards to its own upstream."""
    u1, u2 = upstream_factory("one"), upstream_factory("two")

    def edit(c):
        c["upstreams"] = {"one": {"targets": [u1.addr]}, "two": {"targets": [u2.addr]}}
        c["routes"] = [{"name": "r1", "path": "/one/**", "upstream": "one", "public": True},
                       {"name": "r2", "path": "/two/**", "upstream": "two", "public": True}]
    gw = gateway_factory(edit=edit, targets=[u1.addr])
    assert request(gw.port, "GET", "/one/x").header("x-upstream") == "one"
    assert request(gw.port, "GET", "/two/x").header("x-upstream") == "two"
    assert [x.path for x in u1.snapshot()] == ["/one/x"]
    assert [x.path for x in u2.snapshot()] == ["/two/x"]
