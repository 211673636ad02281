"""WSGI plumbing shared by the API: the Request class, JSON I/O and a middleware base.

The only module of imageapi.common that imports webob.
"""

import json
import re

import webob

from imageapi.common import exception

JSON_TYPE = 'application/json'
# A JSON body larger than this is refused before parsing; image data never
# goes through read_json.
MAX_JSON_BODY = 1024 * 1024
# Deeper JSON is refused: no request body of the API nests more than a few
# levels, and what walks a parsed body (jsonschema, the error messages that
# print it) recurses once per level or more.
MAX_JSON_DEPTH = 32

# NUL: PostgreSQL refuses it in text, SQLite and MariaDB store it. An
# unpaired surrogate (JSON "\ud800") cannot be encoded as UTF-8 at all.
_BAD_TEXT = re.compile(r'[\x00\ud800-\udfff]')


def check_text(value, where):
    """Refuse a string no database stores the same way: 400.

    :param where: what holds ``value``, for the message ("The JSON body").
    :raises InvalidCharacter: ``value`` has a NUL or an unpaired surrogate.
    """
    match = _BAD_TEXT.search(value)
    if match is not None:
        what = ('a NUL character' if match.group() == '\x00'
                else 'an unpaired UTF-16 surrogate')
        raise exception.InvalidCharacter(where=where, what=what)


def _check_json(body):
    """Refuse a parsed body nested too deep, or with a string check_text refuses.

    Iterative: a body json.loads could parse may still be too deep to walk
    by recursion.
    """
    pending = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            check_text(value, 'The JSON body')
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise exception.JSONTooDeep(limit=MAX_JSON_DEPTH)
        if isinstance(value, dict):
            for key in value:
                check_text(key, 'The JSON body')
            value = value.values()
        pending.extend((item, depth + 1) for item in value)


def log_path(environ):
    """The request path for a log line, whatever bytes the client sent."""
    raw = environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')
    # WSGI hands the path over as latin-1 decoded bytes (PEP 3333).
    return raw.encode('latin-1', 'replace').decode('utf-8', 'backslashreplace')


class Request(webob.Request):
    """webob Request with the URL and JSON helpers the API uses."""

    def path_text(self):
        """``path_info`` as text.

        :raises InvalidURL: the path is not UTF-8 (``/v2/images/%ff``).
        :raises InvalidCharacter: it holds a NUL (``%00``).
        """
        try:
            path = self.path_info
        except UnicodeDecodeError:
            raise exception.InvalidURL(part='path')
        check_text(path, 'The request path')
        return path

    def query_params(self):
        """The query string parameters, a webob MultiDict (``GET``).

        :raises InvalidURL: the query string is not UTF-8 (``?name=%ff``).
        :raises InvalidCharacter: a name or value holds a NUL.
        """
        try:
            params = self.GET
        except UnicodeDecodeError:
            raise exception.InvalidURL(part='query string')
        for name, value in params.items():
            check_text(name, 'The query string')
            check_text(value, 'The query string')
        return params

    def read_json(self, content_types=(JSON_TYPE,)):
        """Parse a small JSON request body.

        :raises UnsupportedMediaType: Content-Type not in ``content_types``.
        :raises PayloadTooLarge: the body is larger than MAX_JSON_BODY.
        :raises ClientDisconnected: the body ended early or its chunked
            framing is malformed.
        :raises BadRequest: the body is not valid JSON, is nested more than
            MAX_JSON_DEPTH levels, or a string in it holds a NUL or an
            unpaired surrogate.
        """
        content_type = self.content_type or None
        if content_type not in content_types:
            raise exception.UnsupportedMediaType(content_type=content_type)
        length = self.content_length
        if length is not None and length > MAX_JSON_BODY:
            raise exception.PayloadTooLarge(reason='JSON body too large.')
        try:
            raw = self.body_file.read(MAX_JSON_BODY + 1)
        except OSError as exc:
            # What servers raise for a client gone mid-body (webob's
            # DisconnectionError, gunicorn's NoMoreData) or bad chunk framing
            # (cmd/gunicorn_input.py makes gunicorn's ParseException one):
            # the client's doing.
            raise exception.ClientDisconnected(
                reason=str(exc) or type(exc).__name__)
        if len(raw) > MAX_JSON_BODY:
            raise exception.PayloadTooLarge(reason='JSON body too large.')
        try:
            body = json.loads(raw.decode('utf-8'))
        except RecursionError:
            raise exception.JSONTooDeep(limit=MAX_JSON_DEPTH)
        except (UnicodeDecodeError, ValueError):
            raise exception.BadRequest(
                reason='Malformed JSON in request body.')
        _check_json(body)
        return body


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
