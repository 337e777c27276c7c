"""
tests/integration/pc_tls.py - certificates for the TLS tests, made with the `openssl`
command line (the standard library cannot issue certificates, and python3-cryptography
is not a dependency of the suite), plus the client side helpers and fixtures built on them.

Owns: every key, certificate, CA database and CRL a TLS test uses, written under a pytest
tmp directory (keys mode 0600, as the gateway refuses group/other-readable keys); client
ssl contexts and TLS connections to the gateway; TLS recording upstreams.
Refuses: to touch the system's OpenSSL configuration (every `openssl req` / `openssl ca`
runs with a generated minimal config), and to hide an openssl failure (its stderr is in
the raised error).

Use from a test file (pytest finds fixtures among a module's globals):
    from pc_tls import *          # noqa: F401,F403 - fixtures tls_certs, tls_factory, ...
or, for a directory of TLS tests, put that line in its conftest.py.

Objects: Cert (.cert, .key, .chain, .fingerprint = hex SHA-256 of the DER, .serial,
.subject, .issuer) and CA (a Cert that can sign: .issue(), .crl()).
"""

import hashlib
import os
import re
import socket
import ssl
import subprocess
import threading

import pytest

from pc_client import Conn, HOST, build_request
from pc_upstream import Upstream

__all__ = ["Cert", "CA", "CertFactory", "TlsSet", "TlsConn", "client_context",
           "tls_request", "der_sha256", "openssl_fingerprint",
           "tls_certs", "tls_factory", "tls_upstream_factory"]

OPENSSL = os.environ.get("PC_TEST_OPENSSL", "openssl")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _run(args, stdin=None):
    p = subprocess.run([OPENSSL] + list(args), input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed (exit %d): %s" % (
            " ".join(args), p.returncode, p.stderr.decode("latin-1", "replace")))
    return p.stdout


def der_sha256(pem_path):
    """Lowercase hex SHA-256 over the DER of the first certificate in <pem_path>."""
    with open(pem_path, "r", encoding="ascii") as f:
        pem = f.read()
    end = "-----END CERTIFICATE-----"
    i = pem.index(end) + len(end)
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem[:i] + "\n")).hexdigest()


def openssl_fingerprint(pem_path):
    """The same digest as openssl prints it, normalized to lowercase hex without colons."""
    out = _run(["x509", "-in", pem_path, "-noout", "-fingerprint", "-sha256"]).decode()
    return out.strip().split("=", 1)[1].replace(":", "").lower()


def _new_private(path):
    """Creates <path> empty with mode 0600 before openssl writes into it, so a key is never
    readable by others, not even for an instant (openssl's fopen keeps the mode)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _genkey(path, key_type):
    _new_private(path)
    if key_type == "ec":
        _run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-pkeyopt", "ec_param_enc:named_curve", "-out", path])
    elif key_type == "rsa":
        _run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
              "-out", path])
    else:
        raise ValueError("key_type must be 'ec' or 'rsa', not %r" % (key_type,))
    os.chmod(path, 0o600)


def _subj(cn, org):
    for v in (cn, org):
        if "/" in v or "\n" in v:
            raise ValueError("subject parts may not hold '/' or newlines: %r" % (v,))
    return "/O=%s/CN=%s" % (org, cn)


def _san(dns=(), ips=(), uris=()):
    parts = ["DNS:%s" % d for d in dns] + ["IP:%s" % i for i in ips] + \
        ["URI:%s" % u for u in uris]
    for p in parts:
        if "," in p or "\n" in p:
            raise ValueError("a SAN may not hold ',' or newlines: %r" % (p,))
    return ",".join(parts)


_REQ_CNF = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_self ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
"""

# One `openssl ca` database per CA: index.txt is what -revoke and -gencrl read.
_CA_CNF = """\
[ ca ]
default_ca = this_ca
[ this_ca ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = {cert}
private_key = {key}
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 825
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
preserve = yes
[ policy_any ]
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
"""


class Cert:
    """A certificate and its key on disk. <chain> is the leaf followed by any
    intermediates (what a server presents); <issuer> the CA that signed it (None if
    self-signed)."""

    def __init__(self, name, cert, key, issuer, key_type, subject, serial=None):
        self.name = name
        self.cert = cert
        self.key = key
        self.issuer = issuer
        self.key_type = key_type
        self.subject = subject          # openssl -subj form, e.g. /O=pc-test/CN=alice
        self.serial = serial
        self.fingerprint = der_sha256(cert)
        self.chain = cert
        if issuer is not None and issuer.issuer is not None:
            # Issued by an intermediate: the chain file carries the intermediates too.
            self.chain = cert[:-len(".crt")] + ".chain.crt"
            with open(self.chain, "w", encoding="ascii") as out:
                for path in [cert] + issuer._intermediates():
                    with open(path, "r", encoding="ascii") as f:
                        out.write(f.read())

    @property
    def pem(self):
        with open(self.cert, "r", encoding="ascii") as f:
            return f.read()

    @property
    def cn(self):
        return self.subject.rsplit("/CN=", 1)[1]

    @property
    def subject_rfc2253(self):
        """The subject as the gateway reports it (RFC 2253: last RDN first)."""
        out = _run(["x509", "-in", self.cert, "-noout", "-subject", "-nameopt", "RFC2253"])
        return out.decode().strip().split("=", 1)[1].strip()

    def __repr__(self):
        return "<Cert %s %s>" % (self.name, self.subject)


class CA(Cert):
    """A certificate authority with its own `openssl ca` database in <dir>."""

    def __init__(self, factory, name, cert, key, issuer, key_type, subject, serial=None):
        self.factory = factory
        self.dir = os.path.join(factory.dir, name + ".ca")
        super().__init__(name, cert, key, issuer, key_type, subject, serial)
        os.makedirs(os.path.join(self.dir, "newcerts"))
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "index.txt.attr"), "w") as f:
            f.write("unique_subject = no\n")
        # Distinct serial ranges per CA make a mix-up between CAs visible in a failure.
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("%02X1000\n" % (factory._next_ca_number()))
        with open(os.path.join(self.dir, "crlnumber"), "w") as f:
            f.write("01\n")
        self.cnf = os.path.join(self.dir, "ca.cnf")
        with open(self.cnf, "w") as f:
            f.write(_CA_CNF.format(dir=self.dir, cert=self.cert, key=self.key))
        self._lock = threading.Lock()     # one openssl ca at a time per database
        self._revoked = set()

    def _intermediates(self):
        out = []
        ca = self
        while ca is not None and ca.issuer is not None:
            out.append(ca.cert)
            ca = ca.issuer
        return out

    @property
    def root(self):
        ca = self
        while ca.issuer is not None:
            ca = ca.issuer
        return ca

    def issue(self, name, cn=None, dns=(), ips=(), uris=(), usage="server", key_type="ec",
              not_before=None, not_after=None, days=825, org="portcullis-test", ca=False):
        """Signs a new certificate <name> for <cn> (default <name>) with the given SANs.
        <usage>: "server", "client" or "both" (extendedKeyUsage). <not_before> /
        <not_after>: "YYYYMMDDHHMMSSZ" to make an expired or not-yet-valid certificate.
        <ca>: make an intermediate CA instead (returns a CA)."""
        f = self.factory
        key = f._path(name, ".key")
        csr = f._path(name, ".csr")
        crt = f._path(name, ".crt")
        ext = f._path(name, ".ext")
        _genkey(key, key_type)
        subject = _subj(cn or name, org)
        _run(["req", "-new", "-config", f.req_cnf, "-key", key, "-subj", subject,
              "-out", csr])
        lines = ["[ ext ]"]
        if ca:
            lines += ["basicConstraints = critical, CA:TRUE, pathlen:0",
                      "keyUsage = critical, keyCertSign, cRLSign"]
        else:
            ku = "digitalSignature" + (", keyEncipherment" if key_type == "rsa" else "")
            eku = {"server": "serverAuth", "client": "clientAuth",
                   "both": "serverAuth, clientAuth"}[usage]
            lines += ["basicConstraints = critical, CA:FALSE",
                      "keyUsage = critical, " + ku,
                      "extendedKeyUsage = " + eku]
        san = _san(dns, ips, uris)
        if san:
            lines.append("subjectAltName = " + san)
        lines += ["subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid:always"]
        with open(ext, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        args = ["ca", "-batch", "-notext", "-config", self.cnf, "-in", csr, "-out", crt,
                "-extfile", ext, "-extensions", "ext", "-preserveDN"]
        if not_before or not_after:
            args += ["-startdate", not_before or "20200101000000Z",
                     "-enddate", not_after or "20991231235959Z"]
        else:
            args += ["-days", str(days)]
        with self._lock:
            _run(args)
        serial = _run(["x509", "-in", crt, "-noout", "-serial"]).decode().strip()
        serial = serial.split("=", 1)[1]
        if ca:
            return CA(f, name, crt, key, self, key_type, subject, serial)
        return Cert(name, crt, key, self, key_type, subject, serial)

    def crl(self, revoked=(), name=None, days=30):
        """Revokes each Cert of <revoked> (issued by this CA) and writes a CRL of every
        certificate revoked so far; returns its path (PEM)."""
        out = self.factory._path(name or (self.name + "-crl"), ".crl")
        with self._lock:
            for c in revoked:
                if c.issuer is not self:
                    raise ValueError("%r was not issued by %r" % (c, self))
                if c.serial in self._revoked:
                    continue
                _run(["ca", "-batch", "-config", self.cnf, "-revoke", c.cert,
                      "-crl_reason", "keyCompromise"])
                self._revoked.add(c.serial)
            _run(["ca", "-batch", "-config", self.cnf, "-gencrl", "-crldays", str(days),
                  "-out", out])
        return out


class CertFactory:
    """Makes CAs and certificates in <directory> (created if needed)."""

    def __init__(self, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self.req_cnf = os.path.join(self.dir, "req.cnf")
        with open(self.req_cnf, "w") as f:
            f.write(_REQ_CNF)
        self._ncas = 0
        self._names = set()
        self._lock = threading.Lock()

    def _next_ca_number(self):
        with self._lock:
            self._ncas += 1
            return self._ncas

    def _path(self, name, suffix):
        if not _SAFE_NAME.match(name):
            raise ValueError("file name %r: use [A-Za-z0-9_.-]" % (name,))
        with self._lock:
            key = (name, suffix)
            if key in self._names:
                raise ValueError("name %r%s used twice in this factory" % key)
            self._names.add(key)
        return os.path.join(self.dir, name + suffix)

    def make_ca(self, name, cn=None, key_type="ec", days=3650, org="portcullis-test"):
        """A self-signed root CA."""
        key = self._path(name, ".key")
        crt = self._path(name, ".crt")
        _genkey(key, key_type)
        subject = _subj(cn or (name + " CA"), org)
        _run(["req", "-new", "-x509", "-config", self.req_cnf, "-extensions", "v3_ca",
              "-key", key, "-subj", subject, "-days", str(days), "-sha256",
              "-set_serial", "1", "-out", crt])
        return CA(self, name, crt, key, None, key_type, subject, "01")

    def server_cert(self, ca, name, dns=(), ips=(), key_type="ec", **kw):
        return ca.issue(name, cn=kw.pop("cn", None) or (list(dns) + list(ips) + [name])[0],
                        dns=dns, ips=ips, usage="server", key_type=key_type, **kw)

    def client_cert(self, ca, name, cn=None, uri=None, dns=None, key_type="ec", **kw):
        return ca.issue(name, cn=cn or name, dns=[dns] if dns else (),
                        uris=[uri] if uri else (), usage="client", key_type=key_type, **kw)

    def expired_cert(self, ca, name, usage="server", dns=("localhost",), ips=("127.0.0.1",),
                     **kw):
        """Valid from 2020-01-01 to 2020-02-01."""
        return ca.issue(name, dns=dns if usage != "client" else (),
                        ips=ips if usage != "client" else (), usage=usage,
                        not_before="20200101000000Z", not_after="20200201000000Z", **kw)

    def self_signed(self, name, dns=("localhost",), ips=("127.0.0.1",), key_type="ec",
                    days=825, org="portcullis-test"):
        """A self-signed leaf (not a CA): what a misconfigured or rogue peer presents."""
        key = self._path(name, ".key")
        crt = self._path(name, ".crt")
        _genkey(key, key_type)
        subject = _subj((list(dns) + list(ips) + [name])[0], org)
        args = ["req", "-new", "-x509", "-config", self.req_cnf, "-extensions", "v3_self",
                "-key", key, "-subj", subject, "-days", str(days), "-sha256", "-out", crt]
        san = _san(dns, ips)
        if san:
            args += ["-addext", "subjectAltName = " + san]
        _run(args)
        return Cert(name, crt, key, None, key_type, subject)

    def bundle(self, name, *certs):
        """One PEM file holding the certificates of <certs> (Cert objects), in order."""
        out = self._path(name, ".pem")
        with open(out, "w", encoding="ascii") as f:
            for c in certs:
                f.write(c.pem)
        return out


class TlsSet:
    """The standard set of the TLS tests (see make_standard_set)."""


def make_standard_set(directory):
    f = CertFactory(directory)
    s = TlsSet()
    s.factory = f
    # Server side of the gateway.
    s.ca = f.make_ca("ca", cn="portcullis test CA")
    s.server_ec = f.server_cert(s.ca, "server-ec", dns=["localhost"], ips=["127.0.0.1"])
    s.server_rsa = f.server_cert(s.ca, "server-rsa", dns=["localhost"], ips=["127.0.0.1"],
                                 key_type="rsa")
    s.api = f.server_cert(s.ca, "api", dns=["api.example.test"])
    s.wild = f.server_cert(s.ca, "wild", dns=["*.wild.test"])
    s.expired = f.expired_cert(s.ca, "server-expired")
    s.self_signed = f.self_signed("self-signed")
    # Client certificates (mutual TLS).
    s.client_ca = f.make_ca("client-ca", cn="portcullis test client CA")
    s.alice = f.client_cert(s.client_ca, "alice", uri="spiffe://anycompany/alice",
                            dns="alice.clients.test")
    s.bob = f.client_cert(s.client_ca, "bob", uri="spiffe://anycompany/bob")
    s.client_crl = s.client_ca.crl([s.bob], name="client-ca")
    s.client_expired = f.expired_cert(s.client_ca, "client-expired", usage="client")
    s.other_ca = f.make_ca("other-ca", cn="untrusted CA")
    s.mallory = f.client_cert(s.other_ca, "mallory", uri="spiffe://anycompany/alice")
    # Upstream side: the upstream's own CA, its certificate for 127.0.0.1, one for a wrong
    # name, and the gateway's client certificate to it (signed by the same CA).
    s.upstream_ca = f.make_ca("upstream-ca", cn="portcullis test upstream CA")
    s.upstream = f.server_cert(s.upstream_ca, "upstream", dns=["upstream.test"],
                               ips=["127.0.0.1"])
    s.upstream_wrong_name = f.server_cert(s.upstream_ca, "upstream-wrong-name",
                                          dns=["wrong.example.test"])
    s.gw_client = f.client_cert(s.upstream_ca, "gw-client", cn="portcullis-gateway")
    return s


# ---- client side -----------------------------------------------------------------------

def client_context(ca=None, cert=None, verify=True, min_version=None, max_version=None,
                   alpn=None, tickets=True):
    """An ssl client context for talking to the gateway. <ca>: a CA/Cert or a path;
    <cert>: a Cert to present; <verify>: False disables chain and name checks."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_verify_locations(cafile=getattr(ca, "cert", ca))
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(cert.chain, cert.key)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    if not tickets:
        ctx.options |= ssl.OP_NO_TICKET
    return ctx


class TlsConn(Conn):
    """A pc_client.Conn over TLS: the handshake happens in the constructor (and raises
    ssl.SSLError / OSError on failure). <server_name>: SNI and the checked name; None
    sends no SNI (then the context must not check the host name)."""

    def __init__(self, port, ctx, server_name="localhost", timeout=5.0, session=None):
        super().__init__(port, timeout)
        raw = self.sock
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=server_name, session=session)
        except BaseException:
            raw.close()
            raise

    @property
    def peer_cert_sha256(self):
        return hashlib.sha256(self.sock.getpeercert(binary_form=True)).hexdigest()


def tls_request(port, ctx, method="GET", target="/", headers=None, body=None,
                host="localhost", server_name="localhost", timeout=5.0, keep=False):
    """One request over a fresh TLS connection; returns the Response (and the TlsConn if
    keep)."""
    c = TlsConn(port, ctx, server_name, timeout)
    try:
        c.send(build_request(method, target, headers, body, host))
        r = c.read_response(method)
    except BaseException:
        c.close()
        raise
    if keep:
        return r, c
    c.close()
    return r


# ---- fixtures --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory):
    """The standard set, made once per session (the RSA key makes this ~1 s)."""
    return make_standard_set(tmp_path_factory.mktemp("tls-certs"))


@pytest.fixture
def tls_factory(tmp_path):
    """A CertFactory writing into this test's tmp_path, for certificates of its own."""
    return CertFactory(os.path.join(str(tmp_path), "certs"))


@pytest.fixture
def tls_upstream_factory():
    """make(cert, name="tlsup", port=0, client_ca=None, client_cert="required", ...) -> a
    started TLS recording Upstream presenting <cert>; all stopped at teardown."""
    ups = []

    def make(cert, name="tlsup", port=0, client_ca=None, client_cert="required", **kw):
        u = Upstream(name, port, tls_cert=cert.chain, tls_key=cert.key,
                     tls_client_ca=getattr(client_ca, "cert", client_ca),
                     tls_client_cert=client_cert if client_ca else "none", **kw).start()
        ups.append(u)
        return u

    yield make
    errors = []
    for u in ups:
        u.stop()
        errors += u.errors
    if errors:
        pytest.fail("TLS test upstream raised: %r" % errors)

