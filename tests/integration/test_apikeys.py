"""
API keys (issue 4 item 6): the lifecycle through the real `portcullis keys` commands and a
running gateway: new, list, use, disable + SIGHUP -> 401, rotate (both keys work until the
grace ends, then only the new one), keys in the query (off by default, on with
query_param, masked in the log, never forwarded), the key header stripped upstream with
forward_credential: false, ambiguous credentials, challenges, and the loader's errors.
"""

import json
import os
import re
import stat
import subprocess
import time

from pc_client import request, poll, scaled
from pc_gateway import BIN, run_check
from pc_jwt import AUD, ISS, Issuer

KEY_RE = re.compile(r"^pck_[0-9A-Za-z]{49}$")


def keys(*args, env=None):
    """`portcullis keys ARGS` -> (exit code, stdout, stderr)."""
    e = dict(os.environ)
    e.pop("PORTCULLIS_KEYS_PEPPER", None)
    e.update(env or {})
    p = subprocess.run([BIN, "keys"] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=scaled(10), env=e)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def new_key(store, name, *extra):
    code, out, err = keys("new", "--file", store, "--name", name, *extra)
    assert code == 0, err
    key = out.strip().splitlines()[-1]
    assert KEY_RE.match(key), out
    assert "send SIGHUP to the gateway to apply" in err
    return key


def route(**kw):
    r = {"name": "partner", "path": "/partner/**", "methods": ["GET"],
         "upstream": "backend", "auth": ["partners"]}
    r.update(kw)
    return r


def gw_with(gateway_factory, store, store_cfg=None, issuers=None, **route_kw):
    sc = {"file": store}
    sc.update(store_cfg or {})
    over = {"api_keys": {"partners": sc}}
    if issuers:
        over["issuers"] = issuers

    def edit(cfg):
        cfg["routes"] = [route(**route_kw)]
        return cfg
    return gateway_factory(overrides=over, edit=edit)


def xkey(k):
    return [("X-API-Key", k)]


def wait_status(gw, target, headers, want, timeout=5.0):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        r = request(gw.port, "GET", target, headers=headers)
        if r.status == want or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def test_new_list_use(gateway_factory, tmp_path):
    store = str(tmp_path / "keys.db")
    key = new_key(store, "acme", "--scopes", "orders:read,orders:write")
    # The store and its pepper are private; the store holds no key.
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store + ".pepper").st_mode) == 0o600
    text = open(store).read()
    assert key not in text and key[4:20] not in text
    assert text.splitlines()[1].startswith("portcullis-keys v1 pepper-id=")
    code, out, _ = keys("list", "--file", store)
    assert code == 0 and "acme" in out and "orders:read,orders:write" in out
    assert "active" in out and "pck_" not in out

    gw = gw_with(gateway_factory, store, identity_headers=True,
                 scopes=["orders:read"])
    r = request(gw.port, "GET", "/partner/orders", headers=xkey(key))
    assert r.status == 200, r
    e = gw.access_for(r.header("x-request-id"))
    assert e["principal"] == "acme"
    rec = gw.upstream.wait_path("/partner/orders")
    assert rec.header("x-portcullis-auth") == "apikey"
    assert rec.header("x-portcullis-subject") == "acme"
    assert rec.header("x-api-key") == key          # forward_credential defaults to true


def test_bad_keys_refused_before_upstream(gateway_factory, tmp_path):
    store = str(tmp_path / "keys.db")
    key = new_key(store, "acme")
    gw = gw_with(gateway_factory, store)
    tampered = key[:10] + ("A" if key[10] != "A" else "B") + key[11:]
    other_pepper = tmp_path / "other"
    other_pepper.mkdir()
    unknown = new_key(str(other_pepper / "k.db"), "acme")
    cases = [
        ([], "auth_missing"),
        (xkey(tampered), "auth_apikey_malformed"),      # checksum
        (xkey(key[:-1]), "auth_apikey_malformed"),      # length
        (xkey("xyz_" + key[4:]), "auth_apikey_malformed"),
        (xkey(key[:20] + "-" + key[21:]), "auth_apikey_malformed"),
        (xkey(key) + xkey(key), "auth_apikey_malformed"),   # two fields
        (xkey(unknown), "auth_apikey_unknown"),
    ]
    for hdrs, reason in cases:
        r = request(gw.port, "GET", "/partner/x", headers=hdrs)
        assert r.status == 401 and r.json()["reason"] == reason, (hdrs, r)
        assert r.header("www-authenticate") == 'APIKey realm="portcullis", header="X-API-Key"'
    gw.upstream.assert_nothing()
    ev = gw.wait_event(lambda e: e.get("reason") == "auth_apikey_unknown")
    assert ev["phase"] == "authenticate"
    assert "pck_" not in json.dumps(gw.events()) + json.dumps(gw.access())


def test_disable_then_sighup(gateway_factory, tmp_path):
    store = str(tmp_path / "keys.db")
    key = new_key(store, "acme")
    keep = new_key(store, "other")
    gw = gw_with(gateway_factory, store)
    assert request(gw.port, "GET", "/partner/a", headers=xkey(key)).status == 200
    code, out, err = keys("disable", "--file", store, "--name", "acme")
    assert code == 0 and "send SIGHUP" in err
    # Nothing changes until the reload.
    assert request(gw.port, "GET", "/partner/a", headers=xkey(key)).status == 200
    gw.reload(gw.config)
    r = wait_status(gw, "/partner/a", xkey(key), 401)
    assert r.status == 401 and r.json()["reason"] == "auth_apikey_disabled"
    assert request(gw.port, "GET", "/partner/a", headers=xkey(keep)).status == 200
    # By fingerprint too.
    code, out, _ = keys("list", "--file", store)
    fpr = [ln.split()[1] for ln in out.splitlines() if ln.startswith("other ")][0]
    assert keys("disable", "--file", store, "--fingerprint", fpr)[0] == 0
    gw.reload(gw.config)
    assert wait_status(gw, "/partner/a", xkey(keep), 401).status == 401


def test_rotate_with_grace(gateway_factory, tmp_path):
    store = str(tmp_path / "keys.db")
    old = new_key(store, "acme", "--scopes", "a,b")
    code, out, err = keys("rotate", "--file", store, "--name", "acme", "--grace", "2s")
    assert code == 0, err
    new = out.strip().splitlines()[-1]
    assert KEY_RE.match(new) and new != old
    code, out, _ = keys("list", "--file", store)
    assert out.count("acme") == 2 and out.count("a,b") == 2
    gw = gw_with(gateway_factory, store)
    assert request(gw.port, "GET", "/partner/r", headers=xkey(old)).status == 200
    assert request(gw.port, "GET", "/partner/r", headers=xkey(new)).status == 200
    r = wait_status(gw, "/partner/r", xkey(old), 401, timeout=6)
    assert r.status == 401 and r.json()["reason"] == "auth_apikey_expired"
    assert request(gw.port, "GET", "/partner/r", headers=xkey(new)).status == 200


def test_query_param_off_and_on(gateway_factory, tmp_path):
    store = str(tmp_path / "keys.db")
    key = new_key(store, "acme")
    gw = gw_with(gateway_factory, store)
    r = request(gw.port, "GET", "/partner/q?api_key=" + key)
    assert r.status == 401 and r.json()["reason"] == "auth_apikey_in_query"
    r = request(gw.port, "GET", "/partner/q?x=pck%5F" + key[4:], headers=xkey(key))
    assert r.status == 401 and r.json()["reason"] == "auth_apikey_in_query"
    gw.upstream.assert_nothing()

    gw2 = gw_with(gateway_factory, store, {"query_param": "api_key"})
    r = request(gw2.port, "GET", "/partner/q?a=1&api_key=" + key + "&b=2")
    assert r.status == 200, r
    rec = gw2.upstream.wait_path("/partner/q")
    assert rec.target == "/partner/q?a=1&b=2"     # the key never leaves
    r = request(gw2.port, "GET", "/partner/q?api_key=" + key + "&api_key=" + key)
    assert r.status == 401 and r.json()["reason"] == "auth_apikey_malformed"
    # A raw target is logged only when normalization fails: its query values are masked.
    r = request(gw2.port, "GET", "/partner/%2e%2e/%2e%2e/x?api_key=" + key)
    assert r.status == 400
    logs = json.dumps(gw2.access()) + json.dumps(gw2.events())
    assert key not in logs and key[4:30] not in logs
    e = gw2.access_for(r.header("x-request-id"))
    assert e["path"].endswith("?api_key=*"), e


def test_strip_and_ambiguous(gateway_factory, tmp_path):
    store = str(tmp_path / "keys.db")
    key = new_key(store, "acme")
    iss = Issuer(tmp_path)
    issuers = {"corp": {"issuer": ISS, "audiences": [AUD], "jwks_file": iss.jwks_file}}
    gw = gw_with(gateway_factory, store, issuers=issuers, forward_credential=False,
                 auth=["corp", "partners"])
    r = request(gw.port, "GET", "/partner/s", headers=xkey(key))
    assert r.status == 200, r
    rec = gw.upstream.wait_path("/partner/s")
    assert rec.header("x-api-key") is None
    tok = iss.token()
    r = request(gw.port, "GET", "/partner/t", headers=[("Authorization", "Bearer " + tok)])
    assert r.status == 200, r
    r = request(gw.port, "GET", "/partner/u",
                headers=[("Authorization", "Bearer " + tok)] + xkey(key))
    assert r.status == 401 and r.json()["reason"] == "auth_credentials_ambiguous"
    ch = r.header_all("www-authenticate")
    assert 'Bearer realm="portcullis", error="invalid_request"' in ch, ch
    assert 'APIKey realm="portcullis", header="X-API-Key"' in ch, ch
    r = request(gw.port, "GET", "/partner/v")
    assert r.status == 401
    assert set(r.header_all("www-authenticate")) == {
        'Bearer realm="portcullis"', 'APIKey realm="portcullis", header="X-API-Key"'}
    assert gw.upstream.snapshot()[-1].path == "/partner/t"


def test_config_errors(gateway_factory, tmp_path):
    store = str(tmp_path / "keys.db")
    new_key(store, "acme")
    gw = gw_with(gateway_factory, store)
    cfg = gw.config

    def check(edit, expect):
        c = json.loads(json.dumps(cfg))
        edit(c)
        gw.write_config(c)
        code, out, err = run_check(gw.cfg_path)
        assert code != 0 and expect in err, (expect, out, err)

    check(lambda c: c["api_keys"]["partners"].update(pepper="0" * 64),
          "pepper: must come from ${env:NAME} or ${file:PATH}")
    check(lambda c: c["api_keys"].update(other={"file": store + ".missing"}),
          "api_keys.other.file:")
    os.chmod(store + ".pepper", 0o640)
    check(lambda c: None, "is readable by group or others (mode 0640): chmod 600 it")
    os.chmod(store + ".pepper", 0o600)
    with open(store, "a") as f:
        f.write("garbage line\n")
    check(lambda c: None, "keys.db:4: expected 6 fields")
    # A store is never rewritten when it does not parse.
    before = open(store).read()
    assert keys("new", "--file", store, "--name", "x")[0] == 1
    assert open(store).read() == before
    gw.write_config(cfg)
    gw.signal(15)
    gw.expect_exit = True
    gw.wait_exit(10)


def test_wrong_pepper_is_a_load_error(gateway_factory, tmp_path):
    store = str(tmp_path / "keys.db")
    new_key(store, "acme")
    gw = gw_with(gateway_factory, store)
    pep = tmp_path / "p2"
    pep.write_text("ab" * 32 + "\n")
    os.chmod(str(pep), 0o600)
    c = json.loads(json.dumps(gw.config))
    c["api_keys"]["partners"]["pepper"] = "${file:%s}" % pep
    gw.write_config(c)
    code, out, err = run_check(gw.cfg_path)
    assert code == 1 and "wrong pepper for this store" in err, err
    # A reload with it is refused: the running store keeps working.
    gw.signal(1)
    assert poll(lambda: "wrong pepper" in gw.stderr(), 3.0)
    code, _, err = keys("list", "--file", store, "--pepper-file", str(pep))
    assert code == 1 and "wrong pepper" in err


def test_keys_usage_errors(tmp_path):
    store = str(tmp_path / "k.db")
    assert keys()[0] == 2
    assert keys("frobnicate", "--file", store)[0] == 2
    assert keys("new", "--name", "a")[0] == 2
    code, _, err = keys("new", "--file", store, "--name", "bad name")
    assert code == 1 and "--name" in err
    code, _, err = keys("new", "--file", store, "--name", "a", "--expires", "yesterday")
    assert code == 1 and "--expires" in err
    code, _, err = keys("list", "--file", store)
    assert code == 1
    env = {"PORTCULLIS_KEYS_PEPPER": "cd" * 32}
    code, out, _ = keys("new", "--file", store, "--name", "a", "--expires", "30d", env=env)
    assert code == 0 and not os.path.exists(store + ".pepper")
    assert keys("list", "--file", store, env=env)[0] == 0
    code, _, err = keys("disable", "--file", store, "--name", "nobody", env=env)
    assert code == 1 and "no key named 'nobody'" in err
