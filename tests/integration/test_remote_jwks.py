"""
Remote key sets: an issuer's JWK Set fetched over verified HTTPS from a jwks_uri (or found
through OIDC discovery), cached, refreshed on schedule and on an unknown kid (rate-limited),
the last good set kept while the provider is down, and rotation without restart. The key
server here is a small python HTTPS server (CA from pc_tls) serving keys from pc_jwt and
counting what it is asked.
"""

import json
import os
import random
import ssl
import string
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt as pyjwt
import pytest

from pc_client import poll, request
from pc_gateway import run_check, to_yaml
from pc_jwt import AUD, Issuer
from pc_tls import CertFactory


class KeyServer:
    """An HTTPS server on 127.0.0.1 (an ephemeral port) serving /jwks (a pc_jwt Issuer's
    public keys) and /.well-known/openid-configuration. <hits> counts GETs per path."""

    def __init__(self, certs_dir):
        f = CertFactory(certs_dir)
        self.ca = f.make_ca("keyca")
        cert = f.server_cert(self.ca, "keysrv", ips=("127.0.0.1",))
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert.chain, cert.key)
        self.jwks = {"keys": []}
        self.cache_control = None
        self.doc_issuer = None      # None: the server's own base URL
        self.hits = {}
        self.lock = threading.Lock()
        self.httpd = None
        self.port = 0

    @property
    def base(self):
        return "https://127.0.0.1:%d" % self.port

    def count(self, path="/jwks"):
        with self.lock:
            return self.hits.get(path, 0)

    def start(self):
        ks = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                with ks.lock:
                    ks.hits[self.path] = ks.hits.get(self.path, 0) + 1
                    jwks = json.dumps(ks.jwks).encode()
                    cc = ks.cache_control
                if self.path == "/jwks":
                    body, extra = jwks, [("Cache-Control", cc)] if cc else []
                elif self.path == "/.well-known/openid-configuration":
                    body = json.dumps({"issuer": ks.doc_issuer or ks.base,
                                       "jwks_uri": ks.base + "/jwks"}).encode()
                    extra = []
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        class S(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.httpd = S(("127.0.0.1", self.port), H)
        self.port = self.httpd.server_address[1]
        self.httpd.socket = self.ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


@pytest.fixture
def keysrv(tmp_path):
    ks = KeyServer(os.path.join(str(tmp_path), "keycerts")).start()
    yield ks
    ks.stop()


def issuer_conf(ks, iss, **over):
    c = {"issuer": iss.iss, "audiences": [AUD], "algorithms": ["ES256", "RS256"],
         "ca_file": ks.ca.cert, "jwks_uri": ks.base + "/jwks", "jwks_refresh_s": 300,
         "jwks_min_refresh_s": 1, "fetch_timeout_ms": 2000}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def start_gw(gateway_factory, ks, iss, **over):
    def edit(cfg):
        cfg["issuers"] = {"op": issuer_conf(ks, iss, **over)}
        cfg["routes"] = [{"name": "api", "path": "/api/**", "upstream": "backend",
                          "auth": ["op"]}]
        # Failed logins slow down their source (another feature): not what these measure.
        cfg["failed_auth"] = False
        return cfg
    return gateway_factory(edit=edit)


def bearer(tok):
    return [("Authorization", "Bearer " + tok)]


def get(gw, tok):
    return request(gw.port, "GET", "/api/x", headers=bearer(tok), timeout=10.0)


def serve_keys(ks, iss, kids):
    with ks.lock:
        ks.jwks = iss.jwks(kids)


def test_jwks_uri_works(gateway_factory, keysrv, tmp_path):
    iss = Issuer(tmp_path)
    serve_keys(keysrv, iss, ["es1", "rs1"])
    gw = start_gw(gateway_factory, keysrv, iss)
    assert keysrv.count() == 1          # fetched once, at start
    for kid in ("es1", "rs1"):
        r = get(gw, iss.token(kid, sub="u-" + kid))
        assert r.status == 200, r
    iss.add_key("es9")
    r = get(gw, iss.token("es9"))       # not published
    assert r.status == 401 and r.json()["reason"] == "auth_key_unknown"
    assert len(gw.upstream.wait_requests(2)) == 2


def test_rotation_via_unknown_kid(gateway_factory, keysrv, tmp_path):
    iss = Issuer(tmp_path)
    serve_keys(keysrv, iss, ["es1"])
    gw = start_gw(gateway_factory, keysrv, iss)
    assert get(gw, iss.token("es1")).status == 200
    time.sleep(1.2)                     # past jwks_min_refresh_s since the start's fetch
    iss.add_key("es2")
    serve_keys(keysrv, iss, ["es1", "es2"])     # old and new overlap
    before = keysrv.count()
    # The request waits for the refresh its unknown kid started, then passes.
    r = get(gw, iss.token("es2"))
    assert r.status == 200, r
    assert keysrv.count() == before + 1
    still = iss.token("es1", sub="still")
    assert get(gw, still).status == 200        # verified, now in the token cache
    # The old key leaves the set: after a refresh, its new tokens are refused, and so is
    # the one the cache holds (a withdrawn key must stop working at once).
    time.sleep(1.2)
    serve_keys(keysrv, iss, ["es2"])
    iss.add_key("es3")
    r = get(gw, iss.token("es3"))       # triggers a refresh; es3 is not published
    assert r.status == 401 and r.json()["reason"] == "auth_key_unknown"
    r = get(gw, iss.token("es1", sub="gone"))
    assert r.status == 401 and r.json()["reason"] == "auth_key_unknown"
    r = get(gw, still)
    assert r.status == 401 and r.json()["reason"] == "auth_key_unknown", r


def test_rotation_by_schedule(gateway_factory, keysrv, tmp_path):
    iss = Issuer(tmp_path)
    serve_keys(keysrv, iss, ["es1"])
    keysrv.cache_control = "max-age=1"      # below the floor: jwks_refresh_s (2) applies
    gw = start_gw(gateway_factory, keysrv, iss, jwks_refresh_s=2, jwks_min_refresh_s=2)
    iss.add_key("es2")
    serve_keys(keysrv, iss, ["es1", "es2"])
    # No request asks: the fetch thread's schedule fetches again by itself.
    assert poll(lambda: keysrv.count() >= 2, timeout=6.0)
    n = keysrv.count()
    r = get(gw, iss.token("es2"))
    assert r.status == 200, r
    assert keysrv.count() <= n + 1      # at most a scheduled one meanwhile; no kid refresh
    time.sleep(2.5)
    assert keysrv.count() <= n + 2


def test_provider_down_keeps_last_good_set(gateway_factory, keysrv, tmp_path):
    iss = Issuer(tmp_path)
    serve_keys(keysrv, iss, ["es1"])
    gw = start_gw(gateway_factory, keysrv, iss)
    assert get(gw, iss.token("es1")).status == 200
    keysrv.stop()
    time.sleep(1.2)
    for i in range(3):                  # fresh tokens: verified, not served from the cache
        r = get(gw, iss.token("es1", sub="user%d" % i))
        assert r.status == 200, r
    iss.add_key("es2")
    r = get(gw, iss.token("es2"))       # the refresh it asks for fails: still unknown
    assert r.status == 401 and r.json()["reason"] == "auth_key_unknown"
    assert get(gw, iss.token("es1", sub="after")).status == 200
    assert "keeping the last good set" in gw.stderr()


def test_start_without_provider_fails_closed_then_recovers(gateway_factory, keysrv,
                                                           tmp_path):
    iss = Issuer(tmp_path)
    serve_keys(keysrv, iss, ["es1"])
    port = keysrv.port
    keysrv.stop()
    gw = start_gw(gateway_factory, keysrv, iss)     # starts anyway
    assert "cannot fetch its keys" in gw.stderr()
    r = get(gw, iss.token("es1"))
    assert r.status == 503 and r.json()["reason"] == "auth_keys_unavailable"
    gw.upstream.assert_nothing()
    keysrv.port = port
    keysrv.start()
    time.sleep(1.2)
    # A request asks for a refresh (at most every jwks_min_refresh_s) and waits for it.
    r = get(gw, iss.token("es1", sub="later"))
    assert r.status == 200, r


def test_random_kid_flood_is_rate_limited(gateway_factory, keysrv, tmp_path):
    iss = Issuer(tmp_path)
    serve_keys(keysrv, iss, ["es1"])
    gw = start_gw(gateway_factory, keysrv, iss, jwks_min_refresh_s=2)
    _, key = iss.keys["es1"]
    t0 = time.monotonic()
    statuses = set()
    for _ in range(60):
        kid = "".join(random.choice(string.ascii_letters) for _ in range(12))
        tok = pyjwt.encode(iss.claims(), key, algorithm="ES256", headers={"kid": kid})
        r = get(gw, tok)
        statuses.add((r.status, r.json()["reason"]))
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    assert statuses == {(401, "auth_key_unknown")}
    # One fetch at start, then at most one per started 2 s of flood.
    allowed = 1 + int(elapsed / 2) + 1
    assert 2 <= keysrv.count() <= allowed, (keysrv.count(), elapsed)


def test_discovery(gateway_factory, keysrv, tmp_path):
    iss = Issuer(tmp_path, iss=keysrv.base)
    serve_keys(keysrv, iss, ["es1"])
    gw = start_gw(gateway_factory, keysrv, iss, jwks_uri=None, discovery=True)
    assert keysrv.count("/.well-known/openid-configuration") == 1
    assert get(gw, iss.token("es1")).status == 200


def test_discovery_with_wrong_issuer_refused(gateway_factory, keysrv, tmp_path):
    iss = Issuer(tmp_path, iss=keysrv.base)
    serve_keys(keysrv, iss, ["es1"])
    keysrv.doc_issuer = "https://evil.test"
    gw = start_gw(gateway_factory, keysrv, iss, jwks_uri=None, discovery=True)
    assert 'is not exactly' in gw.stderr()
    assert keysrv.count() == 0          # its jwks_uri was never believed
    r = get(gw, iss.token("es1"))
    assert r.status == 503 and r.json()["reason"] == "auth_keys_unavailable"
    gw.upstream.assert_nothing()


def test_check_warns_when_keys_cannot_be_fetched(gateway_factory, keysrv, tmp_path):
    iss = Issuer(tmp_path)
    serve_keys(keysrv, iss, ["es1"])
    gw = start_gw(gateway_factory, keysrv, iss)
    code, out, err = run_check(gw.cfg_path)
    assert code == 0 and "configuration OK" in out and "cannot fetch" not in err
    cfg = dict(gw.config)
    cfg["issuers"] = {"op": issuer_conf(keysrv, iss, ca_file=None)}   # system store
    path = os.path.join(str(tmp_path), "bad-ca.yaml")
    with open(path, "w") as f:
        f.write(to_yaml(cfg) + "\n")
    code, out, err = run_check(path)
    assert code == 0, err
    assert "warning: issuer 'op': cannot fetch its keys" in err


@pytest.mark.parametrize("over,msg", [
    ({"jwks_uri": "http://127.0.0.1/jwks"}, "jwks_uri: expected an https:// URL"),
    ({"discovery": True}, "exactly one of jwks_file, jwks_uri and discovery"),
    ({"jwks_min_refresh_s": 600}, "is more than jwks_refresh_s"),
])
def test_config_errors(gateway_factory, keysrv, tmp_path, over, msg):
    iss = Issuer(tmp_path)

    def edit(cfg):
        cfg["issuers"] = {"op": issuer_conf(keysrv, iss, **over)}
        return cfg
    gw = gateway_factory(edit=edit, start=False)
    code, out, err = run_check(gw.cfg_path)
    assert code == 1 and msg in err, (code, out, err)


def test_reload_keeps_the_keys(gateway_factory, keysrv, tmp_path):
    iss = Issuer(tmp_path)
    serve_keys(keysrv, iss, ["es1"])
    gw = start_gw(gateway_factory, keysrv, iss)
    assert keysrv.count() == 1
    cfg = dict(gw.config)
    cfg["issuers"] = {"op": issuer_conf(keysrv, iss, fetch_timeout_ms=3000)}
    gw.reload(cfg)
    assert poll(lambda: "reloaded" in gw.stderr(), timeout=5.0)
    assert get(gw, iss.token("es1", sub="after-reload")).status == 200
    assert keysrv.count() == 1          # the ring and its keys survived the reload
