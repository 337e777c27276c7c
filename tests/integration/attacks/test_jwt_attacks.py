"""
Attack: forged or replayed-elsewhere JWT access tokens (RFC 8725). Each variant is sent to a
route that needs a token; each must be refused with 401 and never reach the upstream:
alg "none", HS256 signed with the issuer's public key (key confusion), a key of the
attacker's own embedded in "jwk" or pointed to by "jku"/"x5u", a "kid" that does not exist or
tries path/SQL tricks, "crit", a tampered payload, a token of another issuer or audience,
an expired one, a non-canonical encoding, duplicate claims, and an oversized token.
"""

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pc_client import request
from pc_jwt import AUD, ISS, Issuer, b64url, raw_token


@pytest.fixture
def setup(gateway_factory, tmp_path):
    iss = Issuer(tmp_path)
    routes = [{"name": "api", "path": "/api/**", "upstream": "backend", "auth": ["corp"]}]

    def edit(cfg):
        cfg["routes"] = routes
        return cfg
    gw = gateway_factory(overrides={"issuers": {"corp": {
        "issuer": ISS, "audiences": [AUD], "algorithms": ["RS256", "ES256", "EdDSA"],
        "jwks_file": iss.jwks_file}}}, edit=edit)
    return gw, iss


def refused(gw, tok, reason=None):
    r = request(gw.port, "GET", "/api/secret", headers=[("Authorization", "Bearer " + tok)])
    assert r.status == 401, r
    assert r.header("www-authenticate") is not None
    if reason:
        assert r.json()["reason"] == reason, r
    return r


def test_alg_none(setup):
    gw, iss = setup
    claims = iss.claims()
    for alg in ("none", "None", "NONE", "nOnE"):
        refused(gw, raw_token({"alg": alg, "typ": "JWT"}, claims))   # no signature at all
        refused(gw, raw_token({"alg": alg}, claims, b"sig"), "auth_alg_not_allowed")
    gw.upstream.assert_nothing()


def test_hs256_with_the_public_key_as_secret(setup):
    gw, iss = setup
    # The classic key confusion: the attacker signs with HMAC, using the issuer's public
    # key (which is public) as the secret, hoping the verifier feeds it to HMAC.
    for kid in ("rs1", "es1"):
        pem = iss.pem_public(kid)
        header = b64url(json.dumps({"alg": "HS256", "kid": kid}))
        payload = b64url(json.dumps(iss.claims(sub="admin")))
        import hmac
        import hashlib
        sig = hmac.new(pem, ("%s.%s" % (header, payload)).encode(), hashlib.sha256).digest()
        refused(gw, "%s.%s.%s" % (header, payload, b64url(sig)), "auth_alg_not_allowed")
    gw.upstream.assert_nothing()


def test_attacker_key_in_jwk_jku_x5u_headers(setup):
    gw, iss = setup
    mine = ec.generate_private_key(ec.SECP256R1())
    jwk = Issuer.public_jwk("es1", "ES256", mine)
    for extra in ({"jwk": jwk}, {"jku": "https://evil.test/jwks.json"},
                  {"x5u": "https://evil.test/cert.pem"}, {"jwk": jwk, "kid": "zzz"}):
        h = {"kid": "es1"}
        h.update(extra)
        tok = jwt.encode(iss.claims(sub="admin"), mine, algorithm="ES256", headers=h)
        refused(gw, tok)
    gw.upstream.assert_nothing()


@pytest.mark.parametrize("kid", ["nope", "../../../../dev/null", "' OR '1'='1", "",
                                 "es1\u0000", "x" * 500])
def test_unknown_or_hostile_kid(setup, kid):
    gw, iss = setup
    key = iss.keys["es1"][1]
    tok = jwt.encode(iss.claims(), key, algorithm="ES256", headers={"kid": kid})
    r = refused(gw, tok)
    assert r.json()["reason"] in ("auth_key_unknown", "auth_token_malformed")
    gw.upstream.assert_nothing()


def test_crit_header(setup):
    gw, iss = setup
    tok = iss.token(headers={"crit": ["exp"], "exp": 1})
    refused(gw, tok, "auth_crit_unsupported")


def test_tampered_payload_and_signature(setup):
    gw, iss = setup
    for kid in ("rs1", "es1", "ed1"):
        tok = iss.token(kid)
        h, p, s = tok.split(".")
        forged = b64url(json.dumps(iss.claims(sub="admin", scope="admin")))
        refused(gw, "%s.%s.%s" % (h, forged, s), "auth_bad_signature")
        flipped = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
        flipped[-1] ^= 1
        refused(gw, "%s.%s.%s" % (h, p, b64url(bytes(flipped))), "auth_bad_signature")
    gw.upstream.assert_nothing()


def test_token_for_another_issuer_or_audience(setup):
    gw, iss = setup
    refused(gw, iss.token(iss="https://evil.test"), "auth_issuer_unknown")
    refused(gw, iss.token(aud="https://payments.test"), "auth_audience")
    refused(gw, iss.token(aud=[]), "auth_audience")
    gw.upstream.assert_nothing()


def test_expired_and_long_lived(setup):
    gw, iss = setup
    now = int(time.time())
    refused(gw, iss.token(exp=now - 3600, iat=now - 7200), "auth_expired")
    refused(gw, iss.token(exp="9999999999"), "auth_token_malformed")
    refused(gw, iss.token(iat=now, exp=now + 10 * 365 * 86400), "auth_lifetime_too_long")
    gw.upstream.assert_nothing()


def test_noncanonical_encodings(setup):
    gw, iss = setup
    tok = iss.token()
    h, p, s = tok.split(".")
    refused(gw, "%s=.%s.%s" % (h, p, s))                     # padding
    refused(gw, "%s.%s.%s==" % (h, p, s))
    refused(gw, "%s.%s.%s" % (h, p, s[:-2] + "+/"))           # base64, not base64url
    refused(gw, "%s.%s" % (h, p))                             # two parts
    refused(gw, "%s.%s.%s.%s" % (h, p, s, s))                 # four parts
    refused(gw, "%s.%s." % (h, p))                            # empty signature
    gw.upstream.assert_nothing()


def test_duplicate_claims(setup):
    gw, iss = setup
    key = iss.keys["es1"][1]
    header = b64url('{"alg":"ES256","kid":"es1"}')
    good = json.dumps(iss.claims(sub="alice"))
    # {"sub":"alice", ..., "sub":"admin"}: a parser that keeps the last one sees admin.
    dup = good[:-1] + ', "sub": "admin"}'
    payload = b64url(dup)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    der = key.sign(("%s.%s" % (header, payload)).encode(), ec.ECDSA(hashes.SHA256()))
    r_, s_ = decode_dss_signature(der)
    sig = r_.to_bytes(32, "big") + s_.to_bytes(32, "big")
    refused(gw, "%s.%s.%s" % (header, payload, b64url(sig)), "auth_token_malformed")
    gw.upstream.assert_nothing()


def test_oversized_token(setup):
    gw, iss = setup
    tok = iss.token(pad="x" * 9000)
    refused(gw, tok, "auth_token_too_large")
    gw.upstream.assert_nothing()
