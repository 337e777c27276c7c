"""
Attack: slowloris. Many connections each trickling a never-ending head hold server slots.
Each is answered 408 (or closed) once header_timeout_ms has passed since its start, no
matter how steadily it trickles, and the gateway keeps serving others meanwhile.
"""

import threading
import time

from pc_client import Conn, request, scaled

LIMITS = {"limits": {"header_timeout_ms": 1000}}


def drip(port, out, i):
    try:
        with Conn(port, timeout=10) as c:
            t0 = time.monotonic()
            c.send(b"GET /a HTTP/1.1\r\nHost: gw.test\r\n")
            while time.monotonic() - t0 < scaled(6):
                if not c.try_send(b"X-%d: a\r\n" % i):
                    break
                if c.wait_closed(0.25) or c.extra:
                    break
            closed = c.wait_closed(scaled(1)) if not c.eof else True
            out.append((time.monotonic() - t0, c.extra[:12], closed))
    except Exception as e:  # reported by the test
        out.append(e)


def test_slowloris_connections_cut_and_service_continues(gateway_factory):
    gw = gateway_factory(LIMITS)
    out = []
    ts = [threading.Thread(target=drip, args=(gw.port, out, i)) for i in range(40)]
    for t in ts:
        t.start()
    time.sleep(0.3)
    # the gateway still serves a normal client while 40 drips are hanging
    for _ in range(3):
        assert request(gw.port, "GET", "/ok", timeout=2).status == 200
    for t in ts:
        t.join(scaled(15))
    assert len(out) == 40
    for x in out:
        assert not isinstance(x, Exception), x
        el, first, closed = x
        assert el < scaled(3.0), "a dripping connection lived %.1f s" % el
        assert first in (b"",) or first.startswith(b"HTTP/1.1 408"), first
        assert closed
    assert [r.path for r in gw.upstream.snapshot()] == ["/ok"] * 3


def test_slow_body_cut(gateway_factory):
    """The body variant (slow POST): a stalled body is cut after body_timeout_ms."""
    gw = gateway_factory({"limits": {"body_timeout_ms": 1000}})
    with Conn(gw.port, timeout=10) as c:
        c.send(b"POST /a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 1000\r\n\r\nx")
        t0 = time.monotonic()
        assert c.wait_closed(scaled(4)), "stalled body kept open"
        el = time.monotonic() - t0
        assert c.extra == b"" or c.extra.startswith(b"HTTP/1.1 408 "), c.extra[:200]
        assert el < scaled(3), "stalled body cut after %.1f s, not body_timeout_ms" % el
    gw.upstream.assert_no_complete()
