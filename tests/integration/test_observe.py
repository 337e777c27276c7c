"""
Observability: the access log (every key, values that match the exchange, valid JSON
whatever the client sent), security events (one per deny, none for allowed requests),
Prometheus metrics and /healthz on the admin listener.
"""

import re

from pc_checks import send_raw
from pc_client import build_request, free_port, metric_value, poll, request

KEYS = {"time", "request_id", "client_ip", "method", "path", "route", "upstream", "status",
        "bytes_in", "bytes_out", "upstream_ms", "total_ms", "phase", "reason",
        "would_deny", "would_deny_phase", "principal"}
EVENT_KEYS = {"time", "event", "request_id", "client_ip", "method", "path", "route",
              "status", "phase", "reason"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def test_access_log_success_line(gateway):
    r = request(gateway.port, "POST", "/obs/%61?q=1", [("X-Request-Id", "obs-1")],
                body=b"x" * 100)
    assert r.status == 200
    e = gateway.access_for("obs-1")
    assert set(e) >= KEYS, set(e) ^ KEYS
    assert TIME.match(e["time"]), e
    assert e["client_ip"] == "127.0.0.1"
    assert e["method"] == "POST" and e["path"] == "/obs/a"
    assert e["route"] == "all"
    assert e["upstream"] == gateway.upstream.addr
    assert e["status"] == 200
    assert e["bytes_in"] >= 100 + len("POST /obs/%61?q=1 HTTP/1.1\r\n")
    assert e["bytes_out"] >= len(r.body)
    assert isinstance(e["upstream_ms"], (int, float)) and e["upstream_ms"] >= 0
    assert isinstance(e["total_ms"], (int, float)) and e["total_ms"] >= e["upstream_ms"]
    for k in ("phase", "reason", "would_deny", "would_deny_phase", "principal"):
        assert e[k] is None, (k, e)


def test_access_log_timing(gateway):
    request(gateway.port, "GET", "/slow?ms=300", [("X-Request-Id", "obs-slow")])
    e = gateway.access_for("obs-slow")
    assert 250 <= e["upstream_ms"] <= e["total_ms"] < 5000, e


def test_access_log_deny_line(gateway):
    raw = b"GET /a HTTP/1.1\r\nHost: gw.test\r\nX-Request-Id: obs-deny\r\n" \
        b"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    r, _ = send_raw(gateway.port, raw)
    assert r.status == 400
    e = gateway.access_for(r.json()["request_id"])
    assert set(e) >= KEYS
    assert e["status"] == 400 and e["phase"] == "parse" and e["reason"] == "http_cl_and_te"
    assert e["upstream"] is None and e["upstream_ms"] is None, e
    assert e["route"] is None and e["principal"] is None, e
    assert e["bytes_out"] > 0


def test_access_log_route_deny_line(gateway_factory):
    gw = gateway_factory({"routes": [{"name": "p", "path": "/p/**", "upstream": "backend",
                                      "public": True}]})
    r = request(gw.port, "GET", "/nowhere", [("X-Request-Id", "obs-404")])
    assert r.status == 404
    e = gw.access_for("obs-404")
    assert e["phase"] == "route" and e["reason"] == "route_not_found"
    assert e["route"] is None and e["upstream"] is None


def test_access_log_is_valid_json_for_hostile_input(gateway):
    """Raw bytes a client controls end up in the log (method, raw target when
    normalization failed): the line is still one valid JSON object."""
    attacks = [
        b'GET /a"b\\c%2F HTTP/1.1\r\nHost: gw.test\r\n\r\n',
        b"GET /a%2F\"},{\"x\":\"y HTTP/1.1\r\nHost: gw.test\r\n\r\n",
        b"GET /\xff\xfe%2F HTTP/1.1\r\nHost: gw.test\r\n\r\n",
        b"GET /a%2F\x1b[31m HTTP/1.1\r\nHost: gw.test\r\n\r\n",
        b"GET /a%2F HTTP/1.1\r\nHost: gw.test\r\nX-Request-Id: a\"b\r\n\r\n",
    ]
    for a in attacks:
        send_raw(gateway.port, a)
    lines = poll(lambda: len(gateway.access()) >= len(attacks) and gateway.access())
    assert len(lines) == len(attacks), lines          # read_jsonl asserts valid JSON
    for e in lines:
        assert e["status"] == 400 and set(e) >= KEYS
    with open(gateway.access_log, "rb") as f:
        assert f.read().count(b"\n") == len(attacks), "a line break was injected"


def test_events_one_per_deny_none_for_success(gateway):
    request(gateway.port, "GET", "/ok", [("X-Request-Id", "ev-ok")])
    r, _ = send_raw(gateway.port, b"GET /a%2Fb HTTP/1.1\r\nHost: gw.test\r\n"
                    b"X-Request-Id: ev-deny\r\n\r\n")
    assert r.status == 400
    ev = gateway.wait_event(lambda e: e.get("request_id") == "ev-deny")
    assert set(ev) >= EVENT_KEYS, ev
    assert ev["event"] == "deny" and ev["status"] == 400
    assert ev["phase"] == "normalize" and ev["reason"] == "path_encoded_slash"
    assert ev["client_ip"] == "127.0.0.1" and ev["method"] == "GET"
    assert TIME.match(ev["time"])
    gateway.access_for("ev-ok")
    evs = gateway.events()
    assert len(evs) == 1, evs
    assert not [e for e in evs if e.get("request_id") == "ev-ok"]


def test_healthz(gateway):
    r = gateway.admin_get("/healthz")
    assert r.status == 200


def test_admin_unknown_path_404(gateway):
    assert gateway.admin_get("/nope").status == 404


def test_admin_not_on_main_listener(gateway_factory):
    gw = gateway_factory({"routes": [{"name": "p", "path": "/p/**", "upstream": "backend",
                                      "public": True}]})
    assert request(gw.port, "GET", "/metrics").status == 404
    assert request(gw.port, "GET", "/healthz").status == 404


def test_metrics(gateway_factory):
    gw = gateway_factory({"upstreams": {"dead": {"targets": ["127.0.0.1:%d" % free_port()]}},
                          "routes": [{"name": "all", "path": "/**", "upstream": "backend",
                                      "public": True},
                                     {"name": "deadr", "path": "/dead/**",
                                      "upstream": "dead", "public": True}]})
    for i in range(3):
        assert request(gw.port, "GET", "/m%d" % i).status == 200
    send_raw(gw.port, b"GET /a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 1\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert request(gw.port, "GET", "/dead/x").status == 502
    r = gw.admin_get("/metrics")
    assert r.status == 200
    assert (r.header("content-type") or "").startswith("text/plain")

    def ready():
        s = gw.metrics()
        return (metric_value(s, "portcullis_requests_total", route="all", status="200") or 0) \
            >= 3 and s
    s = poll(ready, 2.0)
    assert s, gw.admin_get("/metrics").body.decode()
    assert metric_value(s, "portcullis_requests_total", route="all", status="200") >= 3
    assert metric_value(s, "portcullis_rejections_total", reason="http_cl_and_te") >= 1
    assert metric_value(s, "portcullis_upstream_errors_total") >= 1
    assert metric_value(s, "portcullis_connections_open") is not None
    inf = metric_value(s, "portcullis_request_duration_seconds_bucket", le="+Inf")
    assert inf is not None and inf >= 4
    text = r.body.decode()
    assert "# TYPE portcullis_requests_total counter" in text
    assert "# TYPE portcullis_request_duration_seconds histogram" in text


def test_admin_requires_token(gateway):
    """The admin surface requires authentication: no or a wrong bearer token is 401."""
    r = gateway.admin_get("/metrics", token=None)
    assert r.status == 401 and r.header("www-authenticate"), r
    assert gateway.admin_get("/metrics", token="integration-admin-token-0123456788").status \
        == 401
    assert gateway.admin_get("/nope", token=None).status == 401   # no probing of paths
    assert gateway.admin_get("/healthz", token=None).status == 200  # liveness only
    assert b"integration-admin-token" not in open(gateway.stderr_path, "rb").read()


def test_admin_without_token_serves_only_healthz(gateway_factory):
    def no_token(cfg):
        del cfg["admin"]["token"]
        return cfg

    gw = gateway_factory(edit=no_token)
    assert gw.admin_get("/healthz", token=None).status == 200
    r = gw.admin_get("/metrics", token=None)
    assert r.status == 403 and r.json()["reason"] == "admin_token_not_configured", r
