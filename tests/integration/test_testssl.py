"""
An outside opinion on the TLS listener: testssl.sh (Debian package testssl.sh, binary
/usr/bin/testssl) scans a test gateway's TLS listener serving the standard ECDSA and RSA
certificates, and the test fails on any finding of severity HIGH or CRITICAL, printing
them. Protocols, cipher categories, forward secrecy, server defaults and preference,
HTTP headers and the vulnerability checks run; 127.0.0.1 only, the test CA added, no DNS,
no phoning out (no OCSP, CRL or CT look-ups), bounded in time.

Skipped only when the testssl binary is missing (scripts/deps.sh installs it).
"""

import json
import os
import shutil
import subprocess

import pytest

from pc_client import scaled
from pc_tls import *        # noqa: F401,F403 - fixture tls_certs
from pc_tlsgw import *      # noqa: F401,F403 - fixture tls_gateway

TESTSSL = os.environ.get("PC_TEST_TESTSSL", "/usr/bin/testssl")
# The whole scan normally takes 1-2 minutes on loopback; the bound is for a hang.
SCAN_TIMEOUT = 420

# Finding ids that are artefacts of scanning a test gateway on loopback with a private
# CA, never properties of the gateway. Each is excluded by its exact id, with the reason.
ARTEFACTS = {
    # HIGH "Neither CRL nor OCSP URI provided", once per certificate: the throw-away test
    # CA has no OCSP responder and no CRL distribution point, so its certificates name
    # none. A judgement of the CA's certificates, not of the gateway, which serves the
    # certificates it is given. (Nothing else is excluded: a HIGH chain-of-trust or
    # stapling finding would be the gateway's, since --add-ca makes the test CA trusted.)
    "cert_revocation": "test CA: its certificates name no OCSP responder or CRL",
}
BAD = {"HIGH", "CRITICAL"}


def have_testssl():
    return os.path.isfile(TESTSSL) and os.access(TESTSSL, os.X_OK)


@pytest.mark.skipif(not have_testssl(), reason="testssl not installed (%s)" % TESTSSL)
def test_testssl_finds_nothing_high_or_critical(tls_gateway, tls_certs, tmp_path):
    gw = tls_gateway()
    out_json = str(tmp_path / "testssl.json")
    home = tmp_path / "home"
    home.mkdir()
    args = [TESTSSL,
            "--quiet", "--color", "0", "--warnings", "off",
            "--nodns", "none", "--ip", "127.0.0.1",
            "--add-ca", tls_certs.ca.cert,
            "--connect-timeout", "10", "--openssl-timeout", "10",
            "--jsonfile", out_json,
            "--sneaky",
            # protocols, standard ciphers, forward secrecy, server defaults and
            # preference, HTTP headers, every vulnerability check
            "-p", "-s", "-f", "-S", "-P", "-h", "-U",
            "localhost:%d" % gw.tls_port]
    env = dict(os.environ, HOME=str(home), TERM="dumb")
    # testssl uses the system openssl (Debian's package ships none of its own).
    if shutil.which("openssl"):
        env.setdefault("OPENSSL", shutil.which("openssl"))
    try:
        p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=scaled(SCAN_TIMEOUT), env=env,
                           cwd=str(tmp_path))
    except subprocess.TimeoutExpired as e:
        pytest.fail("testssl did not finish within %d s; output so far:\n%s" % (
            scaled(SCAN_TIMEOUT), (e.output or b"").decode("utf-8", "replace")[-6000:]))
    text = p.stdout.decode("utf-8", "replace")
    assert os.path.exists(out_json), "testssl wrote no JSON (exit %d):\n%s" % (
        p.returncode, text[-6000:])
    with open(out_json, "r", encoding="utf-8") as f:
        findings = json.load(f)
    assert isinstance(findings, list) and findings, "empty testssl JSON:\n" + text[-6000:]
    ids = {x.get("id") for x in findings}
    # The scan must have reached the server: protocol results are there.
    assert {"TLS1_2", "TLS1_3"} <= ids, "testssl did not test the protocols: %s\n%s" % (
        sorted(ids), text[-6000:])
    fatal = [x for x in findings if x.get("severity") == "FATAL"]
    assert not fatal, "testssl could not scan: %r" % fatal
    # Per-certificate findings carry a suffix: "cert_revocation <cert#1>".
    bad = [x for x in findings if x.get("severity") in BAD and
           str(x.get("id")).split(" ")[0] not in ARTEFACTS]
    if bad:
        lines = ["%s %s: %s%s" % (x.get("severity"), x.get("id"), x.get("finding"),
                                  (" (%s)" % x["cve"]) if x.get("cve") else "")
                 for x in bad]
        pytest.fail("testssl findings of severity HIGH/CRITICAL:\n  " +
                    "\n  ".join(lines), pytrace=False)
    # The scan is one more client the gateway must have survived.
    assert gw.alive()
