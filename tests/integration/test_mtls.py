"""
Mutual TLS: client_cert required / optional on the listener, a verified client certificate
required per route, the verified identity in the access log and (when configured) in a
header to the upstream that clients can never send themselves. Revoked, expired, foreign
and absent certificates are refused, and nothing reaches the upstream.
"""

import ssl
import time

import pytest

from pc_client import build_request, request
from pc_tls import *        # noqa: F401,F403
from pc_tlsgw import *      # noqa: F401,F403




def ctx(certs, who=None, **kw):
    return client_context(ca=certs.ca, cert=who, **kw)


ROUTES = {"routes": [
    {"name": "open", "path": "/open/**", "upstream": "backend", "public": True},
    {"name": "mtls", "path": "/mtls/**", "methods": ["GET"], "upstream": "backend",
     "client_cert": "required", "client_cert_header": "X-Client-Cert"},
]}


def refused(port, context):
    """True if the TLS handshake (or the first exchange, TLS 1.3 sends the alert after
    the client's Finished) fails."""
    try:
        r = tls_request(port, context, "GET", "/open/x")
    except (ssl.SSLError, OSError, ConnectionError, Exception) as e:   # noqa: B014
        return type(e).__name__ != "AssertionError"
    return r.status == 0


@pytest.mark.parametrize("ver", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_required_listener(tls_gateway, tls_certs, ver):
    c = tls_certs
    gw = tls_gateway(client_cert="required", client_ca=c.client_ca.cert,
                     client_crl=c.client_crl, overrides=ROUTES)
    r = tls_request(gw.tls_port, ctx(c, c.alice, max_version=ver), "GET", "/open/a")
    assert r.status == 200
    for who in (None, c.bob, c.mallory, c.client_expired):
        assert refused(gw.tls_port, ctx(c, who, max_version=ver)), who
    gw.upstream.clear()
    time.sleep(0.1)
    assert gw.upstream.snapshot() == []
    ev = gw.wait_event(lambda e: e.get("reason") == "tls_handshake_failed" and
                       "revoked" in e.get("detail", ""))
    assert ev["phase"] == "tls"
    assert gw.alive()


def test_optional_listener_and_route_requirement(tls_gateway, tls_certs):
    c = tls_certs
    gw = tls_gateway(client_cert="optional", client_ca=c.client_ca.cert,
                     client_crl=c.client_crl, overrides=ROUTES)
    # No certificate: public routes work, the mTLS route is refused before the upstream.
    anon = ctx(c)
    assert tls_request(gw.tls_port, anon, "GET", "/open/a").status == 200
    r = tls_request(gw.tls_port, anon, "GET", "/mtls/a")
    assert r.status == 403 and r.json()["reason"] == "tls_client_cert_required", r
    assert r.header("cache-control") == "no-store"
    # The plain listener never has a certificate.
    r = request(gw.port, "GET", "/mtls/a")
    assert r.status == 403 and r.json()["reason"] == "tls_client_cert_required"
    # A revoked or foreign certificate does not even get a connection.
    assert refused(gw.tls_port, ctx(c, c.bob))
    assert refused(gw.tls_port, ctx(c, c.mallory))
    time.sleep(0.1)
    assert [x.path for x in gw.upstream.snapshot()] == ["/open/a"]
    # With alice's certificate the route works, and the upstream learns who she is.
    r = tls_request(gw.tls_port, ctx(c, c.alice), "GET", "/mtls/a")
    assert r.status == 200, r
    rec = gw.upstream.wait_path("/mtls/a")
    v = rec.header("x-client-cert")
    assert v.startswith("sha256=%s;" % c.alice.fingerprint), v
    assert 'subject="%s"' % c.alice.subject_rfc2253 in v, v
    assert 'uri="spiffe://anycompany/alice"' in v and 'dns="alice.clients.test"' in v, v
    e = gw.access_for(r.header("x-request-id"))
    assert e["client_cert_sha256"] == c.alice.fingerprint
    assert e["client_cert_subject"] == c.alice.subject_rfc2253
    ev = gw.wait_event(lambda e: e.get("reason") == "tls_client_cert_required")
    assert ev["route"] == "mtls" and ev["status"] == 403


def test_identity_header_cannot_be_spoofed(tls_gateway, tls_certs):
    c = tls_certs
    gw = tls_gateway(client_cert="optional", client_ca=c.client_ca.cert, overrides=ROUTES)
    fake = [("X-Client-Cert", 'sha256=00;subject="CN=admin"'),
            ("x-client-cert", "second")]
    # On a route that does not forward the identity: stripped.
    r = tls_request(gw.tls_port, ctx(c, c.alice), "GET", "/open/s", headers=fake)
    assert r.status == 200
    assert gw.upstream.wait_path("/open/s").header_all("x-client-cert") == []
    r = request(gw.port, "GET", "/open/p", headers=fake)
    assert gw.upstream.wait_path("/open/p").header_all("x-client-cert") == []
    # On the route that forwards it: only the gateway's value.
    r = tls_request(gw.tls_port, ctx(c, c.alice), "GET", "/mtls/s", headers=fake)
    assert r.status == 200
    vals = gw.upstream.wait_path("/mtls/s").header_all("x-client-cert")
    assert len(vals) == 1 and vals[0].startswith("sha256=" + c.alice.fingerprint)


def test_identity_survives_keepalive(tls_gateway, tls_certs):
    c = tls_certs
    gw = tls_gateway(client_cert="required", client_ca=c.client_ca.cert, overrides=ROUTES)
    conn = TlsConn(gw.tls_port, ctx(c, c.alice))
    try:
        for i in range(5):
            conn.send(build_request("GET", "/mtls/k%d" % i, None, None, "localhost"))
            assert conn.read_response("GET").status == 200
    finally:
        conn.close()
    for i in range(5):
        assert gw.upstream.wait_path("/mtls/k%d" % i).header("x-client-cert")


def test_route_client_cert_report_only(tls_gateway, tls_certs):
    c = tls_certs
    routes = {"routes": [dict(ROUTES["routes"][1], report_only=True)]}
    gw = tls_gateway(client_cert="optional", client_ca=c.client_ca.cert, overrides=routes)
    r = tls_request(gw.tls_port, ctx(c), "GET", "/mtls/ro")
    assert r.status == 200
    e = gw.access_for(r.header("x-request-id"))
    assert e["would_deny"] == "tls_client_cert_required"
    assert gw.upstream.wait_path("/mtls/ro").header("x-client-cert") is None


def test_certificate_as_credential(tls_gateway, tls_certs, tmp_path):
    """auth: [client_cert]: the verified certificate is the principal (first URI SAN);
    with an issuer beside it, either works, and a presented token that fails never falls
    back to the certificate."""
    from pc_jwt import Issuer, ISS, AUD
    c = tls_certs
    iss = Issuer(tmp_path)
    cfg = {
        "issuers": {"corp": {"issuer": ISS, "audiences": [AUD], "algorithms": ["ES256"],
                             "jwks_file": iss.jwks_file}},
        "routes": [
            {"name": "svc", "path": "/svc/**", "upstream": "backend",
             "auth": ["client_cert"], "identity_headers": True},
            {"name": "both", "path": "/both/**", "upstream": "backend",
             "auth": ["corp", "client_cert"], "identity_headers": True},
        ]}

    def edit(conf):
        conf["routes"] = cfg["routes"]
        return conf
    gw = tls_gateway(client_cert="optional", client_ca=c.client_ca.cert,
                     overrides={"issuers": cfg["issuers"]}, edit=edit)
    r = tls_request(gw.tls_port, ctx(c, c.alice), "GET", "/svc/a",
                    headers=[("Authorization", "Basic dXBzdHJlYW06b3du")])
    assert r.status == 200, r
    up = gw.upstream.wait_path("/svc/a")
    assert up.header("x-portcullis-auth") == "cert"
    assert up.header("x-portcullis-subject") == "spiffe://anycompany/alice"
    # A route that takes certificates alone leaves Authorization to the upstream.
    assert up.header("authorization") == "Basic dXBzdHJlYW06b3du"
    assert gw.access_for(r.header("x-request-id"))["principal"] == \
        "spiffe://anycompany/alice"
    # No certificate: as client_cert: required (403), on TLS and on the plain listener.
    r = tls_request(gw.tls_port, ctx(c), "GET", "/svc/b")
    assert r.status == 403 and r.json()["reason"] == "tls_client_cert_required", r
    r = request(gw.port, "GET", "/svc/b")
    assert r.status == 403 and r.json()["reason"] == "tls_client_cert_required", r
    # Either method on the mixed route; nothing at all is a 401 inviting a token.
    r = tls_request(gw.tls_port, ctx(c, c.alice), "GET", "/both/cert")
    assert r.status == 200 and \
        gw.upstream.wait_path("/both/cert").header("x-portcullis-auth") == "cert"
    tok = iss.token("es1", sub="bob")
    r = request(gw.port, "GET", "/both/tok", headers=[("Authorization", "Bearer " + tok)])
    assert r.status == 200 and \
        gw.upstream.wait_path("/both/tok").header("x-portcullis-subject") == "bob"
    r = request(gw.port, "GET", "/both/none")
    assert r.status == 401 and r.json()["reason"] == "auth_missing", r
    # A bad token with a good certificate: refused, no fallback.
    r = tls_request(gw.tls_port, ctx(c, c.alice), "GET", "/both/bad",
                    headers=[("Authorization", "Bearer " + tok[:-4] + "AAAA")])
    assert r.status == 401 and r.json()["reason"] == "auth_bad_signature", r
    time.sleep(0.1)
    paths = [x.path for x in gw.upstream.snapshot()]
    assert "/svc/b" not in paths and "/both/none" not in paths and "/both/bad" not in paths
