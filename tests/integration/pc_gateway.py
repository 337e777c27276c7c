"""
tests/integration/pc_gateway.py - starting and stopping the real portcullis binary, and
the small YAML emitter the tests write their configurations with.

Owns: the config file of one test gateway, its process (stopped by PID: SIGTERM, then
SIGKILL after a timeout), its stderr capture, and the after-test health checks (still
alive, clean exit 0 on SIGTERM, no sanitizer report).
Refuses: to guess where the binary is (PORTCULLIS_BIN, else ./portcullis), to wait
without a bound, or to talk to anything but 127.0.0.1.
"""

import copy
import json
import os
import re
import signal
import subprocess

from pc_client import SAN, free_ports, read_jsonl, poll, wait_port, scaled, Conn

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("PORTCULLIS_BIN") or os.path.join(REPO, "portcullis")
START_TIMEOUT = 30.0 if SAN else 10.0
SAN_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
                    r"SUMMARY: UndefinedBehaviorSanitizer")

# ---- YAML ------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_./:{}*@+-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}


def _scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _RESERVED and not re.match(r"^[0-9.]+$", s):
        return s
    return json.dumps(s)    # a JSON string is a valid YAML double-quoted scalar


def to_yaml(obj, indent=0):
    """Block-style YAML for dicts / lists / scalars (dict order kept)."""
    pad = "  " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict) and v:
                out.append("%s%s:" % (pad, k))
                out.append(to_yaml(v, indent + 1))
            elif isinstance(v, list) and v:
                if all(not isinstance(x, (dict, list)) for x in v):
                    out.append("%s%s: [%s]" % (pad, k, ", ".join(_scalar(x) for x in v)))
                else:
                    out.append("%s%s:" % (pad, k))
                    out.append(to_yaml(v, indent + 1))
            elif isinstance(v, list):
                out.append("%s%s: []" % (pad, k))
            elif isinstance(v, dict):
                out.append("%s%s: {}" % (pad, k))
            else:
                out.append("%s%s: %s" % (pad, k, _scalar(v)))
    elif isinstance(obj, list):
        for x in obj:
            if isinstance(x, dict):
                sub = to_yaml(x, indent + 1).split("\n")
                sub[0] = pad + "- " + sub[0].lstrip()
                out.append("\n".join(sub))
            else:
                out.append("%s- %s" % (pad, _scalar(x)))
    else:
        out.append(pad + _scalar(obj))
    return "\n".join(out)


def deep_merge(base, over):
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def base_config(tmpdir, port, admin_port, targets):
    """The configuration every test starts from: one catch-all public route to one
    upstream "backend", short timeouts, logs in <tmpdir>, admin on loopback."""
    return {
        "workers": 2,
        "listen": ["127.0.0.1:%d" % port],
        "limits": {
            "request_line_max_bytes": 8192,
            "header_max_bytes": 32768,
            "header_max_count": 100,
            "body_max_bytes": 1048576,
            "header_timeout_ms": 5000,
            "body_timeout_ms": 5000,
            "idle_timeout_ms": 10000,
        },
        "trusted_proxies": [],
        "access_log": os.path.join(tmpdir, "access.jsonl"),
        "event_log": os.path.join(tmpdir, "events.jsonl"),
        # The token comes from the environment, as secrets must (Gateway.start sets it).
        "admin": {"listen": "127.0.0.1:%d" % admin_port, "token": "${env:PC_TEST_ADMIN_TOKEN}"},
        "drain_timeout_ms": 2000,
        "upstreams": {
            "backend": {
                "targets": list(targets),
                "connect_timeout_ms": 1000,
                "read_timeout_ms": 5000,
                "total_timeout_ms": 10000,
            },
        },
        "routes": [
            {"name": "all", "path": "/**", "upstream": "backend", "public": True},
        ],
    }


# ---- the process -----------------------------------------------------------------------

def _children(pid):
    out = []
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def rss_kib(pid):
    """VmRSS of <pid> and its child processes (workers may be threads or processes)."""
    tot = 0
    for p in [pid] + _children(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for ln in f:
                    if ln.startswith("VmRSS:"):
                        tot += int(ln.split()[1])
        except OSError:
            pass
    return tot


ADMIN_TOKEN = "integration-admin-token-0123456789"


class Gateway:
    """One running portcullis. Attributes: port, admin_port, dir, cfg_path, proc,
    access_log, event_log, stderr_path."""

    def __init__(self, tmpdir, config, port, admin_port, env=None, cfg_file=None):
        self.dir = tmpdir
        os.makedirs(tmpdir, exist_ok=True)
        self.port = port
        self.admin_port = admin_port
        self.config = config
        self.cfg_path = cfg_file or os.path.join(tmpdir, "portcullis.yaml")
        c = config if isinstance(config, dict) else {}
        self.access_log = c.get("access_log")
        self.event_log = c.get("event_log")
        self.stderr_path = os.path.join(tmpdir, "stderr.log")
        self.stdout_path = os.path.join(tmpdir, "stdout.log")
        self.env = env
        self.proc = None
        self.expect_exit = False   # a test that stops the gateway itself sets this
        self.upstream = None
        if cfg_file is None:
            self.write_config(config)

    def write_config(self, config):
        text = config if isinstance(config, str) else to_yaml(config) + "\n"
        tmp = self.cfg_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.cfg_path)   # a reload never sees a half-written file
        if not isinstance(config, str):
            self.config = config

    def start(self):
        env = dict(os.environ)
        env["PC_TEST_ADMIN_TOKEN"] = ADMIN_TOKEN
        env.update(self.env or {})
        self._err = open(self.stderr_path, "ab")
        self._out = open(self.stdout_path, "ab")
        self.proc = subprocess.Popen([BIN, "run", "-c", self.cfg_path], stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err, env=env,
                                     cwd=self.dir)
        ok = wait_port(self.port, START_TIMEOUT, alive=self.alive)
        if ok and self.admin_port:
            ok = wait_port(self.admin_port, START_TIMEOUT, alive=self.alive)
        if not ok:
            code = self.proc.poll()
            self.kill()
            raise AssertionError("gateway did not start listening (exit %r); stderr:\n%s"
                                 % (code, self.stderr()[-4000:]))
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def signal(self, sig):
        assert self.alive(), "gateway already exited:\n" + self.stderr()[-4000:]
        os.kill(self.proc.pid, sig)

    def reload(self, config):
        self.write_config(config)
        self.signal(signal.SIGHUP)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            kids = _children(self.proc.pid)
            self.proc.kill()
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for f in (self._err, self._out):
            f.close()

    def stop_and_check(self):
        """Teardown: the gateway must still be running (no crash), must exit 0 on
        SIGTERM within its drain timeout, and must not have printed a sanitizer report."""
        problems = []
        if self.proc is None:
            return problems
        if not self.expect_exit:
            if self.proc.poll() is not None:
                problems.append("gateway exited during the test with code %r"
                                % self.proc.returncode)
            else:
                os.kill(self.proc.pid, signal.SIGTERM)
                code = self.wait_exit(5.0)
                if code is None:
                    problems.append("gateway did not exit within 5 s (scaled) of SIGTERM")
                elif code != 0:
                    problems.append("gateway exited %r after SIGTERM" % code)
        self.kill()
        err = self.stderr()
        m = SAN_RE.search(err)
        if m:
            problems.append("sanitizer report in stderr:\n" + err[max(0, m.start() - 200):
                                                                   m.start() + 6000])
        if problems:
            problems.append("stderr tail:\n" + err[-3000:])
        return problems

    # -- logs -----------------------------------------------------------------------------

    def access(self):
        return read_jsonl(self.access_log)

    def events(self):
        return read_jsonl(self.event_log)

    def wait_access(self, pred, timeout=2.0):
        """The first access-log entry matching <pred>, polling up to <timeout>."""
        found = poll(lambda: [e for e in self.access() if pred(e)], timeout)
        assert found, "no matching access log line in %s; lines:\n%s" % (
            self.access_log, "\n".join(json.dumps(e) for e in self.access()[-20:]))
        return found[0]

    def access_for(self, request_id, timeout=2.0):
        return self.wait_access(lambda e: e.get("request_id") == request_id, timeout)

    def wait_event(self, pred, timeout=2.0):
        found = poll(lambda: [e for e in self.events() if pred(e)], timeout)
        assert found, "no matching security event in %s; lines:\n%s" % (
            self.event_log, "\n".join(json.dumps(e) for e in self.events()[-20:]))
        return found[0]

    # -- admin ------------------------------------------------------------------------------

    def admin_get(self, path, token=ADMIN_TOKEN):
        from pc_client import request
        hdrs = [("Authorization", "Bearer " + token)] if token else []
        return request(self.admin_port, "GET", path, host="127.0.0.1", headers=hdrs)

    def metrics(self):
        from pc_client import parse_metrics
        r = self.admin_get("/metrics")
        assert r.status == 200, r
        return parse_metrics(r.body.decode())

    def conn(self, timeout=5.0):
        return Conn(self.port, timeout)


def run_check(cfg_path, timeout=10.0, env=None):
    """`portcullis check -c FILE` -> (exit code, stdout, stderr)."""
    e = dict(os.environ)
    e["PC_TEST_ADMIN_TOKEN"] = ADMIN_TOKEN
    e.update(env or {})
    p = subprocess.run([BIN, "check", "-c", cfg_path], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=scaled(timeout), env=e)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8",
                                                                              "replace")


def new_ports(n):
    return free_ports(n)
