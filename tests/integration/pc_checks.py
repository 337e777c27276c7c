"""
tests/integration/pc_checks.py - the assertions many test files share: what a refusal by
the gateway must look like from the outside.

Owns: the shape of a gateway-generated error (status, JSON body, reason code, request id,
connection closed), its access-log line, and "nothing reached the upstream".
Refuses: to accept a refusal that leaked anything to the upstream.
"""

import re

from pc_client import Conn, Closed

REQ_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

STATUS_TEXT = {400: "Bad Request", 404: "Not Found", 408: "Request Timeout",
               413: "Content Too Large", 414: "URI Too Long", 417: "Expectation Failed",
               431: "Request Header Fields Too Large", 502: "Bad Gateway",
               503: "Service Unavailable", 504: "Gateway Timeout"}
# RFC 9110 renamed 413; the older text is accepted too.
STATUS_TEXT_ALT = {413: {"Payload Too Large"}}


def as_set(x):
    return {x} if isinstance(x, str) else set(x)


def check_error_response(r, status, reasons):
    """A gateway-generated error: status, application/json, {"error","reason",
    "request_id"}; returns the parsed body."""
    assert r.status == status, "expected %d, got %r" % (status, r)
    ct = (r.header("content-type") or "").split(";")[0].strip().lower()
    assert ct == "application/json", "error Content-Type %r" % ct
    body = r.json()
    assert set(body) >= {"error", "reason", "request_id"}, body
    if status in STATUS_TEXT:
        assert body["error"] in {STATUS_TEXT[status]} | STATUS_TEXT_ALT.get(status, set()), body
    assert body["reason"] in as_set(reasons), "reason %r not in %r" % (body["reason"],
                                                                      reasons)
    assert REQ_ID.match(body["request_id"]), body
    assert r.header("server") is None and r.header("x-powered-by") is None
    return body


def send_raw(port, raw, timeout=5.0, method="GET", wait_close=True):
    """Sends <raw>, returns (response or None if the gateway closed without one,
    closed-after)."""
    with Conn(port, timeout) as c:
        c.try_send(raw)
        try:
            r = c.read_response(method)
        except Closed:
            return None, True
        if r.status < 400 or not wait_close:
            return r, False     # a success keeps the connection: nothing to wait for
        closed = c.wait_closed(2.0) and not c.extra
        return r, closed


def assert_rejected(gw, raw, status, reasons, upstream=None, closed=True, log=True,
                    upstreams=None, partial_ok=False):
    """Sends the exact bytes <raw> to <gw> on a fresh connection and checks the refusal:
    the error response, the connection closed after it (for malformed requests), the
    access-log line with the same status/reason/request id, and nothing at the upstream.
    <partial_ok>: the error is only detectable in the body (chunked framing), so the
    upstream may have seen the head, but never a complete request.
    Returns (body, log entry)."""
    r, was_closed = send_raw(gw.port, raw, wait_close=closed)
    assert r is not None, "gateway closed the connection without a %d response" % status
    body = check_error_response(r, status, reasons)
    if closed:
        assert was_closed, "connection not closed after a %d for a malformed request" \
            % status
    entry = None
    if log:
        entry = gw.access_for(body["request_id"])
        assert entry["status"] == status, entry
        assert entry["reason"] == body["reason"], entry
        if not partial_ok:
            assert entry.get("upstream") in (None, ""), entry
    for u in [upstream or gw.upstream] + list(upstreams or []):
        if u is not None:
            if partial_ok:
                u.assert_no_complete()
            else:
                u.assert_nothing()
    return body, entry
