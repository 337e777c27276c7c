"""
tests/unit/fetch/https_server.py - the HTTPS server the fetch and key-ring unit tests talk
to: a CA and a 127.0.0.1 certificate made at start (python3-cryptography), a second CA
that signed nothing (for verification failures), and fixed answers per path.

Usage: https_server.py DIR. Writes DIR/ca.pem, DIR/other-ca.pem, then DIR/port once it
listens on 127.0.0.1 (an ephemeral port). Runs until killed.
"""

import base64
import datetime
import ipaddress
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DIR = sys.argv[1]
NOW = datetime.datetime.now(datetime.timezone.utc)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def pem(path, data):
    with open(path, "wb") as f:
        f.write(data)


ca_key, ca = make_ca("fetch-test-ca")
_, other = make_ca("fetch-other-ca")
srv_key = ec.generate_private_key(ec.SECP256R1())
srv = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
       .public_key(srv_key.public_key()).serial_number(x509.random_serial_number())
       .not_valid_before(NOW - datetime.timedelta(days=1))
       .not_valid_after(NOW + datetime.timedelta(days=30))
       .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
           ipaddress.ip_address("127.0.0.1"))]), critical=False)
       .sign(ca_key, hashes.SHA256()))
pem(os.path.join(DIR, "ca.pem"), ca.public_bytes(serialization.Encoding.PEM))
pem(os.path.join(DIR, "other-ca.pem"), other.public_bytes(serialization.Encoding.PEM))
pem(os.path.join(DIR, "srv.pem"), srv.public_bytes(serialization.Encoding.PEM))
pem(os.path.join(DIR, "srv.key"), srv_key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwk(kid):
    n = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
            "x": b64url(n.x.to_bytes(32, "big")), "y": b64url(n.y.to_bytes(32, "big"))}


JWKS = json.dumps({"keys": [jwk("k1")]}).encode()
COUNTS = {}
LOCK = threading.Lock()


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = self.path
        base = "https://127.0.0.1:%d" % self.server.server_address[1]
        with LOCK:
            COUNTS[p] = COUNTS.get(p, 0) + 1
        if p == "/jwks":
            self.send(200, JWKS, extra=[("Cache-Control", "public, max-age=120")])
        elif p.startswith("/cc/"):
            # The Cache-Control value comes from the path: /cc/<urlsafe-b64>.
            v = base64.urlsafe_b64decode(p[4:] + "=" * (-len(p[4:]) % 4)).decode()
            self.send(200, b"{}", extra=[("Cache-Control", x) for x in v.split("\n")])
        elif p == "/slow":
            time.sleep(3)
            self.send(200, b"late")
        elif p == "/big-cl":
            self.send(200, b"x" * (2 << 20))
        elif p == "/big-stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"y" * 65536
            try:
                for _ in range(32):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
        elif p == "/redirect":
            self.send(302, b"", extra=[("Location", base + "/jwks")])
        elif p == "/garbage":
            self.send(200, b"{\"keys\": 7}")
        elif p == "/count":
            with LOCK:
                self.send(200, json.dumps(COUNTS).encode())
        elif p == "/.well-known/openid-configuration":
            self.send(200, json.dumps({"issuer": base, "jwks_uri": base + "/jwks",
                                       "introspection_endpoint": base + "/introspect"})
                      .encode())
        elif p == "/wrong/.well-known/openid-configuration":
            self.send(200, json.dumps({"issuer": base, "jwks_uri": base + "/jwks"}).encode())
        else:
            self.send(404, b"{}")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        out = {"body": body.decode(), "auth": self.headers.get("Authorization", ""),
               "ctype": self.headers.get("Content-Type", "")}
        self.send(200, json.dumps(out).encode())


class S(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def handle_error(self, request, client_address):
        pass    # clients that give up on purpose (size cap, timeout) are expected


s = S(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(DIR, "srv.pem"), os.path.join(DIR, "srv.key"))
s.socket = ctx.wrap_socket(s.socket, server_side=True)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(s.server_address[1]))
os.replace(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
s.serve_forever()
