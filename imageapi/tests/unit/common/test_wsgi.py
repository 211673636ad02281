"""Tests of common/wsgi.py: the URL checks every route goes through."""

from imageapi.common import exception
from imageapi.common import wsgi
from imageapi.tests import base


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
