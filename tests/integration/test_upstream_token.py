"""
Identity to the upstream as a token the gateway mints (upstream_token: true,
docs/decisions/0014): the upstream gets "Authorization: Bearer <minted>" that verifies with
the key set from the admin listener's /jwks.json (served without the admin token, public
members only), aud = the upstream's audience, sub = the client's sub, exp = iat +
lifetime_s, and never the client's own token. A key_file readable by others, and every
misuse of the keys, are configuration errors; a reload with a new key keeps the old one
published.
"""

import json
import os
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pc_client import poll, request
from pc_gateway import run_check
from pc_jwt import AUD, ISS, Issuer

GW_ISS = "https://gateway.internal"


@pytest.fixture
def issuer(tmp_path):
    return Issuer(tmp_path)


def minted_config(iss, identity=None, upstream=None, **route):
    r = {"name": "api", "path": "/api/**", "upstream": "backend", "auth": ["corp"],
         "upstream_token": True}
    r.update(route)
    over = {
        "issuers": {"corp": {"issuer": ISS, "audiences": [AUD], "jwks_file": iss.jwks_file}},
        "gateway_identity": identity or {"issuer": GW_ISS},
    }

    def edit(cfg):
        cfg["routes"] = [r, {"name": "pub", "path": "/pub/**", "upstream": "backend",
                             "public": True}]
        cfg["upstreams"]["backend"].update(upstream or {})
        return cfg
    return over, edit


def gw_for(gateway_factory, iss, identity=None, upstream=None, start=True, **route):
    over, edit = minted_config(iss, identity, upstream, **route)
    return gateway_factory(overrides=over, edit=edit, start=start)


def bearer(tok):
    return [("Authorization", "Bearer " + tok)]


def jwks_of(gw):
    # No admin token: backends must be able to fetch the public keys.
    r = gw.admin_get("/jwks.json", token=None)
    assert r.status == 200, r
    assert r.header("content-type") == "application/jwk-set+json"
    return json.loads(r.body)


def verify(tok, jwks, aud="portcullis:upstream:backend"):
    hdr = jwt.get_unverified_header(tok)
    keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(jwks).keys}
    assert hdr["kid"] in keys, (hdr, jwks)
    return hdr, jwt.decode(tok, keys[hdr["kid"]].key, algorithms=["EdDSA", "ES256"],
                           audience=aud, issuer=GW_ISS,
                           options={"require": ["exp", "iat", "sub", "jti"]})


def minted_of(rec):
    v = rec.header("authorization")
    assert v is not None and v.startswith("Bearer "), rec
    return v[len("Bearer "):]


def write_key(path, key, mode=0o600):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(path, mode)
    return path


def test_upstream_gets_a_minted_token_instead_of_the_clients(gateway_factory, issuer):
    gw = gw_for(gateway_factory, issuer, identity={"issuer": GW_ISS, "lifetime_s": 60})
    tok = issuer.token(sub="alice", scope="items:read items:write", client_id="app-7")
    before = int(time.time())
    r = request(gw.port, "GET", "/api/items", headers=bearer(tok) +
                [("X-Portcullis-Subject", "admin")])
    assert r.status == 200, r
    rec = gw.upstream.wait_path("/api/items")
    minted = minted_of(rec)
    # The client's token is in no header the upstream saw (nor anywhere in the head).
    assert tok.encode() not in rec.raw_head
    assert all(tok not in v for _, v in rec.headers)
    assert len(rec.header_all("authorization")) == 1
    ks = jwks_of(gw)
    assert all(set(k) <= {"kty", "crv", "kid", "use", "alg", "x", "y"} for k in ks["keys"])
    assert all("d" not in k for k in ks["keys"])
    hdr, c = verify(minted, ks)
    assert hdr["typ"] == "at+jwt" and hdr["alg"] == "EdDSA"
    assert c["sub"] == "alice"
    assert c["aud"] == "portcullis:upstream:backend"
    assert c["iss"] == GW_ISS and c["orig_iss"] == ISS
    assert c["auth_type"] == "jwt" and c["client_id"] == "app-7"
    assert c["scope"] == "items:read items:write"
    assert c["exp"] - c["iat"] == 60
    assert before <= c["iat"] <= int(time.time()) + 1
    # A public route on the same gateway gets no minted token (nobody to vouch for).
    r = request(gw.port, "GET", "/pub/x")
    assert r.status == 200
    assert gw.upstream.wait_path("/pub/x").header("authorization") is None


def test_token_is_reused_by_a_worker(gateway_factory, issuer):
    over, edit = minted_config(issuer)
    over["workers"] = 1
    gw = gateway_factory(overrides=over, edit=edit)
    tok = issuer.token(sub="bob")
    seen = []
    for i in range(3):
        r = request(gw.port, "GET", "/api/n%d" % i, headers=bearer(tok))
        assert r.status == 200, r
        seen.append(minted_of(gw.upstream.wait_path("/api/n%d" % i)))
    assert seen[0] == seen[1] == seen[2]
    # Another client token (a new jti): another minted token.
    r = request(gw.port, "GET", "/api/other", headers=bearer(issuer.token(sub="bob",
                                                                          jti="j2")))
    assert r.status == 200
    assert minted_of(gw.upstream.wait_path("/api/other")) != seen[0]


def test_key_file_kid_and_audience(gateway_factory, issuer, tmp_path):
    key = write_key(str(tmp_path / "gw.key"), ec.generate_private_key(ec.SECP256R1()))
    gw = gw_for(gateway_factory, issuer,
                identity={"issuer": GW_ISS, "key_file": key, "kid": "gw-1", "lifetime_s": 120},
                upstream={"audience": "https://orders.internal"})
    r = request(gw.port, "GET", "/api/a", headers=bearer(issuer.token()))
    assert r.status == 200, r
    minted = minted_of(gw.upstream.wait_path("/api/a"))
    ks = jwks_of(gw)
    assert [k["kid"] for k in ks["keys"]] == ["gw-1"]
    assert ks["keys"][0]["kty"] == "EC" and ks["keys"][0]["crv"] == "P-256"
    hdr, c = verify(minted, ks, aud="https://orders.internal")
    assert hdr["alg"] == "ES256" and hdr["kid"] == "gw-1"
    assert c["exp"] - c["iat"] == 120


def test_reload_with_a_new_key_keeps_the_old_one_published(gateway_factory, issuer,
                                                           tmp_path):
    k1 = write_key(str(tmp_path / "k1.key"), ec.generate_private_key(ec.SECP256R1()))
    k2 = write_key(str(tmp_path / "k2.key"), ec.generate_private_key(ec.SECP256R1()))
    gw = gw_for(gateway_factory, issuer, identity={"issuer": GW_ISS, "key_file": k1,
                                                   "kid": "k1"})
    r = request(gw.port, "GET", "/api/before", headers=bearer(issuer.token()))
    assert r.status == 200
    old = minted_of(gw.upstream.wait_path("/api/before"))
    cfg = dict(gw.config)
    cfg["gateway_identity"] = {"issuer": GW_ISS, "key_file": k2, "kid": "k2"}
    gw.reload(cfg)
    assert poll(lambda: [k["kid"] for k in jwks_of(gw)["keys"]] == ["k2", "k1"], 5.0), \
        gw.stderr()[-2000:]
    ks = jwks_of(gw)
    verify(old, ks)     # minted just before the reload: still verifies
    r = request(gw.port, "GET", "/api/after", headers=bearer(issuer.token()))
    assert r.status == 200
    hdr, _ = verify(minted_of(gw.upstream.wait_path("/api/after")), ks)
    assert hdr["kid"] == "k2"
    # A new key under the kid of the key it replaces (which stays published): refused,
    # the old configuration serves on.
    k3 = write_key(str(tmp_path / "k3.key"), ec.generate_private_key(ec.SECP256R1()))
    cfg["gateway_identity"] = {"issuer": GW_ISS, "key_file": k3, "kid": "k2"}
    gw.reload(cfg)
    assert poll(lambda: "give the new key another kid" in gw.stderr(), 5.0)
    assert [k["kid"] for k in jwks_of(gw)["keys"]] == ["k2", "k1"]


def test_jwks_without_gateway_identity_is_404(gateway_factory):
    gw = gateway_factory()
    assert gw.admin_get("/jwks.json", token=None).status == 404
    assert gw.admin_get("/metrics", token=None).status == 401


def check_error(gateway_factory, issuer, identity=None, upstream=None, **route):
    gw = gw_for(gateway_factory, issuer, identity, upstream, start=False, **route)
    code, out, err = run_check(gw.cfg_path)
    assert code != 0, (out, err)
    assert err.startswith(gw.cfg_path + ":"), err
    return err


def test_key_file_readable_by_others_is_refused(gateway_factory, issuer, tmp_path):
    key = write_key(str(tmp_path / "open.key"), ec.generate_private_key(ec.SECP256R1()),
                    0o644)
    err = check_error(gateway_factory, issuer, identity={"issuer": GW_ISS, "key_file": key})
    assert "gateway_identity.key_file: %s is readable by group or others (mode 0644): " \
           "chmod 600 it" % key in err


@pytest.mark.parametrize("identity,upstream,route,want", [
    (None, None, {"auth": None, "public": True}, "upstream_token: only with auth:"),
    ("absent", None, {}, "upstream_token: needs a gateway_identity: section"),
    (None, None, {"forward_credential": True},
     "forward_credential: true contradicts upstream_token: true"),
    ({"issuer": GW_ISS, "kid": "x"}, None, {}, "gateway_identity.kid: only with key_file"),
    ({"issuer": GW_ISS, "lifetime_s": 5}, None, {}, "lifetime_s"),
    ({"lifetime_s": 60}, None, {}, "missing required key 'issuer'"),
    (None, {"audience": "two words"}, {}, "audience: expected 1 to"),
    ({"issuer": GW_ISS, "key_file": "/nonexistent/gw.key"}, None, {},
     "gateway_identity.key_file: /nonexistent/gw.key: No such file"),
])
def test_config_errors(gateway_factory, issuer, identity, upstream, route, want):
    def edit_identity(cfg):
        if identity == "absent":
            del cfg["gateway_identity"]
        return cfg
    over, edit = minted_config(issuer, None if identity == "absent" else identity,
                               upstream, **{k: v for k, v in route.items() if v is not None})

    def both(cfg):
        cfg = edit(cfg)
        if route.get("auth", 1) is None:
            del cfg["routes"][0]["auth"]
        return edit_identity(cfg)
    gw = gateway_factory(overrides=over, edit=both, start=False)
    code, out, err = run_check(gw.cfg_path)
    assert code != 0, (out, err)
    assert want in err, err


def test_other_key_types_are_refused(gateway_factory, issuer, tmp_path):
    key = write_key(str(tmp_path / "p384.key"), ec.generate_private_key(ec.SECP384R1()))
    err = check_error(gateway_factory, issuer, identity={"issuer": GW_ISS, "key_file": key})
    assert "expected Ed25519 or P-256" in err
