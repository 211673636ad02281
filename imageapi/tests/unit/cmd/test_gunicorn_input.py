"""Contract tests of imageapi/cmd/gunicorn_input.py against the installed gunicorn.

They run gunicorn's real body classes over real socket pairs. If a new gunicorn changes
the internals the readers use, these fail: fix the readers or keep the upper bound in
requirements.txt.
"""

import io
import os
import threading

from gunicorn import __version__ as gunicorn_version
import webob

from imageapi.cmd import gunicorn_input
from imageapi.common import exception
from imageapi.common import streams
from imageapi.tests import base


class VersionBoundTestCase(base.TestCase):

    def test_installed_gunicorn_within_supported_bounds(self):
        version = tuple(int(part) for part in gunicorn_version.split('.')[:2])
        low, high = gunicorn_input.SUPPORTED_GUNICORN
        self.assertTrue(low <= version < high,
                        'gunicorn %s is outside %s; check the readers in '
                        'imageapi/cmd/gunicorn_input.py against it'
                        % (gunicorn_version, gunicorn_input.SUPPORTED_GUNICORN))

    def test_requirements_bound_matches_supported_bounds(self):
        path = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                            'requirements.txt')
        with open(path) as f:
            line = [entry for entry in f if entry.startswith('gunicorn')][0]
        low, high = gunicorn_input.SUPPORTED_GUNICORN
        self.assertIn('>=%d.%d' % low, line)
        self.assertIn('<%d.%d' % high, line)


class GunicornBodyTestCase(base.TestCase):
    """gunicorn's real body classes over a real socket pair."""

    def setUp(self):
        super().setUp()
        import socket

        from gunicorn.http import body as gunicorn_body
        from gunicorn.http import unreader as gunicorn_unreader
        self.server, self.client = socket.socketpair()
        self.addCleanup(self.server.close)
        self.addCleanup(self.client.close)
        self.unreader = gunicorn_unreader.SocketUnreader(self.server)
        self.gunicorn_body = gunicorn_body

    def _body(self, length, already_received=b''):
        # What gunicorn read past the headers waits in its unreader.
        if already_received:
            self.unreader.unread(already_received)
        return self.gunicorn_body.Body(
            self.gunicorn_body.LengthReader(self.unreader, length))

    def _send(self, data):
        sender = threading.Thread(target=self.client.sendall, args=(data,))
        sender.start()
        self.addCleanup(sender.join, 30)

    def _read_all(self, reader, size=1024 * 1024):
        chunks = []
        while True:
            chunk = reader.read(size)
            if not chunk:
                return b''.join(chunks)
            chunks.append(bytes(chunk))


class SocketBodyReaderTestCase(GunicornBodyTestCase):

    def test_reads_the_body_and_leaves_the_next_request(self):
        data = os.urandom(3 * 1024 * 1024 + 5)
        next_request = b'GET /v2/images HTTP/1.1\r\n\r\n'
        # 1000 bytes came with the headers; the rest is on the socket,
        # followed by a pipelined request.
        body = self._body(len(data), data[:1000])
        reader = gunicorn_input.SocketBodyReader(body, self.server)
        self._send(data[1000:] + next_request)

        self.assertEqual(data, self._read_all(reader))
        self.assertEqual(0, body.reader.length)
        self.assertEqual(b'', body.read(8192))  # gunicorn: nothing to drain
        self.assertEqual(next_request,
                         self.unreader.read(len(next_request)))

    def test_unread_rest_is_still_drained_by_gunicorn(self):
        data = os.urandom(2 * 1024 * 1024)
        body = self._body(len(data))
        reader = gunicorn_input.SocketBodyReader(body, self.server)
        self._send(data + b'NEXT')

        first = bytes(reader.read(1024 * 1024))

        self.assertEqual(data[:1024 * 1024], first)
        self.assertEqual(len(data) - len(first), body.reader.length)
        rest = b''
        while True:
            chunk = body.read(8192)
            if not chunk:
                break
            rest += chunk
        self.assertEqual(data[len(first):], rest)
        self.assertEqual(b'NEXT', self.unreader.read(4))

    def test_client_gone_mid_body_fails_the_body(self):
        body = self._body(10000)
        reader = streams.ClientReader(
            gunicorn_input.SocketBodyReader(body, self.server), 10000)
        self.client.sendall(b'x' * 100)
        self.client.close()

        self.assertRaises(exception.ClientDisconnected, self._read_all,
                          reader)
        self.assertTrue(body.failed)

    def test_applies_only_to_gunicorn_length_bodies(self):
        body = self._body(10)
        environ = {'gunicorn.socket': self.server, 'wsgi.input': body}
        self.assertIsInstance(gunicorn_input.body_reader(environ),
                              gunicorn_input.SocketBodyReader)

        chunked = self.gunicorn_body.Body(
            self.gunicorn_body.ChunkedReader(object(), self.unreader))
        for other in ({'wsgi.input': body},
                      {'gunicorn.socket': self.server,
                       'wsgi.input': io.BytesIO(b'0123456789')},
                      {'gunicorn.socket': self.client, 'wsgi.input': body},
                      {'gunicorn.socket': self.server, 'wsgi.input': chunked}):
            self.assertNotIsInstance(
                gunicorn_input.body_reader(other), gunicorn_input.SocketBodyReader)


class _Request:
    """What gunicorn's ChunkedReader asks of its request."""

    limit_request_field_size = 0
    max_buffer_headers = 0


def _chunked(data, sizes):
    framed, start = [], 0
    for size in sizes:
        piece = data[start:start + size]
        start += size
        framed.append(b'%x\r\n%s\r\n' % (len(piece), piece))
    assert start == len(data)
    return b''.join(framed) + b'0\r\n\r\n'


class ChunkedBodyReaderTestCase(GunicornBodyTestCase):
    """Against gunicorn's real chunk parser over a real socket pair."""

    def _chunked_body(self):
        return self.gunicorn_body.Body(
            self.gunicorn_body.ChunkedReader(_Request(), self.unreader))

    def test_reads_the_body_and_leaves_the_next_request(self):
        data = os.urandom(3 * 1024 * 1024 + 7)
        # Chunks smaller and larger than a read, split across reads.
        sizes = [10, 65536, 2 * 1024 * 1024, 300000]
        sizes.append(len(data) - sum(sizes))
        next_request = b'GET /v2/images HTTP/1.1\r\n\r\n'
        body = self._chunked_body()
        reader = gunicorn_input.body_reader(
            {'gunicorn.socket': self.server, 'wsgi.input': body})
        self._send(_chunked(data, sizes) + next_request)

        self.assertEqual(data, self._read_all(reader))
        self.assertIsNone(body.reader.parser)
        self.assertEqual(b'', body.read(8192))  # gunicorn: nothing to drain
        self.assertEqual(next_request,
                         self.unreader.read(len(next_request)))

    def test_returns_at_most_what_is_asked(self):
        data = os.urandom(200000)
        body = self._chunked_body()
        reader = gunicorn_input.ChunkedBodyReader(body)
        self._send(_chunked(data, [200000]))

        first = reader.read(1000)
        rest = self._read_all(reader, 65536)

        self.assertEqual(1000, len(first))
        self.assertEqual(data, bytes(first) + rest)

    def test_bad_framing_fails_the_body(self):
        from gunicorn.http import errors as gunicorn_errors

        body = self._chunked_body()
        reader = streams.ClientReader(gunicorn_input.ChunkedBodyReader(
            body, (gunicorn_errors.ParseException,)))
        self._send(b'5\r\nabcde\r\nzz\r\n')

        self.assertRaises(exception.ClientDisconnected, self._read_all,
                          reader)
        self.assertTrue(body.failed)

    def test_client_gone_mid_chunk_fails_the_body(self):
        body = self._chunked_body()
        reader = streams.ClientReader(gunicorn_input.ChunkedBodyReader(body))
        self.client.sendall(b'2710\r\n' + b'x' * 100)
        self.client.close()

        self.assertRaises(exception.ClientDisconnected, self._read_all,
                          reader)
        self.assertTrue(body.failed)

    def test_applies_only_to_gunicorn_chunked_bodies(self):
        chunked = self._chunked_body()
        length = self._body(10)
        self.assertIsInstance(
            gunicorn_input.body_reader(
                {'gunicorn.socket': self.server, 'wsgi.input': chunked}),
            gunicorn_input.ChunkedBodyReader)
        for other in ({'wsgi.input': chunked},
                      {'gunicorn.socket': self.server, 'wsgi.input': length},
                      {'gunicorn.socket': self.server,
                       'wsgi.input': io.BytesIO(b'0\r\n\r\n')}):
            self.assertNotIsInstance(
                gunicorn_input.body_reader(other), gunicorn_input.ChunkedBodyReader)


class FastInputTestCase(GunicornBodyTestCase):
    """The WSGI wrapper hands the app a plain wsgi.input."""

    def _call(self, environ):
        seen = {}

        def app(environ, start_response):
            seen['input'] = environ['wsgi.input']
            seen['data'] = webob.Request(environ).body_file_raw.read()
            return []
        gunicorn_input.FastInput(app)(environ, None)
        return seen

    def test_image_data_body_read_through_socket_reader(self):
        data = os.urandom(300000)
        body = self._body(len(data))
        self._send(data)
        seen = self._call({'gunicorn.socket': self.server, 'wsgi.input': body,
                           'CONTENT_TYPE': 'application/octet-stream',
                           'REQUEST_METHOD': 'PUT',
                           'CONTENT_LENGTH': str(len(data))})

        self.assertIsInstance(seen['input'], gunicorn_input.SocketBodyReader)
        self.assertEqual(data, seen['data'])

    def test_json_body_left_to_gunicorn(self):
        body = self._body(2)
        self._send(b'{}')
        seen = self._call({'gunicorn.socket': self.server, 'wsgi.input': body,
                           'CONTENT_TYPE': 'application/json',
                           'REQUEST_METHOD': 'POST', 'CONTENT_LENGTH': '2'})

        self.assertIs(body, seen['input'])
        self.assertEqual(b'{}', seen['data'])

    def _chunked_json_environ(self):
        body = self.gunicorn_body.Body(
            self.gunicorn_body.ChunkedReader(_Request(), self.unreader))
        return body, {'gunicorn.socket': self.server, 'wsgi.input': body,
                      'CONTENT_TYPE': 'application/json',
                      'REQUEST_METHOD': 'POST',
                      'HTTP_TRANSFER_ENCODING': 'chunked',
                      'wsgi.input_terminated': True}

    def test_chunked_json_body_read_through_gunicorn(self):
        _body, environ = self._chunked_json_environ()
        self._send(_chunked(b'{"name": "x"}', [5, 8]))

        seen = self._call(environ)

        self.assertIsInstance(seen['input'], gunicorn_input.FramingErrorInput)
        self.assertEqual(b'{"name": "x"}', seen['data'])

    def test_chunked_json_body_bad_framing_raises_os_error(self):
        body, environ = self._chunked_json_environ()
        self._send(b'5\r\n{"nam\r\nzz\r\n')

        error = self.assertRaises(OSError, self._call, environ)

        self.assertIn('malformed chunked body', str(error))
        self.assertTrue(body.failed)

    def test_readline_and_iteration_split_lines(self):
        data = b'one\ntwo\nthree'
        body = self._body(len(data))
        self._send(data)
        reader = gunicorn_input.SocketBodyReader(body, self.server)

        self.assertEqual(b'one\n', reader.readline())
        self.assertEqual([b'two\n', b'three'], list(reader))
