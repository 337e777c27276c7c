"""
tests/integration/pc_upstream.py - the recording test upstream: a threaded raw-socket
HTTP/1.1 server on 127.0.0.1 that records every request it receives and whose behaviour
is scripted by the last segments of the path.

Owns: what the upstream saw (method, target, header pairs, body) and how it answers.
Refuses: to be lenient in what it records (the raw head is kept so a test can check the
exact bytes the gateway forwarded); to block forever (every socket has a timeout).

Behaviours (matched on the END of the path, so any route prefix works):
  default            200 JSON echo of what it got
  .../slow?ms=N      sleep N ms, then the echo
  .../close-mid      headers (Content-Length: 1000) + 100 body bytes, then close
  .../close-before   close without answering
  .../chunked        chunked response (CHUNKED_BODY)
  .../nolength       close-delimited response (NOLENGTH_BODY)
  .../big?bytes=N    N bytes with Content-Length, in 64 KiB writes
  .../status/NNN     that status
  .../hop            a response full of hop-by-hop fields
  .../bad-response   garbage instead of a status line
  .../resp-cl-te     a response with both Content-Length and Transfer-Encoding
Every response carries "Server: test-upstream", "X-Powered-By: PHP" and
"X-Upstream: <name>".

TLS (off unless asked): Upstream(..., tls_cert=PEM chain, tls_key=PEM key) serves TLS on
the same port; tls_client_ca=PEM + tls_client_cert="optional"|"required" asks for a client
certificate verified against that CA; tls_context= an ssl.SSLContext of the test's own
instead. Each Recorded then has .tls (dict: version, cipher, sni, alpn) and .peer_subject
(RFC 2253 string of the verified client certificate, None without one), .peer_sha256 and
.peer_cert (ssl's dict); the echo gains a "tls" member. A failed handshake is no test
bug: it is kept in .tls_failures (strings), not in .errors. Plain upstreams are unchanged.
"""

import hashlib
import json
import re
import socket
import ssl
import threading
import time

from pc_client import HeaderList

CHUNKED_BODY = b"hello " + b"chunked " + b"c" * 100000 + b" world"
NOLENGTH_BODY = b"no length, close-delimited " + b"n" * 50000 + b" end"
BIG_BLOCK = bytes(range(256)) * 256          # 64 KiB
KEEP_BODY_MAX = 8 << 20                        # larger bodies: length + sha256 only
IO_TIMEOUT = 30.0
HANDSHAKE_TIMEOUT = 10.0

_BEHAVIOUR = re.compile(
    r"/(slow|close-mid|close-before|chunked|nolength|big|status/(\d{3})|hop|"
    r"bad-response|resp-cl-te)$")


class Recorded(HeaderList):
    def __init__(self, conn_id, method, target, version, headers, raw_head):
        self.conn_id = conn_id
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers       # [(name, value)] in order, as received
        self.raw_head = raw_head
        self.body = b""
        self.body_len = 0
        self.body_sha256 = ""
        self.chunked = False
        self.trailers = []
        self.complete = False
        self.t_head = time.monotonic()
        self.t_done = None
        self.tls = None              # TLS upstreams: version, cipher, sni, alpn
        self.peer_subject = None     # verified client certificate, RFC 2253
        self.peer_sha256 = None      # hex SHA-256 of its DER
        self.peer_cert = None        # ssl.SSLSocket.getpeercert() of it

    @property
    def path(self):
        return self.target.split("?", 1)[0]

    def names(self):
        return [k.lower() for k, _ in self.headers]

    def __repr__(self):
        return "<Recorded %s %s %r body_len=%d>" % (self.method, self.target,
                                                    self.headers, self.body_len)


# RFC 4514 short names of the attribute types Python's ssl reports by long name.
_SHORT = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU",
          "countryName": "C", "localityName": "L", "stateOrProvinceName": "ST",
          "streetAddress": "STREET", "domainComponent": "DC", "userId": "UID"}


def _rfc2253(subject):
    """ssl's subject tuple -> an RFC 2253 string (last RDN first, RFC 4514 escapes)."""
    def esc(v):
        v = re.sub(r'([,+"\\<>;])', r"\\\1", v)
        if v[:1] in ("#", " "):
            v = "\\" + v
        if v.endswith(" "):
            v = v[:-1] + "\\ "
        return v
    rdns = []
    for rdn in subject:
        rdns.append("+".join("%s=%s" % (_SHORT.get(k, k), esc(v)) for k, v in rdn))
    return ",".join(reversed(rdns))


def server_context(cert, key, client_ca=None, client_cert="none"):
    """The upstream's server-side context: <cert> (PEM chain) and <key>; <client_cert>
    "optional" or "required" verifies client certificates against <client_ca>."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    if client_cert != "none":
        if not client_ca:
            raise ValueError("client_cert=%r needs client_ca" % (client_cert,))
        ctx.load_verify_locations(cafile=client_ca)
        ctx.verify_mode = {"optional": ssl.CERT_OPTIONAL,
                           "required": ssl.CERT_REQUIRED}[client_cert]
    return ctx


def _remember_sni(sslsock, server_name, ctx):
    # Called during the handshake; the name is read back once it completes.
    sslsock.pc_sni = server_name
    return None


class Upstream:
    def __init__(self, name="up", port=0, tls_cert=None, tls_key=None, tls_client_ca=None,
                 tls_client_cert="none", tls_context=None):
        self.name = name
        self.tls_ctx = tls_context
        if self.tls_ctx is None and tls_cert:
            self.tls_ctx = server_context(tls_cert, tls_key, tls_client_ca, tls_client_cert)
        if self.tls_ctx is not None and self.tls_ctx.sni_callback is None:
            self.tls_ctx.sni_callback = _remember_sni
        self.tls_failures = []  # TLS: handshakes that failed (str of the error)
        self.lock = threading.Condition()
        self.requests = []      # complete requests, in arrival order
        self.heads = []         # every head seen, complete body or not
        self.nconns = 0
        self._conns = set()
        self._threads = []
        self._stopping = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(256)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self.errors = []        # exceptions in handler threads (test bugs)

    def start(self):
        t = threading.Thread(target=self._accept_loop, name="upstream-" + self.name,
                             daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        self._stopping = True
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                # socket.socket's own shutdown: SSLSocket.shutdown would also drop its
                # SSL object under the feet of the thread still reading from it.
                socket.socket.shutdown(c, socket.SHUT_RDWR)
            except OSError:
                pass
        for t in list(self._threads):
            t.join(2.0)
        try:
            self.sock.close()
        except OSError:
            pass

    # -- what the tests read ------------------------------------------------------------

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def clear(self):
        with self.lock:
            self.requests.clear()
            self.heads.clear()

    def wait_requests(self, n, timeout=5.0):
        """Waits until at least n complete requests were recorded; returns them."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.lock.wait(left)
            return list(self.requests)

    def wait_path(self, path, timeout=5.0):
        """The first complete request recorded for <path> (waits for it)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for r in self.requests:
                    if r.path == path:
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("upstream %s never saw %s: %r" % (
                        self.name, path, self.requests))
                self.lock.wait(left)

    def wait_heads(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.heads) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.lock.wait(left)
            return list(self.heads)

    def assert_nothing(self, settle=0.1):
        """Nothing reached this upstream: no complete request and no head at all."""
        time.sleep(settle)
        with self.lock:
            assert not self.requests, "upstream %s received %r" % (self.name,
                                                                   self.requests)
            assert not self.heads, "upstream %s saw heads %r" % (self.name, self.heads)

    def assert_no_complete(self, settle=0.1):
        """No complete request reached this upstream (a head may have been streamed)."""
        time.sleep(settle)
        with self.lock:
            assert not self.requests, "upstream %s received %r" % (self.name,
                                                                   self.requests)

    # -- the server ---------------------------------------------------------------------

    def _accept_loop(self):
        while not self._stopping:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.nconns += 1
                cid = self.nconns
                self._conns.add(c)
            t = threading.Thread(target=self._serve, args=(c, cid), daemon=True)
            t.start()
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)

    def _handshake(self, c):
        """TLS upstreams: the handshake, in the connection's own thread (a silent client
        must not stall the accept loop). Returns the SSLSocket and its TLS facts, or
        (None, None) after recording the failure."""
        c.settimeout(HANDSHAKE_TIMEOUT)
        s = self.tls_ctx.wrap_socket(c, server_side=True, do_handshake_on_connect=False)
        with self.lock:
            self._conns.discard(c)
            self._conns.add(s)
        try:
            s.do_handshake()
        except (OSError, ssl.SSLError, ValueError) as e:
            with self.lock:
                self.tls_failures.append("%s: %s" % (type(e).__name__, e))
                self._conns.discard(s)
                self.lock.notify_all()
            try:
                s.close()
            except OSError:
                pass
            return None, None
        cipher = s.cipher()
        info = {"tls": {"version": s.version(), "cipher": cipher[0] if cipher else None,
                        "sni": getattr(s, "pc_sni", None),
                        "alpn": s.selected_alpn_protocol()},
                "peer_subject": None, "peer_sha256": None, "peer_cert": None}
        der = s.getpeercert(binary_form=True)
        if der:
            info["peer_cert"] = s.getpeercert()
            info["peer_sha256"] = hashlib.sha256(der).hexdigest()
            info["peer_subject"] = _rfc2253(info["peer_cert"].get("subject", ()))
        return s, info

    def wait_tls_failures(self, n, timeout=5.0):
        """Waits until at least n TLS handshakes failed; returns their descriptions."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.tls_failures) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.lock.wait(left)
            return list(self.tls_failures)

    def _serve(self, c, cid):
        tls = None
        if self.tls_ctx is not None:
            raw = c
            try:
                c, tls = self._handshake(raw)
            except Exception as e:  # a bug in the test upstream: make it visible
                self.errors.append(e)
                with self.lock:
                    self._conns.discard(raw)
                raw.close()
                return
            if c is None:
                return
        c.settimeout(IO_TIMEOUT)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        st = {"buf": b"", "tls": tls}
        try:
            while not self._stopping:
                rec = self._read_request(c, cid, st)
                if rec is None:
                    break
                if not self._respond(c, rec):
                    break
        except (OSError, ConnectionError):
            pass
        except Exception as e:  # a bug in the test upstream: make it visible
            self.errors.append(e)
        finally:
            with self.lock:
                self._conns.discard(c)
            try:
                c.close()
            except OSError:
                pass

    def _recv(self, c, st):
        d = c.recv(65536)
        if not d:
            return False
        st["buf"] += d
        return True

    def _line(self, c, st):
        while b"\r\n" not in st["buf"]:
            if len(st["buf"]) > 65536 or not self._recv(c, st):
                return None
        line, st["buf"] = st["buf"].split(b"\r\n", 1)
        return line

    def _read_request(self, c, cid, st):
        while b"\r\n\r\n" not in st["buf"]:
            if len(st["buf"]) > 1 << 20:
                return None
            if not self._recv(c, st):
                return None
        head, st["buf"] = st["buf"].split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        parts = lines[0].decode("latin-1").split(" ")
        if len(parts) != 3:
            parts = (parts + ["", "", ""])[:3]
        hdrs = []
        for ln in lines[1:]:
            s = ln.decode("latin-1")
            k, _, v = s.partition(":")
            hdrs.append((k, v.strip(" \t")))
        rec = Recorded(cid, parts[0], parts[1], parts[2], hdrs, head + b"\r\n\r\n")
        if st.get("tls") is not None:
            for k, v in st["tls"].items():
                setattr(rec, k, v)
        with self.lock:
            self.heads.append(rec)
            self.lock.notify_all()
        te = (rec.header("transfer-encoding") or "").lower()
        h = hashlib.sha256()
        kept = []
        n = 0
        if te:
            rec.chunked = True
            while True:
                line = self._line(c, st)
                if line is None:
                    return None
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:
                        t = self._line(c, st)
                        if t is None:
                            return None
                        if t == b"":
                            break
                        rec.trailers.append(t)
                    break
                while len(st["buf"]) < size + 2:
                    if not self._recv(c, st):
                        return None
                d = st["buf"][:size]
                st["buf"] = st["buf"][size + 2:]
                h.update(d)
                n += len(d)
                if n <= KEEP_BODY_MAX:
                    kept.append(d)
        elif rec.header("content-length") is not None:
            left = int(rec.header("content-length"))
            while left > 0:
                if not st["buf"] and not self._recv(c, st):
                    return None
                d = st["buf"][:left]
                st["buf"] = st["buf"][len(d):]
                left -= len(d)
                h.update(d)
                n += len(d)
                if n <= KEEP_BODY_MAX:
                    kept.append(d)
        rec.body_len = n
        rec.body = b"".join(kept) if n <= KEEP_BODY_MAX else b""
        rec.body_sha256 = h.hexdigest()
        rec.complete = True
        rec.t_done = time.monotonic()
        with self.lock:
            self.requests.append(rec)
            self.lock.notify_all()
        return rec

    def _send(self, c, status, headers, body=b"", framing="cl", close=False,
              head_only=False):
        reason = {200: "OK", 204: "No Content", 304: "Not Modified", 404: "Not Found",
                  500: "Internal Server Error", 503: "Service Unavailable"}.get(status,
                                                                                "Status")
        hs = [("Server", "test-upstream"), ("X-Powered-By", "PHP"),
              ("X-Upstream", self.name)] + list(headers)
        if framing == "cl" and not (100 <= status < 200 or status in (204, 304)):
            hs.append(("Content-Length", str(len(body))))
        elif framing == "chunked":
            hs.append(("Transfer-Encoding", "chunked"))
        if close:
            hs.append(("Connection", "close"))
        out = "HTTP/1.1 %d %s\r\n" % (status, reason)
        out += "".join("%s: %s\r\n" % kv for kv in hs) + "\r\n"
        c.sendall(out.encode("latin-1") + (b"" if head_only else body))

    def _respond(self, c, rec):
        """Answers <rec>; returns False when the connection must end."""
        target = rec.target
        path, _, query = target.partition("?")
        q = dict(p.partition("=")[::2] for p in query.split("&") if p)
        close = "close" in (rec.header("connection") or "").lower() or \
            rec.version == "HTTP/1.0"
        head_only = rec.method == "HEAD"
        m = _BEHAVIOUR.search(path)
        kind = m.group(1) if m else ""
        if kind == "slow":
            end = time.monotonic() + int(q.get("ms", "1000")) / 1000.0
            while time.monotonic() < end and not self._stopping:
                time.sleep(0.01)
            kind = ""
        if kind == "close-mid":
            self._send(c, 200, [("Content-Length", "1000")], framing="none")
            c.sendall(b"x" * 100)
            time.sleep(0.05)
            return False
        if kind == "close-before":
            return False
        if kind == "chunked":
            self._send(c, 200, [("Content-Type", "text/plain")], framing="chunked",
                       close=close)
            if not head_only:
                b = CHUNKED_BODY
                for piece in (b[:6], b[6:14], b[14:50014], b[50014:]):
                    c.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                c.sendall(b"0\r\n\r\n")
            return not close
        if kind == "nolength":
            self._send(c, 200, [("Content-Type", "text/plain")], framing="none",
                       close=True)
            if not head_only:
                c.sendall(NOLENGTH_BODY)
            return False
        if kind == "big":
            n = int(q.get("bytes", "0"))
            self._send(c, 200, [("Content-Type", "application/octet-stream"),
                                ("Content-Length", str(n))], framing="none",
                       close=close)
            if not head_only:
                mv = memoryview(BIG_BLOCK)
                while n > 0:
                    k = min(n, len(BIG_BLOCK))
                    c.sendall(mv[:k])
                    n -= k
            return not close
        if kind.startswith("status/"):
            st = int(m.group(2))
            body = b"" if st in (204, 304) else b'{"status":%d}' % st
            self._send(c, st, [("Content-Type", "application/json")], body,
                       close=close, head_only=head_only)
            return not close
        if kind == "hop":
            self._send(c, 200, [("Connection", "X-Secret-Hop, keep-alive"),
                                ("X-Secret-Hop", "1"),
                                ("Keep-Alive", "timeout=5"),
                                ("Proxy-Connection", "keep-alive"),
                                ("Upgrade", "h2c"),
                                ("Trailer", "X-Trail"),
                                ("X-End-To-End", "kept")], b"hop", close=close)
            return not close
        if kind == "bad-response":
            c.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            time.sleep(0.05)
            return False
        if kind == "resp-cl-te":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nHELLO")
            time.sleep(0.05)
            return False
        echo = {"upstream": self.name, "method": rec.method, "target": rec.target,
                "version": rec.version, "headers": rec.headers,
                "body_len": rec.body_len, "conn": rec.conn_id}
        if rec.body_len <= 65536:
            echo["body"] = rec.body.decode("latin-1")
        if rec.tls is not None:
            echo["tls"] = dict(rec.tls, peer_subject=rec.peer_subject,
                               peer_sha256=rec.peer_sha256)
        self._send(c, 200, [("Content-Type", "application/json")],
                   json.dumps(echo).encode(), close=close, head_only=head_only)
        return not close
