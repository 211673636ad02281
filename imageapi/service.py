"""The start-up step of an imageapi process, and what the process holds while it serves.

``start(conf)`` does every start-up side effect in one visible place: it configures the
database facade, parses the global ``cfg.CONF`` when oslo.limit needs it, loads the store
drivers and the staging area of imports, starts the lease keeper's thread and, with
``[DEFAULT] image_cache_dir``, opens the node's image cache and starts its keeper thread.
``imageapi-api`` calls it in each worker, ``imageapi.wsgi`` once per process, and the
tests in their set-up; the paste app factory (api/router.py) receives the Service it
returns and builds nothing global.
"""

import functools

from imageapi.cache import directory as cache_directory
from imageapi.cache import keeper as cache_keeper
from imageapi.common import config
from imageapi.db import api as db_api
from imageapi.importing import engine
from imageapi import leases
from imageapi import store
from imageapi.store import filesystem

STAGING_GROUP = 'os_glance_staging_store'


class Service:
    """The stores, staging area, import engine, lease keeper and image cache of one process.

    ``cache`` and ``cache_keeper`` are None when image_cache_dir is unset.
    """

    def __init__(self, conf):
        self.conf = conf
        self.stores = store.Stores(conf)
        # Glance's reserved file store of staged import data.
        self.staging = filesystem.FilesystemDriver(conf, group=STAGING_GROUP)
        self.leases = leases.LeaseKeeper(
            conf, self.stores, self.staging,
            reap_imports=functools.partial(engine.reap_expired, conf,
                                           self.stores, self.staging))
        self.engine = engine.Engine(conf, self.stores, self.staging,
                                    self.leases)
        self.cache = cache_directory.ImageCache.from_conf(conf)
        self.cache_keeper = None
        if self.cache is not None:
            self.cache_keeper = cache_keeper.CacheKeeper(conf, self.cache,
                                                         self.stores)

    def stop(self):
        """Stop the background threads (tests, orderly shutdown)."""
        self.leases.stop()
        if self.cache_keeper is not None:
            self.cache_keeper.stop()


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
    if service.cache_keeper is not None and conf.image_cache_interval:
        service.cache_keeper.start()
    return service
