"""Entry points for oslo-config-generator: every imageapi option group."""

import collections

from oslo_config import cfg
from oslo_db import options as db_options

from imageapi import conf as imageapi_conf


def list_opts():
    grouped = collections.defaultdict(list)
    for module in imageapi_conf._MODULES:
        for group, opts in module.list_opts().items():
            grouped[group].extend(opts)
    return [(key, value) for key, value in grouped.items()]


def set_defaults(conf=None):
    """Set imageapi's defaults of library options.

    oslo-config-generator calls this (the oslo.config.opts.defaults entry
    point) with no conf, before it lists the options: their Opt objects
    then carry the defaults the sample shows.
    """
    if conf is None:
        cfg.set_defaults(db_options.database_opts,
                         connection=imageapi_conf.DEFAULT_CONNECTION,
                         max_pool_size=imageapi_conf.DEFAULT_MAX_POOL_SIZE)
        return
    db_options.set_defaults(
        conf, connection=imageapi_conf.DEFAULT_CONNECTION,
        max_pool_size=imageapi_conf.DEFAULT_MAX_POOL_SIZE)
