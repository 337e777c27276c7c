"""
Identity against a real OpenID Provider (npm oidc-provider, tests/oidc/op.js, started on
loopback by pc_oidc.py): keys found by OIDC discovery and fetched over verified HTTPS,
client-credentials JWTs (RFC 9068) of every algorithm the OP signs with accepted, scopes
enforced, tampered tokens refused before the upstream, key rotation at the OP picked up
without a restart, the provider down (cached keys keep working, unknown ones are refused,
introspection fails closed), a gateway started while the provider is down (503 until it
is back), and opaque tokens through RFC 7662 introspection (active, revoked, garbage).
"""

import base64
import json
import secrets
import time

from pc_client import request, scaled
from pc_jwt import b64url
from pc_oidc import AUDIENCE, CLIENT_ID, GATEWAY_CLIENT_ID
from pc_oidc import oidc_factory, oidc_op  # noqa: F401 (fixtures)
from pc_tls import CertFactory


def oidc_config(op, ca_file=None):
    """The issuer "op" (discovery from the real OP, introspection with the gateway's own
    client) and two routes: /api/** with auth: [op], DELETE needing items:delete."""
    issuers = {"op": {
        "issuer": op.issuer,
        "discovery": True,
        "ca_file": ca_file or op.ca_file,
        "audiences": [AUDIENCE],
        "algorithms": ["RS256", "ES256", "EdDSA", "PS256"],
        "require_typ": "at+jwt",            # oidc-provider's JWT access tokens carry it
        "jwks_min_refresh_s": 1,
        "introspection": {
            "client_id": GATEWAY_CLIENT_ID,
            "client_secret": "${env:PC_TEST_INTROSPECT_SECRET}",
            "cache_s": 30,
        },
    }}
    routes = [
        {"name": "api", "path": "/api/**", "methods": ["GET", "POST", "PUT"],
         "upstream": "backend", "auth": ["op"]},
        {"name": "del", "path": "/api/**", "methods": ["DELETE"], "upstream": "backend",
         "auth": ["op"], "scopes": ["items:delete"]},
    ]
    return issuers, routes


def gw_for(gateway_factory, op, start=True, ca_file=None):
    issuers, routes = oidc_config(op, ca_file)

    def edit(cfg):
        cfg["issuers"] = issuers
        cfg["routes"] = routes
        return cfg
    gw = gateway_factory(edit=edit, start=False,
                         env={"PC_TEST_INTROSPECT_SECRET": op.introspect_secret})
    # free_ports() releases what it finds: an OP that is down right now does not hold its
    # port, so the gateway's pick could be the same number. Never start on it.
    while op.port in (gw.port, gw.admin_port):
        gw = gateway_factory(edit=edit, start=False,
                             env={"PC_TEST_INTROSPECT_SECRET": op.introspect_secret})
    if start:
        gw.start()
    return gw


def bearer(tok):
    return [("Authorization", "Bearer " + tok)]


def get(gw, tok, path="/api/items", method="GET"):
    return request(gw.port, method, path, headers=bearer(tok))


def reason(gw, r):
    """The deny reason of <r>, from the answer and (the same) from the access log."""
    logged = gw.access_for(r.header("x-request-id"))["reason"]
    assert r.json()["reason"] == logged, (r, logged)
    return logged


def _b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def flip_signature_byte(tok):
    """The same token with one bit of its signature changed (strict base64url kept, so
    the signature check itself must catch it)."""
    h, p, s = tok.split(".")
    sig = bytearray(_b64d(s))
    sig[len(sig) // 2] ^= 0x01
    return "%s.%s.%s" % (h, p, b64url(bytes(sig)))


def with_claims(tok, **claims):
    """The same header and signature over a payload with <claims> changed."""
    h, p, s = tok.split(".")
    payload = json.loads(_b64d(p))
    payload.update(claims)
    return "%s.%s.%s" % (h, b64url(json.dumps(payload, separators=(",", ":"))), s)


def header(tok):
    return json.loads(_b64d(tok.split(".")[0]))


def wait_status(gw, tok, status, timeout, interval=0.5):
    """Sends <tok> every <interval> until the answer has <status>; returns the last answer.
    The interval stays long so the failed-login slow-down never kicks in."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        r = get(gw, tok)
        if r.status == status or time.monotonic() >= deadline:
            return r
        time.sleep(interval)


def test_discovery_and_client_credentials_tokens(gateway_factory, oidc_op):
    op = oidc_op
    gw = gw_for(gateway_factory, op)
    # The first key set is fetched at start (discovery, then its jwks_uri): a provider that
    # cannot be used shows at start, not at the first request.
    assert op.wait_count("GET", "/.well-known/openid-configuration", timeout=3.0) >= 1
    assert op.wait_count("GET", "/jwks", timeout=3.0) >= 1, op.requests()
    toks = [op.token(alg=alg) for alg in ("RS256", "ES256", "PS256", "EdDSA")]
    assert [header(t)["alg"] for t in toks] == ["RS256", "ES256", "PS256", "EdDSA"]
    assert all(header(t)["typ"] == "at+jwt" for t in toks)
    for tok in toks:
        r = get(gw, tok)
        assert r.status == 200, (header(tok), r)
        e = gw.access_for(r.header("x-request-id"))
        # Client-credentials tokens name the client as their subject.
        assert e["principal"] == CLIENT_ID and e["reason"] is None, e
    seen = gw.upstream.wait_requests(4)
    assert len(seen) == 4
    # The token is forwarded as it came (forward_credential defaults to true).
    assert seen[0].header("authorization") == "Bearer " + toks[0]


def test_scope_enforced(gateway_factory, oidc_op):
    op = oidc_op
    gw = gw_for(gateway_factory, op)
    r = get(gw, op.token("items:read"), "/api/items/1", "DELETE")
    assert r.status == 403 and reason(gw, r) == "authz_insufficient_scope"
    assert 'error="insufficient_scope"' in r.header("www-authenticate")
    gw.upstream.assert_nothing()
    r = get(gw, op.token("items:read items:delete"), "/api/items/1", "DELETE")
    assert r.status == 200, r
    assert len(gw.upstream.wait_requests(1)) == 1


def test_tampered_tokens_refused(gateway_factory, oidc_op):
    op = oidc_op
    gw = gw_for(gateway_factory, op)
    for alg in ("RS256", "ES256"):
        r = get(gw, flip_signature_byte(op.token(alg=alg)))
        assert r.status == 401 and reason(gw, r) == "auth_bad_signature", (alg, r)
        assert 'error="invalid_token"' in r.header("www-authenticate")
    # A claim changed under a valid signature: granting oneself items:delete.
    forged = with_claims(op.token("items:read"), scope="items:read items:delete")
    r = get(gw, forged, "/api/items/1", "DELETE")
    assert r.status == 401 and reason(gw, r) == "auth_bad_signature", r
    gw.upstream.assert_nothing()


def test_key_rotation_without_restart(gateway_factory, oidc_op):
    op = oidc_op
    gw = gw_for(gateway_factory, op)
    pid = gw.proc.pid
    old = op.token()
    old_unused = op.token()             # signed by the old key, first seen after rotation
    assert get(gw, old).status == 200
    jwks_before = op.wait_count("GET", "/jwks")
    kids = op.rotate()
    new = op.token()
    assert header(new)["kid"] == kids[0] != header(old)["kid"]
    assert header(old)["kid"] in kids   # the old key is still published
    # Past jwks_min_refresh_s since the start's fetch, the unknown kid triggers a refresh.
    time.sleep(1.2)
    r = wait_status(gw, new, 200, 4.0)
    assert r.status == 200, r
    assert op.wait_count("GET", "/jwks", jwks_before + 1) > jwks_before, op.requests()
    # Old and new keys overlap: a token of the old key still verifies.
    assert get(gw, old_unused).status == 200
    assert gw.alive() and gw.proc.pid == pid


def test_provider_down(gateway_factory, oidc_op):
    op = oidc_op
    gw = gw_for(gateway_factory, op)
    used = op.token()
    fresh = op.token(alg="ES256")       # never shown to the gateway before the OP is gone
    opaque = op.opaque_token()
    assert get(gw, used).status == 200
    op.rotate()
    unknown = op.token()                # its kid was published after the gateway's fetch
    op.stop()
    # Cached keys keep working, for tokens never verified before too.
    r = get(gw, fresh)
    assert r.status == 200, r
    # A kid the gateway never saw: the refresh fails, the last good set is kept, refused.
    r = get(gw, unknown)
    assert r.status == 401 and reason(gw, r) == "auth_key_unknown", r
    assert get(gw, used).status == 200
    # Introspection cannot be done: fail closed.
    r = get(gw, opaque)
    assert r.status == 503 and reason(gw, r) == "auth_introspection_unavailable", r
    assert len(gw.upstream.wait_requests(3)) == 3
    time.sleep(0.2)
    assert len(gw.upstream.requests) == 3


def test_gateway_starts_while_provider_down(gateway_factory, oidc_op):
    op = oidc_op
    tok = op.token()
    op.stop()                           # the same issuer, port and keys come back below
    gw = gw_for(gateway_factory, op)
    assert gw.alive()
    r = get(gw, tok)
    assert r.status == 503 and reason(gw, r) == "auth_keys_unavailable", r
    gw.upstream.assert_nothing()
    op.start()                          # takes longer than jwks_min_refresh_s itself
    # Retried at least every jwks_min_refresh_s (1 s): working within that and a bit.
    r = wait_status(gw, tok, 200, 3.0)
    assert r.status == 200, r
    assert len(gw.upstream.wait_requests(1)) == 1


def test_provider_certificate_verified(gateway_factory, oidc_op, tmp_path):
    """Keys come over verified HTTPS only: with a ca_file that did not sign the OP's
    certificate nothing is fetched and the issuer's tokens are refused (fail closed)."""
    op = oidc_op
    other = CertFactory(tmp_path / "other").make_ca("other-ca", cn="not the OP's CA")
    gw = gw_for(gateway_factory, op, ca_file=other.cert)
    r = get(gw, op.token())
    assert r.status == 503 and reason(gw, r) == "auth_keys_unavailable", r
    gw.upstream.assert_nothing()
    # The handshake failed: the OP never answered a request from the gateway.
    assert op.wait_count("GET", "/.well-known/openid-configuration", timeout=0.3) == 0
    assert op.count("GET", "/jwks") == 0, op.requests()


def test_opaque_token_introspection(gateway_factory, oidc_op):
    op = oidc_op
    gw = gw_for(gateway_factory, op)
    tok = op.opaque_token("items:read")
    assert tok.count(".") != 2           # not a JWS: only introspection can check it
    r = get(gw, tok)
    assert r.status == 200, r
    assert gw.access_for(r.header("x-request-id"))["principal"] == CLIENT_ID
    # The answer is cached (cache_s): the second use asks the OP nothing.
    assert get(gw, tok).status == 200
    assert op.wait_count("POST", "/token/introspection") == 1
    # Scopes come from the introspection answer.
    r = get(gw, tok, "/api/items/1", "DELETE")
    assert r.status == 403 and reason(gw, r) == "authz_insufficient_scope", r
    assert len(gw.upstream.wait_requests(2)) == 2


def test_opaque_token_revoked_or_garbage(gateway_factory, oidc_op):
    op = oidc_op
    gw = gw_for(gateway_factory, op)
    tok = op.opaque_token()
    op.revoke(tok)
    assert op.introspect(tok) == {"active": False}
    r = get(gw, tok)
    assert r.status == 401 and reason(gw, r) == "auth_token_inactive", r
    assert 'error="invalid_token"' in r.header("www-authenticate")
    r = get(gw, "not-a-token-" + secrets.token_urlsafe(16))
    assert r.status == 401 and reason(gw, r) == "auth_token_inactive", r
    gw.upstream.assert_nothing()
    # The token never reaches a log line.
    assert tok not in json.dumps(gw.access()) + json.dumps(gw.events())
