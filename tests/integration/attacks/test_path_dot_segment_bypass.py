"""
Attack: dot segments (plain, percent-encoded, mixed) to step out of an allowed prefix
into a path no route allows, or above the root. Either the normalized path matches no
route (404) or it climbs above the root (400); the upstream sees nothing.
"""

import pytest

from pc_checks import assert_rejected

ROUTES = {"routes": [{"name": "public", "path": "/public/**", "upstream": "backend",
                      "public": True}]}
NOT_FOUND = ["/public/../admin", "/public/%2e%2e/admin", "/public/%2E%2E/admin",
             "/public/.%2e/admin", "/public/%2e./admin", "/public/./../admin",
             "/public/x/../../admin", "/public/%2e%2e/public/%2e%2e/admin"]
TRAVERSAL = ["/public/../../etc/passwd", "/public/%2e%2e/%2e%2e/etc/passwd",
             "/..%2f..%2fetc/passwd", "/public/..;/../../../y"]


@pytest.mark.parametrize("target", NOT_FOUND)
def test_dot_segments_cannot_leave_prefix(gateway_factory, target):
    gw = gateway_factory(ROUTES)
    raw = b"GET " + target.encode() + b" HTTP/1.1\r\nHost: gw.test\r\n\r\n"
    _, e = assert_rejected(gw, raw, 404, ["route_not_found"], closed=False)
    assert e["path"] == "/admin", e


@pytest.mark.parametrize("target", TRAVERSAL)
def test_dot_segments_above_root(gateway_factory, target):
    gw = gateway_factory(ROUTES)
    raw = b"GET " + target.encode() + b" HTTP/1.1\r\nHost: gw.test\r\n\r\n"
    assert_rejected(gw, raw, 400, ["path_traversal", "path_encoded_slash"])
