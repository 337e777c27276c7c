"""
Self-tests of the TLS test machinery (pc_tls.py's certificate factory, the TLS recording
upstream), against openssl and Python's ssl directly (no gateway): if these fail, every
TLS test failure is suspect.
"""

import os
import socket
import ssl
import stat
import subprocess

import pytest

from pc_client import Closed, build_request, request
from pc_tls import *  # noqa: F401,F403 - the fixtures
from pc_tls import CertFactory, TlsConn, client_context, openssl_fingerprint, tls_request
from pc_upstream import Upstream, server_context


def verify(ca_file, cert, crl=None, untrusted=None, purpose=None):
    """openssl verify; returns (ok, output)."""
    args = ["openssl", "verify", "-CAfile", ca_file]
    if crl:
        args += ["-crl_check", "-CRLfile", crl]
    if untrusted:
        args += ["-untrusted", untrusted]
    if purpose:
        args += ["-purpose", purpose]
    p = subprocess.run(args + [cert], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    return p.returncode == 0, p.stdout.decode("latin-1")


def x509_text(cert):
    return subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-text"],
                          stdout=subprocess.PIPE, check=True, timeout=30).stdout.decode()


def all_certs(s):
    return [s.ca, s.server_ec, s.server_rsa, s.api, s.wild, s.expired, s.self_signed,
            s.client_ca, s.alice, s.bob, s.client_expired, s.other_ca, s.mallory,
            s.upstream_ca, s.upstream, s.upstream_wrong_name, s.gw_client]


def test_chains_verify(tls_certs):
    s = tls_certs
    for c, ca, purpose in ((s.server_ec, s.ca, "sslserver"), (s.server_rsa, s.ca, "sslserver"),
                           (s.api, s.ca, "sslserver"), (s.wild, s.ca, "sslserver"),
                           (s.alice, s.client_ca, "sslclient"),
                           (s.bob, s.client_ca, "sslclient"),
                           (s.mallory, s.other_ca, "sslclient"),
                           (s.upstream, s.upstream_ca, "sslserver"),
                           (s.upstream_wrong_name, s.upstream_ca, "sslserver"),
                           (s.gw_client, s.upstream_ca, "sslclient")):
        ok, out = verify(ca.cert, c.cert, purpose=purpose)
        assert ok, "%r against %r: %s" % (c, ca, out)
    # Usage is enforced: a client certificate is no server certificate.
    assert not verify(s.client_ca.cert, s.alice.cert, purpose="sslserver")[0]
    ok, out = verify(s.ca.cert, s.expired.cert)
    assert not ok and "expired" in out
    assert not verify(s.client_ca.cert, s.client_expired.cert)[0]
    assert not verify(s.ca.cert, s.self_signed.cert)[0]
    assert not verify(s.client_ca.cert, s.mallory.cert)[0]
    assert not verify(s.ca.cert, s.upstream.cert)[0]


def test_key_types_and_names(tls_certs):
    s = tls_certs
    t = x509_text(s.server_ec.cert)
    assert "id-ecPublicKey" in t and "prime256v1" in t
    assert "DNS:localhost" in t and "IP Address:127.0.0.1" in t
    t = x509_text(s.server_rsa.cert)
    assert "rsaEncryption" in t and "(2048 bit)" in t
    assert "DNS:localhost" in t and "IP Address:127.0.0.1" in t
    assert "DNS:api.example.test" in x509_text(s.api.cert)
    assert "DNS:*.wild.test" in x509_text(s.wild.cert)
    t = x509_text(s.alice.cert)
    assert "URI:spiffe://anycompany/alice" in t and "DNS:alice.clients.test" in t
    assert "TLS Web Client Authentication" in t
    assert s.alice.subject_rfc2253 == "CN=alice,O=portcullis-test"
    t = x509_text(s.upstream.cert)
    assert "IP Address:127.0.0.1" in t
    t = x509_text(s.upstream_wrong_name.cert)
    assert "wrong.example.test" in t and "IP Address" not in t
    assert "Not After : Feb  1 00:00:00 2020 GMT" in x509_text(s.expired.cert)


def test_keys_are_private(tls_certs):
    for c in all_certs(tls_certs):
        mode = stat.S_IMODE(os.stat(c.key).st_mode)
        assert mode == 0o600, "%s is %o" % (c.key, mode)


def test_fingerprints_match_openssl(tls_certs):
    seen = set()
    for c in all_certs(tls_certs):
        assert len(c.fingerprint) == 64
        assert c.fingerprint == openssl_fingerprint(c.cert), c
        seen.add(c.fingerprint)
    assert len(seen) == len(all_certs(tls_certs))


def test_crl_revokes_bob_only(tls_certs):
    s = tls_certs
    ok, out = verify(s.client_ca.cert, s.bob.cert, crl=s.client_crl)
    assert not ok and "revoked" in out
    ok, out = verify(s.client_ca.cert, s.alice.cert, crl=s.client_crl)
    assert ok, out
    listing = subprocess.run(["openssl", "crl", "-in", s.client_crl, "-noout", "-text"],
                             stdout=subprocess.PIPE, check=True).stdout.decode()
    assert "Serial Number: %s" % s.bob.serial in listing
    assert s.alice.serial not in listing


def test_intermediate_chain_and_second_crl(tls_factory):
    f = tls_factory
    root = f.make_ca("root", key_type="rsa")
    mid = root.issue("mid", ca=True)
    leaf = f.server_cert(mid, "leaf", dns=["x.test"])
    with open(leaf.chain) as fh:
        assert fh.read().count("BEGIN CERTIFICATE") == 2
    assert not verify(root.cert, leaf.cert)[0]
    ok, out = verify(root.cert, leaf.cert, untrusted=mid.cert)
    assert ok, out
    # A CRL with nothing revoked, then one revoking a second certificate.
    a = f.client_cert(root, "a")
    b = f.client_cert(root, "b")
    empty = root.crl(name="empty")
    assert verify(root.cert, a.cert, crl=empty)[0]
    crl = root.crl([b], name="b-revoked")
    assert verify(root.cert, a.cert, crl=crl)[0]
    assert not verify(root.cert, b.cert, crl=crl)[0]
    with pytest.raises(ValueError):
        root.crl([leaf])        # not issued by root


# ---- the TLS recording upstream, against Python's ssl client ----------------------------

def test_plain_upstream_unchanged(upstream):
    assert upstream.tls_ctx is None
    r = request(upstream.port, "GET", "/p")
    assert r.status == 200 and "tls" not in r.json()
    rec = upstream.wait_requests(1)[0]
    assert rec.tls is None and rec.peer_subject is None


def test_tls_upstream_serves_and_records(tls_certs, tls_upstream_factory):
    s = tls_certs
    up = tls_upstream_factory(s.upstream)
    ctx = client_context(ca=s.upstream_ca)
    r = tls_request(up.port, ctx, "POST", "/a/b", body=b"hi", server_name="upstream.test")
    assert r.status == 200
    echo = r.json()
    assert echo["body"] == "hi" and echo["tls"]["sni"] == "upstream.test"
    assert echo["tls"]["peer_subject"] is None
    rec = up.wait_requests(1)[0]
    assert rec.tls["version"] in ("TLSv1.2", "TLSv1.3") and rec.tls["cipher"]
    assert rec.peer_subject is None
    # Name checks against the IP SAN, keep-alive, chunked handling as in plain mode.
    ctx_ip = client_context(ca=s.upstream_ca)
    with TlsConn(up.port, ctx_ip, server_name="127.0.0.1") as c:
        for i in range(3):
            c.send(build_request("GET", "/k%d/chunked" % i, host="127.0.0.1"))
            r = c.read_response()
            assert r.status == 200 and r.chunked
    recs = up.wait_requests(4)
    assert len({x.conn_id for x in recs[1:]}) == 1
    assert recs[1].tls["sni"] is None       # an IP address is never sent as SNI


def test_tls_upstream_wrong_name_fails_client_check(tls_certs, tls_upstream_factory):
    s = tls_certs
    up = tls_upstream_factory(s.upstream_wrong_name)
    with pytest.raises(ssl.SSLCertVerificationError):
        TlsConn(up.port, client_context(ca=s.upstream_ca), server_name="127.0.0.1")
    up.assert_nothing()


def test_tls_upstream_requires_client_cert(tls_certs, tls_upstream_factory):
    s = tls_certs
    up = tls_upstream_factory(s.upstream, client_ca=s.upstream_ca)
    ctx = client_context(ca=s.upstream_ca, cert=s.gw_client)
    r = tls_request(up.port, ctx, "GET", "/m", server_name="127.0.0.1")
    assert r.status == 200
    rec = up.wait_requests(1)[0]
    assert rec.peer_subject == "CN=portcullis-gateway,O=portcullis-test"
    assert rec.peer_subject == s.gw_client.subject_rfc2253
    assert rec.peer_sha256 == s.gw_client.fingerprint
    assert r.json()["tls"]["peer_sha256"] == s.gw_client.fingerprint
    # No certificate, or one from a CA the upstream does not trust: the handshake fails
    # (with TLS 1.3 the client may only notice at its first read) and nothing is recorded.
    for cert in (None, s.mallory):
        ctx = client_context(ca=s.upstream_ca, cert=cert)
        with pytest.raises((ssl.SSLError, OSError, Closed)):
            tls_request(up.port, ctx, "GET", "/nope", server_name="127.0.0.1", timeout=3)
    failures = up.wait_tls_failures(2)
    assert len(failures) == 2, failures
    assert len(up.snapshot()) == 1
    assert not up.errors


def test_tls_upstream_optional_client_cert_and_crl(tls_certs):
    s = tls_certs
    ctx = server_context(s.upstream.cert, s.upstream.key, s.client_ca.cert, "optional")
    ctx.load_verify_locations(cafile=s.client_crl)
    ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    up = Upstream("crl", tls_context=ctx).start()
    try:
        cctx = client_context(ca=s.upstream_ca)
        assert tls_request(up.port, cctx, "GET", "/anon", server_name="127.0.0.1").status \
            == 200
        cctx = client_context(ca=s.upstream_ca, cert=s.alice)
        assert tls_request(up.port, cctx, "GET", "/alice", server_name="127.0.0.1").status \
            == 200
        cctx = client_context(ca=s.upstream_ca, cert=s.bob)
        with pytest.raises((ssl.SSLError, OSError, Closed)):
            tls_request(up.port, cctx, "GET", "/bob", server_name="127.0.0.1", timeout=3)
        recs = up.wait_requests(2)
        assert [r.peer_subject for r in recs] == [None, "CN=alice,O=portcullis-test"]
        failures = up.wait_tls_failures(1)
        assert any("revoked" in f for f in failures), failures
        assert len(up.snapshot()) == 2
    finally:
        up.stop()
    assert not up.errors


def test_tls_upstream_survives_a_plain_client(tls_certs, tls_upstream_factory):
    up = tls_upstream_factory(tls_certs.upstream)
    with socket.create_connection(("127.0.0.1", up.port), timeout=3) as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            c.recv(1024)
        except OSError:
            pass
    assert up.wait_tls_failures(1)
    ctx = client_context(ca=tls_certs.upstream_ca)
    assert tls_request(up.port, ctx, "GET", "/after", server_name="127.0.0.1").status == 200


def test_factory_refuses_bad_input(tls_factory):
    f = tls_factory
    with pytest.raises(ValueError):
        f.make_ca("../escape")
    ca = f.make_ca("ca")
    with pytest.raises(ValueError):
        f.make_ca("ca")
    with pytest.raises(ValueError):
        f.server_cert(ca, "s", dns=["a.test,DNS:b.test"])
    with pytest.raises(ValueError):
        f.server_cert(ca, "t", dns=["a.test"], key_type="dsa")
    assert isinstance(f, CertFactory)
