"""The only map from exceptions to HTTP fault responses.

ImageAPIException subclasses become JSON bodies shaped like webob's (and so Glance's):
``{"code": "404 Not Found", "title": "Not Found", "message": ...}``; anything else is
logged and becomes a generic 500 with no traceback.
"""

import json

from oslo_log import log as logging
import webob
import webob.util

from imageapi.common import exception
from imageapi.common import wsgi

LOG = logging.getLogger(__name__)

_GENERIC_500 = ('The server has either erred or is incapable of performing '
                'the requested operation.')


def fault_response(code, message, request_id=None, headers=None):
    """A JSON fault response with webob's code/title/message fields."""
    # webob's reason phrases, as in Glance's bodies; Python's http module
    # renames some of them (413 is "Content Too Large" from 3.13).
    title = webob.util.status_reasons.get(code, 'Error')
    body = {'code': '%d %s' % (code, title), 'title': title,
            'message': message}
    if request_id:
        body['request_id'] = request_id
    response = webob.Response(status=code, content_type=wsgi.JSON_TYPE,
                              charset='utf-8')
    response.body = json.dumps(body).encode('utf-8')
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class FaultMiddleware(wsgi.Middleware):
    """Catch what the app below raises and render it as a fault."""

    def __call__(self, environ, start_response):
        # The app below raises before it calls start_response (the router
        # is a wsgify app), so the fault can still start the response.
        try:
            return self.application(environ, start_response)
        except exception.ImageAPIException as exc:
            if exc.code >= 500:
                LOG.error('%s %s failed: %s', environ['REQUEST_METHOD'],
                          wsgi.Request(environ).path, exc.msg)
            response = fault_response(
                exc.code, exc.msg, environ.get('openstack.request_id'),
                exc.headers)
        except Exception:
            LOG.exception('Unexpected error serving %s %s',
                          environ['REQUEST_METHOD'],
                          wsgi.Request(environ).path)
            response = fault_response(500, _GENERIC_500,
                                      environ.get('openstack.request_id'))
        return response(environ, start_response)


def filter_factory(global_conf, **local_conf):
    def _filter(app):
        return FaultMiddleware(app)
    return _filter
