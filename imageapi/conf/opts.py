"""Entry points for oslo-config-generator: every imageapi option group."""

import collections

from oslo_db import options as db_options

from imageapi import conf as imageapi_conf


def list_opts():
    grouped = collections.defaultdict(list)
    for module in imageapi_conf._MODULES:
        for group, opts in module.list_opts().items():
            grouped[group].extend(opts)
    return [(key, value) for key, value in grouped.items()]


def set_defaults(conf):
    db_options.set_defaults(conf, connection=imageapi_conf.DEFAULT_CONNECTION)
