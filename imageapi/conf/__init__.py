"""oslo.config option registration for imageapi; nothing registers at import."""

from oslo_db import options as db_options
from oslo_limit import opts as limit_options
from oslo_middleware import opts as middleware_options
from oslo_policy import opts as policy_options

from imageapi.conf import default
from imageapi.conf import glance_download
from imageapi.conf import image_cache
from imageapi.conf import image_format
from imageapi.conf import image_import
from imageapi.conf import import_filtering
from imageapi.conf import import_plugins
from imageapi.conf import paste
from imageapi.conf import rbd_store
from imageapi.conf import s3_store
from imageapi.conf import store
from imageapi.conf import swift_store
from imageapi.conf import upload
from imageapi.conf import wsgi

_MODULES = (default, glance_download, image_cache, image_format, image_import,
            import_filtering, import_plugins, paste, rbd_store, s3_store,
            store, swift_store, upload, wsgi)

DEFAULT_CONNECTION = 'sqlite:///$state_path/imageapi.sqlite'
# Connections kept per process: [wsgi] threads (8) and the upload lease
# thread, so no request waits for or opens a connection (oslo.db says 5).
DEFAULT_MAX_POOL_SIZE = 10


def register_opts(conf):
    """Register every imageapi option, and oslo.db's, oslo.policy's and oslo.limit's."""
    for module in _MODULES:
        module.register_opts(conf)
    db_options.set_defaults(conf, connection=DEFAULT_CONNECTION,
                            max_pool_size=DEFAULT_MAX_POOL_SIZE)
    policy_options.set_defaults(conf)
    limit_options.register_opts(conf)
    # [cors] and [oslo_middleware]: read by the paste pipelines' filters.
    for group, opts in (middleware_options.list_opts_cors()
                        + middleware_options.list_opts_http_proxy_to_wsgi()):
        conf.register_opts(opts, group=group)
