"""
HTTP/2 on the client side (the upstream side stays HTTP/1.1): requests through h2 over
TLS (ALPN h2) and cleartext h2c with prior knowledge reach the recording upstream as the
same HTTP/1.1 requests an HTTP/1.1 client would produce; responses are filtered as for
HTTP/1.1; denials are answered on their stream and the connection goes on; malformed
requests never reach the upstream; ALPN selection; SIGTERM drain with GOAWAY.

The attacks (rapid reset, floods, HPACK bomb, CONTINUATION) are in
attacks/test_h2_attacks.py.
"""

import hashlib
import signal
import time

import pytest

from pc_checks import check_error_response, send_raw
from pc_client import build_request, request, scaled
from pc_h2 import ERR, H2Client, PREFACE, RawH2, err_name
from pc_tls import *        # noqa: F401,F403 - fixtures tls_certs, ...
from pc_tlsgw import *      # noqa: F401,F403 - fixture tls_gateway
from pc_upstream import BIG_BLOCK, CHUNKED_BODY, NOLENGTH_BODY

HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


# ---- helpers ---------------------------------------------------------------------------

@pytest.fixture
def h2_gateway(tls_gateway):
    """make(overrides=None, **tls) -> Gateway with an h2c plain listener (gw.port) and a
    TLS listener with http2: true (gw.tls_port)."""

    def make(overrides=None, h2c=True, start=True, **tls):
        def edit(cfg):
            if h2c:
                cfg["listen"][0] = {"address": cfg["listen"][0], "h2c": True}
            return cfg
        tls.setdefault("http2", True)
        return tls_gateway(overrides=overrides, edit=edit, start=start, **tls)

    return make


def h2tls(gw, certs, timeout=5.0, **kw):
    return H2Client(gw.tls_port, client_context(ca=certs.ca, alpn=["h2", "http/1.1"]),
                    timeout=timeout, **kw)


def h2c(gw, timeout=5.0, **kw):
    return H2Client(gw.port, None, timeout=timeout, **kw)


def heads(up):
    with up.lock:
        return list(up.heads)


def ok(s, status=200):
    assert s.status == status, s
    assert s.ended and s.reset is None, s
    return s


def names(s):
    return [k for k, _ in s.headers]


# ---- normal behaviour ------------------------------------------------------------------

def test_methods_reach_the_upstream_over_tls(h2_gateway, tls_certs):
    gw = h2_gateway()
    up = gw.upstream
    with h2tls(gw, tls_certs, authority="h2.example.test") as c:
        assert c.alpn == "h2"
        g = ok(c.get("/n/./a/../b?x=1&y=2", [("x-custom", "v1"),
                                               ("x-request-id", "h2-get-1")]))
        p = ok(c.request("POST", "/post", [("content-type", "text/plain")],
                         body=b"hello h2"))
        u = ok(c.request("PUT", "/put", body=b"{\"k\": 1}"))
        h = ok(c.request("HEAD", "/head"))
    rec = up.wait_path("/n/b")
    assert rec.method == "GET" and rec.target == "/n/b?x=1&y=2", rec
    assert rec.version == "HTTP/1.1"
    assert rec.header_all("host") == ["h2.example.test"], rec.headers
    assert rec.header_all("x-forwarded-for") == ["127.0.0.1"]
    assert rec.header_all("x-forwarded-proto") == ["https"]
    assert rec.header_all("x-request-id") == ["h2-get-1"]
    assert rec.header("x-custom") == "v1"
    assert not {n.lower() for n in rec.names()} & (HOP | {"te", "trailer"}), rec.headers
    assert g.header("x-request-id") == "h2-get-1"
    assert g.json()["target"] == "/n/b?x=1&y=2"
    rec = up.wait_path("/post")
    assert rec.method == "POST" and rec.body == b"hello h2", rec
    assert rec.header("content-type") == "text/plain"
    assert p.json()["body"] == "hello h2"
    rec = up.wait_path("/put")
    assert rec.method == "PUT" and rec.body == b"{\"k\": 1}"
    assert u.json()["method"] == "PUT"
    rec = up.wait_path("/head")
    assert rec.method == "HEAD"
    assert h.body == b"", h
    # Every request got its own id, given back in the response.
    rids = [rec.header("x-request-id") for rec in up.snapshot()]
    assert all(rids) and len(set(rids)) == 4, rids
    for s in (g, p, u, h):
        assert s.header("x-request-id") in rids
        assert s.header("server") is None and s.header("x-powered-by") is None, s
        assert s.header("x-upstream") == up.name
        assert s.header("x-content-type-options") == "nosniff"
        assert s.header("strict-transport-security") == "max-age=31536000"
        assert not set(names(s)) & HOP, s.headers
        # RFC 9113 8.2: field names in HTTP/2 are lowercase.
        assert all(n == n.lower() for n in names(s)), s.headers


def test_h2c_prior_knowledge_and_http11_on_one_listener(h2_gateway, tls_certs):
    gw = h2_gateway()
    with h2c(gw, authority="gw.test") as c:
        s = ok(c.get("/clear", [("x-request-id", "h2c-1")]))
        assert s.header("strict-transport-security") is None      # no HSTS over http
        assert s.header("x-content-type-options") == "nosniff"
        s2 = ok(c.request("POST", "/clear-post", body=b"abc"))
        assert s2.json()["body"] == "abc"
    rec = gw.upstream.wait_path("/clear")
    assert rec.header_all("x-forwarded-proto") == ["http"]
    assert rec.header_all("host") == ["gw.test"]
    assert rec.header_all("x-forwarded-for") == ["127.0.0.1"]
    # HTTP/1.1 still works on the same listener.
    r = request(gw.port, "GET", "/h1-on-h2c")
    assert r.status == 200 and r.version == "HTTP/1.1"
    gw.upstream.wait_path("/h1-on-h2c")


def test_cookie_fields_joined(h2_gateway, tls_certs):
    gw = h2_gateway()
    with h2tls(gw, tls_certs) as c:
        ok(c.get("/cookies", [("cookie", "a=1"), ("x-between", "1"), ("cookie", "b=2"),
                              ("cookie", "c=3")]))
    rec = gw.upstream.wait_path("/cookies")
    assert rec.header_all("cookie") == ["a=1; b=2; c=3"], rec.headers


def test_bodies_with_and_without_content_length(h2_gateway, tls_certs):
    gw = h2_gateway()
    body = bytes(range(256)) * 400          # 100 KiB: more than one window's worth
    with h2tls(gw, tls_certs) as c:
        ok(c.request("POST", "/with-cl", body=body, timeout=10))
        ok(c.request("POST", "/without-cl", body=body, content_length=False, timeout=10))
        # A body in many small DATA frames, the last one empty with END_STREAM.
        sid = c.send_request("POST", "/pieces", body=b"", content_length=False,
                             end_stream=False)
        for i in range(10):
            c.send_body(sid, b"%d," % i)
        c.send_body(sid, b"", end_stream=True)
        ok(c.wait([sid], 5)[0])
    rec = gw.upstream.wait_path("/with-cl")
    assert rec.header_all("content-length") == [str(len(body))]
    assert not rec.chunked and rec.body == body
    rec = gw.upstream.wait_path("/without-cl")
    assert rec.chunked, "no content-length from the client: chunked to the upstream"
    assert rec.header("content-length") is None
    assert rec.body == body
    rec = gw.upstream.wait_path("/pieces")
    assert rec.body == b"0,1,2,3,4,5,6,7,8,9,"


def test_large_response_and_upload(h2_gateway, tls_certs):
    n = 3 << 20
    gw = h2_gateway(overrides={"limits": {"body_max_bytes": 4 << 20}})
    up_body = (bytes(range(251)) * ((2 << 20) // 251 + 1))[:(2 << 20) + 7]
    with h2tls(gw, tls_certs, timeout=30) as c:
        s = ok(c.get("/big?bytes=%d" % n, timeout=30))
        assert len(s.body) == n
        assert s.body == (BIG_BLOCK * (n // len(BIG_BLOCK) + 1))[:n]
        assert s.header("content-length") in (None, str(n))
        ok(c.request("POST", "/upload", body=up_body, timeout=30))
        # Both at once on one connection, with a small request between them.
        a = c.send_request("GET", "/big?bytes=%d" % (1 << 20))
        b = c.send_request("POST", "/upload2", body=up_body, content_length=False)
        m = c.send_request("GET", "/small")
        sa, sb, sm = c.wait([a, b, m], 30)
        ok(sa), ok(sb), ok(sm)
        assert len(sa.body) == 1 << 20
    for path in ("/upload", "/upload2"):
        rec = gw.upstream.wait_path(path)
        assert rec.body_len == len(up_body), path
        assert rec.body_sha256 == hashlib.sha256(up_body).hexdigest(), path


def test_fifty_concurrent_streams(h2_gateway, tls_certs):
    gw = h2_gateway()
    with h2tls(gw, tls_certs, timeout=15) as c:
        c.wait_settings()
        sids = {}
        for i in range(50):
            # Some are slow, so the streams really overlap at the upstream.
            path = "/cc/%d/slow" % i if i % 5 == 0 else "/cc/%d" % i
            sids[c.send_request("GET", path + "?i=%d" % i)] = (i, path)
        got = c.wait(list(sids), 15)
    for s in got:
        i, path = sids[s.id]
        ok(s)
        assert s.json()["target"] == "%s?i=%d" % (path, i), (i, s.json())
    assert len({r.target for r in gw.upstream.snapshot()}) == 50


def test_response_filter(h2_gateway, tls_certs):
    gw = h2_gateway()
    with h2tls(gw, tls_certs, timeout=10) as c:
        s = ok(c.get("/hop"))
        assert s.body == b"hop"
        assert not set(names(s)) & (HOP | {"x-secret-hop", "trailer"}), s.headers
        assert s.header("x-end-to-end") == "kept"
        s = ok(c.get("/chunked"))
        assert s.body == CHUNKED_BODY and s.header("transfer-encoding") is None
        s = ok(c.get("/nolength"))
        assert s.body == NOLENGTH_BODY
        s = ok(c.get("/status/204"), 204)
        assert s.body == b""
        s = ok(c.get("/status/503"), 503)
        assert s.json() == {"status": 503}
        s = ok(c.request("HEAD", "/chunked"))
        assert s.body == b""


ROUTES = {
    "limits": {"body_max_bytes": 4096},
    "routes": [
        {"name": "p", "path": "/p/**", "upstream": "backend", "public": True},
        # a verified client certificate is this route's authentication
        {"name": "mtls", "path": "/mtls/**", "upstream": "backend",
         "client_cert": "required"},
    ],
}


def test_denials_on_the_stream_and_the_connection_goes_on(h2_gateway, tls_certs):
    gw = h2_gateway(overrides=ROUTES, client_cert="optional",
                    client_ca=tls_certs.client_ca.cert)
    with h2tls(gw, tls_certs) as c:
        nf = c.get("/nowhere")
        tr = c.get("/p/../../etc")
        big = c.request("POST", "/p/big", body=b"x" * 5000)
        # content-length announced, body still to come: refused before any byte of it
        sid = c.send_request("POST", "/p/big2", [("content-length", "100000")],
                             end_stream=False)
        big2 = c.wait([sid])[0]
        cert = c.get("/mtls/a")
        after = ok(c.get("/p/ok"))
        assert c.goaway is None, err_name(c.goaway[0])
    denied = [(nf, 404, "route_not_found"), (tr, 400, "path_traversal"),
              (big, 413, "limit_body"), (big2, 413, "limit_body"),
              (cert, 403, "tls_client_cert_required")]
    for s, status, reason in denied:
        assert s.status == status, (reason, s)
        body = check_error_response(s, status, reason)
        assert s.header("x-request-id") == body["request_id"]
        assert s.header("strict-transport-security"), s.headers
        e = gw.access_for(body["request_id"])
        assert e["status"] == status and e["reason"] == reason, e
        assert e.get("http") == "2", e
        assert e.get("upstream") in (None, ""), e
    assert after.json()["target"] == "/p/ok"
    time.sleep(0.1)
    assert [r.target for r in heads(gw.upstream)] == ["/p/ok"]


def test_access_log_http_version(h2_gateway, tls_certs):
    gw = h2_gateway()
    with h2tls(gw, tls_certs) as c:
        ok(c.get("/log", [("x-request-id", "log-h2-tls")]))
    with h2c(gw) as c:
        ok(c.get("/log", [("x-request-id", "log-h2c")]))
    assert request(gw.port, "GET", "/log", [("X-Request-Id", "log-h1")]).status == 200
    r = tls_request(gw.tls_port, client_context(ca=tls_certs.ca, alpn=["http/1.1"]),
                    "GET", "/log", [("X-Request-Id", "log-h1-tls")])
    assert r.status == 200
    want = {"log-h2-tls": "2", "log-h2c": "2", "log-h1": "1.1", "log-h1-tls": "1.1"}
    for rid, v in want.items():
        e = gw.access_for(rid)
        assert e.get("http") == v, e
        assert e["status"] == 200 and e["method"] == "GET" and e["path"] == "/log", e
    assert gw.access_for("log-h2-tls").get("tls") == "TLSv1.3"


def _h(extra=(), drop=(), path="/m"):
    hs = [(":method", "GET"), (":scheme", "http"), (":authority", "gw.test"),
          (":path", path)]
    return [kv for kv in hs if kv[0] not in drop] + list(extra)


# name -> (header list, body frames after HEADERS or None for END_STREAM on HEADERS)
MALFORMED = {
    "no_path": (_h(drop=(":path",)), None),
    "no_method": (_h(drop=(":method",)), None),
    "no_scheme": (_h(drop=(":scheme",)), None),
    "empty_path": (_h(path=""), None),
    "path_without_slash": (_h(path="m/x"), None),
    "absolute_path": (_h(path="http://evil.test/m"), None),
    "connection": (_h([("connection", "keep-alive")]), None),
    "keep_alive": (_h([("keep-alive", "timeout=5")]), None),
    "proxy_connection": (_h([("proxy-connection", "keep-alive")]), None),
    "transfer_encoding": (_h([("transfer-encoding", "chunked")]), None),
    "upgrade": (_h([("upgrade", "websocket")]), None),
    "te_gzip": (_h([("te", "gzip")]), None),
    "uppercase_name": (_h([("X-Upper", "1")]), None),
    "pseudo_after_regular": (_h(drop=(":path",)) + [("x-a", "1"), (":path", "/m")], None),
    "unknown_pseudo": (_h([(":foo", "bar")]), None),
    "duplicate_path": (_h([(":path", "/other")]), None),
    "response_pseudo": (_h([(":status", "200")]), None),
    "name_with_space": (_h([("x a", "1")]), None),
    "value_with_newline": (_h([("x-a", "1\r\nx-injected: 1")]), None),
    "cl_more_than_data": ([(":method", "POST"), (":scheme", "http"),
                           (":authority", "gw.test"), (":path", "/m"),
                           ("content-length", "10")], [b"12345"]),
    "cl_less_than_data": ([(":method", "POST"), (":scheme", "http"),
                           (":authority", "gw.test"), (":path", "/m"),
                           ("content-length", "3")], [b"1234567890"]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_request_never_reaches_the_upstream(h2_gateway, case):
    """RFC 9113 8.1.1: a malformed request is a stream error (RST_STREAM
    PROTOCOL_ERROR); a 400 on the stream is accepted too. Nothing of a request malformed
    in its header block, not even a head, reaches the upstream. A content-length that
    disagrees with the DATA is only visible in the body, so, as for HTTP/1.1's body
    errors, a streamed head is tolerated but never a complete request (which would
    carry a body other than the client's). Other streams go on being served."""
    gw = h2_gateway()
    hs, body = MALFORMED[case]
    raw = RawH2(gw.port, authority="gw.test")
    raw.wait_settings()
    frames = [raw.headers_frame(1, hs, end_stream=body is None)]
    for i, d in enumerate(body or []):
        frames.append(raw.data(1, d, end_stream=i == len(body) - 1))
    raw.send_frames(frames)
    raw.read_until(lambda: raw.stream(1).done or raw.goaway is not None, 5)
    s = raw.stream(1)
    assert raw.decode_error is None, raw.decode_error
    if raw.goaway is None:
        assert s.reset == ERR.PROTOCOL_ERROR or s.status == 400, s
        # The connection goes on: a good request on the next stream.
        raw.send_request(3, "GET", "/after-%s" % case)
        raw.read_until(lambda: raw.stream(3).done, 5)
        assert raw.stream(3).status == 200, raw.stream(3)
    else:
        # A connection error is stricter than the RFC asks, not a hole: still reported.
        assert raw.goaway[0] == ERR.PROTOCOL_ERROR, err_name(raw.goaway[0])
        assert s.status is None or s.status == 400, s
    raw.close()
    with h2c(gw) as c:
        ok(c.get("/fresh"))
    time.sleep(0.1)
    complete = [r.target for r in gw.upstream.snapshot()]
    assert all(t.startswith(("/after-", "/fresh")) for t in complete), complete
    if not case.startswith("cl_"):
        seen = [r.target for r in heads(gw.upstream)]
        assert all(t.startswith(("/after-", "/fresh")) for t in seen), seen


def test_client_reset_cancels_in_flight_request(h2_gateway, tls_certs):
    gw = h2_gateway()
    with h2tls(gw, tls_certs, timeout=10) as c:
        sid = c.send_request("GET", "/cancel/slow?ms=1500")
        assert gw.upstream.wait_heads(1, timeout=scaled(3)), "never forwarded"
        c.reset_stream(sid, ERR.CANCEL)
        ok(c.get("/same-conn"))
        # Whatever the upstream answers later is not delivered on the reset stream.
        c.read_until(lambda: False, 2.0)
        assert c.stream(sid).status is None and c.stream(sid).body == b""
        assert c.goaway is None and c.error is None, (c.goaway, c.error)
        ok(c.get("/same-conn-later"))
    with h2tls(gw, tls_certs) as c:
        ok(c.get("/fresh"))
    assert gw.alive()


def test_alpn_selection(h2_gateway, tls_gateway, tls_certs):
    gw = h2_gateway()
    for offer, want in ((["h2", "http/1.1"], "h2"), (["http/1.1", "h2"], "h2"),
                        (["h2"], "h2"), (["http/1.1"], "http/1.1")):
        c = TlsConn(gw.tls_port, client_context(ca=tls_certs.ca, alpn=offer))
        try:
            assert c.sock.selected_alpn_protocol() == want, offer
            if want == "http/1.1":
                c.send(build_request("GET", "/alpn-h1", None, None, "localhost"))
                assert c.read_response().status == 200
        finally:
            c.close()
    # No ALPN at all: HTTP/1.1.
    r = tls_request(gw.tls_port, client_context(ca=tls_certs.ca), "GET", "/no-alpn")
    assert r.status == 200
    # http2 off on the listener: an h2-only client gets no ALPN answer.
    off = tls_gateway()
    c = TlsConn(off.tls_port, client_context(ca=tls_certs.ca, alpn=["h2"]))
    try:
        assert c.sock.selected_alpn_protocol() is None
        c.send(build_request("GET", "/off", None, None, "localhost"))
        assert c.read_response().status == 200
    finally:
        c.close()
    c = TlsConn(off.tls_port, client_context(ca=tls_certs.ca, alpn=["h2", "http/1.1"]))
    assert c.sock.selected_alpn_protocol() == "http/1.1"
    c.close()


def test_preface_without_h2c_is_a_bad_http11_request(gateway):
    r, closed = send_raw(gateway.port, PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
    assert r is not None, "closed without an answer"
    assert r.status == 400 and r.version == "HTTP/1.1", r
    assert closed
    gateway.upstream.assert_nothing()


def test_sigterm_sends_goaway_and_in_flight_streams_complete(h2_gateway, tls_certs):
    gw = h2_gateway(overrides={"drain_timeout_ms": 5000})
    # Raw frames: python-h2's state machine closes on the first GOAWAY and then refuses
    # the in-flight stream's response, which RFC 9113 6.8 says still comes.
    raw = RawH2(gw.tls_port, client_context(ca=tls_certs.ca, alpn=["h2"]), timeout=10)
    try:
        raw.send_request(1, "GET", "/before")
        assert raw.read_until(lambda: raw.stream(1).done, 5)
        assert raw.stream(1).status == 200
        raw.send_request(3, "GET", "/drain/slow?ms=1500")
        assert gw.upstream.wait_path("/drain/slow")
        gw.expect_exit = True
        gw.signal(signal.SIGTERM)
        code = raw.wait_goaway(3)
        assert code == ERR.NO_ERROR, err_name(code)
        assert raw.goaway[1] >= 3, "GOAWAY's last stream id %d < in-flight 3" % raw.goaway[1]
        assert raw.read_until(lambda: raw.stream(3).done, 6)
        s = raw.stream(3)
        assert s.status == 200 and s.ended, (s, raw.goaways)
        assert s.json()["target"] == "/drain/slow?ms=1500"
        # Then the gateway closes the connection and exits.
        assert raw.wait_closed(5)
    finally:
        raw.close()
    assert gw.wait_exit(6) == 0


def test_idle_h2_connection_does_not_delay_exit(h2_gateway, tls_certs):
    gw = h2_gateway(overrides={"drain_timeout_ms": 5000})
    c = h2c(gw)
    try:
        ok(c.get("/a"))
        gw.expect_exit = True
        t0 = time.monotonic()
        gw.signal(signal.SIGTERM)
        assert c.wait_goaway(3) == ERR.NO_ERROR
        assert c.wait_closed(3)
        assert gw.wait_exit(5) == 0
        assert time.monotonic() - t0 < scaled(2), "an idle h2 connection held the drain"
    finally:
        c.close()


def test_h2c_flag_needs_a_plain_listener(h2_gateway):
    """Config: h2c on a TLS listener is refused by `portcullis check`."""
    from pc_gateway import run_check
    gw = h2_gateway(start=False)
    cfg = gw.config
    cfg["listen"][1]["h2c"] = True
    gw.write_config(cfg)
    code, out, err = run_check(gw.cfg_path)
    assert code != 0 and "h2c" in err, err


def test_settings_are_the_configured_ones(h2_gateway):
    gw = h2_gateway(overrides={"http2": {"max_concurrent_streams": 7,
                                         "initial_window_bytes": 32768}})
    raw = RawH2(gw.port)
    try:
        assert raw.wait_settings(), "no SETTINGS from the gateway"
        st = raw.server_settings
        assert st.get(0x3) == 7, st                 # MAX_CONCURRENT_STREAMS
        assert st.get(0x4) == 32768, st             # INITIAL_WINDOW_SIZE
        assert st.get(0x2, 0) == 0, st              # ENABLE_PUSH: a server never sets 1
        # Our SETTINGS are acknowledged.
        assert raw.read_until(lambda: raw.settings_acks >= 1, 3)
        raw.send_frames([raw.ping(b"12345678")])
        assert raw.read_until(lambda: raw.ping_acks >= 1, 3)
    finally:
        raw.close()

