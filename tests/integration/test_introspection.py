"""
Opaque access tokens through OAuth 2.0 Token Introspection (RFC 7662), against a small
HTTPS introspection endpoint written here (http.server + ssl, certificates from pc_tls):
the endpoint checks the gateway's client_secret_basic credentials and the form body, and
counts its calls. Accepted with scopes; inactive refused 401; results cached (no second
call) but never past exp; endpoint down or refusing the gateway's secret -> 503 with
nothing forwarded; concurrent identical tokens -> one call; JWT-shaped tokens never go to
the endpoint.
"""

import base64
import json
import os
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pc_client import free_ports, request
from pc_tls import *        # noqa: F401,F403

ISS = "https://op.intro.test"
AUD = "https://api.test"
CLIENT_ID = "portcullis"
SECRET = "s3cret:intro+/"      # ':' and '+' exercise the form-encoding of RFC 6749 2.3.1


class IntrospectionServer:
    """POST /introspect with client_secret_basic. Answers from <tokens> (token -> dict),
    {"active": false} for anything else. <delay> seconds before answering."""

    def __init__(self, cert):
        self.tokens = {}
        self.calls = []            # (token, hint) per authenticated call
        self.bad_auth = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _answer(self, status, obj):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(n).decode(), strict_parsing=True)
                want = "Basic " + base64.b64encode(
                    ("%s:%s" % (urllib.parse.quote_plus(CLIENT_ID),
                                urllib.parse.quote_plus(SECRET))).encode()).decode()
                if self.path != "/introspect" or self.headers.get("Authorization") != want:
                    with srv.lock:
                        srv.bad_auth += 1
                    return self._answer(401, {"error": "invalid_client"})
                tok = form["token"][0]
                with srv.lock:
                    srv.calls.append((tok, form.get("token_type_hint", [None])[0]))
                if srv.delay:
                    time.sleep(srv.delay)
                self._answer(200, srv.tokens.get(tok, {"active": False}))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert.chain, cert.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = "https://127.0.0.1:%d/introspect" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def ncalls(self, tok=None):
        with self.lock:
            return len([c for c in self.calls if tok is None or c[0] == tok])

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def op(tls_factory):
    ca = tls_factory.make_ca("intro-ca")
    cert = tls_factory.server_cert(ca, "intro", ips=["127.0.0.1"])
    s = IntrospectionServer(cert)
    s.ca = ca
    yield s
    s.stop()


def active(sub="alice", scope="items:read", **extra):
    d = {"active": True, "sub": sub, "aud": AUD, "iss": ISS, "scope": scope,
         "exp": int(time.time()) + 3600, "token_type": "Bearer"}
    d.update(extra)
    return {k: v for k, v in d.items() if v is not None}


def gw_for(gateway_factory, op, endpoint=None, secret=SECRET, cache_s=30, timeout_ms=2000):
    cfg = {
        "issuers": {"op": {"issuer": ISS, "audiences": [AUD],
                           "introspection": {"endpoint": endpoint or op.url,
                                             "client_id": CLIENT_ID,
                                             "client_secret": "${env:PC_TEST_INTRO_SECRET}",
                                             "ca_file": op.ca.cert,
                                             "cache_s": cache_s,
                                             "timeout_ms": timeout_ms}}},
    }

    def edit(c):
        c["routes"] = [
            {"name": "api", "path": "/api/**", "methods": ["GET"], "upstream": "backend",
             "auth": ["op"]},
            {"name": "del", "path": "/api/**", "methods": ["DELETE"], "upstream": "backend",
             "auth": ["op"], "scopes": ["items:delete"]},
            {"name": "all", "path": "/**", "upstream": "backend", "public": True},
        ]
        return c
    return gateway_factory(overrides=cfg, edit=edit, env={"PC_TEST_INTRO_SECRET": secret})


def bearer(tok):
    return [("Authorization", "Bearer " + tok)]


def test_opaque_token_accepted_with_scopes(gateway_factory, op):
    op.tokens["2YotnFZFEjr1zCsicMWpAA"] = active(scope="items:read items:delete")
    op.tokens["svc+token/=="] = active(sub=None, client_id="svc-7", scope="items:read")
    gw = gw_for(gateway_factory, op)
    r = request(gw.port, "GET", "/api/items", headers=bearer("2YotnFZFEjr1zCsicMWpAA"))
    assert r.status == 200, r
    assert gw.access_for(r.header("x-request-id"))["principal"] == "alice"
    assert op.calls == [("2YotnFZFEjr1zCsicMWpAA", "access_token")]
    r = request(gw.port, "DELETE", "/api/items/1", headers=bearer("2YotnFZFEjr1zCsicMWpAA"))
    assert r.status == 200, r
    # Client credentials: no sub, the client is the principal; its scopes are its own.
    r = request(gw.port, "GET", "/api/items", headers=bearer("svc+token/=="))
    assert r.status == 200, r
    assert gw.access_for(r.header("x-request-id"))["principal"] == "svc-7"
    r = request(gw.port, "DELETE", "/api/items/1", headers=bearer("svc+token/=="))
    assert r.status == 403 and r.json()["reason"] == "authz_insufficient_scope"
    assert len(gw.upstream.wait_requests(3)) == 3
    assert op.bad_auth == 0


def test_inactive_and_wrong_claims_refused(gateway_factory, op):
    op.tokens["other-aud"] = active(aud="https://elsewhere.test")
    op.tokens["refresh"] = active(token_type="refresh_token")
    op.tokens["other-iss"] = active(iss="https://evil.test")
    gw = gw_for(gateway_factory, op)
    for tok, reason in (("revoked-or-garbage", "auth_token_inactive"),
                        ("other-aud", "auth_audience"), ("refresh", "auth_typ"),
                        ("other-iss", "auth_issuer_unknown")):
        r = request(gw.port, "GET", "/api/x", headers=bearer(tok))
        assert r.status == 401 and r.json()["reason"] == reason, (tok, r)
        assert r.header("www-authenticate") == \
            'Bearer realm="portcullis", error="invalid_token"'
    gw.upstream.assert_nothing()
    # Garbage replayed is answered from the cache: one call, not one per request.
    for _ in range(5):
        assert request(gw.port, "GET", "/api/x", headers=bearer("revoked-or-garbage")).status \
            == 401
    assert op.ncalls("revoked-or-garbage") == 1
    # The events never carry a token.
    assert "revoked-or-garbage" not in json.dumps(gw.events())


def test_cached_then_never_past_exp(gateway_factory, op):
    op.tokens["cached"] = active()
    op.tokens["brief"] = active(exp=int(time.time()) + 2)
    gw = gw_for(gateway_factory, op, cache_s=60)
    for _ in range(3):
        assert request(gw.port, "GET", "/api/c", headers=bearer("cached")).status == 200
    assert op.ncalls("cached") == 1
    assert request(gw.port, "GET", "/api/c", headers=bearer("brief")).status == 200
    assert request(gw.port, "GET", "/api/c", headers=bearer("brief")).status == 200
    assert op.ncalls("brief") == 1
    # Past exp the cached answer is not used; the endpoint now says inactive.
    time.sleep(max(0.0, op.tokens["brief"]["exp"] - time.time()) + 0.3)
    op.tokens["brief"] = {"active": False}
    r = request(gw.port, "GET", "/api/c", headers=bearer("brief"))
    assert r.status == 401 and r.json()["reason"] == "auth_token_inactive"
    assert op.ncalls("brief") == 2


def test_endpoint_down_is_503_and_nothing_forwarded(gateway_factory, op):
    dead = free_ports(1)[0]
    gw = gw_for(gateway_factory, op, endpoint="https://127.0.0.1:%d/introspect" % dead)
    r = request(gw.port, "GET", "/api/x", headers=bearer("some-opaque-token"))
    assert r.status == 503 and r.json()["reason"] == "auth_introspection_unavailable", r
    gw.upstream.assert_nothing()
    ev = gw.wait_event(lambda e: e.get("reason") == "auth_introspection_unavailable")
    assert ev["phase"] == "authenticate"


def test_endpoint_refuses_our_secret_is_503(gateway_factory, op):
    op.tokens["good"] = active()
    gw = gw_for(gateway_factory, op, secret="not-the-secret")
    r = request(gw.port, "GET", "/api/x", headers=bearer("good"))
    assert r.status == 503 and r.json()["reason"] == "auth_introspection_unavailable", r
    assert op.bad_auth == 1 and op.ncalls() == 0
    gw.upstream.assert_nothing()


def test_slow_endpoint_times_out_503(gateway_factory, op):
    op.tokens["slow"] = active()
    op.delay = 2.0
    gw = gw_for(gateway_factory, op, timeout_ms=500)
    t0 = time.time()
    r = request(gw.port, "GET", "/api/x", headers=bearer("slow"))
    assert r.status == 503 and r.json()["reason"] == "auth_introspection_unavailable", r
    assert time.time() - t0 < 1.9
    gw.upstream.assert_nothing()


def test_concurrent_identical_tokens_one_call(gateway_factory, op):
    op.tokens["popular"] = active(sub="bob")
    op.delay = 0.5
    gw = gw_for(gateway_factory, op)
    out = []

    def one():
        out.append(request(gw.port, "GET", "/api/p", headers=bearer("popular"),
                           timeout=10.0).status)
    ts = [threading.Thread(target=one) for _ in range(12)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(15)
    assert out == [200] * 12
    assert op.ncalls("popular") == 1
    assert len(gw.upstream.wait_requests(12)) == 12


def test_jwt_shaped_tokens_never_introspected(gateway_factory, op):
    gw = gw_for(gateway_factory, op)
    r = request(gw.port, "GET", "/api/x", headers=bearer("eyJhbGciOiJFUzI1NiJ9.e30.c2ln"))
    assert r.status == 401, r      # judged as a JWT (this issuer has no keys)
    assert op.ncalls() == 0
    gw.upstream.assert_nothing()
