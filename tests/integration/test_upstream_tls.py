"""
TLS to the upstream: verified by default (CA bundle, name or IP check, SNI), optional
client certificate, minimum version; a certificate that does not verify is a 502 with
reason upstream_tls_failed (and the why in the log), never a silent downgrade. verify:
false works and `portcullis check` warns about it loudly.
"""

import ssl

import pytest

from pc_client import request
from pc_gateway import run_check
from pc_tls import *        # noqa: F401,F403


def upstream_tls(gateway_factory, up, **tls):
    def edit(cfg):
        cfg["workers"] = 1      # one worker: one keep-alive pool, so reuse is visible
        cfg["upstreams"]["backend"]["tls"] = tls
        return cfg
    return gateway_factory(targets=[up.addr], edit=edit)


def test_verified_by_ip(gateway_factory, tls_upstream_factory, tls_certs):
    c = tls_certs
    up = tls_upstream_factory(c.upstream)
    gw = upstream_tls(gateway_factory, up, ca=c.upstream_ca.cert)
    for i in range(3):   # keep-alive reuse of the TLS connection too
        r = request(gw.port, "GET", "/u%d" % i)
        assert r.status == 200, r
    recs = up.wait_requests(3)
    assert recs[0].tls["version"] in ("TLSv1.3", "TLSv1.2")
    assert recs[0].tls["sni"] is None        # an IP is never sent as SNI
    assert len({x.conn_id for x in recs}) == 1, "TLS connection not reused"


def test_verified_by_name_with_sni(gateway_factory, tls_upstream_factory, tls_certs):
    c = tls_certs
    up = tls_upstream_factory(c.upstream)
    gw = upstream_tls(gateway_factory, up, ca=c.upstream_ca.cert, server_name="upstream.test")
    assert request(gw.port, "GET", "/n").status == 200
    assert up.wait_requests(1)[0].tls["sni"] == "upstream.test"


@pytest.mark.parametrize("case", ["wrong_name", "untrusted_ca", "self_signed", "expired"])
def test_unverifiable_upstream_is_502(gateway_factory, tls_upstream_factory, tls_certs, case):
    c = tls_certs
    cert, tls = {
        "wrong_name": (c.upstream_wrong_name, {"ca": c.upstream_ca.cert}),
        "untrusted_ca": (c.upstream, {}),        # system store: does not know the test CA
        "self_signed": (c.self_signed, {"ca": c.upstream_ca.cert}),
        "expired": (c.expired, {"ca": c.ca.cert}),
    }[case]
    up = tls_upstream_factory(cert)
    gw = upstream_tls(gateway_factory, up, **tls)
    r = request(gw.port, "GET", "/v")
    assert r.status == 502 and r.json()["reason"] == "upstream_tls_failed", r
    up.assert_nothing()
    e = gw.access_for(r.header("x-request-id"))
    assert e["reason"] == "upstream_tls_failed"
    ev = gw.wait_event(lambda x: x.get("reason") == "upstream_tls_failed")
    assert ev.get("detail"), ev


def test_verify_off_works_and_check_warns(gateway_factory, tls_upstream_factory, tls_certs):
    up = tls_upstream_factory(tls_certs.upstream_wrong_name)
    gw = upstream_tls(gateway_factory, up, verify=False)
    assert request(gw.port, "GET", "/off").status == 200
    code, out, err = run_check(gw.cfg_path)
    assert code == 0
    assert "does not verify its TLS certificates" in out + err


def test_client_certificate_to_upstream(gateway_factory, tls_upstream_factory, tls_certs):
    c = tls_certs
    up = tls_upstream_factory(c.upstream, client_ca=c.upstream_ca, client_cert="required")
    gw = upstream_tls(gateway_factory, up, ca=c.upstream_ca.cert, cert=c.gw_client.chain,
                      key=c.gw_client.key)
    assert request(gw.port, "GET", "/mutual").status == 200
    assert "CN=portcullis-gateway" in up.wait_requests(1)[0].peer_subject
    # Without the client certificate the upstream refuses the handshake: 502.
    gw2 = upstream_tls(gateway_factory, up, ca=c.upstream_ca.cert)
    r = request(gw2.port, "GET", "/nocert")
    assert r.status == 502 and r.json()["reason"] in ("upstream_tls_failed",
                                                      "upstream_reset",
                                                      "upstream_bad_response"), r


def test_min_version(gateway_factory, tls_upstream_factory, tls_certs):
    c = tls_certs
    ctx12 = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx12.load_cert_chain(c.upstream.chain, c.upstream.key)
    ctx12.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
    up = tls_upstream_factory(c.upstream, tls_context=ctx12)
    gw = upstream_tls(gateway_factory, up, ca=c.upstream_ca.cert, min_version="1.3")
    r = request(gw.port, "GET", "/old")
    assert r.status == 502 and r.json()["reason"] == "upstream_tls_failed", r
    gw2 = upstream_tls(gateway_factory, up, ca=c.upstream_ca.cert)
    assert request(gw2.port, "GET", "/ok").status == 200


def test_retry_on_another_target_after_tls_failure(gateway_factory, tls_upstream_factory,
                                                   tls_certs):
    c = tls_certs
    bad = tls_upstream_factory(c.upstream_wrong_name, name="bad")
    good = tls_upstream_factory(c.upstream, name="good")

    def edit(cfg):
        cfg["upstreams"]["backend"]["tls"] = {"ca": c.upstream_ca.cert}
        return cfg
    gw = gateway_factory(targets=[bad.addr, good.addr], edit=edit)
    for i in range(4):
        assert request(gw.port, "GET", "/r%d" % i).status == 200
    bad.assert_nothing()
