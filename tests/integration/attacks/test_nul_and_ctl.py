"""
Attack: NUL and other control characters in the request line, field names and values,
which C-string-based or lenient components truncate or misread. Refused with 400.
"""

import pytest

from pc_checks import assert_rejected

BAD = ["http_bad_char", "http_bad_header", "http_bad_target", "http_bad_method",
       "http_bad_request_line", "path_nul", "path_invalid"]
CASES = [
    b"GET /a\x00/../admin HTTP/1.1\r\nHost: gw.test\r\n\r\n",
    b"GET\x00 /a HTTP/1.1\r\nHost: gw.test\r\n\r\n",
    b"GET /a HTTP/1.1\x00\r\nHost: gw.test\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: gw.test\r\nX-A: a\x00b\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: gw.test\r\nX-\x00A: b\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: gw.test\r\nX-A: \x1b[2J\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: gw.test\r\nX-A: a\x0bb\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: gw.test\r\nX-A: a\x0cb\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: gw.test\r\nX-A: a\rX-B: b\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: gw.test\r\nX-A: a\x7f\r\n\r\n",
    b"GET /a\x0d HTTP/1.1\r\nHost: gw.test\r\n\r\n",
    b"GET /a%00 HTTP/1.1\r\nHost: gw.test\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: gw.\x00test\r\n\r\n",
]


@pytest.mark.parametrize("raw", CASES, ids=[str(i) for i in range(len(CASES))])
def test_control_characters_refused(gateway, raw):
    assert_rejected(gateway, raw, 400, BAD + ["http_host_invalid"])


def test_h2_prior_knowledge_preface_refused(gateway):
    """An HTTP/2 connection preface on the HTTP/1.1 listener is not a request."""
    import h2.connection
    conn = h2.connection.H2Connection()
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "GET"), (":path", "/a"), (":scheme", "http"),
                          (":authority", "gw.test")], end_stream=True)
    from pc_checks import send_raw
    r, closed = send_raw(gateway.port, conn.data_to_send())
    if r is not None:
        assert r.status == 400, r
        assert closed
    gateway.upstream.assert_nothing()
