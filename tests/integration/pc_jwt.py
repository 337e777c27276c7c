"""
tests/integration/pc_jwt.py - a token issuer for the tests: keys made with
python3-cryptography, a JWK Set file, and tokens signed with python3-jwt (or built by hand
when a test needs a token no library would make).

Owns: every key and token an authentication test uses.
"""

import base64
import json
import os
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

__all__ = ["Issuer", "b64url", "raw_token", "ISS", "AUD"]

ISS = "https://issuer.test"
AUD = "https://api.test"


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header, payload, sig=b""):
    """header.payload.signature from Python objects (or raw bytes), unsigned unless <sig>."""
    h = header if isinstance(header, (bytes, str)) else json.dumps(header)
    p = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return "%s.%s.%s" % (b64url(h), b64url(p), b64url(sig) if sig else "")


class Issuer:
    """Keys rs1 (RSA-2048), es1 (P-256), ed1 (Ed25519); .jwks_file written into <directory>."""

    def __init__(self, directory, iss=ISS, aud=AUD):
        self.iss = iss
        self.aud = aud
        self.keys = {
            "rs1": ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            "es1": ("ES256", ec.generate_private_key(ec.SECP256R1())),
            "ed1": ("EdDSA", ed25519.Ed25519PrivateKey.generate()),
        }
        self.jwks_file = os.path.join(str(directory), "jwks-%d.json" % id(self))
        self.write_jwks()

    @staticmethod
    def public_jwk(kid, alg, key):
        pub = key.public_key()
        if alg.startswith("RS") or alg.startswith("PS"):
            j = json.loads(RSAAlgorithm.to_jwk(pub))
        elif alg.startswith("ES"):
            # Not ECAlgorithm.to_jwk: it drops leading zero bytes of x and y (1 key in
            # 64), which RFC 7518 6.2.1.2 forbids and the gateway rightly refuses.
            n = pub.public_numbers()
            size = (pub.curve.key_size + 7) // 8
            j = {"kty": "EC", "crv": {256: "P-256", 384: "P-384", 521: "P-521"}[
                pub.curve.key_size], "x": b64url(n.x.to_bytes(size, "big")),
                 "y": b64url(n.y.to_bytes(size, "big"))}
        else:
            j = json.loads(OKPAlgorithm.to_jwk(pub))
        j.update({"kid": kid, "use": "sig"})
        return j

    def jwks(self, kids=None):
        return {"keys": [self.public_jwk(k, a, key) for k, (a, key) in self.keys.items()
                         if kids is None or k in kids]}

    def write_jwks(self, kids=None, extra=()):
        ks = self.jwks(kids)
        ks["keys"].extend(extra)
        with open(self.jwks_file, "w") as f:
            json.dump(ks, f)

    def add_key(self, kid, alg="ES256"):
        key = (ec.generate_private_key(ec.SECP256R1()) if alg == "ES256" else
               rsa.generate_private_key(public_exponent=65537, key_size=2048))
        self.keys[kid] = (alg, key)
        return key

    def claims(self, **over):
        now = int(time.time())
        c = {"iss": self.iss, "aud": self.aud, "sub": "alice", "iat": now, "exp": now + 300,
             "scope": "items:read"}
        for k, v in over.items():
            if v is None:
                c.pop(k, None)
            else:
                c[k] = v
        return c

    def token(self, kid="es1", alg=None, headers=None, **claims):
        a, key = self.keys[kid]
        h = {"kid": kid}
        h.update(headers or {})
        return jwt.encode(self.claims(**claims), key, algorithm=alg or a, headers=h)

    def pem_public(self, kid):
        return self.keys[kid][1].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
