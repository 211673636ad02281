"""The only map from exceptions to HTTP fault responses.

ImageAPIException subclasses become webob-shaped bodies (and so Glance's), JSON, HTML or
plain text as the Accept header asks; a database that cannot be reached
(db.api.UNAVAILABLE_ERRORS, wherever it surfaced) becomes 503 with Retry-After; anything
else is logged and becomes a generic 500 with no traceback.
"""

import html
import json

from oslo_log import log as logging
import webob
import webob.acceptparse
import webob.util

from imageapi.common import exception
from imageapi.common import wsgi
from imageapi.db import api as db_api

LOG = logging.getLogger(__name__)

_GENERIC_500 = ('The server has either erred or is incapable of performing '
                'the requested operation.')


_HTML_FAULT = ('<html>\n <head>\n  <title>%(status)s</title>\n </head>\n'
               ' <body>\n  <h1>%(status)s</h1>\n  %(message)s<br /><br />\n'
               ' </body>\n</html>')


def fault_response(code, message, request_id=None, headers=None,
                   accept=None):
    """A fault response in the format webob (and so Glance) picks by Accept.

    ``application/json`` (preferred over text/html) gets
    ``{"code": "404 Not Found", "title": "Not Found", "message": ...,
    "request_id": ...}`` without webob's ``<br />`` junk; ``text/html`` or
    ``*/*`` get webob's HTML page, which python-glanceclient (it sends
    ``*/*``) strips to "404 Not Found: <message>" (it cannot read a flat
    JSON fault); anything else, and no Accept header, get text/plain.
    """
    # webob's reason phrases, as in Glance's bodies; Python's http module
    # renames some of them (413 is "Content Too Large" from 3.13).
    title = webob.util.status_reasons.get(code, 'Error')
    status = '%d %s' % (code, title)
    offers = webob.acceptparse.create_accept_header(
        accept or '').acceptable_offers(['text/html', wsgi.JSON_TYPE])
    kind = offers[0][0] if offers else 'text/plain'
    if kind == wsgi.JSON_TYPE:
        body = {'code': status, 'title': title, 'message': message}
        if request_id:
            body['request_id'] = request_id
        text = json.dumps(body)
    elif kind == 'text/html':
        text = _HTML_FAULT % {'status': status,
                              'message': html.escape(message)}
    else:
        text = '%s\n\n%s\n' % (status, message)
    response = webob.Response(status=code, content_type=kind,
                              charset='utf-8')
    response.body = text.encode('utf-8')
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class FaultMiddleware(wsgi.Middleware):
    """Catch what the app below raises and render it as a fault."""

    def __call__(self, environ, start_response):
        # The app below raises before it calls start_response, so the
        # fault can still start the response. The path is logged as the
        # client sent it, which need not be UTF-8: logging must not raise.
        try:
            return self.application(environ, start_response)
        except db_api.UNAVAILABLE_ERRORS as exc:
            LOG.warning('%s %s: database unreachable: %s',
                        environ['REQUEST_METHOD'],
                        wsgi.Request(environ).path, type(exc).__name__)
            unavailable = exception.DatabaseUnavailable()
            response = fault_response(
                unavailable.code, unavailable.msg,
                environ.get('openstack.request_id'), unavailable.headers,
                environ.get('HTTP_ACCEPT'))
        except exception.ImageAPIException as exc:
            if exc.code >= 500:
                LOG.error('%s %s failed: %s', environ['REQUEST_METHOD'],
                          wsgi.log_path(environ), exc.msg)
            elif isinstance(exc, exception.ClientDisconnected):
                # The client's doing, and likely gone: no error to act on.
                LOG.info('%s %s: %s', environ['REQUEST_METHOD'],
                         wsgi.log_path(environ), exc.msg)
            response = fault_response(
                exc.code, exc.msg, environ.get('openstack.request_id'),
                exc.headers, environ.get('HTTP_ACCEPT'))
        except Exception:
            LOG.exception('Unexpected error serving %s %s',
                          environ['REQUEST_METHOD'], wsgi.log_path(environ))
            response = fault_response(500, _GENERIC_500,
                                      environ.get('openstack.request_id'),
                                      accept=environ.get('HTTP_ACCEPT'))
        return response(environ, start_response)


def filter_factory(global_conf, **local_conf):
    def _filter(app):
        return FaultMiddleware(app)
    return _filter
