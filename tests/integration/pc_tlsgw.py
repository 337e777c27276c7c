"""
tests/integration/pc_tlsgw.py - a gateway with a TLS listener, for the TLS test files.

Owns: the shape of a TLS listener in a test config. Use with `from pc_tlsgw import *`
next to `from pc_tls import *` (the fixtures come from there).
"""

import pytest

from pc_client import free_ports

__all__ = ["tls_gateway", "tls_listener"]


def tls_listener(port, certs, **tls):
    """A `listen:` map entry for a TLS listener on <port> serving the Certs <certs>."""
    t = {"certificates": [{"cert": c.chain, "key": c.key} for c in certs]}
    t.update(tls)
    return {"address": "127.0.0.1:%d" % port, "tls": t}


@pytest.fixture
def tls_gateway(gateway_factory, tls_certs):
    """make(certs=None, overrides=None, edit=None, start=True, **tls) -> Gateway with a
    plain listener (gw.port) and a TLS one (gw.tls_port) serving <certs> (default: the
    standard EC and RSA certificates for localhost/127.0.0.1); <tls> are more keys of the
    listener's tls section (client_cert, client_ca, hsts, ...)."""

    def make(certs=None, overrides=None, edit=None, start=True, **tls):
        (port,) = free_ports(1)
        certs = certs or [tls_certs.server_ec, tls_certs.server_rsa]

        def add_listener(cfg):
            cfg["listen"].append(tls_listener(port, certs, **tls))
            if edit:
                cfg = edit(cfg) or cfg
            return cfg

        gw = gateway_factory(overrides=overrides, edit=add_listener, start=False)
        # free_ports() releases what it found: the factory's own pick for the plain and
        # admin listeners may have landed on the same number. Pick again until distinct.
        while port in (gw.port, gw.admin_port):
            (port,) = free_ports(1)
            gw.config["listen"][-1]["address"] = "127.0.0.1:%d" % port
            gw.write_config(gw.config)
        gw.tls_port = port
        if start:
            gw.start()
        return gw

    return make
