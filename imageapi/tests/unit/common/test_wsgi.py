"""Tests of common/wsgi.py: the URL and JSON body checks every route goes through."""

import io
import json

from imageapi.common import exception
from imageapi.common import wsgi
from imageapi.tests import base


def _json_request(body, content_length=None):
    """A JSON POST whose body is read from wsgi.input, as from a server."""
    body = body if isinstance(body, bytes) else body.encode('utf-8')
    return wsgi.Request.blank('/v2/images', method='POST', environ={
        'wsgi.input': io.BytesIO(body), 'CONTENT_TYPE': wsgi.JSON_TYPE,
        'CONTENT_LENGTH': str(len(body) if content_length is None
                              else content_length)})


class _BrokenInput(io.RawIOBase):
    """wsgi.input whose read fails as a server's does on bad chunk framing."""

    def readable(self):
        return True

    def readinto(self, buffer):
        raise OSError('Invalid chunk size: zz')


class ReadJSONTest(base.TestCase):

    def test_read_json_valid_body_returns_it(self):
        body = {'name': 'caf\u00e9 \U0001F600', 'tags': ['a'], 'k': 'v'}

        self.assertEqual(body, _json_request(json.dumps(body)).read_json())

    def test_read_json_surrogate_pair_escape_returns_its_character(self):
        req = _json_request(b'{"name": "\\ud83d\\ude00"}')

        self.assertEqual({'name': '\U0001F600'}, req.read_json())

    def test_read_json_100000_nested_arrays_raises_json_too_deep(self):
        req = _json_request(b'[' * 100000 + b']' * 100000)

        exc = self.assertRaises(exception.JSONTooDeep, req.read_json)
        self.assertEqual(400, exc.code)

    def test_read_json_100000_nested_objects_raises_json_too_deep(self):
        req = _json_request(b'{"a":' * 100000 + b'1' + b'}' * 100000)

        self.assertRaises(exception.JSONTooDeep, req.read_json)

    def test_read_json_one_level_too_deep_raises_json_too_deep(self):
        depth = wsgi.MAX_JSON_DEPTH + 1
        req = _json_request('{"a":' * (depth - 1) + '[]' + '}' * (depth - 1))

        exc = self.assertRaises(exception.JSONTooDeep, req.read_json)
        self.assertEqual('The JSON body is nested more than 32 levels deep.',
                         exc.msg)

    def test_read_json_at_depth_limit_returns_body(self):
        depth = wsgi.MAX_JSON_DEPTH
        req = _json_request('[' * depth + ']' * depth)

        self.assertIsInstance(req.read_json(), list)

    def test_read_json_lone_surrogate_anywhere_raises_invalid_character(self):
        for body in ('{"name": "a\\ud800b"}', '{"a\\udfffb": "v"}',
                     '["\\ud83d"]', '[{"path": "/\\ude00"}]'):
            exc = self.assertRaises(exception.InvalidCharacter,
                                    _json_request(body).read_json)
            self.assertEqual('The JSON body contains an unpaired UTF-16 '
                             'surrogate, which is not allowed.', exc.msg,
                             body)

    def test_read_json_nul_anywhere_raises_invalid_character(self):
        for body in ('{"name": "a\\u0000b"}', '{"a\\u0000": "v"}',
                     '{"tags": ["\\u0000"]}', '[{"value": {"k": "\\u0000"}}]'):
            exc = self.assertRaises(exception.InvalidCharacter,
                                    _json_request(body).read_json)
            self.assertEqual('The JSON body contains a NUL character, which '
                             'is not allowed.', exc.msg, body)

    def test_read_json_escaped_backslash_before_u0000_returns_text(self):
        req = _json_request(b'{"name": "\\\\u0000"}')

        self.assertEqual({'name': '\\u0000'}, req.read_json())

    def test_read_json_body_shorter_than_length_raises_client_disconnected(self):
        req = _json_request(b'{"name": "x"}', content_length=100)

        exc = self.assertRaises(exception.ClientDisconnected, req.read_json)
        self.assertEqual(400, exc.code)

    def test_read_json_input_error_raises_client_disconnected(self):
        req = _json_request(b'', content_length=10)
        req.environ['wsgi.input'] = _BrokenInput()

        exc = self.assertRaises(exception.ClientDisconnected, req.read_json)
        self.assertIn('Invalid chunk size', exc.msg)


class URLTest(base.TestCase):

    def test_path_text_invalid_utf8_raises_invalid_url(self):
        for path in ('/v2/images/%ff', '/v2/images/%ed%a0%80',
                     '/v2/images/%c0%af'):
            req = wsgi.Request.blank(path)

            exc = self.assertRaises(exception.InvalidURL, req.path_text)
            self.assertEqual('The request path is not valid UTF-8.', exc.msg)

    def test_path_text_nul_raises_invalid_character(self):
        req = wsgi.Request.blank('/v2/images/a%00b')

        self.assertRaises(exception.InvalidCharacter, req.path_text)

    def test_path_text_utf8_returns_text(self):
        req = wsgi.Request.blank('/v2/images/x/tags/caf%C3%A9')

        self.assertEqual('/v2/images/x/tags/caf\u00e9', req.path_text())

    def test_query_params_invalid_utf8_raises_invalid_url(self):
        for query in ('name=%ff', '%ff=x', 'name=%ed%a0%80'):
            req = wsgi.Request.blank('/v2/images?' + query)

            exc = self.assertRaises(exception.InvalidURL, req.query_params)
            self.assertEqual('The request query string is not valid UTF-8.',
                             exc.msg, query)

    def test_query_params_nul_raises_invalid_character(self):
        for query in ('name=%00', 'a%00=b'):
            req = wsgi.Request.blank('/v2/images?' + query)

            self.assertRaises(exception.InvalidCharacter, req.query_params)

    def test_query_params_utf8_returns_params(self):
        req = wsgi.Request.blank('/v2/images?name=caf%C3%A9&tag=a&tag=b')

        params = req.query_params()
        self.assertEqual('caf\u00e9', params['name'])
        self.assertEqual(['a', 'b'], params.getall('tag'))

    def test_log_path_not_utf8_escapes_bytes(self):
        environ = {'SCRIPT_NAME': '', 'PATH_INFO': '/v2/images/\xff\xc3\xa9'}

        self.assertEqual('/v2/images/\\xff\u00e9', wsgi.log_path(environ))
