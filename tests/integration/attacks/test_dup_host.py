"""
Attack: ambiguous Host (two fields, lists, junk) to reach a host-restricted route or
poison what the upstream believes about the request. Refused with 400.
"""

import pytest

from pc_checks import assert_rejected

CASES = [
    b"Host: api.example.com\r\nHost: evil.test\r\n",
    b"Host: evil.test\r\nHost: api.example.com\r\n",
    b"Host: api.example.com\r\nhost: api.example.com\r\n",
    b"Host: api.example.com, evil.test\r\n",
    b"Host: api.example.com@evil.test\r\n",
    b"Host: api.example.com/evil\r\n",
    b"Host: api.example.com\x00evil\r\n",
    b"Host: api.example.com evil.test\r\n",
]
REASONS = ["http_host_duplicate", "http_host_invalid", "http_bad_char"]


@pytest.mark.parametrize("fields", CASES, ids=[str(i) for i in range(len(CASES))])
def test_ambiguous_host_refused(gateway_factory, fields):
    gw = gateway_factory({"routes": [
        {"name": "api", "path": "/**", "host": "api.example.com", "upstream": "backend",
         "public": True}]})
    raw = b"GET /secret HTTP/1.1\r\n" + fields + b"\r\n"
    assert_rejected(gw, raw, 400, REASONS)
