"""
tests/integration/pc_h2.py - HTTP/2 clients for the black-box suite: H2Client drives the
python3-h2 state machine for well-formed requests; RawH2 writes hand-made frames
(hyperframe) and header blocks (hpack.Encoder) for malformed requests and attacks.

Owns: the client side of an h2 connection to the gateway, over TLS with ALPN h2
(ctx from pc_tls.client_context(alpn=["h2"])) or as cleartext h2c with prior knowledge
(ctx=None); the per-stream results (status, headers, body, reset code) and the
connection's end (GOAWAY error code, close).
Refuses: to wait without a bound (every read loop has a deadline and every socket a
timeout), and to repair what a test sends (RawH2 sends exactly the frames it is given).

Use:
    c = H2Client(gw.tls_port, client_context(ca=certs.ca, alpn=["h2"]))
    s = c.get("/a")                                   # -> Stream: .status .body .header()
    sid = c.send_request("POST", "/u", body=b"x" * 100, content_length=False)
    c.wait([sid])
    raw = RawH2(gw.port)                              # h2c prior knowledge
    raw.send_headers(1, raw.request_headers("GET", "/a"), end_stream=True)
    raw.read_until(lambda: raw.streams[1].done, 5)
    raw.wait_goaway(5) -> error code or None; raw.wait_closed(5) -> bool
"""

import json
import socket
import ssl
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame,
                              HeadersFrame, PingFrame, PriorityFrame, PushPromiseFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

from pc_client import HOST, HeaderList, scaled

__all__ = ["H2Client", "RawH2", "Stream", "PREFACE", "ERR", "err_name", "connect"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class ERR:
    """RFC 9113 section 7 error codes."""
    NO_ERROR = 0x0
    PROTOCOL_ERROR = 0x1
    INTERNAL_ERROR = 0x2
    FLOW_CONTROL_ERROR = 0x3
    SETTINGS_TIMEOUT = 0x4
    STREAM_CLOSED = 0x5
    FRAME_SIZE_ERROR = 0x6
    REFUSED_STREAM = 0x7
    CANCEL = 0x8
    COMPRESSION_ERROR = 0x9
    CONNECT_ERROR = 0xa
    ENHANCE_YOUR_CALM = 0xb
    INADEQUATE_SECURITY = 0xc
    HTTP_1_1_REQUIRED = 0xd


def err_name(code):
    if code is None:
        return "None"
    for k, v in vars(ERR).items():
        if not k.startswith("_") and v == code:
            return "%s(0x%x)" % (k, code)
    return "0x%x" % code


def connect(port, ctx=None, server_name="localhost", timeout=5.0):
    """A TCP (and, with <ctx>, TLS) connection to 127.0.0.1:<port>, TCP_NODELAY, with a
    socket timeout. TLS: the handshake happens here."""
    raw = socket.create_connection((HOST, port), timeout=scaled(timeout))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if ctx is None:
        return raw
    try:
        return ctx.wrap_socket(raw, server_hostname=server_name)
    except BaseException:
        raw.close()
        raise


class Stream(HeaderList):
    """What came back on one stream. <headers>: [(name, value)] str (latin-1) without
    the pseudo-headers; <status>: int or None; <reset>: the RST_STREAM error code if
    the stream was reset (by either side); <done>: ended or reset."""

    def __init__(self, sid):
        self.id = sid
        self.status = None
        self.headers = []
        self.pseudo = []
        self.informational = []
        self.trailers = []
        self.body = b""
        self._body = bytearray()
        self.ended = False
        self.reset = None
        self.reset_by_peer = None

    @property
    def done(self):
        return self.ended or self.reset is not None

    def _set_head(self, pairs):
        st = None
        hs = []
        ps = []
        for k, v in pairs:
            k = k.decode("latin-1") if isinstance(k, bytes) else k
            v = v.decode("latin-1") if isinstance(v, bytes) else v
            if k.startswith(":"):
                ps.append((k, v))
                if k == ":status":
                    st = int(v)
            else:
                hs.append((k, v))
        if st is not None and 100 <= st < 200:
            self.informational.append((st, hs))
            return
        if self.status is None:
            self.status = st
            self.headers = hs
            self.pseudo = ps
        else:
            self.trailers = hs

    def _add_data(self, d):
        self._body += d
        self.body = bytes(self._body)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Stream %d status=%r reset=%s ended=%r headers=%r body=%r>" % (
            self.id, self.status, err_name(self.reset), self.ended, self.headers,
            self.body[:200])


class _Base:
    """What both clients share: the socket, the deadline-bounded reads, and the end of
    the connection (goaway = (error code, last stream id, debug data), closed)."""

    def __init__(self, port, ctx, server_name, timeout):
        self.timeout = scaled(timeout)
        self.sock = connect(port, ctx, server_name, timeout)
        self.tls = ctx is not None
        self.alpn = self.sock.selected_alpn_protocol() if self.tls else None
        self.streams = {}
        self.goaway = None
        self.goaways = []
        self.closed = False
        self.bytes_in = 0

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def stream(self, sid):
        s = self.streams.get(sid)
        if s is None:
            s = self.streams[sid] = Stream(sid)
        return s

    def _sendall(self, data):
        """Sends; False (and closed) if the gateway has gone away."""
        if self.closed:
            return False
        try:
            self.sock.settimeout(self.timeout)
            self.sock.sendall(data)
            return True
        except (OSError, ssl.SSLError):
            # A reset or EPIPE: the gateway closed. Reads may still hold its GOAWAY.
            return False

    def _recv(self, deadline):
        """Bytes, b"" on EOF/reset (sets closed), None when the deadline passed."""
        if self.closed:
            return b""
        left = deadline - time.monotonic()
        if left <= 0:
            # Still pick up what is already there: a zero-time poll.
            left = 0.001
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError,
                ssl.SSLZeroReturnError):
            d = b""
        except (OSError, ssl.SSLError):
            d = b""
        if not d:
            self.closed = True
            return b""
        self.bytes_in += len(d)
        return d

    def read_until(self, pred, timeout=None):
        """Reads and processes what the gateway sends until pred() is true, the
        connection closes, or <timeout> (scaled; default the client's) passes. Returns
        pred()'s final value."""
        deadline = time.monotonic() + (scaled(timeout) if timeout is not None
                                       else self.timeout)
        while True:
            if pred():
                return pred()
            if self.closed or time.monotonic() >= deadline:
                return pred()
            d = self._recv(deadline)
            if d is None:
                continue
            if d == b"":
                self._feed(b"")
                return pred()
            self._feed(d)

    def poll(self):
        """Processes whatever already arrived, without waiting."""
        while not self.closed:
            d = self._recv(time.monotonic())
            if d is None:
                return
            self._feed(d)

    def wait_goaway(self, timeout=5.0):
        """The GOAWAY error code, waiting for it up to <timeout>; None if the connection
        closed (or the time passed) without one."""
        self.read_until(lambda: self.goaway is not None, timeout)
        return self.goaway[0] if self.goaway else None

    def wait_closed(self, timeout=5.0):
        """True if the gateway closes the connection within <timeout> (frames arriving
        meanwhile are processed)."""
        return self.read_until(lambda: self.closed, timeout)

    def wait(self, sids, timeout=None):
        """Waits until each stream of <sids> ended or was reset (or the connection ended);
        returns [Stream]."""
        sids = list(sids)
        self.read_until(lambda: all(self.stream(i).done for i in sids) or
                        self._ended(), timeout)
        return [self.stream(i) for i in sids]

    def _ended(self):
        return self.closed

    def _feed(self, data):
        raise NotImplementedError


class H2Client(_Base):
    """An HTTP/2 client on the h2 state machine, with h2's own checks of what it sends
    and receives switched off (a test checks the gateway's headers itself, and some
    tests send requests h2 would refuse to send)."""

    def __init__(self, port, ctx=None, server_name="localhost", timeout=5.0,
                 settings=None, authority="localhost", check_alpn=True):
        super().__init__(port, ctx, server_name, timeout)
        if self.tls and check_alpn and self.alpn != "h2":
            self.close()
            raise AssertionError("the gateway selected ALPN %r, not h2" % (self.alpn,))
        self.authority = authority
        self.scheme = "https" if self.tls else "http"
        cfg = h2.config.H2Configuration(client_side=True, header_encoding=None,
                                        validate_outbound_headers=False,
                                        normalize_outbound_headers=False,
                                        validate_inbound_headers=False,
                                        normalize_inbound_headers=False)
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.pending = {}           # stream id -> [memoryview left, end_stream]
        self.remote_settings_seen = False
        self.events = []
        self.error = None           # an h2 ProtocolError on what the gateway sent
        self._flush()

    def _ended(self):
        return self.closed or self.error is not None

    def _flush(self):
        d = self.conn.data_to_send()
        if d:
            return self._sendall(d)
        return True

    def _feed(self, data):
        if data == b"":
            return
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            # The gateway broke the protocol: record it (tests assert on .error) and
            # stop talking.
            self.error = e
            self._flush()
            self.closed = True
            return
        for ev in events:
            self.events.append(type(ev).__name__)
            if isinstance(ev, (h2.events.ResponseReceived,
                               h2.events.InformationalResponseReceived)):
                self.stream(ev.stream_id)._set_head(ev.headers)
            elif isinstance(ev, h2.events.TrailersReceived):
                self.stream(ev.stream_id).trailers = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in ev.headers]
            elif isinstance(ev, h2.events.DataReceived):
                self.stream(ev.stream_id)._add_data(ev.data)
                if ev.flow_controlled_length:
                    try:
                        self.conn.acknowledge_received_data(ev.flow_controlled_length,
                                                            ev.stream_id)
                    except (h2.exceptions.StreamClosedError,
                            h2.exceptions.ProtocolError):
                        pass
            elif isinstance(ev, h2.events.StreamEnded):
                self.stream(ev.stream_id).ended = True
                self.pending.pop(ev.stream_id, None)
            elif isinstance(ev, h2.events.StreamReset):
                s = self.stream(ev.stream_id)
                s.reset = ev.error_code
                s.reset_by_peer = ev.remote_reset
                self.pending.pop(ev.stream_id, None)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaway = (int(ev.error_code), ev.last_stream_id, ev.additional_data)
                self.goaways.append(self.goaway)
            elif isinstance(ev, h2.events.RemoteSettingsChanged):
                self.remote_settings_seen = True
        self._pump()
        self._flush()

    def _pump(self):
        """Sends as much of the pending request bodies as flow control allows."""
        for sid in list(self.pending):
            ent = self.pending[sid]
            while True:
                try:
                    win = min(self.conn.local_flow_control_window(sid),
                              self.conn.max_outbound_frame_size)
                except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                    self.pending.pop(sid, None)
                    break
                mv, end = ent
                if len(mv) == 0:
                    if end:
                        try:
                            self.conn.end_stream(sid)
                        except (h2.exceptions.StreamClosedError,
                                h2.exceptions.ProtocolError):
                            pass
                    self.pending.pop(sid, None)
                    break
                if win <= 0:
                    break
                n = min(win, len(mv))
                try:
                    self.conn.send_data(sid, mv[:n].tobytes())
                except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError,
                        h2.exceptions.FlowControlError):
                    self.pending.pop(sid, None)
                    break
                ent[0] = mv[n:]
                # Keep the socket moving: big bodies must not pile up in h2's buffer.
                if not self._flush():
                    return

    def request_headers(self, method, path, headers=(), authority=None, scheme=None):
        hs = [(":method", method), (":scheme", scheme or self.scheme),
              (":authority", authority or self.authority), (":path", path)]
        return hs + list(headers)

    def send_request(self, method="GET", path="/", headers=(), body=None,
                     content_length=True, end_stream=True, authority=None, scheme=None,
                     raw_headers=None):
        """Starts a request; returns its stream id. <body>: sent with flow control as the
        gateway reads; <content_length>: add a content-length field for the body;
        <end_stream>: False leaves the request open (then call end_request/send_body);
        <raw_headers>: the exact header list, pseudo-headers included."""
        sid = self.conn.get_next_available_stream_id()
        if raw_headers is not None:
            hs = list(raw_headers)
        else:
            hs = self.request_headers(method, path, headers, authority, scheme)
            if body is not None and content_length and \
                    not any(k.lower() == "content-length" for k, _ in headers):
                hs.append(("content-length", str(len(body))))
        self.stream(sid)
        no_body = body is None or len(body) == 0
        self.conn.send_headers(sid, hs, end_stream=end_stream and no_body)
        if not no_body:
            self.pending[sid] = [memoryview(bytes(body)), end_stream]
        self._pump()
        self._flush()
        return sid

    def send_body(self, sid, data, end_stream=False):
        ent = self.pending.get(sid)
        if ent is None:
            self.pending[sid] = [memoryview(bytes(data)), end_stream]
        else:
            ent[0] = memoryview(ent[0].tobytes() + bytes(data))
            ent[1] = end_stream
        self._pump()
        self._flush()

    def reset_stream(self, sid, code=ERR.CANCEL):
        self.pending.pop(sid, None)
        self.conn.reset_stream(sid, error_code=code)
        self.stream(sid).reset = code
        self.stream(sid).reset_by_peer = False
        self._flush()

    def ping(self, data=b"pc-ping!"):
        self.conn.ping(data)
        self._flush()

    def request(self, method="GET", path="/", headers=(), body=None, timeout=None,
                **kw):
        """One request; waits for its end; returns its Stream."""
        sid = self.send_request(method, path, headers, body, **kw)
        s = self.wait([sid], timeout)[0]
        return s

    def get(self, path="/", headers=(), **kw):
        return self.request("GET", path, headers, **kw)

    def wait_settings(self, timeout=5.0):
        """Waits for the gateway's SETTINGS (its connection preface)."""
        return self.read_until(lambda: self.remote_settings_seen, timeout)

    @property
    def remote_settings(self):
        return self.conn.remote_settings

    def goaway_now(self, code=ERR.NO_ERROR):
        self.conn.close_connection(error_code=code)
        self._flush()


class RawH2(_Base):
    """Frames exactly as a test builds them. Sends the connection preface (the 24 bytes
    and an empty SETTINGS unless <settings>) when <preface>; answers the gateway's
    SETTINGS with an ACK and its data with WINDOW_UPDATEs (both can be turned off),
    decodes its header blocks, and records streams, RST_STREAMs, GOAWAYs, PING ACKs."""

    def __init__(self, port, ctx=None, server_name="localhost", timeout=5.0,
                 preface=True, settings=None, auto_ack=True, auto_window=True,
                 authority="localhost", check_alpn=True):
        super().__init__(port, ctx, server_name, timeout)
        if self.tls and check_alpn and self.alpn != "h2":
            self.close()
            raise AssertionError("the gateway selected ALPN %r, not h2" % (self.alpn,))
        self.authority = authority
        self.scheme = "https" if self.tls else "http"
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        # The responses of a test are small; a generous bound still keeps a broken
        # gateway from making this client decode without end.
        self.dec.max_header_list_size = 1 << 20
        self.auto_ack = auto_ack
        self.auto_window = auto_window
        self.buf = b""
        self.frames = []            # every frame received, in order
        self.server_settings = None
        self.settings_acks = 0
        self.ping_acks = 0
        self.rsts = []              # (stream id, error code) received
        self._hblock = None         # (stream id, bytes, end_stream) of an unfinished block
        self.decode_error = None
        if preface:
            self.send_bytes(PREFACE + SettingsFrame(0, settings=settings or {}).serialize())

    # -- sending ---------------------------------------------------------------------------

    def send_bytes(self, data):
        return self._sendall(data)

    def send_frames(self, frames):
        return self._sendall(b"".join(f.serialize() if isinstance(f, Frame) else f
                                      for f in frames))

    def request_headers(self, method="GET", path="/", headers=(), authority=None,
                        scheme=None):
        hs = [(":method", method), (":scheme", scheme or self.scheme),
              (":authority", authority or self.authority), (":path", path)]
        return hs + list(headers)

    def block(self, headers, huffman=True):
        """HPACK-encodes <headers> with this connection's encoder (its dynamic table
        follows what was sent before, as the gateway's decoder's does)."""
        return self.enc.encode(headers, huffman=huffman)

    def headers_frame(self, sid, headers=None, block=None, end_stream=False,
                      end_headers=True):
        flags = []
        if end_stream:
            flags.append("END_STREAM")
        if end_headers:
            flags.append("END_HEADERS")
        if block is None:
            block = self.block(headers)
        return HeadersFrame(sid, data=block, flags=flags)

    def send_headers(self, sid, headers=None, block=None, end_stream=False,
                     end_headers=True):
        self.stream(sid)
        return self.send_frames([self.headers_frame(sid, headers, block, end_stream,
                                                    end_headers)])

    def send_request(self, sid, method="GET", path="/", headers=(), body=None,
                     end_stream=True):
        """A well-formed request on stream <sid> (content-length added for a body)."""
        hs = self.request_headers(method, path, headers)
        fr = []
        if body is None:
            fr.append(self.headers_frame(sid, hs, end_stream=end_stream))
        else:
            hs.append(("content-length", str(len(body))))
            fr.append(self.headers_frame(sid, hs))
            fr.append(DataFrame(sid, data=body, flags=["END_STREAM"] if end_stream else []))
        self.stream(sid)
        return self.send_frames(fr)

    def continuation(self, sid, data=b"", end_headers=False):
        return ContinuationFrame(sid, data=data, flags=["END_HEADERS"] if end_headers else [])

    def data(self, sid, data=b"", end_stream=False):
        return DataFrame(sid, data=data, flags=["END_STREAM"] if end_stream else [])

    def rst(self, sid, code=ERR.CANCEL):
        return RstStreamFrame(sid, error_code=code)

    def ping(self, opaque=b"\0" * 8):
        return PingFrame(0, opaque_data=opaque)

    def settings(self, values=None):
        return SettingsFrame(0, settings=values or {})

    def priority(self, sid, depends_on=0, weight=15, exclusive=False):
        return PriorityFrame(sid, depends_on=depends_on, stream_weight=weight,
                             exclusive=exclusive)

    def window_update(self, sid, n):
        return WindowUpdateFrame(sid, window_increment=n)

    def goaway_frame(self, last_sid=0, code=ERR.NO_ERROR):
        return GoAwayFrame(0, last_stream_id=last_sid, error_code=code)

    def flood(self, frames, batch=64, limit_bytes=None):
        """Sends the frames of the iterable <frames> in batches, processing what the
        gateway sends between batches, until they run out, a GOAWAY arrives, the
        connection closes, or <limit_bytes> were sent. Returns (frames sent, bytes sent)."""
        nf = nb = 0
        out = []
        for f in frames:
            out.append(f.serialize() if isinstance(f, Frame) else f)
            if len(out) >= batch:
                d = b"".join(out)
                out = []
                if not self._sendall(d):
                    return nf, nb
                nf += batch
                nb += len(d)
                self.poll()
                if self.goaway is not None or self.closed:
                    return nf, nb
                if limit_bytes is not None and nb >= limit_bytes:
                    return nf, nb
        if out:
            d = b"".join(out)
            if self._sendall(d):
                nf += len(out)
                nb += len(d)
        self.poll()
        return nf, nb

    # -- receiving -------------------------------------------------------------------------

    def _feed(self, data):
        self.buf += data
        while len(self.buf) >= 9:
            try:
                f, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
            except Exception as e:  # noqa: BLE001 - a frame the gateway must not send
                self.decode_error = "bad frame header %r: %s" % (self.buf[:9], e)
                self.closed = True
                return
            if len(self.buf) < 9 + length:
                return
            body = self.buf[9:9 + length]
            self.buf = self.buf[9 + length:]
            try:
                f.parse_body(memoryview(body))
            except Exception as e:  # noqa: BLE001
                self.decode_error = "bad %s body: %s" % (type(f).__name__, e)
                self.closed = True
                return
            self.frames.append(f)
            self._frame(f)

    def _frame(self, f):
        if isinstance(f, SettingsFrame):
            if "ACK" in f.flags:
                self.settings_acks += 1
                return
            self.server_settings = dict(f.settings)
            tbl = f.settings.get(SettingsFrame.HEADER_TABLE_SIZE)
            if tbl is not None:
                # Our encoder may not use more dynamic table than the gateway allows.
                self.enc.header_table_size = min(tbl, 4096)
            if self.auto_ack:
                self._sendall(SettingsFrame(0, flags=["ACK"]).serialize())
        elif isinstance(f, PingFrame):
            if "ACK" in f.flags:
                self.ping_acks += 1
        elif isinstance(f, GoAwayFrame):
            self.goaway = (f.error_code, f.last_stream_id, f.additional_data)
            self.goaways.append(self.goaway)
        elif isinstance(f, RstStreamFrame):
            self.rsts.append((f.stream_id, f.error_code))
            s = self.stream(f.stream_id)
            s.reset = f.error_code
            s.reset_by_peer = True
        elif isinstance(f, (HeadersFrame, PushPromiseFrame)):
            end_stream = "END_STREAM" in f.flags
            if "END_HEADERS" in f.flags:
                self._head(f.stream_id, f.data, end_stream)
            else:
                self._hblock = (f.stream_id, f.data, end_stream)
        elif isinstance(f, ContinuationFrame):
            if self._hblock is None:
                self.decode_error = "CONTINUATION without HEADERS"
                return
            sid, blk, es = self._hblock
            blk += f.data
            if "END_HEADERS" in f.flags:
                self._hblock = None
                self._head(sid, blk, es)
            else:
                self._hblock = (sid, blk, es)
        elif isinstance(f, DataFrame):
            s = self.stream(f.stream_id)
            s._add_data(f.data)
            if "END_STREAM" in f.flags:
                s.ended = True
            n = f.flow_controlled_length
            if self.auto_window and n > 0:
                fr = [WindowUpdateFrame(0, window_increment=n)]
                if "END_STREAM" not in f.flags:
                    fr.append(WindowUpdateFrame(f.stream_id, window_increment=n))
                self._sendall(b"".join(x.serialize() for x in fr))

    def _head(self, sid, blk, end_stream):
        try:
            pairs = self.dec.decode(blk, raw=True)
        except Exception as e:  # noqa: BLE001
            self.decode_error = "response header block: %s" % e
            return
        s = self.stream(sid)
        s._set_head(pairs)
        if end_stream:
            s.ended = True

    def wait_settings(self, timeout=5.0):
        return self.read_until(lambda: self.server_settings is not None, timeout)
