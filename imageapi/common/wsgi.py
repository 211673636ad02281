"""WSGI plumbing shared by the API: the Request class, JSON I/O and a middleware base.

The only module of imageapi.common that imports webob.
"""

import json

import webob

from imageapi.common import exception

JSON_TYPE = 'application/json'
# A JSON body larger than this is refused before parsing; image data never
# goes through read_json.
MAX_JSON_BODY = 1024 * 1024


class Request(webob.Request):
    """webob Request with the JSON helper the controllers use."""

    def read_json(self, content_types=(JSON_TYPE,)):
        """Parse a small JSON request body.

        :raises UnsupportedMediaType: Content-Type not in ``content_types``.
        :raises BadRequest: the body is not valid JSON or too large.
        """
        content_type = self.content_type or None
        if content_type not in content_types:
            raise exception.UnsupportedMediaType(content_type=content_type)
        length = self.content_length
        if length is not None and length > MAX_JSON_BODY:
            raise exception.PayloadTooLarge(reason='JSON body too large.')
        raw = self.body_file.read(MAX_JSON_BODY + 1)
        if len(raw) > MAX_JSON_BODY:
            raise exception.PayloadTooLarge(reason='JSON body too large.')
        try:
            return json.loads(raw.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            raise exception.BadRequest(
                reason='Malformed JSON in request body.')


def json_response(body, status=200, headers=None):
    """A webob Response carrying ``body`` serialised as JSON."""
    response = webob.Response(status=status, content_type=JSON_TYPE,
                              charset='utf-8')
    response.body = json.dumps(body).encode('utf-8')
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def empty_response(status=204, headers=None):
    response = webob.Response(status=status)
    response.headers.pop('Content-Type', None)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class Middleware:
    """Base for paste filters: ``process_request`` may short-circuit.

    A plain WSGI callable: when ``process_request`` returns None the
    request goes on to the next app untouched, without the Response
    objects webob.dec.wsgify would build on the way.
    """

    def __init__(self, app, conf=None):
        self.application = app
        self.conf = conf

    @classmethod
    def factory(cls, global_conf, **local_conf):
        def _filter(app):
            return cls(app, local_conf)
        return _filter

    def process_request(self, req):
        return None

    def __call__(self, environ, start_response):
        response = self.process_request(Request(environ))
        if response is not None:
            return response(environ, start_response)
        return self.application(environ, start_response)
