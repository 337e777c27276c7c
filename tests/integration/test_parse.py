"""
HTTP/1.1 parsing (RFC 9112): every malformed or smuggling-shaped request gets its 400
(or 417) with the right reason code, the connection is closed, the access log says why,
and the upstream receives nothing.

Where the reason code is ambiguous between two parser stages (e.g. a NUL in the request
line: bad target or bad char), the test accepts the small set of codes that name the same
fault; the status is always exact.
"""

import pytest

from pc_checks import assert_rejected, check_error_response, send_raw
from pc_client import Conn, build_request, chunked

H = b"Host: gw.test\r\n"
RL = ["http_bad_request_line"]

# (id, raw bytes, status, acceptable reason codes, partial_ok)
CASES = [
    # framing: Content-Length / Transfer-Encoding (smuggling shapes)
    ("cl_and_te", b"POST /a HTTP/1.1\r\n" + H + b"Content-Length: 6\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", 400, ["http_cl_and_te"], False),
    ("te_and_cl", b"POST /a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n"
     b"Content-Length: 6\r\n\r\n0\r\n\r\nX", 400, ["http_cl_and_te"], False),
    ("te_gzip_chunked", b"POST /a HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400,
     ["http_transfer_encoding_invalid"], False),
    ("te_identity", b"POST /a HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n\r\n",
     400, ["http_transfer_encoding_invalid"], False),
    ("te_chunked_twice", b"POST /a HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400,
     ["http_transfer_encoding_invalid"], False),
    ("te_two_fields", b"POST /a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
     ["http_transfer_encoding_invalid"], False),
    ("te_unknown", b"POST /a HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n",
     400, ["http_transfer_encoding_invalid"], False),
    ("te_in_http10", b"POST /a HTTP/1.0\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
     b"0\r\n\r\n", 400, ["http_transfer_encoding_invalid"], False),
    ("cl_dup_different", b"POST /a HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n"
     b"Content-Length: 6\r\n\r\nhello!", 400, ["http_content_length_duplicate"], False),
    ("cl_dup_same", b"POST /a HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n"
     b"Content-Length: 5\r\n\r\nhello", 400, ["http_content_length_duplicate"], False),
    ("cl_list", b"POST /a HTTP/1.1\r\n" + H + b"Content-Length: 5, 5\r\n\r\nhello", 400,
     ["http_content_length_duplicate", "http_content_length_invalid"], False),
    ("cl_negative", b"POST /a HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400,
     ["http_content_length_invalid"], False),
    ("cl_plus", b"POST /a HTTP/1.1\r\n" + H + b"Content-Length: +5\r\n\r\nhello", 400,
     ["http_content_length_invalid"], False),
    ("cl_hex", b"POST /a HTTP/1.1\r\n" + H + b"Content-Length: 0x5\r\n\r\nhello", 400,
     ["http_content_length_invalid"], False),
    ("cl_inner_space", b"POST /a HTTP/1.1\r\n" + H + b"Content-Length: 1 5\r\n\r\n", 400,
     ["http_content_length_invalid"], False),
    ("cl_empty", b"POST /a HTTP/1.1\r\n" + H + b"Content-Length:\r\n\r\n", 400,
     ["http_content_length_invalid"], False),
    ("cl_overflow", b"POST /a HTTP/1.1\r\n" + H +
     b"Content-Length: 99999999999999999999999\r\n\r\n", 400,
     ["http_content_length_invalid"], False),
    # chunked body framing: only visible after the head, so the head may have been sent
    ("chunk_bad_hex", b"POST /a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
     b"zz\r\nhello\r\n0\r\n\r\n", 400, ["http_chunk_invalid"], True),
    ("chunk_negative", b"POST /a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
     b"-5\r\nhello\r\n0\r\n\r\n", 400, ["http_chunk_invalid"], True),
    ("chunk_0x", b"POST /a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
     b"0x5\r\nhello\r\n0\r\n\r\n", 400, ["http_chunk_invalid"], True),
    ("chunk_overflow", b"POST /a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
     b"1ffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400, ["http_chunk_invalid"], True),
    ("chunk_no_crlf_after_data", b"POST /a HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400,
     ["http_chunk_invalid"], True),
    ("chunk_bare_lf", b"POST /a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
     b"5\nhello\r\n0\r\n\r\n", 400, ["http_chunk_invalid"], True),
    # header fields
    ("obs_fold_space", b"GET /a HTTP/1.1\r\n" + H + b"X-A: b\r\n c\r\n\r\n", 400,
     ["http_obs_fold"], False),
    ("obs_fold_tab", b"GET /a HTTP/1.1\r\n" + H + b"X-A: b\r\n\tc\r\n\r\n", 400,
     ["http_obs_fold"], False),
    ("ws_before_first_field", b"GET /a HTTP/1.1\r\n X-A: b\r\n" + H + b"\r\n", 400,
     ["http_obs_fold", "http_bad_header"], False),
    ("space_before_colon", b"GET /a HTTP/1.1\r\n" + H + b"X-A : b\r\n\r\n", 400,
     ["http_bad_header"], False),
    ("space_before_colon_cl", b"POST /a HTTP/1.1\r\n" + H + b"Content-Length : 5\r\n\r\n"
     b"hello", 400, ["http_bad_header"], False),
    ("field_no_colon", b"GET /a HTTP/1.1\r\n" + H + b"X-A b\r\n\r\n", 400,
     ["http_bad_header"], False),
    ("field_empty_name", b"GET /a HTTP/1.1\r\n" + H + b": b\r\n\r\n", 400,
     ["http_bad_header"], False),
    ("field_name_bad_char", b"GET /a HTTP/1.1\r\n" + H + b"X(A): b\r\n\r\n", 400,
     ["http_bad_header", "http_bad_char"], False),
    ("field_name_utf8", b"GET /a HTTP/1.1\r\n" + H + b"X-\xc3\xa9: b\r\n\r\n", 400,
     ["http_bad_header", "http_bad_char"], False),
    ("field_value_nul", b"GET /a HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400,
     ["http_bad_char"], False),
    ("field_value_ctl", b"GET /a HTTP/1.1\r\n" + H + b"X-A: a\x01b\r\n\r\n", 400,
     ["http_bad_char"], False),
    ("field_value_del", b"GET /a HTTP/1.1\r\n" + H + b"X-A: a\x7fb\r\n\r\n", 400,
     ["http_bad_char"], False),
    ("field_value_bare_cr", b"GET /a HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", 400,
     ["http_bad_char", "http_bad_header"], False),
    ("field_bare_lf", b"GET /a HTTP/1.1\r\n" + H + b"X-A: a\nX-B: b\r\n\r\n", 400,
     ["http_bad_char", "http_bad_header"], False),
    # request line
    ("request_line_bare_lf", b"GET /a HTTP/1.1\n" + H + b"\r\n", 400,
     RL + ["http_bad_char", "http_bad_version"], False),
    ("method_bad_char", b"GE(T /a HTTP/1.1\r\n" + H + b"\r\n", 400,
     ["http_bad_method"] + RL, False),
    ("method_empty", b" /a HTTP/1.1\r\n" + H + b"\r\n", 400, ["http_bad_method"] + RL,
     False),
    ("version_1_2", b"GET /a HTTP/1.2\r\n" + H + b"\r\n", 400, ["http_bad_version"], False),
    ("version_2", b"GET /a HTTP/2.0\r\n" + H + b"\r\n", 400, ["http_bad_version"], False),
    ("version_lowercase", b"GET /a http/1.1\r\n" + H + b"\r\n", 400,
     ["http_bad_version"], False),
    ("version_junk", b"GET /a HTTP/1.1x\r\n" + H + b"\r\n", 400, ["http_bad_version"],
     False),
    ("version_missing", b"GET /a\r\n" + H + b"\r\n", 400, RL + ["http_bad_version"],
     False),
    ("double_space", b"GET  /a HTTP/1.1\r\n" + H + b"\r\n", 400,
     RL + ["http_bad_target", "http_bad_method"], False),
    ("trailing_space", b"GET /a HTTP/1.1 \r\n" + H + b"\r\n", 400,
     RL + ["http_bad_version"], False),
    ("tab_separator", b"GET\t/a HTTP/1.1\r\n" + H + b"\r\n", 400,
     RL + ["http_bad_method", "http_bad_char"], False),
    ("target_absolute_form", b"GET http://gw.test/a HTTP/1.1\r\n" + H + b"\r\n", 400,
     ["http_bad_target"], False),
    ("target_no_slash", b"GET a/b HTTP/1.1\r\n" + H + b"\r\n", 400, ["http_bad_target"],
     False),
    ("target_star_get", b"GET * HTTP/1.1\r\n" + H + b"\r\n", 400, ["http_bad_target"],
     False),
    ("target_fragment", b"GET /a#b HTTP/1.1\r\n" + H + b"\r\n", 400,
     ["http_bad_target", "path_invalid"], False),
    ("target_ctl", b"GET /a\x01b HTTP/1.1\r\n" + H + b"\r\n", 400,
     ["http_bad_target", "http_bad_char", "path_invalid"], False),
    ("target_nul", b"GET /a\x00b HTTP/1.1\r\n" + H + b"\r\n", 400,
     ["http_bad_target", "http_bad_char", "path_nul", "path_invalid"], False),
    ("target_del", b"GET /a\x7fb HTTP/1.1\r\n" + H + b"\r\n", 400,
     ["http_bad_target", "http_bad_char", "path_invalid"], False),
    # Host (RFC 9112 3.2)
    ("host_missing", b"GET /a HTTP/1.1\r\n\r\n", 400, ["http_host_missing"], False),
    ("host_duplicate", b"GET /a HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n", 400,
     ["http_host_duplicate"], False),
    ("host_duplicate_same", b"GET /a HTTP/1.1\r\nHost: a.test\r\nHost: a.test\r\n\r\n",
     400, ["http_host_duplicate"], False),
    ("host_space", b"GET /a HTTP/1.1\r\nHost: a b\r\n\r\n", 400, ["http_host_invalid"],
     False),
    ("host_slash", b"GET /a HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, ["http_host_invalid"],
     False),
    ("host_userinfo", b"GET /a HTTP/1.1\r\nHost: user@a.test\r\n\r\n", 400,
     ["http_host_invalid"], False),
    ("host_bad_port", b"GET /a HTTP/1.1\r\nHost: a.test:8x\r\n\r\n", 400,
     ["http_host_invalid"], False),
    ("host_port_overflow", b"GET /a HTTP/1.1\r\nHost: a.test:999999\r\n\r\n", 400,
     ["http_host_invalid"], False),
    ("host_unclosed_ipv6", b"GET /a HTTP/1.1\r\nHost: [::1\r\n\r\n", 400,
     ["http_host_invalid"], False),
    ("host_list", b"GET /a HTTP/1.1\r\nHost: a.test, b.test\r\n\r\n", 400,
     ["http_host_invalid", "http_host_duplicate"], False),
    ("host_empty", b"GET /a HTTP/1.1\r\nHost:\r\n\r\n", 400,
     ["http_host_invalid", "http_host_missing"], False),
]


@pytest.mark.parametrize("raw,status,reasons,partial_ok",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_request_rejected(gateway, raw, status, reasons, partial_ok):
    _, entry = assert_rejected(gateway, raw, status, reasons, partial_ok=partial_ok)
    if partial_ok:
        # a body framing error is found while the body streams: forward phase allowed
        assert entry["phase"] in ("parse", "forward"), entry
    else:
        assert entry["phase"] == "parse", entry
        assert entry["route"] in (None, ""), entry


def test_expect_unsupported_is_417(gateway):
    raw = build_request("POST", "/a", [("Expect", "something-else")], body=b"hello")
    r, _ = send_raw(gateway.port, raw)
    body = check_error_response(r, 417, "http_expect_unsupported")
    gateway.access_for(body["request_id"])
    gateway.upstream.assert_nothing()


def test_valid_then_malformed_on_one_connection(gateway):
    """The good request is answered and forwarded; the malformed one after it is
    refused, the connection closes, and only the first reached the upstream."""
    with Conn(gateway.port) as c:
        c.send(build_request("GET", "/first"))
        assert c.read_response().status == 200
        c.send(b"GET /second HTTP/1.1\r\n" + H + b"X-A: b\r\n c\r\n\r\n")
        r = c.read_response()
        check_error_response(r, 400, "http_obs_fold")
        assert c.wait_closed(2) and not c.extra
    recs = gateway.upstream.wait_requests(1)
    assert [x.target for x in recs] == ["/first"]
    assert len(gateway.upstream.snapshot()) == 1


def test_malformed_head_in_pieces(gateway):
    """A fault in a head that arrives byte by byte is caught the same way."""
    raw = b"POST /a HTTP/1.1\r\n" + H + b"Content-Length: 6\r\n" \
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    with Conn(gateway.port) as c:
        for i in range(0, len(raw), 7):
            if not c.try_send(raw[i:i + 7]):
                break
        r = c.read_response()
        check_error_response(r, 400, "http_cl_and_te")
        assert c.wait_closed(2)
    gateway.upstream.assert_nothing()


@pytest.mark.parametrize("where", ["global", "route"])
def test_parse_errors_never_report_only(gateway_factory, where):
    """report_only never applies to parse errors: they are still refused."""
    if where == "global":
        gw = gateway_factory({"report_only": True})
    else:
        gw = gateway_factory(edit=lambda c: c["routes"][0].update(report_only=True))
    raw = b"POST /a HTTP/1.1\r\n" + H + b"Content-Length: 6\r\n" \
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nX"
    _, entry = assert_rejected(gw, raw, 400, "http_cl_and_te")
    assert entry.get("would_deny") in (None, "", "none"), entry
    ev = gw.wait_event(lambda e: e.get("reason") == "http_cl_and_te")
    assert ev["event"] == "deny", ev


def test_chunked_with_extensions_and_trailers_accepted(gateway):
    """Valid chunked framing with extensions and trailers is forwarded (the
    extensions and trailers are dropped, the data kept)."""
    body = chunked("hel", "lo", ext='name="v"', trailers=["X-Trail: 1"])
    raw = build_request("POST", "/a", [("Transfer-Encoding", "chunked")], body=body)
    r, _ = send_raw(gateway.port, raw)
    assert r.status == 200, r
    rec = gateway.upstream.wait_requests(1)[0]
    assert rec.body == b"hello"
    assert rec.trailers == [], "trailers are dropped, not forwarded"
