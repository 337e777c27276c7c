"""
Attack: CL.TE / TE.CL request smuggling. A front end and a back end that disagree on
where a body ends let an attacker hide a second request inside the first. The gateway
refuses any message with both framings, and the hidden request never reaches the upstream.
"""

import pytest

from pc_checks import assert_rejected
from pc_client import Conn, build_request

SMUGGLED = b"GET /admin/secret HTTP/1.1\r\nHost: gw.test\r\n\r\n"

VARIANTS = [
    # CL.TE: the front end uses Content-Length, the back end chunked
    b"POST /public/a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: %d\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % (5 + len(SMUGGLED)) + SMUGGLED,
    # TE.CL
    b"POST /public/a HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Length: 4\r\n\r\n%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n",
    # TE hidden behind odd spelling / whitespace
    b"POST /public/a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    b"POST /public/a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    b"POST /public/a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\n"
    b"transfer-encoding: CHUNKED\r\n\r\n0\r\n\r\n" + SMUGGLED,
    b"POST /public/a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n" + SMUGGLED,
]
REASONS = ["http_cl_and_te", "http_bad_header", "http_transfer_encoding_invalid"]


@pytest.mark.parametrize("raw", VARIANTS, ids=["cl_te", "te_cl", "te_space_colon",
                                               "te_tab", "te_case", "te_two"])
def test_cl_te_refused(gateway, raw):
    assert_rejected(gateway, raw, 400, REASONS)


def test_smuggled_request_never_reaches_upstream_on_reuse(gateway):
    """Even if the attacker keeps sending on the same connection, nothing follows."""
    with Conn(gateway.port) as c:
        c.send(VARIANTS[0])
        r = c.read_response()
        assert r.status == 400
        c.try_send(build_request("GET", "/public/next"))
        assert c.wait_closed(2)
    gateway.upstream.assert_nothing()
