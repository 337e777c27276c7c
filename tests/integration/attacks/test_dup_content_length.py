"""
Attack: several or malformed Content-Length fields, so that two parsers disagree on the
body length. Refused with 400; nothing reaches the upstream.
"""

import pytest

from pc_checks import assert_rejected

DUP = ["http_content_length_duplicate", "http_content_length_invalid"]
CASES = [
    (b"Content-Length: 0\r\nContent-Length: 44\r\n", DUP),
    (b"Content-Length: 44\r\nContent-Length: 0\r\n", DUP),
    (b"Content-Length: 44\r\ncontent-length: 44\r\n", DUP),
    (b"Content-Length: 0, 44\r\n", DUP),
    (b"Content-Length: 44 , 44\r\n", DUP),
    (b"Content-Length: 4 4\r\n", ["http_content_length_invalid"]),
    (b"Content-Length: 44\x00\r\n", ["http_content_length_invalid", "http_bad_char"]),
    (b"Content-Length: \xd9\xa4\xd9\xa4\r\n", ["http_content_length_invalid"]),
    (b"Content-Length: 1e2\r\n", ["http_content_length_invalid"]),
]
BODY = b"GET /admin HTTP/1.1\r\nHost: gw.test\r\n\r\n\r\n"


@pytest.mark.parametrize("fields,reasons", CASES, ids=[str(i) for i in range(len(CASES))])
def test_dup_or_bad_content_length(gateway, fields, reasons):
    raw = b"POST /a HTTP/1.1\r\nHost: gw.test\r\n" + fields + b"\r\n" + BODY
    assert_rejected(gateway, raw, 400, reasons)
