"""
Attack: an encoded slash or backslash (or NUL) that one component decodes and another
does not, so the path authorized is not the path served. Refused with 400.
"""

import pytest

from pc_checks import assert_rejected

CASES = [
    ("/public%2F..%2Fadmin", ["path_encoded_slash"]),
    ("/public/..%2Fadmin", ["path_encoded_slash"]),
    ("/public/a%2fb", ["path_encoded_slash"]),
    ("/public%5C..%5Cadmin", ["path_encoded_slash", "path_backslash"]),
    ("/public\\..\\admin", ["path_backslash"]),
    ("/public/%252F", None),
    ("/public/a%00.json", ["path_nul"]),
    ("/public/%c0%af..", ["path_bad_utf8"]),
    ("/public/%e0%80%af", ["path_bad_utf8"]),
]


@pytest.mark.parametrize("target,reasons", CASES, ids=[c[0] for c in CASES])
def test_encoded_separator(gateway_factory, target, reasons):
    gw = gateway_factory({"routes": [{"name": "public", "path": "/public/**",
                                      "upstream": "backend", "public": True}]})
    raw = b"GET " + target.encode("latin-1") + b" HTTP/1.1\r\nHost: gw.test\r\n\r\n"
    if reasons is None:
        # a double-encoded slash is data, not a separator: forwarded as it was
        from pc_client import request
        r = request(gw.port, "GET", target)
        assert r.status == 200
        assert gw.upstream.wait_requests(1)[0].target == "/public/%252F"
        return
    assert_rejected(gw, raw, 400, reasons)
