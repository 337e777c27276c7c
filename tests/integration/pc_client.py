"""
tests/integration/pc_client.py - raw-socket HTTP/1.1 client helpers for the black-box suite.

Owns: sending exact bytes, reading one response (status, headers, body) with bounded
waits, detecting a closed connection, free ports, the SAN time scale.
Refuses: any normalization of what is sent (a test must be able to send broken bytes),
and any unbounded wait (every recv has a deadline).
"""

import json
import os
import random
import socket
import time

SAN = os.environ.get("PC_TEST_SAN") == "1"
# Sanitizer builds run several times slower: every wait is scaled, never removed.
SCALE = 3.0 if SAN else 1.0
HOST = "127.0.0.1"


def scaled(seconds):
    return seconds * SCALE


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_ports(n=1):
    """n distinct free TCP ports on 127.0.0.1 (bound together, then released), chosen
    below the kernel's ephemeral range: a port from bind(0) is one the kernel may hand to
    the next outgoing connection (a client, an upstream connection) before the gateway
    binds it, which fails the start with EADDRINUSE."""
    lo, _ = _ephemeral_range()
    first, last = (10000, lo - 1) if lo > 12000 else (lo - 2000, lo - 1)
    socks = []
    try:
        while len(socks) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((HOST, random.randint(first, last)))
            except OSError:
                s.close()
                continue
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port():
    return free_ports(1)[0]


def wait_port(port, timeout, alive=None):
    """Polls a TCP connect to 127.0.0.1:port until it succeeds; False after <timeout>.
    <alive> (optional callable) aborts the wait early when it returns False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return False
        try:
            s = socket.create_connection((HOST, port), timeout=0.5)
            s.close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


class Closed(Exception):
    """The peer closed the connection before a complete response arrived."""

    def __init__(self, msg, partial=b""):
        super().__init__(msg)
        self.partial = partial


class HeaderList:
    """Case-insensitive lookups over self.headers, a list of (name, value) in order;
    shared by the client's Response and the test upstream's recorded requests."""

    def header(self, name):
        """First value of header <name> (case-insensitive), or None."""
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]


class Response(HeaderList):
    def __init__(self):
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers = []       # [(name, value)] as received, in order
        self.body = b""
        self.raw_head = b""
        self.complete = True    # False: the body was cut short by a close
        self.chunked = False
        self.trailers = []

    def has_header(self, name):
        return self.header(name) is not None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def connection_tokens(self):
        toks = []
        for v in self.header_all("connection"):
            toks += [t.strip().lower() for t in v.split(",") if t.strip()]
        return toks

    def __repr__(self):
        return "<Response %d %r headers=%r body=%r>" % (
            self.status, self.reason, self.headers, self.body[:200])


class Conn:
    """One client connection to 127.0.0.1:port with a read buffer."""

    def __init__(self, port, timeout=5.0):
        self.timeout = scaled(timeout)
        self.sock = socket.create_connection((HOST, port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def try_send(self, data):
        """Sends, returns False instead of raising if the peer already closed."""
        try:
            self.send(data)
            return True
        except OSError:
            return False

    def _fill(self, deadline):
        """Reads more bytes into the buffer; False on EOF/reset. Raises TimeoutError."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no data from the gateway in time")
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no data from the gateway in time")
        except (ConnectionResetError, BrokenPipeError):
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def _line(self, deadline, what):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return line
            if not self._fill(deadline):
                raise Closed("closed while reading " + what, self.buf)

    def _exact(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                return None
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def read_response(self, method="GET", timeout=None, allow_truncated=False,
                      sink=None):
        """Reads one response (a 1xx interim response is returned as it is: call again).
        <sink>: a callable receiving body bytes instead of keeping them (big downloads);
        then resp.body holds only the first 64 KiB and resp.body_len the total."""
        deadline = time.monotonic() + (scaled(timeout) if timeout else self.timeout)
        r = Response()
        # The head: the status line, then fields up to the empty line.
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head, self.buf = self.buf[:i + 4], self.buf[i + 4:]
                break
            if len(self.buf) > 1 << 20:
                raise AssertionError("response head over 1 MiB")
            if not self._fill(deadline):
                raise Closed("connection closed before a complete response head",
                             self.buf)
        r.raw_head = head
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].decode("latin-1").split(" ", 2)
        assert len(parts) >= 2 and parts[0].startswith("HTTP/1."), \
            "bad status line %r" % lines[0]
        r.version, r.status = parts[0], int(parts[1])
        r.reason = parts[2] if len(parts) > 2 else ""
        for ln in lines[1:]:
            s = ln.decode("latin-1")
            assert ":" in s, "bad response header line %r" % ln
            k, v = s.split(":", 1)
            assert k == k.strip() and k, "bad response header name %r" % ln
            r.headers.append((k, v.strip(" \t")))
        r.body_len = 0
        kept = []

        def take(d):
            r.body_len += len(d)
            if sink is not None:
                sink(d)
                if sum(len(x) for x in kept) < 65536:
                    kept.append(d[:65536])
            else:
                kept.append(d)

        if 100 <= r.status < 200 or r.status in (204, 304) or method == "HEAD":
            r.body = b""
            return r
        te = (r.header("transfer-encoding") or "").lower()
        cl = r.header("content-length")
        try:
            if te:
                assert te == "chunked", "unexpected response Transfer-Encoding %r" % te
                r.chunked = True
                self._read_chunked(r, deadline, take)
            elif cl is not None:
                assert len(r.header_all("content-length")) == 1, \
                    "several Content-Length in a response"
                n = int(cl)
                while n > 0:
                    if not self.buf and not self._fill(deadline):
                        raise Closed("closed inside a Content-Length body")
                    d = self.buf[:n]
                    self.buf = self.buf[len(d):]
                    n -= len(d)
                    take(d)
            else:
                # Close-delimited.
                while True:
                    if self.buf:
                        take(self.buf)
                        self.buf = b""
                    if not self._fill(deadline):
                        break
        except Closed:
            r.body = b"".join(kept)
            r.complete = False
            if not allow_truncated:
                raise Closed("response body truncated: %r" % r, r.body)
        r.body = b"".join(kept)
        return r

    def _read_chunked(self, r, deadline, take):
        while True:
            line = self._line(deadline, "a chunk size")
            assert line.endswith(b"\r\n"), "chunk size line without CRLF %r" % line
            size = int(line[:-2].split(b";")[0].strip(), 16)
            if size == 0:
                while True:
                    t = self._line(deadline, "the trailer section")
                    if t == b"\r\n":
                        return
                    r.trailers.append(t)
            while size > 0:
                if not self.buf and not self._fill(deadline):
                    raise Closed("closed inside a chunk")
                d = self.buf[:size]
                self.buf = self.buf[len(d):]
                size -= len(d)
                take(d)
            crlf = self._exact(2, deadline)
            if crlf is None:
                raise Closed("closed after chunk data")
            assert crlf == b"\r\n", "chunk data not followed by CRLF"

    def wait_closed(self, timeout=2.0):
        """True if the peer closes (EOF or reset) within <timeout>; bytes that arrive
        meanwhile are collected in self.extra (a test usually wants it empty)."""
        deadline = time.monotonic() + scaled(timeout)
        self.extra = self.buf
        self.buf = b""
        if self.eof:
            return True
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                self.eof = True
                return True
            if not d:
                self.eof = True
                return True
            self.extra += d
        return False

    def is_open(self, wait=0.2):
        """True if nothing (no close, no bytes) happens within <wait> seconds."""
        return not self.wait_closed(wait) and not self.extra


def build_request(method="GET", target="/", headers=None, body=None, host="gw.test",
                  version="HTTP/1.1"):
    """Bytes of a well-formed request. <headers>: list of (name, value); a Host field
    is added first unless host is None; Content-Length is added for a body unless the
    headers already frame it."""
    hs = []
    if host is not None:
        hs.append(("Host", host))
    hs += list(headers or [])
    names = {k.lower() for k, _ in hs}
    if body is not None:
        if isinstance(body, str):
            body = body.encode()
        if "content-length" not in names and "transfer-encoding" not in names:
            hs.append(("Content-Length", str(len(body))))
    out = "%s %s %s\r\n" % (method, target, version)
    out += "".join("%s: %s\r\n" % (k, v) for k, v in hs)
    out += "\r\n"
    return out.encode("latin-1") + (body or b"")


def request(port, method="GET", target="/", headers=None, body=None, host="gw.test",
            timeout=5.0, keep=False):
    """One request on a fresh connection; returns the Response (and the Conn if keep)."""
    c = Conn(port, timeout)
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


def exchange(port, raw, timeout=5.0, method="GET"):
    """Sends exact bytes on a fresh connection, reads one response; returns
    (response, closed) where closed says whether the gateway then closed the
    connection (within 2 s) with nothing more sent."""
    with Conn(port, timeout) as c:
        c.send(raw)
        r = c.read_response(method)
        closed = c.wait_closed(2.0) and not c.extra
        return r, closed


def chunked(*parts, ext=None, trailers=None):
    """A chunked body: one chunk per part, then the last chunk."""
    out = b""
    for p in parts:
        if isinstance(p, str):
            p = p.encode()
        out += b"%x%s\r\n" % (len(p), (";" + ext).encode() if ext else b"") + p + b"\r\n"
    out += b"0\r\n"
    for t in trailers or []:
        out += t.encode() + b"\r\n"
    return out + b"\r\n"


def poll(fn, timeout=2.0, interval=0.02):
    """Calls fn() until it returns a truthy value (returned) or the scaled timeout."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def read_jsonl(path):
    """Every complete line of a JSON-lines file, parsed; a line that is not valid JSON
    fails the test (log injection / broken escaping)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    out = []
    for ln in data.split(b"\n")[:-1] if data else []:
        if not ln.strip():
            continue
        try:
            out.append(json.loads(ln.decode("utf-8")))
        except (ValueError, UnicodeDecodeError) as e:
            raise AssertionError("invalid JSON line in %s: %r (%s)" % (path, ln, e))
    return out


def parse_metrics(text):
    """Prometheus text -> list of (name, {labels}, float value)."""
    out = []
    for ln in text.splitlines():
        if not ln or ln.startswith("#"):
            continue
        if "{" in ln:
            name, rest = ln.split("{", 1)
            labels_s, val = rest.rsplit("}", 1)
            labels = {}
            i = 0
            while i < len(labels_s):
                j = labels_s.index("=", i)
                k = labels_s[i:j].strip().lstrip(",").strip()
                assert labels_s[j + 1] == '"', "bad label syntax in %r" % ln
                m = j + 2
                v = ""
                while labels_s[m] != '"':
                    if labels_s[m] == "\\":
                        m += 1
                        v += {"n": "\n"}.get(labels_s[m], labels_s[m])
                    else:
                        v += labels_s[m]
                    m += 1
                labels[k] = v
                i = m + 1
                while i < len(labels_s) and labels_s[i] in ", ":
                    i += 1
        else:
            name, val = ln.split(None, 1)
            labels = {}
        out.append((name.strip(), labels, float(val.split()[0])))
    return out


def metric_value(samples, name, **labels):
    """Sum of the samples named <name> whose labels include <labels>."""
    tot = 0.0
    found = False
    for n, ls, v in samples:
        if n == name and all(ls.get(k) == str(x) for k, x in labels.items()):
            tot += v
            found = True
    return tot if found else None
