"""Unit tests of the access log filter: what it counts, masks and when it writes."""

import io
import logging

import fixtures
import webob

from imageapi.api.middleware import access_log
from imageapi.tests import base


class _FileWrapper:
    """A server's wsgi.file_wrapper that reads through (as mod_wsgi may)."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self):
        return iter(lambda: self.filelike.read(self.blksize), b'')

    def close(self):
        self.filelike.close()


class TestAccessLog(base.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='imageapi.access', level=logging.INFO,
            format='%(message)s'))

    def call(self, app, path='/v2/images', body=b'', environ=None,
             consume=None):
        env = webob.Request.blank(path, method='PUT', body=body).environ
        env.update(environ or {})
        status = []
        result = access_log.AccessLogMiddleware(app)(
            env, lambda s, h, e=None: status.append(s))
        chunks = []
        for chunk in result:
            chunks.append(chunk)
            if consume is not None and len(chunks) == consume:
                break
        result.close()
        return chunks

    def test_query_secrets_masked_and_newline_escaped(self):
        environ = {'PATH_INFO': '/v2/a\nb',
                   'QUERY_STRING': 'limit=1&X-Auth-Token=abc&password=p'}

        self.assertEqual('/v2/a\\x0ab?limit=1&X-Auth-Token=***&password=***',
                         access_log.log_target(environ))

    def test_bytes_in_counted_as_read(self):
        def app(environ, start_response):
            environ['wsgi.input'].read(3)
            environ['wsgi.input'].read(100)
            start_response('204 No Content', [])
            return []

        self.call(app, body=b'abcdefgh')

        self.assertIn('"PUT /v2/images" status: 204 len_in: 8 len_out: 0 ',
                      self.log.output)

    def test_chunk_not_asked_again_is_not_counted(self):
        def app(environ, start_response):
            start_response('200 OK', [])
            return iter([b'a' * 10, b'b' * 20, b'c' * 30])

        # The server wrote two chunks; the second write failed.
        self.call(app, consume=2)

        self.assertIn('status: 200 len_in: 0 len_out: 10 ', self.log.output)
        self.assertEqual(1, self.log.output.count('\n'))

    def test_file_wrapper_read_through_counted_at_close(self):
        def app(environ, start_response):
            start_response('200 OK', [])
            return environ['wsgi.file_wrapper'](io.BytesIO(b'x' * 100), 30)

        chunks = self.call(app, environ={'wsgi.file_wrapper': _FileWrapper})

        self.assertEqual(100, len(b''.join(chunks)))
        self.assertIn('status: 200 len_in: 0 len_out: 100 ', self.log.output)

    def test_file_wrapper_function_counted_once(self):
        def app(environ, start_response):
            start_response('200 OK', [])
            return environ['wsgi.file_wrapper'](io.BytesIO(b'x' * 100), 30)

        self.call(app, environ={'wsgi.file_wrapper':
                                lambda f, size=8192: _FileWrapper(f, size)})

        self.assertIn('status: 200 len_in: 0 len_out: 100 ', self.log.output)

    def test_app_raising_logged_as_500_and_raised(self):
        def app(environ, start_response):
            raise RuntimeError('boom')

        self.assertRaises(RuntimeError, self.call, app)

        self.assertIn('"PUT /v2/images" status: 500 ', self.log.output)
