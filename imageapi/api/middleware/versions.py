"""Version discovery and negotiation, in front of authentication.

Answers GET / and /versions (300, as Glance) and /v2 with the version documents, so they
stay reachable without a token, and rewrites /v2.N/... to /v2/....
"""

import re

from imageapi.api import versions
from imageapi.common import exception
from imageapi.common import wsgi

_VERSIONED_PATH = re.compile(r'^/v2(?:\.\d+)?(/.*)?$')


class VersionsMiddleware(wsgi.Middleware):

    def process_request(self, req):
        path = req.path_info.rstrip('/') or '/'
        if path in ('/', '/versions'):
            if req.method not in ('GET', 'HEAD'):
                raise exception.MethodNotAllowed(method=req.method)
            status = 300 if path == '/' else 200
            return wsgi.json_response(
                versions.versions_document(req.host_url), status=status)
        match = _VERSIONED_PATH.match(req.path_info)
        if match is None:
            return None
        rest = match.group(1)
        if rest in (None, '/'):
            return wsgi.json_response(versions.v2_document(req.host_url))
        req.path_info = '/v2' + rest
        return None


def filter_factory(global_conf, **local_conf):
    def _filter(app):
        return VersionsMiddleware(app)
    return _filter
