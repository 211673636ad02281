"""oslo.middleware's CORS and HTTPProxyToWSGI, configured from imageapi's ConfigOpts.

Behind a TLS-terminating proxy, ``http_proxy_to_wsgi`` (with ``[oslo_middleware]
enable_proxy_headers_parsing = true``) makes ``Location``, version and ``next`` links
use the scheme and host the client used; ``cors`` answers browsers per ``[cors]``. Both
sit at the front of each pipeline, as in Glance's.
"""

from oslo_middleware import cors
from oslo_middleware import http_proxy_to_wsgi

from imageapi.common import config


def http_proxy_filter_factory(global_conf, **local_conf):
    conf = config.conf_from_paste(global_conf)

    def _filter(app):
        return http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf)
    return _filter


def cors_filter_factory(global_conf, **local_conf):
    conf = config.conf_from_paste(global_conf)

    def _filter(app):
        return cors.CORS(app, conf)
    return _filter
