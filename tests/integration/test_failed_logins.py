"""
Failed logins are logged and slowed (issue 4 item 9, docs/decisions/0013-failed-logins.md):
bad credentials from one address are answered later and later past delay_after, without
holding the worker (a good client on the same worker is answered at once); at
lockout_after the address is refused with 429 and Retry-After, nothing reaches the
upstream, one "lockout started" security event is written, and the lockout ends. A claimed
identity is slowed down across addresses but never locked out. A login: true route counts
its upstream's 401/403. failed_auth: false turns it all off.

Several client addresses on one machine: the clients bind 127.0.0.x source addresses
(all of 127.0.0.0/8 is loopback on Linux).
"""

import socket
import threading
import time

import pytest

from pc_client import metric_value, scaled
from pc_jwt import AUD, ISS, Issuer, raw_token


def fa_config(iss, failed_auth=None, workers=None, extra_routes=()):
    routes = [{"name": "api", "path": "/api/**", "upstream": "backend", "auth": ["corp"]}]
    routes += list(extra_routes)
    cfg = {"issuers": {"corp": {"issuer": ISS, "audiences": [AUD], "algorithms": ["ES256"],
                                "jwks_file": iss.jwks_file}}}
    if failed_auth is not None:
        cfg["failed_auth"] = failed_auth
    if workers is not None:
        cfg["workers"] = workers

    def edit(c):
        c["routes"] = routes
        return c
    return cfg, edit


@pytest.fixture
def issuer(tmp_path):
    return Issuer(tmp_path)


def start(gateway_factory, iss, **kw):
    cfg, edit = fa_config(iss, **kw)
    return gateway_factory(overrides=cfg, edit=edit)


class Answer:
    def __init__(self, status, headers, body, seconds):
        self.status = status
        self.headers = headers
        self.body = body
        self.seconds = seconds

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<%d in %.3f s %r %r>" % (self.status, self.seconds, self.headers, self.body[:200])


def call(port, path, token=None, src="127.0.0.1", timeout=10.0):
    """One HTTP/1.1 request from source address <src> on a fresh connection (closed after);
    returns an Answer with the time from sending to the end of the answer."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(scaled(timeout))
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        head = "GET %s HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n" % path
        if token is not None:
            head += "Authorization: Bearer %s\r\n" % token
        t0 = time.monotonic()
        s.sendall((head + "\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            b = s.recv(65536)
            assert b, "closed before the head: %r" % data
            data += b
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        # Every answer here has a Content-Length (gateway errors, the test upstream).
        n = int(hdrs.get("content-length", "0"))
        while len(body) < n:
            b = s.recv(65536)
            assert b, "closed in the body"
            body += b
        dt = time.monotonic() - t0
    finally:
        s.close()
    return Answer(status, hdrs, body, dt)


def bad_token(iss, sub="mallory"):
    """A well-formed ES256 token for a known key whose signature is wrong."""
    return raw_token({"alg": "ES256", "kid": "es1"}, iss.claims(sub=sub), b"\x01" * 64)


def metrics(gw):
    m = gw.metrics()
    return {k: metric_value(m, "portcullis_auth_%s_total" % k)
            for k in ("failures", "lockouts", "delayed")}


def lockout_events(gw):
    return [e for e in gw.events() if "lockout started" in (e.get("detail") or "")]


def test_failures_are_slowed_then_locked_out_and_the_lockout_ends(gateway_factory, issuer):
    gw = start(gateway_factory, issuer, failed_auth={
        "window_s": 60, "delay_after": 3, "delay_ms": 300, "max_delay_ms": 1200,
        "lockout_after": 8, "lockout_s": 3})
    want = [0, 0, 0, 0.3, 0.6, 1.2, 1.2]      # failures 1..7
    for i, d in enumerate(want):
        a = call(gw.port, "/api/items", bad_token(issuer))
        assert a.status == 401, (i, a)
        assert a.header("www-authenticate") == 'Bearer realm="portcullis", error="invalid_token"'
        assert a.header("retry-after") is None
        # Generous bounds: never early; late by at most a second and a half.
        assert a.seconds >= d * 0.9, (i, d, a)
        assert a.seconds < scaled(d + 1.5), (i, d, a)
    # The 8th failure locks the address out: 429 with Retry-After, as slow as the slowest
    # failure (max_delay_ms) and without keep-alive, so a locked-out client cannot ask fast.
    a = call(gw.port, "/api/items", bad_token(issuer))
    assert a.status == 429, a
    assert 1.2 * 0.9 <= a.seconds < scaled(1.2 + 1.5), a
    assert a.header("connection") == "close", a
    assert 1 <= int(a.header("retry-after")) <= 3, a
    # From now on every request of this address is refused before its token is looked at,
    # a good one too, and nothing reaches the upstream.
    good = issuer.token(sub="alice")
    a = call(gw.port, "/api/items", good)
    assert a.status == 429 and b"auth_locked_out" in a.body, a
    assert 1 <= int(a.header("retry-after")) <= 3, a
    assert 1.2 * 0.9 <= a.seconds < scaled(1.2 + 1.5), a
    assert a.header("connection") == "close", a
    gw.upstream.assert_nothing()
    # Other addresses are not locked out.
    a = call(gw.port, "/api/items", good, src="127.0.0.2")
    assert a.status == 200, a
    # One event says the lockout started, with the failure that caused it.
    ev = gw.wait_event(lambda e: "lockout started" in (e.get("detail") or ""))
    assert ev["reason"] == "auth_locked_out" and ev["client_ip"] == "127.0.0.1"
    assert "auth_bad_signature" in ev["detail"]
    # ... and every failure is an event with its reason, never the token.
    evs = gw.events()
    assert sum(1 for e in evs if e.get("reason") == "auth_bad_signature") == 7
    assert "eyJ" not in str(evs)
    m = metrics(gw)
    assert m == {"failures": 8, "lockouts": 1, "delayed": 4}, m
    # The lockout ends.
    time.sleep(3.2)
    a = call(gw.port, "/api/items", good)
    assert a.status == 200, a
    assert len(lockout_events(gw)) == 1


def test_delayed_answers_do_not_hold_the_worker(gateway_factory, issuer):
    gw = start(gateway_factory, issuer, workers=1, failed_auth={
        "delay_after": 0, "delay_ms": 2000, "max_delay_ms": 2000, "lockout_after": 1000})
    results = []
    lock = threading.Lock()

    def bad():
        a = call(gw.port, "/api/items", bad_token(issuer))
        with lock:
            results.append(a)
    threads = [threading.Thread(target=bad) for _ in range(20)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(0.5)     # all 20 parked by now, on the one worker
    good = issuer.token(sub="alice")
    for _ in range(3):
        a = call(gw.port, "/api/items", good, src="127.0.0.2")
        assert a.status == 200, a
        assert a.seconds < scaled(0.2), a
    for t in threads:
        t.join()
    assert len(results) == 20
    for a in results:
        assert a.status == 401, a
        assert a.seconds >= 1.8, a
    # Held concurrently, not one after the other.
    assert time.monotonic() - t0 < scaled(6.0)
    assert metrics(gw)["delayed"] == 20


def test_an_identity_is_slowed_across_addresses_but_never_locked_out(gateway_factory, issuer):
    gw = start(gateway_factory, issuer, failed_auth={
        "delay_after": 2, "delay_ms": 200, "max_delay_ms": 400, "lockout_after": 3,
        "lockout_s": 60})
    # One failure per address, all claiming "victim": no address reaches any threshold,
    # the identity passes them all and is slowed, never refused.
    for i in range(8):
        a = call(gw.port, "/api/items", bad_token(issuer, sub="victim"), src="127.0.1.%d" % (i + 1))
        assert a.status == 401, (i, a)
        if i >= 2:
            assert a.seconds >= 0.18, (i, a)
    assert metrics(gw)["lockouts"] == 0
    # Its owner still gets in at once, from anywhere, and that forgets the failures.
    a = call(gw.port, "/api/items", issuer.token(sub="victim"), src="127.0.2.1")
    assert a.status == 200 and a.seconds < scaled(0.5), a
    a = call(gw.port, "/api/items", bad_token(issuer, sub="victim"), src="127.0.2.2")
    assert a.status == 401 and a.seconds < scaled(0.15), a


def test_login_route_counts_upstream_401_and_403(gateway_factory, issuer):
    login = {"name": "login", "path": "/login/**", "upstream": "backend", "public": True,
             "login": True}
    other = {"name": "pub", "path": "/pub/**", "upstream": "backend", "public": True}
    gw = start(gateway_factory, issuer, extra_routes=[login, other], failed_auth={
        "delay_after": 1, "lockout_after": 4, "lockout_s": 60})
    # Successful logins count for nothing.
    for _ in range(5):
        assert call(gw.port, "/login/ok").status == 200
    for st in (401, 403, 401, 403):
        a = call(gw.port, "/login/status/%d" % st)
        assert a.status == st, a        # the upstream's answer, as it was
    gw.upstream.wait_requests(9)
    ev = gw.wait_event(lambda e: "lockout started" in (e.get("detail") or ""))
    assert ev["route"] == "login" and ev["phase"] == "guard", ev
    assert "upstream 403 on a login route" in ev["detail"], ev
    gw.upstream.clear()
    a = call(gw.port, "/login/ok")
    assert a.status == 429 and int(a.header("retry-after")) > 50, a
    # The lockout covers the routes that check credentials too ...
    a = call(gw.port, "/api/items", issuer.token())
    assert a.status == 429, a
    gw.upstream.assert_nothing()
    # ... but not public routes that are not login endpoints.
    assert call(gw.port, "/pub/x").status == 200
    assert call(gw.port, "/login/ok", src="127.0.0.3").status == 200
    m = metrics(gw)
    assert m["failures"] == 4 and m["lockouts"] == 1, m


def test_on_by_default_with_auth_and_off_with_false(gateway_factory, issuer):
    gw = start(gateway_factory, issuer)
    slow = 0
    for _ in range(7):
        a = call(gw.port, "/api/items", bad_token(issuer))
        assert a.status == 401, a
        slow += a.seconds >= 0.2
    assert slow == 2      # the defaults: 5 free, then 250 ms, 500 ms
    assert metrics(gw)["failures"] == 7
    off = start(gateway_factory, issuer, failed_auth=False)
    for _ in range(12):
        a = call(off.port, "/api/items", bad_token(issuer))
        assert a.status == 401 and a.seconds < scaled(0.2), a
    assert metrics(off)["failures"] == 0


def test_missing_credentials_are_not_failed_logins(gateway_factory, issuer):
    gw = start(gateway_factory, issuer, failed_auth={"delay_after": 1, "lockout_after": 2})
    for _ in range(5):
        a = call(gw.port, "/api/items")
        assert a.status == 401 and a.seconds < scaled(0.2), a
    assert metrics(gw)["failures"] == 0


def test_a_reload_keeps_the_lockout(gateway_factory, issuer):
    gw = start(gateway_factory, issuer, failed_auth={"delay_after": 0, "delay_ms": 0,
                                                     "max_delay_ms": 0, "lockout_after": 2,
                                                     "lockout_s": 60})
    for _ in range(2):
        call(gw.port, "/api/items", bad_token(issuer))
    assert call(gw.port, "/api/items", issuer.token()).status == 429
    cfg = dict(gw.config)
    cfg["failed_auth"] = {"delay_after": 0, "delay_ms": 0, "max_delay_ms": 0,
                          "lockout_after": 50, "lockout_s": 60}
    gw.reload(cfg)
    deadline = time.monotonic() + scaled(3.0)
    while "reloaded" not in gw.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "reloaded" in gw.stderr()
    a = call(gw.port, "/api/items", issuer.token())
    assert a.status == 429, a


def test_http2_delays_and_retry_after(gateway_factory, issuer):
    from pc_h2 import H2Client
    cfg, edit = fa_config(issuer, failed_auth={"delay_after": 1, "delay_ms": 300,
                                               "max_delay_ms": 300, "lockout_after": 3,
                                               "lockout_s": 60})

    def edit2(c):
        c = edit(c)
        c["listen"][0] = {"address": c["listen"][0], "h2c": True}
        return c
    gw = gateway_factory(overrides=cfg, edit=edit2)
    bad = [("authorization", "Bearer " + bad_token(issuer))]
    with H2Client(gw.port) as c:
        s = c.get("/api/items", headers=bad)
        assert s.status == 401, s
        t0 = time.monotonic()
        s = c.get("/api/items", headers=bad)
        assert s.status == 401 and time.monotonic() - t0 >= 0.27, s
        s = c.get("/api/items", headers=bad)
        assert s.status == 429 and 50 < int(s.header("retry-after")) <= 60, s
        # No more streams on this connection: GOAWAY (HTTP/2's Connection: close).
        assert c.wait_goaway() is not None
    with H2Client(gw.port) as c:
        t0 = time.monotonic()
        s = c.get("/api/items", headers=[("authorization", "Bearer " + issuer.token())])
        assert s.status == 429 and s.header("retry-after") is not None, s
        assert time.monotonic() - t0 >= 0.27, s      # held back like the failures
    gw.upstream.assert_nothing()
