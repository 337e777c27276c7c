"""
Attacks on HTTP/2: rapid reset (CVE-2023-44487), more streams than
max_concurrent_streams, HPACK bombs, CONTINUATION floods, SETTINGS / PING / PRIORITY /
empty-DATA floods, and the silent client. Each is stopped (GOAWAY with the expected
error code and a close, or refused streams), logged as a security event (phase "http2",
client_ip), leaves the gateway serving a fresh connection, and lets nothing of the
attack reach the upstream beyond what the limits allow.

The limits in the test config are small so the tests are fast: max_resets 20,
max_concurrent_streams 10, max_control_frames 50, header_max_bytes 8192.
"""

import socket
import time

import hpack
import pytest
from hyperframe.frame import SettingsFrame

from pc_client import scaled
from pc_gateway import rss_kib
from pc_h2 import ERR, H2Client, PREFACE, RawH2, err_name
from pc_tls import *        # noqa: F401,F403 - fixtures tls_certs, ...
from pc_tlsgw import *      # noqa: F401,F403 - fixture tls_gateway

MAX_RESETS = 20
MAX_STREAMS = 10
MAX_CONTROL = 50
HEADER_MAX = 8192

LIMITS = {
    "http2": {"max_concurrent_streams": MAX_STREAMS, "max_resets": MAX_RESETS,
              "max_control_frames": MAX_CONTROL},
    "limits": {"header_max_bytes": HEADER_MAX, "header_max_count": 50},
}
CALM = ERR.ENHANCE_YOUR_CALM


@pytest.fixture
def h2gw(tls_gateway):
    """make(overrides=None) -> Gateway with the attack LIMITS, an h2c plain listener
    (gw.port) and an http2 TLS listener (gw.tls_port)."""

    def make(overrides=None):
        def edit(cfg):
            cfg["listen"][0] = {"address": cfg["listen"][0], "h2c": True}
            return cfg
        ov = dict(LIMITS)
        for k, v in (overrides or {}).items():
            ov[k] = dict(ov.get(k, {}), **v) if isinstance(v, dict) else v
        return tls_gateway(overrides=ov, edit=edit, http2=True)

    return make


def raw_tls(gw, certs, **kw):
    return RawH2(gw.tls_port, client_context(ca=certs.ca, alpn=["h2"]), **kw)


def heads(up):
    with up.lock:
        return list(up.heads)


def attack_heads(up, prefix):
    return [r for r in heads(up) if r.path.startswith(prefix)]


def check_stopped(gw, raw, codes, reasons, what):
    """The connection got GOAWAY with one of <codes> and was closed; a security event
    with one of <reasons> names the client; a fresh connection is served."""
    code = raw.wait_goaway(5)
    assert code in codes, "%s: GOAWAY %s, wanted one of %s (closed: %r)" % (
        what, err_name(code), [err_name(c) for c in codes], raw.closed)
    assert raw.wait_closed(5), "%s: connection left open after GOAWAY" % what
    assert raw.decode_error is None, raw.decode_error
    ev = gw.wait_event(lambda e: e.get("reason") in reasons and
                       e.get("phase") == "http2")
    assert ev["client_ip"] == "127.0.0.1", ev
    assert gw.alive()
    return ev


def check_fresh(gw, certs):
    """A fresh connection (h2 over TLS, then h2c) is served normally."""
    with H2Client(gw.tls_port, client_context(ca=certs.ca, alpn=["h2"])) as c:
        s = c.get("/fresh-tls")
        assert s.status == 200, s
    with H2Client(gw.port) as c:
        s = c.get("/fresh-h2c")
        assert s.status == 200, s


# ---- rapid reset ---------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["tls", "h2c"])
def test_rapid_reset(h2gw, tls_certs, transport):
    gw = h2gw()
    raw = raw_tls(gw, tls_certs) if transport == "tls" else RawH2(gw.port)
    assert raw.wait_settings()

    def pairs():
        for i in range(1000):
            sid = 1 + 2 * i
            # slow: no request completes at the upstream before its reset arrives
            yield raw.headers_frame(sid, raw.request_headers("GET", "/rr/%d/slow?ms=2000"
                                                             % i), end_stream=True)
            yield raw.rst(sid, ERR.CANCEL)

    nf, nb = raw.flood(pairs(), batch=20)
    check_stopped(gw, raw, {CALM}, {"http2_rapid_reset"}, "rapid reset")
    raw.close()
    time.sleep(0.3)
    n = len(attack_heads(gw.upstream, "/rr/"))
    # Each stream forwarded was either reset (at most max_resets before the GOAWAY, plus
    # the one that crossed the limit) or still open (at most max_concurrent_streams).
    assert n <= MAX_RESETS + 1 + MAX_STREAMS, \
        "%d of %d reset streams reached the upstream" % (n, nf // 2)
    check_fresh(gw, tls_certs)


def test_resets_below_the_limit_are_fine(h2gw, tls_certs):
    """A client cancelling a few requests is not an attacker."""
    gw = h2gw()
    raw = raw_tls(gw, tls_certs)
    assert raw.wait_settings()
    for i in range(MAX_RESETS // 2):
        sid = 1 + 2 * i
        raw.send_frames([raw.headers_frame(sid, raw.request_headers("GET", "/ok%d" % i),
                                           end_stream=True), raw.rst(sid)])
    raw.send_request(101, "GET", "/after-resets")
    assert raw.read_until(lambda: raw.stream(101).done, 5)
    assert raw.stream(101).status == 200, raw.stream(101)
    assert raw.goaway is None, err_name(raw.goaway[0])
    raw.close()


# ---- concurrent streams ----------------------------------------------------------------

def test_streams_over_max_concurrent_are_refused(h2gw, tls_certs):
    gw = h2gw()
    raw = raw_tls(gw, tls_certs, timeout=10)
    assert raw.wait_settings()
    assert raw.server_settings.get(SettingsFrame.MAX_CONCURRENT_STREAMS) == MAX_STREAMS
    n = MAX_STREAMS + 6
    sids = [1 + 2 * i for i in range(n)]
    raw.send_frames([raw.headers_frame(sid, raw.request_headers(
        "GET", "/cs/%d/slow?ms=1000" % sid), end_stream=True) for sid in sids])
    raw.read_until(lambda: all(raw.stream(s).done for s in sids) or raw.closed, 8)
    done = [raw.stream(s) for s in sids]
    if raw.goaway is not None:
        # libnghttp2 treats a client that exceeds the limit it acknowledged as a
        # connection error (GOAWAY PROTOCOL_ERROR, docs/decisions/0009), stricter than RFC
        # 9113 5.1.2's stream error: the whole connection goes, the streams it already
        # accepted included. What matters holds either way: no stream past the limit
        # reaches the upstream.
        assert raw.goaway[0] == ERR.PROTOCOL_ERROR, err_name(raw.goaway[0])
        assert raw.wait_closed(5)
        heads = {r.path for r in attack_heads(gw.upstream, "/cs/")}
        assert heads <= {"/cs/%d/slow" % s for s in sids[:MAX_STREAMS]}, heads
        raw.close()
        check_fresh(gw, tls_certs)
        return
    served = [s.id for s in done if s.status == 200 and s.ended]
    refused = [s for s in done if s.reset is not None]
    assert served == sids[:MAX_STREAMS], done
    assert len(refused) == n - MAX_STREAMS, done
    for s in refused:
        assert s.reset in (ERR.REFUSED_STREAM, ERR.PROTOCOL_ERROR), s
        assert s.status is None, s
    assert {r.path for r in attack_heads(gw.upstream, "/cs/")} == \
        {"/cs/%d/slow" % s for s in served}
    # The slots are free again: the connection goes on.
    raw.send_request(1001, "GET", "/after-refusal")
    assert raw.read_until(lambda: raw.stream(1001).done, 5)
    assert raw.stream(1001).status == 200, raw.stream(1001)
    raw.close()
    check_fresh(gw, tls_certs)


# ---- HPACK bomb ------------------------------------------------------------------------

def _bomb_result(gw, raw, sid, what):
    """The bomb's stream is answered 431 or reset, and the connection ends with
    GOAWAY ENHANCE_YOUR_CALM; the event is limit_headers."""
    raw.read_until(lambda: raw.stream(sid).done or raw.closed, 5)
    s = raw.stream(sid)
    assert s.status in (None, 431), s
    check_stopped(gw, raw, {CALM}, {"limit_headers"}, what)


def test_hpack_bomb_dynamic_table_in_one_block(h2gw, tls_certs):
    gw = h2gw()
    raw = raw_tls(gw, tls_certs)
    assert raw.wait_settings()
    v = "b" * 3000                   # one entry of 3038 bytes fits the 4096-byte table
    hs = raw.request_headers("GET", "/hb/1") + [("x-bomb", v)] * 300
    blk = raw.block(hs)
    assert len(blk) < 4000, len(blk)  # ~2.3 KB on the wire, ~900 KB decoded
    raw.send_headers(1, block=blk, end_stream=True)
    _bomb_result(gw, raw, 1, "HPACK bomb (one block)")
    raw.close()
    gw.upstream.assert_nothing(settle=0.2)
    check_fresh(gw, tls_certs)


def test_hpack_bomb_referencing_an_earlier_block(h2gw, tls_certs):
    gw = h2gw()
    raw = raw_tls(gw, tls_certs)
    assert raw.wait_settings()
    v = "c" * 3000
    # Stream 1: a legitimate request that puts the value in the dynamic table.
    raw.send_headers(1, raw.request_headers("GET", "/hb/seed", [("x-bomb", v)]),
                     end_stream=True)
    assert raw.read_until(lambda: raw.stream(1).done, 5)
    assert raw.stream(1).status == 200, raw.stream(1)
    # Stream 3: hundreds of one-byte references to it.
    blk = raw.block(raw.request_headers("GET", "/hb/bomb") + [("x-bomb", v)] * 400)
    assert len(blk) < 600, len(blk)
    raw.send_headers(3, block=blk, end_stream=True)
    _bomb_result(gw, raw, 3, "HPACK bomb (references)")
    raw.close()
    time.sleep(0.2)
    assert [r.path for r in heads(gw.upstream)] == ["/hb/seed"]
    check_fresh(gw, tls_certs)


def test_hpack_bomb_many_fields(h2gw, tls_certs):
    gw = h2gw()
    raw = raw_tls(gw, tls_certs)
    assert raw.wait_settings()
    hs = raw.request_headers("GET", "/hb/many") + \
        [hpack.NeverIndexedHeaderTuple("x-f%d" % i, "1") for i in range(1500)]
    blk = raw.block(hs, huffman=False)
    assert len(blk) < 16384, len(blk)
    raw.send_headers(1, block=blk, end_stream=True)
    _bomb_result(gw, raw, 1, "HPACK bomb (many fields)")
    raw.close()
    gw.upstream.assert_nothing(settle=0.2)
    check_fresh(gw, tls_certs)


# ---- CONTINUATION flood ----------------------------------------------------------------

def _continuation_flood(gw, certs, payload, limit):
    raw = raw_tls(gw, certs, timeout=10)
    assert raw.wait_settings()
    before = rss_kib(gw.proc.pid)
    first = raw.block(raw.request_headers("GET", "/cf"))
    raw.send_headers(1, block=first, end_stream=True, end_headers=False)

    def frames():
        while True:
            yield raw.continuation(1, payload)

    nf, nb = raw.flood(frames(), batch=64, limit_bytes=limit)
    return raw, nf, nb, before


def test_continuation_flood_empty_frames(h2gw, tls_certs):
    """Endless empty CONTINUATION frames. Reason: the spec names both limit_headers
    (CONTINUATION) and http2_flood (empty CONTINUATION frames count as control
    frames), so either is accepted."""
    gw = h2gw()
    raw, nf, nb, before = _continuation_flood(gw, tls_certs, b"", 4 << 20)
    check_stopped(gw, raw, {CALM, ERR.PROTOCOL_ERROR}, {"limit_headers", "http2_flood"},
                  "empty CONTINUATION flood")
    raw.close()
    assert nb < 4 << 20, "the gateway read %d empty CONTINUATION frames" % nf
    gw.upstream.assert_nothing(settle=0.2)
    check_fresh(gw, tls_certs)


def test_continuation_flood_header_bytes(h2gw, tls_certs):
    """CONTINUATION frames each carrying a 1000-byte literal field that is never
    indexed: the block grows past header_max_bytes and is cut there, before memory
    grows (the flood would be 32 MiB)."""
    gw = h2gw()
    enc = hpack.Encoder()
    payload = enc.encode([hpack.NeverIndexedHeaderTuple("x-c", "c" * 1000)],
                         huffman=False)
    raw, nf, nb, before = _continuation_flood(gw, tls_certs, payload, 32 << 20)
    check_stopped(gw, raw, {CALM, ERR.PROTOCOL_ERROR}, {"limit_headers"},
                  "CONTINUATION flood")
    raw.close()
    after = rss_kib(gw.proc.pid)
    # What was sent before the close sits mostly in socket buffers, not in the gateway.
    assert nb < 32 << 20, "the gateway read all of a 32 MiB header block"
    assert after - before < 16 << 10, "gateway RSS grew %d KiB during the flood" % (
        after - before)
    gw.upstream.assert_nothing(settle=0.2)
    check_fresh(gw, tls_certs)


# ---- control-frame floods --------------------------------------------------------------

def _flood_frames(raw, kind):
    if kind == "settings":
        while True:
            yield raw.settings()
    elif kind == "settings_values":
        while True:
            yield raw.settings({SettingsFrame.INITIAL_WINDOW_SIZE: 65535})
    elif kind == "ping":
        n = 0
        while True:
            n += 1
            yield raw.ping(b"%08d" % (n % 10 ** 8))
    elif kind == "priority":
        n = 0
        while True:
            # PRIORITY on ever new idle streams (each one state for a naive server)
            yield raw.priority(1001 + 2 * n, depends_on=0)
            n += 1
    elif kind == "empty_data":
        while True:
            yield raw.data(1, b"")


FLOODS = ["settings", "settings_values", "ping", "priority", "empty_data"]


@pytest.mark.parametrize("kind", FLOODS)
def test_control_frame_flood(h2gw, tls_certs, kind):
    gw = h2gw()
    raw = raw_tls(gw, tls_certs, timeout=10)
    assert raw.wait_settings()
    if kind == "empty_data":
        # An open POST whose body never comes: only empty DATA frames.
        raw.send_headers(1, raw.request_headers("POST", "/fl"), end_stream=False)
    nf, nb = raw.flood(_flood_frames(raw, kind), batch=32, limit_bytes=8 << 20)
    check_stopped(gw, raw, {CALM}, {"http2_flood"}, "%s flood" % kind)
    raw.close()
    assert nb < 8 << 20, "the gateway accepted %d %s frames" % (nf, kind)
    if kind == "empty_data":
        gw.upstream.assert_no_complete(settle=0.2)
    else:
        gw.upstream.assert_nothing(settle=0.2)
    check_fresh(gw, tls_certs)


def test_control_frames_below_the_limit_are_fine(h2gw, tls_certs):
    gw = h2gw()
    raw = raw_tls(gw, tls_certs)
    assert raw.wait_settings()
    n = MAX_CONTROL // 3
    raw.send_frames([raw.ping(b"%08d" % i) for i in range(n)] +
                    [raw.priority(3 + 2 * i) for i in range(n)])
    assert raw.read_until(lambda: raw.ping_acks >= n, 5), raw.ping_acks
    raw.send_request(1, "GET", "/after-pings")
    assert raw.read_until(lambda: raw.stream(1).done, 5)
    assert raw.stream(1).status == 200, raw.stream(1)
    assert raw.goaway is None, err_name(raw.goaway[0])
    raw.close()


# ---- slow client -----------------------------------------------------------------------

@pytest.mark.parametrize("what", ["tls_preface_only", "h2c_preface_only",
                                  "h2c_magic_only"])
def test_slow_h2_client_closed_after_header_timeout(h2gw, tls_certs, what):
    gw = h2gw({"limits": {"header_timeout_ms": 1000}})
    t0 = time.monotonic()
    if what == "tls_preface_only":
        raw = raw_tls(gw, tls_certs, timeout=10)
    elif what == "h2c_preface_only":
        raw = RawH2(gw.port, timeout=10)
    else:
        # Only the 24 bytes, never a SETTINGS frame: not even the ACK of the gateway's
        # SETTINGS, which would be a wrong first frame (a PROTOCOL_ERROR, not silence).
        raw = RawH2(gw.port, timeout=10, preface=False, auto_ack=False)
        raw.send_bytes(PREFACE)
    try:
        assert raw.wait_closed(6), "an h2 connection that sends nothing stayed open"
        el = time.monotonic() - t0
        assert el < scaled(3.0), "closed after %.1f s, not header_timeout_ms" % el
        assert el > 0.8, "closed after %.1f s, before header_timeout_ms" % el
        if raw.goaway is not None:
            assert raw.goaway[0] in (ERR.NO_ERROR, CALM, ERR.PROTOCOL_ERROR), \
                err_name(raw.goaway[0])
        assert not raw.streams
    finally:
        raw.close()
    gw.upstream.assert_nothing()
    check_fresh(gw, tls_certs)


def test_many_silent_h2_connections_do_not_block_service(h2gw, tls_certs):
    gw = h2gw({"limits": {"header_timeout_ms": 1000}})
    socks = []
    try:
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
            s.sendall(PREFACE)
            socks.append(s)
        check_fresh(gw, tls_certs)
        time.sleep(scaled(2.0))
        still_open = 0
        for s in socks:
            s.settimeout(scaled(2.0))
            try:
                while s.recv(4096):
                    pass            # a GOAWAY or a 400 may come first; then EOF
            except socket.timeout:
                still_open += 1
            except OSError:
                pass                # reset: closed too
        assert still_open == 0, "%d of 40 silent connections still open" % still_open
    finally:
        for s in socks:
            s.close()
