"""
`portcullis demo`: the embedded rides API behind the gateway on its fixed ports, as
`make demo` runs it. Checks that what the printed tour promises is what happens, and that
Ctrl-C (SIGINT) stops it cleanly. Skipped if one of the demo's ports is taken.
"""

import os
import re
import signal
import socket
import subprocess
import time

import pytest

from pc_checks import send_raw
from pc_client import request, scaled, wait_port
from pc_tls import client_context, tls_request

BIN = os.environ.get("PORTCULLIS_BIN", "./portcullis")
PORTS = (8080, 8443, 9901, 18080)


def port_free(port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


@pytest.fixture
def demo(tmp_path):
    if not all(port_free(p) for p in PORTS):
        pytest.skip("a demo port (8080, 8443, 9901, 18080) is in use")
    out = open(tmp_path / "demo.out", "wb")
    env = dict(os.environ)
    env.pop("PC_DEMO_ADMIN_TOKEN", None)    # the demo makes its own, and prints it
    proc = subprocess.Popen([BIN, "demo"], stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env)
    try:
        assert wait_port(8080, scaled(10), alive=lambda: proc.poll() is None)
        yield proc, tmp_path / "demo.out"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(scaled(10))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.close()


def test_demo_tour(demo):
    proc, out_path = demo
    r = request(8080, "GET", "/v1/riders/r-1001", host="127.0.0.1:8080")
    assert r.status == 200 and r.json()["id"] == "r-1001", r
    # The API sends Server and X-Powered-By; the gateway drops them.
    direct = request(18080, "GET", "/health", host="127.0.0.1:18080")
    assert direct.has_header("server") and direct.has_header("x-powered-by")
    r = request(8080, "GET", "/health", host="127.0.0.1:8080")
    assert r.status == 200
    assert not r.has_header("server") and not r.has_header("x-powered-by"), r
    assert request(8080, "GET", "/v1/payments", host="127.0.0.1:8080").status == 404
    r, closed = send_raw(8080, b"GET /v1/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
    assert r.status == 400 and r.json()["reason"] == "path_traversal" and closed
    r, closed = send_raw(8080, b"POST /v1/trips HTTP/1.1\r\nHost: x\r\n"
                         b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nx")
    assert r.status == 400 and r.json()["reason"] == "http_cl_and_te" and closed
    # The tokens the tour printed: a rider may request a trip, nobody without a token; a
    # rider may not list drivers, the admin may.
    text = open(out_path, "rb").read()
    toks = dict(re.findall(rb"^  (RIDER|RIDER2|ADMIN)=([A-Za-z0-9_.-]+)$", text, re.M))
    assert set(toks) == {b"RIDER", b"RIDER2", b"ADMIN"}, text

    def auth(who):
        return [("Authorization", "Bearer " + toks[who].decode())]
    trip = b'{"rider_id":"r-1001","pickup":"A","dropoff":"B"}'
    r = request(8080, "POST", "/v1/trips", host="127.0.0.1:8080", body=trip,
                headers=[("Content-Type", "application/json")] + auth(b"RIDER"))
    assert r.status == 201, r
    r = request(8080, "POST", "/v1/trips", host="127.0.0.1:8080", body=trip,
                headers=[("Content-Type", "application/json")])
    assert r.status == 401 and r.header("www-authenticate").startswith("Bearer"), r
    r = request(8080, "GET", "/v1/drivers", host="127.0.0.1:8080", headers=auth(b"RIDER"))
    assert r.status == 403 and r.json()["reason"] == "authz_insufficient_scope", r
    r = request(8080, "GET", "/v1/drivers", host="127.0.0.1:8080", headers=auth(b"ADMIN"))
    assert r.status == 200, r
    # The partner's API key the tour printed opens the drivers too; a tampered one not.
    key = re.search(rb"^  APIKEY=(pck_[0-9A-Za-z]{49})$", text, re.M)
    assert key and b'-H "X-API-Key: $APIKEY" http://127.0.0.1:8080/v1/drivers' in text, text
    key = key.group(1).decode()
    r = request(8080, "GET", "/v1/drivers", host="127.0.0.1:8080", headers=[("X-API-Key", key)])
    assert r.status == 200, r
    bad = key[:5] + ("a" if key[5] != "a" else "b") + key[6:]
    r = request(8080, "GET", "/v1/drivers", host="127.0.0.1:8080", headers=[("X-API-Key", bad)])
    assert r.status == 401 and r.json()["reason"] == "auth_apikey_malformed", r
    # The admin listener needs the token the tour printed for this run.
    assert b"http://127.0.0.1:8080" in text and b"curl" in text
    tok = re.search(rb"Authorization: Bearer ([0-9a-f]{32})'", text)
    assert tok, text
    assert request(9901, "GET", "/metrics", host="127.0.0.1:9901").status == 401
    m = request(9901, "GET", "/metrics", host="127.0.0.1:9901",
                headers=[("Authorization", "Bearer " + tok.group(1).decode())])
    assert m.status == 200 and b"portcullis_requests_total" in m.body
    # HTTPS with the certificate made for this run: the tour names the file to trust
    # and its fingerprint, which is the certificate the listener presents.
    m = re.search(rb"--cacert (\S+/demo\.crt) https://127\.0\.0\.1:8443/v1/riders/r-1001",
                  text)
    assert m, text
    cacert = m.group(1).decode()
    fp = re.search(rb"#   ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})\n", text)
    assert fp, text
    r, c = tls_request(8443, client_context(ca=cacert), "GET", "/v1/riders/r-1001",
                       host="127.0.0.1:8443", server_name="localhost", keep=True)
    assert r.status == 200 and r.json()["id"] == "r-1001", r
    assert c.peer_cert_sha256.upper() == fp.group(1).decode().replace(":", "")
    c.close()
    assert r.header("strict-transport-security") == "max-age=31536000"
    assert r.header("x-frame-options") == "DENY" and r.header("x-content-type-options")
    # The tour's HTTP/2 lines, run as printed (two lines joined at the backslash).
    for line, want in ((rb"curl -s --http2 -w [^\n]*\\\n\s*https://\S+/v1/riders/r-1001",
                        " -> 200 HTTP/2"),
                       (rb"curl -s --http2 --path-as-is [^\n]*\\\n\s*--cacert \S+ "
                        rb"https://\S+/v1/\.\./\.\./etc/passwd", " -> 400 HTTP/2")):
        m2 = re.search(line, text)
        assert m2, text
        cmd = m2.group(0).decode().replace("\\\n", " ")
        out = subprocess.run(["bash", "-c", cmd], capture_output=True, timeout=scaled(10))
        assert out.stdout.decode().endswith(want + "\n"), (cmd, out.stdout, out.stderr)
    # The key was read at start and is not left on disk; the certificate stays for curl.
    assert os.path.exists(cacert) and not os.path.exists(cacert[:-4] + ".key")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(scaled(10)) == 0
    # Everything the demo made (certificate, key set) is gone once it stopped.
    assert not os.path.exists(os.path.dirname(cacert))
