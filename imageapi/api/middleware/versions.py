"""Version discovery and negotiation, in front of authentication.

Answers GET / (300, as Glance), /versions (200) and /v2 with the version documents, so
they stay reachable without a token, and rewrites /v2.N/... to /v2/.... A version this
service does not speak (/v1/..., /v2.99/...) gets the version list with 300, as in Glance.
A path that is not UTF-8, or holds a NUL, is refused here with 400.
"""

import re

from imageapi.api import versions
from imageapi.common import exception
from imageapi.common import wsgi

_VERSIONED_PATH = re.compile(r'^/v(\d+)(?:\.(\d+))?(/.*)?$')
_ALLOWED = 'GET, HEAD'


class VersionsMiddleware(wsgi.Middleware):

    def process_request(self, req):
        # The first filter that reads the path: one that is not UTF-8 or
        # holds a NUL gets its 400 here, before authentication.
        path = req.path_text().rstrip('/') or '/'
        if path in ('/', '/versions'):
            if req.method not in ('GET', 'HEAD'):
                exc = exception.MethodNotAllowed(method=req.method)
                exc.headers = {'Allow': _ALLOWED}
                raise exc
            status = 300 if path == '/' else 200
            return wsgi.json_response(
                versions.versions_document(req.host_url), status=status)
        match = _VERSIONED_PATH.match(req.path_info)
        if match is None:
            return None
        major, minor, rest = match.groups()
        if major != '2' or (minor is not None
                            and int(minor) > versions.CURRENT_MINOR):
            return wsgi.json_response(
                versions.versions_document(req.host_url), status=300)
        if rest in (None, '/'):
            return wsgi.json_response(versions.v2_document(req.host_url))
        req.path_info = '/v2' + rest
        return None


def filter_factory(global_conf, **local_conf):
    def _filter(app):
        return VersionsMiddleware(app)
    return _filter
