"""
tests/integration/pc_oidc.py - the real OpenID Provider of the identity tests: the npm
package oidc-provider (tests/oidc/op.js, pinned by tests/oidc/package-lock.json, installed
by `make deps`), run with node on 127.0.0.1 over HTTPS with a CA and certificate made here.

Owns: the OP's process (started and stopped by PID: SIGTERM, then SIGKILL after a timeout),
its CA, certificate, key state file and client secrets, and the client side of its token,
revocation and test-hook endpoints.
Refuses: to wait without a bound, to talk to anything but 127.0.0.1, or to skip when node or
the package is missing (that is a broken test setup: `make deps` installs both).

    op = oidc_op                   # fixture: a started OP (oidc_factory(start=False): not)
    op.issuer, op.ca_file          # the gateway's issuer: and ca_file:
    op.token("items:read")         # a client-credentials JWT for https://api.test
    op.token(alg="ES256")          # ... signed with another algorithm
    op.opaque_token()              # an opaque token (only introspection can check it)
    op.revoke(tok); op.rotate()    # RFC 7009; new keys first, previous ones second
    op.stop(); op.start()          # the same issuer, port and keys again
    op.wait_count("GET", "/jwks")  # requests the OP answered (its stdout log)
"""

import base64
import http.client
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import time
import urllib.parse

import pytest

from pc_client import free_ports, scaled
from pc_tls import CertFactory

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OIDC_DIR = os.path.join(REPO, "tests", "oidc")
OP_JS = os.path.join(OIDC_DIR, "op.js")
AUDIENCE = "https://api.test"
CLIENT_ID = "api-client"                 # client credentials, client_secret_basic
GATEWAY_CLIENT_ID = "portcullis-gateway"  # may only introspect
# The resource indicator (RFC 8707) picks the token's format and signing algorithm; all of
# them carry aud https://api.test (see RESOURCES in op.js).
RESOURCE = {"RS256": AUDIENCE, "ES256": AUDIENCE + "/es256", "PS256": AUDIENCE + "/ps256",
            "EdDSA": AUDIENCE + "/eddsa", "opaque": AUDIENCE + "/opaque"}
START_TIMEOUT = 15.0    # node start + RSA key generation; scaled() for sanitizer runs
HTTP_TIMEOUT = 5.0


def node():
    path = shutil.which("node") or shutil.which("nodejs")
    if path is None:
        pytest.fail("node is not installed: run `make deps`", pytrace=False)
    if not os.path.isdir(os.path.join(OIDC_DIR, "node_modules", "oidc-provider")):
        pytest.fail("tests/oidc/node_modules is missing: run `make deps`", pytrace=False)
    return path


class OP:
    """One oidc-provider process. Attributes: port, issuer, ca_file, client_secret,
    introspect_secret, dir, log_path (stdout: "ready" and one JSON line per request),
    err_path, proc."""

    def __init__(self, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        certs = CertFactory(os.path.join(self.dir, "certs"))
        self.ca = certs.make_ca("op-ca", cn="portcullis test OP CA")
        self.cert = certs.server_cert(self.ca, "op", dns=["localhost"], ips=["127.0.0.1"])
        self.ca_file = self.ca.cert
        self.keys_file = os.path.join(self.dir, "op-keys.json")   # private: 0600, op.js
        self.log_path = os.path.join(self.dir, "op.log")
        self.err_path = os.path.join(self.dir, "op.err")
        self.client_secret = secrets.token_urlsafe(24)
        self.introspect_secret = secrets.token_urlsafe(24)
        self.proc = None
        self._ctx = ssl.create_default_context(cafile=self.ca_file)
        self.new_port()

    def new_port(self):
        """Picks another port (before the first start only: the issuer URL changes)."""
        assert self.proc is None, "the OP already ran on %d" % self.port
        (self.port,) = free_ports(1)
        self.issuer = "https://127.0.0.1:%d" % self.port

    # -- the process ------------------------------------------------------------------------

    def start(self, timeout=START_TIMEOUT):
        assert not self.running(), "the OP is already running"
        exe = node()
        env = dict(os.environ, OP_CLIENT_SECRET=self.client_secret,
                   OP_INTROSPECT_SECRET=self.introspect_secret, NODE_ENV="test")
        offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "ab") as out, open(self.err_path, "ab") as err:
            self.proc = subprocess.Popen(
                [exe, OP_JS, "--port", str(self.port), "--cert", self.cert.chain,
                 "--key", self.cert.key, "--keys", self.keys_file],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=OIDC_DIR)
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            if self._log_text(offset).startswith("ready "):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        code = self.proc.poll()
        self.stop()
        raise AssertionError("the OP did not get ready (exit %r); stderr:\n%s"
                             % (code, self.stderr()[-4000:]))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        """SIGTERM to the process this object started, SIGKILL if it is still there after
        <timeout>. The port, keys and issuer stay: start() brings the same OP back."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=scaled(timeout))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def stderr(self):
        try:
            with open(self.err_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _log_text(self, offset=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def requests(self):
        """[{"method", "path", "status"}] the OP answered, in order, across restarts."""
        out = []
        for line in self._log_text().splitlines():
            if line.startswith("{"):
                e = json.loads(line)
                if "method" in e:
                    out.append(e)
        return out

    def count(self, method, path):
        """Requests answered so far. op.js logs a request once its answer is sent, so the
        client may have it a moment before the line is written: see wait_count()."""
        return sum(1 for e in self.requests() if e["method"] == method and e["path"] == path)

    def wait_count(self, method, path, at_least=1, timeout=2.0, settle=0.2):
        """count(), once it reaches <at_least> (or after <timeout>) and <settle> more
        seconds have passed, so that one extra request would show too."""
        deadline = time.monotonic() + scaled(timeout)
        while self.count(method, path) < at_least and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(settle)
        return self.count(method, path)

    # -- HTTP ---------------------------------------------------------------------------------

    def post(self, path, form=None, auth=None, timeout=HTTP_TIMEOUT):
        """POST <form> (dict, urlencoded) to the OP with HTTP Basic <auth> (id, secret);
        returns (status, parsed JSON body)."""
        body = urllib.parse.urlencode(form or {})
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        if auth:
            # RFC 6749 2.3.1: id and secret are form-urlencoded before Basic encoding.
            pair = "%s:%s" % tuple(urllib.parse.quote(x, safe="") for x in auth)
            hdrs["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self._ctx,
                                        timeout=scaled(timeout))
        try:
            c.request("POST", path, body=body, headers=hdrs)
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        return r.status, json.loads(data) if data else None

    def token_response(self, scope="items:read", alg="RS256", resource=None):
        """The token endpoint's answer (status, JSON) to a client-credentials request."""
        form = {"grant_type": "client_credentials",
                "resource": resource or RESOURCE[alg]}
        if scope:
            form["scope"] = scope
        return self.post("/token", form, auth=(CLIENT_ID, self.client_secret))

    def token(self, scope="items:read", alg="RS256", resource=None):
        """A client-credentials access token: a JWT (RFC 9068, typ at+jwt) signed with
        <alg>, or with alg="opaque" an opaque one."""
        status, body = self.token_response(scope, alg, resource)
        assert status == 200, (status, body)
        return body["access_token"]

    def opaque_token(self, scope="items:read"):
        return self.token(scope, alg="opaque")

    def revoke(self, token):
        """RFC 7009 revocation by the client the token was issued to."""
        status, body = self.post("/token/revocation", {"token": token},
                                 auth=(CLIENT_ID, self.client_secret))
        assert status == 200, (status, body)

    def introspect(self, token):
        """What the gateway would be told about <token> (RFC 7662)."""
        status, body = self.post("/token/introspection", {"token": token},
                                 auth=(GATEWAY_CLIENT_ID, self.introspect_secret))
        assert status == 200, (status, body)
        return body

    def jwks(self):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self._ctx,
                                        timeout=scaled(HTTP_TIMEOUT))
        try:
            c.request("GET", "/jwks")
            r = c.getresponse()
            assert r.status == 200, r.status
            return json.loads(r.read())
        finally:
            c.close()

    def rotate(self):
        """New keys (one per family) first, the previous generation second, older ones
        dropped; returns the published kids, newest first."""
        status, body = self.post("/__test/rotate")
        assert status == 200, (status, body)
        return body["kids"]


@pytest.fixture
def oidc_factory(tmp_path):
    """make(start=True) -> an OP in its own directory; all stopped at teardown."""
    ops = []

    def make(start=True):
        op = OP(os.path.join(str(tmp_path), "op%d" % len(ops)))
        ops.append(op)
        if start:
            op.start()
        return op

    yield make
    for op in ops:
        op.stop()


@pytest.fixture
def oidc_op(oidc_factory):
    """A started OP."""
    return oidc_factory()
