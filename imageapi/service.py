"""The start-up step of an imageapi process, and what the process holds while it serves.

``start(conf)`` does every start-up side effect in one visible place: it configures the
database facade, parses the global ``cfg.CONF`` when oslo.limit needs it, loads the store
drivers and starts the upload lease keeper's thread. ``imageapi-api`` calls it in each
worker, ``imageapi.wsgi`` once per process, and the tests in their set-up; the paste app
factory (api/router.py) receives the Service it returns and builds nothing global.
"""

from imageapi.common import config
from imageapi.db import api as db_api
from imageapi import leases
from imageapi import store


class Service:
    """The stores and the upload lease keeper of one process."""

    def __init__(self, conf):
        self.conf = conf
        self.stores = store.Stores(conf)
        self.leases = leases.LeaseKeeper(conf, self.stores)

    def stop(self):
        """Stop the lease keeper's thread (tests, orderly shutdown)."""
        self.leases.stop()


def start(conf):
    """Prepare this process to serve with ``conf``; returns its Service.

    Idempotent for the database facade (configured once per process).
    """
    db_api.configure(conf)
    if conf.use_keystone_limits:
        # NOTE: oslo.limit reads [oslo_limit] from the global cfg.CONF only.
        config.load_global_conf(conf)
    service = Service(conf)
    if conf.upload.reap_interval:
        service.leases.start()
    return service
