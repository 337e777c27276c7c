"""
tests/integration/conftest.py - pytest fixtures of the black-box suite.

Owns: the recording upstream(s) of a test, the gateway(s) of a test (config written into
tmp_path, process stopped by PID in the finalizer), and the after-test crash/sanitizer
checks.
Refuses: to share a gateway between tests (each test gets its own process, ports and
logs, so a crash is blamed on the test that caused it).
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pc_client import free_ports  # noqa: E402
from pc_gateway import Gateway, base_config, deep_merge  # noqa: E402
from pc_upstream import Upstream  # noqa: E402


@pytest.fixture
def upstream_factory():
    """make(name="up", port=0) -> a started recording Upstream; all stopped at teardown."""
    ups = []

    def make(name="up", port=0):
        u = Upstream(name, port).start()
        ups.append(u)
        return u

    yield make
    errors = []
    for u in ups:
        u.stop()
        errors += u.errors
    if errors:
        pytest.fail("test upstream raised: %r" % errors)


@pytest.fixture
def upstream(upstream_factory):
    return upstream_factory("up1")


@pytest.fixture
def gateway_factory(tmp_path, upstream_factory):
    """make(overrides=None, targets=None, edit=None, start=True, env=None) -> Gateway.

    The config is base_config() (one catch-all public route "all" to upstream "backend"
    whose targets are <targets>, by default a fresh recording upstream, reachable as
    gw.upstream), deep-merged with <overrides>, then passed through <edit>(cfg) if given.
    """
    gws = []

    def make(overrides=None, targets=None, edit=None, start=True, env=None):
        port, admin_port = free_ports(2)
        d = os.path.join(str(tmp_path), "gw%d" % len(gws))
        os.makedirs(d, exist_ok=True)
        up = None
        if targets is None:
            up = upstream_factory("up%d" % len(gws))
            targets = [up.addr]
        cfg = base_config(d, port, admin_port, targets)
        if overrides:
            cfg = deep_merge(cfg, overrides)
        if edit:
            cfg = edit(cfg) or cfg
        gw = Gateway(d, cfg, port, admin_port, env)
        gw.upstream = up
        gws.append(gw)
        if start:
            gw.start()
        return gw

    yield make
    problems = []
    for gw in gws:
        problems += gw.stop_and_check()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def gateway(gateway_factory):
    """A started gateway with the base config and its own recording upstream."""
    return gateway_factory()
