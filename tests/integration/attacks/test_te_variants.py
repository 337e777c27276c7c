"""
Attack: Transfer-Encoding variants that some servers read as chunked and others do not
(obfuscated values, lists, unknown codings, HTTP/1.0). Only a single exact "chunked" is
accepted; everything else is 400 and nothing is forwarded.
"""

import pytest

from pc_checks import assert_rejected
from pc_client import request

VALUES = [b"chunked, identity", b"identity, chunked", b"gzip", b"chunked;q=1",
          b"\"chunked\"", b"chunk", b"chunked\x0b", b"x chunked", b"chunked, gzip",
          b"cHuNkEd, chunked", b","]


@pytest.mark.parametrize("value", VALUES, ids=[v.decode("latin-1") for v in VALUES])
def test_te_variant_refused(gateway, value):
    raw = b"POST /a HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: " + value + \
        b"\r\n\r\n0\r\n\r\n"
    assert_rejected(gateway, raw, 400, ["http_transfer_encoding_invalid", "http_bad_char"])


def test_te_on_http10_refused(gateway):
    raw = b"POST /a HTTP/1.0\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n" \
        b"5\r\nhello\r\n0\r\n\r\n"
    assert_rejected(gateway, raw, 400, "http_transfer_encoding_invalid")


def test_plain_chunked_accepted_any_case(gateway):
    """The accepted spelling: chunked, case-insensitive (RFC 9112 7)."""
    r = request(gateway.port, "POST", "/a", [("Transfer-Encoding", "Chunked")],
                body=b"5\r\nhello\r\n0\r\n\r\n")
    assert r.status == 200 and r.json()["body"] == "hello"
