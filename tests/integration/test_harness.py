"""
Self-tests of the suite's own machinery, against the recording upstream directly (no
gateway): if these fail, every other failure is suspect.
"""

import threading

from pc_client import Conn, build_request, chunked, parse_metrics, metric_value, request
from pc_gateway import to_yaml
from pc_upstream import CHUNKED_BODY, NOLENGTH_BODY


def test_upstream_echo_and_record(upstream):
    r = request(upstream.port, "POST", "/x/y?q=%2F", [("X-A", "1"), ("X-A", "2")],
                body=b"hello")
    assert r.status == 200
    assert r.header("server") == "test-upstream"
    assert r.header("x-powered-by") == "PHP"
    echo = r.json()
    assert echo["target"] == "/x/y?q=%2F" and echo["body"] == "hello"
    rec = upstream.wait_requests(1)[0]
    assert rec.method == "POST" and rec.body == b"hello"
    assert rec.header_all("x-a") == ["1", "2"]


def test_upstream_keepalive_and_chunked_request(upstream):
    with Conn(upstream.port) as c:
        for i in range(3):
            c.send(build_request("POST", "/k%d" % i, [("Transfer-Encoding", "chunked")],
                                 body=chunked("ab", "cde")))
            r = c.read_response()
            assert r.status == 200 and r.json()["body"] == "abcde"
    recs = upstream.wait_requests(3)
    assert len({x.conn_id for x in recs}) == 1
    assert all(x.chunked for x in recs)


def test_upstream_behaviours(upstream):
    r = request(upstream.port, "GET", "/a/chunked")
    assert r.chunked and r.body == CHUNKED_BODY
    r = request(upstream.port, "GET", "/nolength")
    assert r.body == NOLENGTH_BODY and r.header("content-length") is None
    r = request(upstream.port, "GET", "/big?bytes=200000")
    assert len(r.body) == 200000
    r = request(upstream.port, "GET", "/status/503")
    assert r.status == 503
    r = request(upstream.port, "GET", "/status/204")
    assert r.status == 204 and r.body == b""
    with Conn(upstream.port) as c:
        c.send(build_request("GET", "/close-mid"))
        r = c.read_response(allow_truncated=True)
        assert not r.complete and len(r.body) == 100
    with Conn(upstream.port) as c:
        c.send(build_request("GET", "/close-before"))
        assert c.wait_closed(2)
    r = request(upstream.port, "GET", "/slow?ms=100")
    assert r.status == 200


def test_upstream_concurrent_clients(upstream):
    errs = []

    def one(i):
        try:
            assert request(upstream.port, "GET", "/c%d" % i).status == 200
        except Exception as e:  # collected, asserted below
            errs.append(e)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(10)
    assert not errs
    assert len(upstream.wait_requests(20)) == 20


def test_yaml_emitter():
    y = to_yaml({"a": 1, "b": [1, "x y"], "c": {"d": True, "e": "/p/{id}/**"},
                 "routes": [{"name": "r", "methods": ["GET"]}], "f": "off", "g": []})
    assert y == ('a: 1\nb: [1, "x y"]\nc:\n  d: true\n  e: /p/{id}/**\n'
                 'routes:\n  - name: r\n    methods: [GET]\nf: "off"\ng: []')


def test_metrics_parser():
    s = parse_metrics('# HELP x y\nm_total{route="a",status="200"} 3\n'
                      'm_total{route="b",status="200"} 2\nplain 1.5\n')
    assert metric_value(s, "m_total", status=200) == 5
    assert metric_value(s, "plain") == 1.5
    assert metric_value(s, "nope") is None
