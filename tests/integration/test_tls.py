"""
TLS termination: versions, ciphers and groups refused or accepted, ECDSA and RSA on one
listener, SNI, ALPN, session resumption, certificate reload without dropping connections,
the key-file mode check, handshake failures as security events, and the security headers
(HSTS, nosniff, response_headers) and the HTTP -> HTTPS redirect.
"""

import os
import socket
import ssl
import subprocess
import time

import pytest

from pc_client import build_request, request, scaled
from pc_gateway import run_check
from pc_tls import *        # noqa: F401,F403 - fixtures tls_certs, tls_factory, ...
from pc_tlsgw import *      # noqa: F401,F403 - fixture tls_gateway




def ctx_for(certs, **kw):
    return client_context(ca=certs.ca, **kw)


def s_client(port, *args, stdin=b"", timeout=10):
    """openssl s_client to the gateway; returns (exit code, combined output)."""
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                        "-servername", "localhost", *args], input=stdin,
                       capture_output=True, timeout=scaled(timeout))
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def handshake_ok(out):
    return "Cipher is (NONE)" not in out and ("Protocol  :" in out or "Protocol:" in out
                                              or "New, TLS" in out)


def test_tls13_and_tls12_reach_the_upstream(tls_gateway, tls_certs):
    gw = tls_gateway()
    for ver in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        ctx = ctx_for(tls_certs, min_version=ver, max_version=ver)
        r, c = tls_request(gw.tls_port, ctx, "GET", "/hello", keep=True)
        assert r.status == 200, r
        assert c.sock.version() == {ssl.TLSVersion.TLSv1_3: "TLSv1.3",
                                    ssl.TLSVersion.TLSv1_2: "TLSv1.2"}[ver]
        rec = gw.upstream.wait_path("/hello")
        assert rec.header("x-forwarded-proto") == "https"
        e = gw.access_for(r.header("x-request-id"))
        assert e["tls"] == c.sock.version()
        c.close()
    # The plain listener keeps working beside it, and says http.
    r = request(gw.port, "GET", "/plain")
    assert r.status == 200
    assert gw.upstream.wait_path("/plain").header("x-forwarded-proto") \
        == "http"


def test_keepalive_and_pipelining_over_tls(tls_gateway, tls_certs):
    gw = tls_gateway()
    c = TlsConn(gw.tls_port, ctx_for(tls_certs))
    try:
        for i in range(20):
            c.send(build_request("GET", "/k%d" % i, None, None, "localhost"))
            assert c.read_response("GET").status == 200
        # Three pipelined requests in one write, one with a body.
        c.send(build_request("GET", "/p1", None, None, "localhost") +
               build_request("POST", "/p2", None, b"x" * 70000, "localhost") +
               build_request("GET", "/p3", None, None, "localhost"))
        for _ in range(3):
            assert c.read_response("GET").status == 200
    finally:
        c.close()
    rec = gw.upstream.wait_path("/p2")
    assert rec.body_len == 70000


@pytest.mark.parametrize("args", [
    ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
    ["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"],
], ids=["tls1.1", "tls1.0"])
def test_old_protocols_refused(tls_gateway, args):
    gw = tls_gateway()
    code, out = s_client(gw.tls_port, *args)
    assert not handshake_ok(out), out
    assert gw.alive()


@pytest.mark.parametrize("cipher", [
    "ECDHE-RSA-AES128-SHA",        # CBC, not AEAD
    "ECDHE-ECDSA-AES256-SHA384",   # CBC
    "AES128-GCM-SHA256",           # AEAD but RSA key exchange: no forward secrecy
    "DHE-RSA-AES128-GCM-SHA256",   # finite-field DH: not offered
])
def test_tls12_weak_ciphers_refused(tls_gateway, cipher):
    gw = tls_gateway()
    code, out = s_client(gw.tls_port, "-tls1_2", "-cipher", cipher + "@SECLEVEL=0")
    assert not handshake_ok(out), out


def test_groups_other_than_x25519_p256_refused(tls_gateway):
    gw = tls_gateway()
    code, out = s_client(gw.tls_port, "-tls1_3", "-groups", "P-384")
    assert not handshake_ok(out), out
    code, out = s_client(gw.tls_port, "-tls1_3", "-groups", "X25519", stdin=b"Q\n")
    assert "Server Temp Key: X25519" in out, out


def test_ecdsa_and_rsa_on_one_listener(tls_gateway, tls_certs):
    gw = tls_gateway()
    for cipher, want in (("ECDHE-ECDSA-AES128-GCM-SHA256", tls_certs.server_ec),
                         ("ECDHE-RSA-AES128-GCM-SHA256", tls_certs.server_rsa)):
        ctx = ctx_for(tls_certs, max_version=ssl.TLSVersion.TLSv1_2)
        ctx.set_ciphers(cipher)
        c = TlsConn(gw.tls_port, ctx)
        assert c.peer_cert_sha256 == want.fingerprint, cipher
        c.close()
    # TLS 1.3 with a client that prefers ECDSA gets the ECDSA certificate.
    c = TlsConn(gw.tls_port, ctx_for(tls_certs))
    assert c.peer_cert_sha256 in (tls_certs.server_ec.fingerprint,
                                  tls_certs.server_rsa.fingerprint)
    c.close()


def test_sni_picks_the_certificate(tls_gateway, tls_certs):
    gw = tls_gateway(certs=[tls_certs.server_ec, tls_certs.server_rsa, tls_certs.api,
                            tls_certs.wild])
    ctx = ctx_for(tls_certs)
    for name, want in (("api.example.test", tls_certs.api),
                       ("x.wild.test", tls_certs.wild),
                       ("localhost", tls_certs.server_ec)):
        c = TlsConn(gw.tls_port, ctx, server_name=name)
        assert c.peer_cert_sha256 in (want.fingerprint, tls_certs.server_rsa.fingerprint
                                      if want is tls_certs.server_ec else None), name
        c.close()
    # An unknown name (and no name) gets the default: the first certificates listed.
    nocheck = client_context(verify=False)
    for name in ("unknown.test", None):
        c = TlsConn(gw.tls_port, nocheck, server_name=name)
        assert c.peer_cert_sha256 in (tls_certs.server_ec.fingerprint,
                                      tls_certs.server_rsa.fingerprint)
        c.close()
    # a.b.wild.test is not covered by *.wild.test: default certificate, so the name check fails.
    with pytest.raises(ssl.SSLCertVerificationError):
        TlsConn(gw.tls_port, ctx, server_name="a.b.wild.test")


def test_alpn(tls_gateway, tls_certs):
    gw = tls_gateway()
    c = TlsConn(gw.tls_port, ctx_for(tls_certs, alpn=["h2", "http/1.1"]))
    assert c.sock.selected_alpn_protocol() in ("http/1.1", "h2")
    c.close()
    c = TlsConn(gw.tls_port, ctx_for(tls_certs, alpn=["http/1.1"]))
    assert c.sock.selected_alpn_protocol() == "http/1.1"
    c.close()
    # http2 is off on this listener: a client that only speaks h2 gets no ALPN answer
    # (and then falls back or leaves), never an h2 it did not get.
    c = TlsConn(gw.tls_port, ctx_for(tls_certs, alpn=["h2"]))
    assert c.sock.selected_alpn_protocol() is None
    c.close()


def test_session_resumption(tls_gateway, tls_certs):
    gw = tls_gateway()
    for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = ctx_for(tls_certs, max_version=ver)
        c = TlsConn(gw.tls_port, ctx)
        c.send(build_request("GET", "/", None, None, "localhost"))
        assert c.read_response("GET").status == 200   # TLS 1.3 tickets arrive with it
        sess = c.sock.session
        c.close()
        c2 = TlsConn(gw.tls_port, ctx, session=sess)
        assert c2.sock.session_reused, ver
        c2.close()


def test_tickets_off(tls_gateway, tls_certs):
    gw = tls_gateway(session_tickets=False)
    ctx = ctx_for(tls_certs, max_version=ssl.TLSVersion.TLSv1_2)
    c = TlsConn(gw.tls_port, ctx)
    sess = c.sock.session
    c.close()
    c2 = TlsConn(gw.tls_port, ctx, session=sess)
    assert not c2.sock.session_reused
    c2.close()


def test_certificate_reload_keeps_connections(tls_gateway, tls_certs, tls_factory):
    gw = tls_gateway(certs=[tls_certs.server_ec])
    ctx = ctx_for(tls_certs)
    old = TlsConn(gw.tls_port, ctx)
    old.send(build_request("GET", "/before", None, None, "localhost"))
    assert old.read_response("GET").status == 200
    new_cert = tls_factory.server_cert(tls_certs.ca, "renewed", dns=["localhost"],
                                       ips=["127.0.0.1"])
    cfg = gw.config
    cfg["listen"][1]["tls"]["certificates"] = [{"cert": new_cert.chain, "key": new_cert.key}]
    gw.reload(cfg)
    deadline = time.monotonic() + scaled(5)
    while time.monotonic() < deadline:
        c = TlsConn(gw.tls_port, ctx)
        fp = c.peer_cert_sha256
        c.close()
        if fp == new_cert.fingerprint:
            break
        time.sleep(0.05)
    assert fp == new_cert.fingerprint
    # The connection made before the reload still works.
    old.send(build_request("GET", "/after", None, None, "localhost"))
    assert old.read_response("GET").status == 200
    old.close()


def test_key_readable_by_others_refused(tls_gateway, tls_factory, tls_certs):
    cert = tls_factory.server_cert(tls_certs.ca, "loose", dns=["localhost"])
    os.chmod(cert.key, 0o644)
    gw = tls_gateway(certs=[cert], start=False)
    code, out, err = run_check(gw.cfg_path)
    assert code != 0
    assert "is readable by group or others (mode 0644): chmod 600 it" in err, err
    assert "portcullis.yaml:" in err   # file:line:col prefix
    with pytest.raises(AssertionError):
        gw.start()
    gw.expect_exit = True


def test_bad_config_messages(tls_gateway, tls_certs, tmp_path):
    gw = tls_gateway(start=False)
    cfg = gw.config
    cfg["listen"][1]["tls"]["certificates"][0]["cert"] = str(tmp_path / "missing.crt")
    gw.write_config(cfg)
    code, out, err = run_check(gw.cfg_path)
    assert code != 0 and "missing.crt" in err and "portcullis.yaml:" in err, err


def test_handshake_failure_is_an_event_and_service_goes_on(tls_gateway, tls_certs):
    gw = tls_gateway()
    # Plain HTTP to the TLS port.
    s = socket.create_connection(("127.0.0.1", gw.tls_port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(5)
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    s.close()
    assert b"HTTP/1.1 200" not in data
    ev = gw.wait_event(lambda e: e.get("reason") == "tls_handshake_failed")
    assert ev["client_ip"] == "127.0.0.1" and ev.get("detail")
    # An old protocol is an event too.
    s_client(gw.tls_port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    r = tls_request(gw.tls_port, ctx_for(tls_certs), "GET", "/still")
    assert r.status == 200


def test_silent_tls_client_is_closed_by_the_header_timeout(tls_gateway):
    gw = tls_gateway(overrides={"limits": {"header_timeout_ms": 500}})
    s = socket.create_connection(("127.0.0.1", gw.tls_port), timeout=scaled(5))
    t0 = time.monotonic()
    assert s.recv(100) == b""
    assert time.monotonic() - t0 < scaled(4)
    s.close()


def test_security_headers(tls_gateway, tls_certs):
    gw = tls_gateway(hsts="max-age=63072000; includeSubDomains",
                     overrides={"response_headers": {"X-Frame-Options": "DENY",
                                                     "Referrer-Policy": "no-referrer"}})
    ctx = ctx_for(tls_certs)
    r = tls_request(gw.tls_port, ctx, "GET", "/x")
    assert r.header("strict-transport-security") == "max-age=63072000; includeSubDomains"
    assert r.header("x-content-type-options") == "nosniff"
    assert r.header("x-frame-options") == "DENY"
    assert r.header("referrer-policy") == "no-referrer"
    # The gateway's own answers carry them too, plus no-store.
    r = tls_request(gw.tls_port, ctx, "GET", "/a/%2e%2e/%2e%2e/x")
    assert r.status == 400
    assert r.header("strict-transport-security") and r.header("cache-control") == "no-store"
    assert r.header("x-content-type-options") == "nosniff"
    # No HSTS over plain HTTP (RFC 6797 7.2), the rest yes.
    r = request(gw.port, "GET", "/x")
    assert not r.has_header("strict-transport-security")
    assert r.header("x-content-type-options") == "nosniff" and r.header("x-frame-options")


def test_configured_headers_replace_the_upstreams(tls_gateway, tls_certs):
    gw = tls_gateway(overrides={"response_headers": {"X-Powered-By": "nothing",
                                                     "X-Upstream": "hidden"}})
    r = request(gw.port, "GET", "/x")
    assert r.header_all("x-upstream") == ["hidden"], r
    assert r.header_all("x-powered-by") == ["nothing"], r


def test_redirect_to_https(gateway_factory):
    def edit(cfg):
        cfg["listen"] = [{"address": cfg["listen"][0], "redirect_https": 8443}]
        return cfg
    gw = gateway_factory(edit=edit)
    r = request(gw.port, "GET", "/a/./b/../c?x=1&y=2", host="api.example.com:%d" % gw.port)
    assert r.status == 308, r
    assert r.header("location") == "https://api.example.com:8443/a/c?x=1&y=2"
    r = request(gw.port, "POST", "/login", host="[::1]:80", body=b"user=a&pw=b")
    assert r.status == 308 and r.header("location") == "https://[::1]:8443/login"
    # Nothing went to the upstream in clear text.
    gw.upstream.assert_nothing(settle=0.2)
    # Not a security event.
    assert not [e for e in gw.events() if e.get("reason") == "redirect_https"]
