"""
Attack: obsolete line folding (RFC 9112 5.2) to hide a field from one parser and show it
to another (e.g. a folded Transfer-Encoding or Host). Refused with 400.
"""

import pytest

from pc_checks import assert_rejected

CASES = [
    b"X-A: a\r\n b\r\n",
    b"X-A: a\r\n\tb\r\n",
    b"Content-Length: 5\r\n Transfer-Encoding: chunked\r\n",
    b"X-A: a\r\n Transfer-Encoding: chunked\r\n",
    b"X-A: a\r\n \r\n",
    b"X-A:\r\n Host: evil.test\r\n",
]


@pytest.mark.parametrize("fields", CASES, ids=[str(i) for i in range(len(CASES))])
def test_obs_fold_refused(gateway, fields):
    raw = b"POST /a HTTP/1.1\r\nHost: gw.test\r\n" + fields + b"\r\n0\r\n\r\nhello"
    assert_rejected(gateway, raw, 400, ["http_obs_fold", "http_bad_header"])
