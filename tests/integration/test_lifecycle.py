"""
Lifecycle: `portcullis check` (OK, warnings, file:line:col errors), startup messages,
SIGTERM drain, SIGHUP reload (under load, invalid reload refused, in-flight requests
finish on the old config), SIGUSR1 log reopen.
"""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from pc_client import (Closed, Conn, build_request, free_port, poll, read_jsonl, request,
                       scaled)
from pc_gateway import ADMIN_TOKEN, BIN, base_config, run_check, to_yaml


def write(tmp_path, cfg, name="c.yaml"):
    p = os.path.join(str(tmp_path), name)
    with open(p, "w") as f:
        f.write(cfg if isinstance(cfg, str) else to_yaml(cfg) + "\n")
    return p


def line_of(path, needle, after=0):
    with open(path) as f:
        for i, ln in enumerate(f, 1):
            if i > after and needle in ln:
                return i
    raise AssertionError("%r not in %s" % (needle, path))


def cfg(tmp_path, routes=None):
    c = base_config(str(tmp_path), 18080, 18090, ["127.0.0.1:18081"])
    if routes is not None:
        c["routes"] = routes
    return c


# ---- check -----------------------------------------------------------------------------

def test_check_ok_with_warning(tmp_path):
    p = write(tmp_path, cfg(tmp_path))
    code, out, err = run_check(p)
    both = out + err
    assert code == 0, both
    assert "configuration OK" in both
    # a public route is risky-but-legal: warned about with its line
    warn = re.findall(r"^%s:(\d+): warning: .+$" % re.escape(p), both, re.M)
    assert warn, both
    start = line_of(p, "- name: all")
    assert any(start <= int(n) <= start + 4 for n in warn), (warn, both)


def test_check_example_minimal():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    code, out, err = run_check(os.path.join(root, "examples", "minimal.yaml"),
                               env={"PC_ADMIN_TOKEN": "t" * 32})
    assert code == 0, out + err
    assert "configuration OK" in out + err


def check_error(p, needle=None, line=None, lines=None, message=None):
    code, out, err = run_check(p)
    both = out + err
    assert code == 1, both
    m = re.search(r"^%s:(\d+):(\d+): (.+)$" % re.escape(p), both, re.M)
    assert m, "no FILE:LINE:COL: message in %r" % both
    ln, col = int(m.group(1)), int(m.group(2))
    assert col >= 1
    if line is not None:
        assert ln == line, (ln, line, both)
    if lines is not None:
        assert lines[0] <= ln <= lines[1], (ln, lines, both)
    if message:
        assert message in m.group(3), both
    assert "configuration OK" not in both
    return m.group(3)


def test_check_unknown_key(tmp_path):
    c = cfg(tmp_path)
    c["limits"]["bogus_key"] = 1
    p = write(tmp_path, c)
    check_error(p, line=line_of(p, "bogus_key"))


def test_check_bad_type(tmp_path):
    c = cfg(tmp_path)
    c["limits"]["header_max_count"] = "lots"
    p = write(tmp_path, c)
    check_error(p, line=line_of(p, "header_max_count"))


def test_check_unknown_upstream(tmp_path):
    c = cfg(tmp_path)
    c["routes"][0]["upstream"] = "nope"
    p = write(tmp_path, c)
    check_error(p, line=line_of(p, "upstream: nope"))


def test_check_route_not_public(tmp_path):
    c = cfg(tmp_path)
    c["routes"][0]["public"] = False
    p = write(tmp_path, c)
    start = line_of(p, "- name: all")
    check_error(p, lines=(start, start + 4), message="not public and no authentication")


def test_check_bad_route_template(tmp_path):
    c = cfg(tmp_path)
    c["routes"][0]["path"] = "/a/**/b"
    p = write(tmp_path, c)
    check_error(p, line=line_of(p, "/a/**/b"))


def test_check_yaml_syntax_error(tmp_path):
    text = to_yaml(cfg(tmp_path)) + "\nbroken: [1, 2\n"
    p = write(tmp_path, text)
    msg = check_error(p, lines=(line_of(p, "broken"), line_of(p, "broken") + 2))
    assert msg


def test_check_missing_file(tmp_path):
    code, out, err = run_check(os.path.join(str(tmp_path), "nope.yaml"))
    assert code == 1, out + err


def test_run_with_invalid_config_fails(tmp_path):
    c = cfg(tmp_path)
    c["routes"][0]["public"] = False
    p = write(tmp_path, c)
    r = subprocess.run([BIN, "run", "-c", p], capture_output=True, timeout=scaled(10),
                       stdin=subprocess.DEVNULL)
    assert r.returncode != 0
    assert re.search(r"%s:\d+:\d+: " % re.escape(p), r.stderr.decode()), r.stderr


# ---- startup, SIGTERM --------------------------------------------------------------------

def test_listening_message(gateway):
    # The sockets accept (which is what the harness waits for) a moment before the line is
    # written, once the workers are started: wait for it, bounded.
    want = "listening on 127.0.0.1:%d" % gateway.port
    deadline = time.monotonic() + scaled(5)
    while True:
        lines = []
        for ln in gateway.stderr().splitlines():
            try:
                lines.append(json.loads(ln))
            except ValueError:
                pass
        m = [x for x in lines if x.get("msg") == want]
        if m or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert m, gateway.stderr()
    assert m[0]["level"] == "info" and "time" in m[0]


def test_sigterm_idle_exits_0_quickly(gateway_factory):
    gw = gateway_factory({"drain_timeout_ms": 5000})
    c = Conn(gw.port)
    c.send(build_request("GET", "/a"))
    assert c.read_response().status == 200     # an idle keep-alive connection stays open
    gw.expect_exit = True
    t0 = time.monotonic()
    gw.signal(signal.SIGTERM)
    code = gw.wait_exit(5)
    c.close()
    assert code == 0, code
    assert time.monotonic() - t0 < scaled(1.5), "idle keep-alive delayed the exit"


def test_sigterm_drains_in_flight(gateway_factory):
    gw = gateway_factory({"drain_timeout_ms": 4000})
    res = {}

    def slow():
        try:
            res["r"] = request(gw.port, "GET", "/slow?ms=1500", timeout=10)
        except Exception as e:  # reported below
            res["e"] = e

    t = threading.Thread(target=slow)
    t.start()
    assert gw.upstream.wait_heads(1, timeout=scaled(3)), "slow request never forwarded"
    gw.expect_exit = True
    gw.signal(signal.SIGTERM)

    def refused():
        try:
            s = socket.create_connection(("127.0.0.1", gw.port), timeout=0.5)
        except OSError:
            return True
        s.close()
        return False
    assert poll(refused, 1.0), "still accepting connections after SIGTERM"
    code = gw.wait_exit(6)
    t.join(scaled(10))
    assert "e" not in res, res.get("e")
    assert res["r"].status == 200, res["r"]
    assert code == 0


def test_sigterm_drain_timeout_bounds_exit(gateway_factory):
    gw = gateway_factory({"drain_timeout_ms": 500})
    c = Conn(gw.port, timeout=10)
    c.send(build_request("GET", "/slow?ms=8000"))
    assert gw.upstream.wait_heads(1, timeout=scaled(3))
    gw.expect_exit = True
    t0 = time.monotonic()
    gw.signal(signal.SIGTERM)
    code = gw.wait_exit(5)
    el = time.monotonic() - t0
    c.close()
    assert code == 0, code
    assert el < scaled(2.0), el


# ---- SIGHUP ------------------------------------------------------------------------------

def routes_with(*extra):
    rs = [{"name": "old", "path": "/old/**", "upstream": "backend", "public": True}]
    for name in extra:
        rs.append({"name": name, "path": "/%s/**" % name, "upstream": "backend",
                   "public": True})
    return rs


def test_reload_under_load(gateway_factory):
    gw = gateway_factory({"routes": routes_with()})
    stop = threading.Event()
    failures, count = [], [0]

    def loop():
        while not stop.is_set():
            try:
                r = request(gw.port, "GET", "/old/x", timeout=5)
                if r.status != 200:
                    failures.append(r)
                count[0] += 1
            except Exception as e:  # collected
                failures.append(e)

    ts = [threading.Thread(target=loop) for _ in range(3)]
    for t in ts:
        t.start()
    try:
        for i in range(5):
            name = "new%d" % i
            c = dict(gw.config)
            c["routes"] = routes_with(name)
            gw.reload(c)
            ok = poll(lambda: request(gw.port, "GET", "/%s/y" % name).status == 200, 3.0)
            assert ok, "route %s never appeared after SIGHUP" % name
            time.sleep(0.1)
    finally:
        stop.set()
        for t in ts:
            t.join(scaled(10))
    assert not failures, failures[:5]
    assert count[0] >= 20
    # the route of an older generation is gone
    assert request(gw.port, "GET", "/new0/y").status == 404


def test_invalid_reload_refused(gateway_factory):
    gw = gateway_factory({"routes": routes_with()})
    good = dict(gw.config)
    bad = dict(good)
    bad["routes"] = routes_with("new")
    bad["routes"][1]["public"] = False
    gw.reload(bad)
    pat = re.compile(r"%s:\d+:\d+: " % re.escape(gw.cfg_path))
    assert poll(lambda: pat.search(gw.stderr()), 3.0), gw.stderr()
    assert request(gw.port, "GET", "/old/x").status == 200
    assert request(gw.port, "GET", "/new/x").status == 404
    garbage = "routes: [\n  {{{ not yaml\n"
    gw.write_config(garbage)
    gw.signal(signal.SIGHUP)
    time.sleep(0.5)
    assert request(gw.port, "GET", "/old/x").status == 200
    ok = dict(good)
    ok["routes"] = routes_with("new")
    gw.reload(ok)
    assert poll(lambda: request(gw.port, "GET", "/new/x").status == 200, 3.0)


def test_reload_in_flight_finishes_on_old_config(gateway_factory):
    gw = gateway_factory({"routes": routes_with()})
    res = {}

    def slow():
        try:
            res["r"] = request(gw.port, "GET", "/old/slow?ms=1000", timeout=10)
        except Exception as e:  # reported below
            res["e"] = e

    t = threading.Thread(target=slow)
    t.start()
    assert gw.upstream.wait_heads(1, timeout=scaled(3))
    c = dict(gw.config)
    c["routes"] = [{"name": "other", "path": "/other/**", "upstream": "backend",
                    "public": True}]
    gw.reload(c)
    assert poll(lambda: request(gw.port, "GET", "/old/x").status == 404, 3.0)
    t.join(scaled(10))
    assert "e" not in res, res.get("e")
    assert res["r"].status == 200


def test_reload_keepalive_connection_uses_new_config(gateway_factory):
    """An idle keep-alive connection opened before a reload sees the new routes."""
    gw = gateway_factory({"routes": routes_with()})
    with Conn(gw.port) as conn:
        conn.send(build_request("GET", "/old/a"))
        assert conn.read_response().status == 200
        c = dict(gw.config)
        c["routes"] = routes_with("new")
        gw.reload(c)
        assert poll(lambda: request(gw.port, "GET", "/new/x").status == 200, 3.0)
        if conn.try_send(build_request("GET", "/new/b")):
            try:
                assert conn.read_response().status == 200
            except Closed:
                pass   # closing idle connections on reload is also fine


# ---- SIGUSR1 -----------------------------------------------------------------------------

def test_sigusr1_reopens_logs(gateway):
    assert request(gateway.port, "GET", "/a", [("X-Request-Id", "before-rotate")]).status \
        == 200
    gateway.access_for("before-rotate")
    os.rename(gateway.access_log, gateway.access_log + ".1")
    request(gateway.port, "GET", "/a%2F", [("X-Request-Id", "deny-before")])
    gateway.wait_event(lambda e: e.get("request_id") == "deny-before")
    os.rename(gateway.event_log, gateway.event_log + ".1")
    gateway.signal(signal.SIGUSR1)
    n = [0]

    def appeared():
        n[0] += 1
        rid = "after-%d" % n[0]
        request(gateway.port, "GET", "/a", [("X-Request-Id", rid)])
        return any(e.get("request_id", "").startswith("after-")
                   for e in read_jsonl(gateway.access_log))
    assert poll(appeared, 3.0, interval=0.1), "access log not reopened"
    old = read_jsonl(gateway.access_log + ".1")
    assert any(e["request_id"] == "before-rotate" for e in old)
    request(gateway.port, "GET", "/b%2F", [("X-Request-Id", "deny-after")])
    ev = gateway.wait_event(lambda e: e.get("request_id") == "deny-after")
    assert ev["event"] == "deny"


def test_reload_of_startup_only_settings_refused(gateway_factory):
    """listen, workers, admin.listen and max_connections exist once: a reload that changes
    one is refused with the reason, and nothing of it is half-applied."""
    gw = gateway_factory({"routes": routes_with()})
    other = free_port()
    changed = dict(gw.config)
    changed["listen"] = ["127.0.0.1:%d" % other]
    changed["routes"] = routes_with("new")
    gw.reload(changed)
    assert poll(lambda: "listen changed needs a restart" in gw.stderr(), 3.0), gw.stderr()
    assert request(gw.port, "GET", "/old/x").status == 200
    assert request(gw.port, "GET", "/new/x").status == 404     # routes not applied either
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", other), timeout=0.5).close()


def test_second_instance_on_same_port_refused(gateway):
    """SO_REUSEPORT would let a second gateway silently take half the connections; it
    must refuse to start instead, and the first one keeps serving."""
    env = dict(os.environ, PC_TEST_ADMIN_TOKEN=ADMIN_TOKEN)
    p = subprocess.run([BIN, "run", "-c", gateway.cfg_path], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=scaled(10), env=env)
    assert p.returncode == 1, p
    assert b"Address already in use" in p.stderr, p.stderr
    assert request(gateway.port, "GET", "/still-mine").status == 200


def proc_status(pid):
    out = {}
    for ln in open("/proc/%d/status" % pid):
        k, _, v = ln.partition(":")
        out[k] = v.split()
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_user_drops_privileges_in_every_thread(gateway_factory):
    """Started as root with user: nobody, the gateway binds, opens its logs, then runs
    every thread as nobody with no_new_privs, and still serves and logs."""
    gw = gateway_factory({"user": "nobody"})
    assert request(gw.port, "GET", "/as-nobody").status == 200
    import pwd
    nobody = pwd.getpwnam("nobody")
    tasks = os.listdir("/proc/%d/task" % gw.proc.pid)
    assert len(tasks) >= 3      # main, admin, workers
    for t in tasks:
        st = proc_status(int(t))
        assert st["Uid"] == [str(nobody.pw_uid)] * 4, (t, st["Uid"])
        assert st["Gid"] == [str(nobody.pw_gid)] * 4, (t, st["Gid"])
        assert st["NoNewPrivs"] == ["1"], (t, st["NoNewPrivs"])
    assert poll(lambda: [e for e in gw.access() if e["path"] == "/as-nobody"], 2.0)
    assert "running as user nobody" in gw.stderr()


def test_user_unknown_is_a_config_error(tmp_path):
    cfg = base_config(str(tmp_path), 1, 2, ["127.0.0.1:3"])
    cfg["user"] = "no-such-user-here"
    p = tmp_path / "c.yaml"
    p.write_text(to_yaml(cfg) + "\n")
    rc, out, err = run_check(str(p))
    assert rc == 1 and "user: no such user 'no-such-user-here'" in err, (rc, out, err)
