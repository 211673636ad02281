"""web-download: validate in the request, open_source against a loopback server."""

import socket

from imageapi.common import exception
from imageapi.importing import errors
from imageapi.importing import methods
from imageapi.importing import web_download
from imageapi.tests import base
from imageapi.tests import http_source

IMAGE = {'id': 'c2e6b2a4-4c4b-4f0e-9d59-0f5bdc1b3c6e', 'status': 'queued',
         'disk_format': 'raw', 'container_format': 'bare'}


def _body(uri):
    return {'method': {'name': 'web-download', 'uri': uri}}


def _read_all(source, n=4096):
    chunks = []
    while True:
        chunk = source.read(n)
        if not chunk:
            return b''.join(chunks)
        chunks.append(chunk)


class WebDownloadTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.method = methods.METHODS['web-download']
        self.source = self.useFixture(http_source.SourceServer())
        self.flags(allowed_hosts=['127.0.0.1'],
                   allowed_ports=[self.source.port],
                   group='import_filtering_opts')

    def validate(self, body):
        self.method.validate(self.conf, None, IMAGE, body)

    def open(self, uri):
        source = self.method.open_source(self.conf, None, IMAGE, _body(uri))
        self.addCleanup(source.close)
        return source

    def test_registered_by_name(self):
        self.assertIsInstance(self.method, web_download.WebDownload)
        self.assertIn('web-download', methods.enabled(self.conf))

    def test_validate_allowed_uri_passes(self):
        self.validate(_body(self.source.url('/image')))
        self.assertEqual([], self.source.requests)

    def test_validate_missing_uri_400(self):
        for body in ({'method': {'name': 'web-download'}}, _body(''),
                     _body(42)):
            exc = self.assertRaises(exception.BadRequest, self.validate, body)
            self.assertEqual(400, exc.code)
            self.assertIn('URI for web-download does not pass filtering',
                          str(exc))

    def test_validate_denied_host_400(self):
        exc = self.assertRaises(exception.BadRequest, self.validate,
                                _body('http://localhost:%d/' %
                                      self.source.port))
        self.assertEqual(
            "URI for web-download does not pass filtering: "
            "http://localhost:%d/ (host 'localhost' is not allowed)"
            % self.source.port, str(exc))

    def test_validate_denied_port_400(self):
        exc = self.assertRaises(exception.BadRequest, self.validate,
                                _body('http://127.0.0.1:22/'))
        self.assertIn('port 22 is not allowed', str(exc))

    def test_validate_denied_scheme_400(self):
        exc = self.assertRaises(exception.BadRequest, self.validate,
                                _body('ftp://127.0.0.1/'))
        self.assertIn("scheme 'ftp' is not allowed", str(exc))

    def test_validate_loopback_denied_by_default(self):
        self.flags(allowed_hosts=[], allowed_ports=[80, 443],
                   group='import_filtering_opts')
        exc = self.assertRaises(exception.BadRequest, self.validate,
                                _body('http://127.0.0.1/'))
        self.assertIn('non-public address', str(exc))

    def test_open_source_streams_data_and_size(self):
        data = bytes(range(256)) * 1000
        self.source.add('/image', data)
        source = self.open(self.source.url('/image'))
        self.assertEqual(len(data), source.size)
        self.assertEqual({}, source.properties)
        self.assertEqual(data, _read_all(source))

    def test_open_source_without_length_size_none(self):
        self.source.add('/image', b'abc', chunked=True)
        source = self.open(self.source.url('/image'))
        self.assertIsNone(source.size)
        self.assertEqual(b'abc', _read_all(source))

    def test_open_source_unreachable_fails(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        self.flags(allowed_ports=[port], group='import_filtering_opts')
        exc = self.assertRaises(errors.SourceUnavailable, self.open,
                                'http://127.0.0.1:%d/' % port)
        self.assertIn('Connection refused', exc.message)

    def test_open_source_not_found_fails(self):
        exc = self.assertRaises(errors.SourceUnavailable, self.open,
                                self.source.url('/missing'))
        self.assertIn('404 Not Found', exc.message)

    def test_open_source_disconnect_mid_body_fails_on_read(self):
        self.source.add('/image', b'x' * 100000, cut_after=5000)
        source = self.open(self.source.url('/image'))
        exc = self.assertRaises(errors.SourceUnavailable, _read_all, source)
        self.assertIn('cut short after 5000 of 100000 bytes', exc.message)

    def test_open_source_length_over_cap_fails_before_reading(self):
        self.flags(image_size_cap=10)
        self.source.add('/image', b'x' * 11)
        exc = self.assertRaises(errors.SourceUnavailable, self.open,
                                self.source.url('/image'))
        self.assertIn('over the image size cap of 10 bytes', exc.message)

    def test_open_source_denied_redirect_fails(self):
        self.source.redirect('/image', 'http://169.254.169.254/latest/')
        exc = self.assertRaises(errors.SourceUnavailable, self.open,
                                self.source.url('/image'))
        self.assertIn("host '169.254.169.254' is not allowed", exc.message)

    def test_open_source_allowed_redirect_followed(self):
        self.source.redirect('/image', '/real')
        self.source.add('/real', b'data')
        self.assertEqual(b'data',
                         _read_all(self.open(self.source.url('/image'))))
