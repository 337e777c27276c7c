"""
Authentication with JWT access tokens against a static JWK Set: every accepted algorithm,
the principal in the access log, scopes (403 insufficient_scope), RFC 6750 challenges,
certificate-bound tokens (RFC 8705), the verification cache, key rotation by reload, and
check's report of keys it will not use. Invalid tokens are refused before the upstream.
"""

import json
import time

import pytest

from pc_client import request
from pc_gateway import run_check
from pc_jwt import AUD, ISS, Issuer
from pc_tls import *        # noqa: F401,F403
from pc_tlsgw import *      # noqa: F401,F403


@pytest.fixture
def issuer(tmp_path):
    return Issuer(tmp_path)


def auth_config(iss, **route):
    r = {"name": "api", "path": "/api/**", "methods": ["GET", "POST", "PUT"],
         "upstream": "backend", "auth": ["corp"]}
    r.update(route)
    return {
        "issuers": {"corp": {"issuer": ISS, "audiences": [AUD],
                             "algorithms": ["RS256", "PS256", "ES256", "EdDSA"],
                             "jwks_file": iss.jwks_file}},
        "routes": [r, {"name": "del", "path": "/api/**", "methods": ["DELETE"],
                       "upstream": "backend", "auth": ["corp"], "scopes": ["items:delete"]}],
    }


def replace_routes(overrides):
    def edit(cfg):
        cfg["routes"] = overrides["routes"]
        return cfg
    return edit


def gw_for(gateway_factory, iss, **route):
    o = auth_config(iss, **route)
    return gateway_factory(overrides={"issuers": o["issuers"]}, edit=replace_routes(o))


def bearer(tok):
    return [("Authorization", "Bearer " + tok)]


def test_every_algorithm_accepted_and_principal_logged(gateway_factory, issuer):
    gw = gw_for(gateway_factory, issuer)
    for kid, alg in (("rs1", None), ("rs1", "PS256"), ("es1", None), ("ed1", None)):
        tok = issuer.token(kid, alg=alg, sub="alice-" + kid)
        r = request(gw.port, "GET", "/api/items", headers=bearer(tok))
        assert r.status == 200, (kid, alg, r)
        e = gw.access_for(r.header("x-request-id"))
        assert e["principal"] == "alice-" + kid
    assert len(gw.upstream.wait_requests(4)) == 4


def test_missing_and_invalid_tokens_get_rfc6750_challenges(gateway_factory, issuer):
    gw = gw_for(gateway_factory, issuer)
    r = request(gw.port, "GET", "/api/items")
    assert r.status == 401 and r.json()["reason"] == "auth_missing"
    assert r.header("www-authenticate") == 'Bearer realm="portcullis"'
    assert r.header("cache-control") == "no-store"
    r = request(gw.port, "GET", "/api/items", headers=[("Authorization", "Basic YTpi")])
    assert r.status == 401 and r.json()["reason"] == "auth_missing"
    r = request(gw.port, "GET", "/api/items", headers=bearer(issuer.token(exp=1)))
    assert r.status == 401 and r.json()["reason"] == "auth_expired"
    assert r.header("www-authenticate") == 'Bearer realm="portcullis", error="invalid_token"'
    gw.upstream.assert_nothing()
    ev = gw.wait_event(lambda e: e.get("reason") == "auth_expired")
    assert ev["phase"] == "authenticate"
    # The event never carries the token.
    assert "eyJ" not in json.dumps(gw.events())


@pytest.mark.parametrize("claims,reason", [
    ({"aud": "https://other.test"}, "auth_audience"),
    ({"aud": ["https://x.test", AUD]}, None),
    ({"iss": "https://evil.test"}, "auth_issuer_unknown"),
    ({"exp": None}, "auth_expired"),
    # Times relative to when the test runs (the parameters are built at collection,
    # minutes earlier in a full run): an offset in seconds from now.
    ({"nbf": ("now", 3600)}, "auth_not_yet_valid"),
    ({"iat": ("now", 3600)}, "auth_not_yet_valid"),
    ({"iat": ("now", -100), "exp": ("now", 200000)}, "auth_lifetime_too_long"),
    ({"sub": None}, "auth_claim_missing"),
    ({"exp": ("now", -10)}, None),      # inside the 30 s leeway
])
def test_claims(gateway_factory, issuer, claims, reason):
    gw = gw_for(gateway_factory, issuer)
    claims = {k: int(time.time()) + v[1] if isinstance(v, tuple) else v
              for k, v in claims.items()}
    r = request(gw.port, "GET", "/api/x", headers=bearer(issuer.token(**claims)))
    if reason is None:
        assert r.status == 200, r
    else:
        assert r.status == 401 and r.json()["reason"] == reason, r
        gw.upstream.assert_nothing()


def test_scopes(gateway_factory, issuer):
    gw = gw_for(gateway_factory, issuer)
    r = request(gw.port, "DELETE", "/api/items/1", headers=bearer(issuer.token()))
    assert r.status == 403 and r.json()["reason"] == "authz_insufficient_scope"
    assert r.header("www-authenticate") == ('Bearer realm="portcullis", '
                                            'error="insufficient_scope", scope="items:delete"')
    gw.upstream.assert_nothing()
    r = request(gw.port, "DELETE", "/api/items/1",
                headers=bearer(issuer.token(scope="items:read items:delete")))
    assert r.status == 200
    # Only the configured claim counts (scopes_claim, default "scope").
    r = request(gw.port, "DELETE", "/api/items/2",
                headers=bearer(issuer.token(scope=None, scp=["items:delete"])))
    assert r.status == 403


def test_cache_never_outlives_the_token(gateway_factory, issuer):
    gw = gw_for(gateway_factory, issuer)
    tok = issuer.token(exp=int(time.time()) + 2, iat=int(time.time()))
    assert request(gw.port, "GET", "/api/a", headers=bearer(tok)).status == 200
    assert request(gw.port, "GET", "/api/a", headers=bearer(tok)).status == 200
    time.sleep(3.2)
    # Past exp (the 30 s leeway applies to verification, the cache keeps exp itself): the
    # cached entry is gone and verification with leeway decides.
    r = request(gw.port, "GET", "/api/a", headers=bearer(tok))
    assert r.status == 200   # within leeway
    tok2 = issuer.token(exp=int(time.time()) - 40, iat=int(time.time()) - 100)
    assert request(gw.port, "GET", "/api/a", headers=bearer(tok2)).status == 401


def test_key_rotation_by_reload(gateway_factory, issuer):
    gw = gw_for(gateway_factory, issuer)
    issuer.add_key("es2")
    tok = issuer.token("es2")
    r = request(gw.port, "GET", "/api/r", headers=bearer(tok))
    assert r.status == 401 and r.json()["reason"] == "auth_key_unknown"
    issuer.write_jwks()         # old and new keys overlap
    gw.reload(gw.config)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r = request(gw.port, "GET", "/api/r", headers=bearer(tok))
        if r.status == 200:
            break
        time.sleep(0.05)
    assert r.status == 200
    assert request(gw.port, "GET", "/api/r", headers=bearer(issuer.token("es1"))).status == 200


def test_check_reports_unusable_keys(gateway_factory, issuer, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa
    weak = Issuer.public_jwk("weak", "RS256",
                             rsa.generate_private_key(public_exponent=65537, key_size=1024))
    enc = dict(Issuer.public_jwk("enc1", "ES256", issuer.keys["es1"][1]), use="enc")
    issuer.write_jwks(extra=[weak, enc])
    gw = gw_for(gateway_factory, issuer)
    code, out, err = run_check(gw.cfg_path)
    assert code == 0
    text = out + err
    assert "key 'weak'" in text and "2048" in text, text
    assert "key 'enc1'" in text, text
    # And they are never used.
    r = request(gw.port, "GET", "/api/x", headers=bearer(issuer.token()))
    assert r.status == 200


def test_bound_tokens(tls_gateway, tls_certs, tmp_path):
    iss = Issuer(tmp_path)
    c = tls_certs
    o = auth_config(iss, bound_tokens=True)

    def edit(cfg):
        cfg["routes"] = o["routes"]
        return cfg
    gw = tls_gateway(client_cert="optional", client_ca=c.client_ca.cert,
                     overrides={"issuers": o["issuers"]}, edit=edit)
    import base64
    import binascii
    thumb = base64.urlsafe_b64encode(binascii.unhexlify(c.alice.fingerprint)).rstrip(b"=")
    bound = iss.token(cnf={"x5t#S256": thumb.decode()})
    alice = client_context(ca=c.ca, cert=c.alice)
    bob_ctx = client_context(ca=c.ca, cert=c.bob)
    r = tls_request(gw.tls_port, alice, "GET", "/api/b", headers=bearer(bound))
    assert r.status == 200, r
    # The same token without the certificate, or with another one: refused.
    r = tls_request(gw.tls_port, client_context(ca=c.ca), "GET", "/api/b",
                    headers=bearer(bound))
    assert r.status == 401 and r.json()["reason"] == "auth_cert_binding"
    r = tls_request(gw.tls_port, bob_ctx, "GET", "/api/b", headers=bearer(bound))
    assert r.status == 401 and r.json()["reason"] == "auth_cert_binding"
    # An unbound token on a route that requires binding: refused.
    r = tls_request(gw.tls_port, alice, "GET", "/api/b", headers=bearer(iss.token()))
    assert r.status == 401 and r.json()["reason"] == "auth_cert_binding"


def test_config_errors(gateway_factory, issuer, tmp_path):
    gw = gw_for(gateway_factory, issuer)
    cfg = gw.config
    cfg["issuers"]["corp"]["algorithms"] = ["none"]
    gw.write_config(cfg)
    code, out, err = run_check(gw.cfg_path)
    assert code != 0 and "'none' means unsigned tokens" in err, err
    cfg["issuers"]["corp"]["algorithms"] = ["HS256"]
    gw.write_config(cfg)
    code, out, err = run_check(gw.cfg_path)
    assert code != 0 and "need hmac_secret" in err, err
    cfg["issuers"]["corp"]["algorithms"] = ["ES256"]
    cfg["routes"][0]["auth"] = ["nobody"]
    gw.write_config(cfg)
    code, out, err = run_check(gw.cfg_path)
    assert code != 0 and "unknown issuer or api_keys store 'nobody'" in err, err


def test_identity_to_the_upstream(gateway_factory, issuer):
    # forward_credential: false keeps the token from the upstream; identity_headers sends
    # the verified principal instead, in fields no client can set.
    o = auth_config(issuer, forward_credential=False, identity_headers=True)
    gw = gateway_factory(overrides={"issuers": o["issuers"]}, edit=replace_routes(o))
    fake = [("X-Portcullis-Subject", "admin"), ("x-portcullis-scopes", "admin"),
            ("X-Portcullis-Anything", "x")]
    tok = issuer.token(sub="alice\u00e9\r\nX-Evil: 1", scope="items:read items:write")
    r = request(gw.port, "GET", "/api/who", headers=bearer(tok) + fake)
    assert r.status == 200, r
    rec = gw.upstream.wait_path("/api/who")
    assert rec.header("authorization") is None
    assert rec.header_all("x-portcullis-subject") == ["alice%C3%A9%0D%0AX-Evil: 1"]
    assert rec.header("x-portcullis-issuer") == ISS
    assert rec.header_all("x-portcullis-scopes") == ["items:read items:write"]
    assert rec.header("x-portcullis-auth") == "jwt"
    assert rec.header("x-portcullis-anything") is None and rec.header("x-evil") is None
    # By default the credential goes through and no identity fields are added; the
    # spoofed ones are stripped on every route.
    gw2 = gw_for(gateway_factory, issuer)
    r = request(gw2.port, "GET", "/api/who", headers=bearer(issuer.token()) + fake)
    assert r.status == 200
    rec = gw2.upstream.wait_path("/api/who")
    assert rec.header("authorization").startswith("Bearer ")
    assert rec.header("x-portcullis-subject") is None
    assert rec.header("x-portcullis-anything") is None
