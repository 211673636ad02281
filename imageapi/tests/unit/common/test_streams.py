"""Tests for imageapi.common.streams: LimitingReader and HashingChunks."""

import hashlib
import io
import os
import threading

from imageapi.common import exception
from imageapi.common import streams
from imageapi.tests import base


class TrickleReader:
    """A reader that returns at most ``step`` bytes per read, as sockets do.

    Records the size of every read it was asked for.
    """

    def __init__(self, data, step):
        self._stream = io.BytesIO(data)
        self._step = step
        self.requested = []

    def read(self, n):
        self.requested.append(n)
        return self._stream.read(min(n, self._step))


class FailingReader:
    """Returns ``data`` on the first read, then raises ``error``."""

    def __init__(self, data, error):
        self._data = data
        self._error = error

    def read(self, n):
        if self._data is None:
            raise self._error
        data, self._data = self._data, None
        return data


def _too_large(limit):
    return lambda: exception.ImageSizeLimitExceeded(limit=limit)


class LimitingReaderTestCase(base.TestCase):

    def test_read_within_limit_returns_data(self):
        reader = streams.LimitingReader(io.BytesIO(b'x' * 10), 10,
                                        _too_large(10))

        self.assertEqual(b'x' * 4, reader.read(4))
        self.assertEqual(b'x' * 6, reader.read(100))
        self.assertEqual(b'', reader.read(100))
        self.assertEqual(10, reader.bytes_read)

    def test_read_past_limit_raises_factory_exception(self):
        reader = streams.LimitingReader(io.BytesIO(b'x' * 11), 10,
                                        _too_large(10))

        self.assertEqual(b'x' * 10, reader.read(10))
        self.assertRaises(exception.ImageSizeLimitExceeded, reader.read, 10)
        self.assertEqual(11, reader.bytes_read)

    def test_read_crossing_limit_in_one_read_raises(self):
        reader = streams.LimitingReader(io.BytesIO(b'x' * 100), 10,
                                        _too_large(10))

        self.assertRaises(exception.ImageSizeLimitExceeded, reader.read, 64)

    def test_read_short_reads_counted_exactly(self):
        reader = streams.LimitingReader(TrickleReader(b'x' * 10, 3), 10,
                                        _too_large(10))

        while reader.read(8):
            pass

        self.assertEqual(10, reader.bytes_read)

    def test_read_stacked_inner_limit_raises_inner_exception(self):
        quota = streams.LimitingReader(
            io.BytesIO(b'x' * 100), 50,
            lambda: exception.StorageQuotaFull(quota=50, used=0))
        cap = streams.LimitingReader(quota, 80, _too_large(80))

        self.assertRaises(exception.StorageQuotaFull, cap.read, 64)

    def test_read_stacked_outer_limit_raises_outer_exception(self):
        quota = streams.LimitingReader(
            io.BytesIO(b'x' * 100), 80,
            lambda: exception.StorageQuotaFull(quota=80, used=0))
        cap = streams.LimitingReader(quota, 50, _too_large(50))

        self.assertRaises(exception.ImageSizeLimitExceeded, cap.read, 64)
        self.assertEqual(64, quota.bytes_read)


class HashingChunksTestCase(base.TestCase):

    def test_iterate_body_yields_chunks_and_hashes(self):
        data = bytes(range(256)) * 40
        chunks = streams.HashingChunks(io.BytesIO(data), 4096, 'sha512')

        yielded = list(chunks)

        self.assertEqual([4096, 4096, len(data) - 8192],
                         [len(c) for c in yielded])
        self.assertEqual(data, b''.join(yielded))
        self.assertEqual(len(data), chunks.size)
        self.assertEqual(hashlib.md5(data).hexdigest(), chunks.checksum)
        self.assertEqual('sha512', chunks.hash_algo)
        self.assertEqual(hashlib.sha512(data).hexdigest(), chunks.hash_value)

    def test_iterate_short_reads_continues_until_empty(self):
        data = b'abcdefghij'
        reader = TrickleReader(data, 3)
        chunks = streams.HashingChunks(reader, 8, 'sha256')

        yielded = list(chunks)

        self.assertEqual([b'abc', b'def', b'ghi', b'j'], yielded)
        self.assertEqual({8}, set(reader.requested))
        self.assertEqual(10, chunks.size)
        self.assertEqual(hashlib.sha256(data).hexdigest(), chunks.hash_value)

    def test_iterate_empty_body_yields_nothing(self):
        chunks = streams.HashingChunks(io.BytesIO(b''), 4096, 'sha512')

        self.assertEqual([], list(chunks))
        self.assertEqual(0, chunks.size)
        self.assertEqual(hashlib.md5(b'').hexdigest(), chunks.checksum)
        self.assertEqual(hashlib.sha512(b'').hexdigest(), chunks.hash_value)

    def test_iterate_after_end_reads_no_more(self):
        reader = TrickleReader(b'abc', 8)
        chunks = streams.HashingChunks(reader, 8, 'sha512')
        list(chunks)
        reads = len(reader.requested)

        self.assertEqual([], list(chunks))
        self.assertEqual(reads, len(reader.requested))

    def test_iterate_reader_error_propagates(self):
        reader = FailingReader(b'abc', _too_large(3)())
        chunks = streams.HashingChunks(reader, 8, 'sha512')

        self.assertEqual(b'abc', next(chunks))
        self.assertRaises(exception.ImageSizeLimitExceeded, next, chunks)
        self.assertEqual(3, chunks.size)

    def test_create_unknown_algorithm_raises_value_error(self):
        reader = TrickleReader(b'abc', 8)

        self.assertRaises(ValueError, streams.HashingChunks, reader, 8,
                          'no-such-hash')
        self.assertEqual([], reader.requested)


class ThreadedHashingTestCase(base.TestCase):
    """Chunks of 256 KiB and more are hashed on two threads."""

    def _threads(self):
        return [t for t in threading.enumerate()
                if t.name == 'imageapi-hash']

    def test_iterate_large_chunks_hashes_match_hashlib(self):
        data = os.urandom(5 * 1024 * 1024 + 123)
        chunks = streams.HashingChunks(io.BytesIO(data), 1024 * 1024,
                                       'sha512')
        with chunks:
            self.assertEqual(data, b''.join(chunks))
        self.assertEqual(hashlib.md5(data).hexdigest(), chunks.checksum)
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         chunks.hash_value)
        self.assertEqual(len(data), chunks.size)

    def test_iterate_small_then_large_chunks_keeps_order(self):
        # Short reads are hashed inline until a large one starts the
        # threads; the digests must still follow the byte order.
        data = os.urandom(3 * 1024 * 1024)
        reader = io.BytesIO(data)
        sizes = iter([1000, 5000] + [1024 * 1024] * 4)

        class Mixed:
            def read(self, n):
                return reader.read(next(sizes, n))
        chunks = streams.HashingChunks(Mixed(), 1024 * 1024, 'sha512')
        with chunks:
            self.assertEqual(data, b''.join(chunks))
        self.assertEqual(hashlib.sha512(data).hexdigest(), chunks.hash_value)
        self.assertEqual(hashlib.md5(data).hexdigest(), chunks.checksum)

    def test_reader_error_mid_stream_stops_hash_threads(self):
        before = len(self._threads())
        reader = FailingReader(os.urandom(1024 * 1024), OSError('reset'))
        chunks = streams.HashingChunks(reader, 1024 * 1024, 'sha512')

        def consume():
            with chunks:
                for _chunk in chunks:
                    pass
        self.assertRaises(OSError, consume)
        self.assertEqual(before, len(self._threads()))


class ClientReaderTestCase(base.TestCase):

    def test_read_with_length_never_passes_it(self):
        reader = TrickleReader(b'x' * 100, 1000)
        body = streams.ClientReader(reader, length=30)
        self.assertEqual(b'x' * 30, body.read(64))
        self.assertEqual(b'', body.read(64))
        self.assertEqual([30], reader.requested)
        self.assertEqual(30, body.bytes_read)

    def test_read_without_length_reads_to_end(self):
        body = streams.ClientReader(io.BytesIO(b'y' * 100))
        self.assertEqual(b'y' * 64, body.read(64))
        self.assertEqual(b'y' * 36, body.read(64))
        self.assertEqual(b'', body.read(64))

    def test_read_socket_error_is_client_disconnected(self):
        body = streams.ClientReader(FailingReader(None, OSError('reset')))
        self.assertRaises(exception.ClientDisconnected, body.read, 10)


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
        reader = streams.SocketBodyReader(body, self.server)
        self._send(data[1000:] + next_request)

        self.assertEqual(data, self._read_all(reader))
        self.assertEqual(0, body.reader.length)
        self.assertEqual(b'', body.read(8192))  # gunicorn: nothing to drain
        self.assertEqual(next_request,
                         self.unreader.read(len(next_request)))

    def test_unread_rest_is_still_drained_by_gunicorn(self):
        data = os.urandom(2 * 1024 * 1024)
        body = self._body(len(data))
        reader = streams.SocketBodyReader(body, self.server)
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
            streams.SocketBodyReader(body, self.server), 10000)
        self.client.sendall(b'x' * 100)
        self.client.close()

        self.assertRaises(exception.ClientDisconnected, self._read_all,
                          reader)
        self.assertTrue(body.failed)

    def test_applies_only_to_gunicorn_length_bodies(self):
        body = self._body(10)
        environ = {'gunicorn.socket': self.server, 'wsgi.input': body}
        self.assertIsInstance(streams.gunicorn_body(environ),
                              streams.SocketBodyReader)

        chunked = self.gunicorn_body.Body(
            self.gunicorn_body.ChunkedReader(object(), self.unreader))
        for other in ({'wsgi.input': body},
                      {'gunicorn.socket': self.server,
                       'wsgi.input': io.BytesIO(b'0123456789')},
                      {'gunicorn.socket': self.client, 'wsgi.input': body},
                      {'gunicorn.socket': self.server, 'wsgi.input': chunked}):
            self.assertNotIsInstance(
                streams.gunicorn_body(other), streams.SocketBodyReader)


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
        reader = streams.gunicorn_body(
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
        reader = streams.ChunkedBodyReader(body)
        self._send(_chunked(data, [200000]))

        first = reader.read(1000)
        rest = self._read_all(reader, 65536)

        self.assertEqual(1000, len(first))
        self.assertEqual(data, bytes(first) + rest)

    def test_bad_framing_fails_the_body(self):
        from gunicorn.http import errors as gunicorn_errors

        body = self._chunked_body()
        reader = streams.ClientReader(streams.ChunkedBodyReader(
            body, (gunicorn_errors.ParseException,)))
        self._send(b'5\r\nabcde\r\nzz\r\n')

        self.assertRaises(exception.ClientDisconnected, self._read_all,
                          reader)
        self.assertTrue(body.failed)

    def test_client_gone_mid_chunk_fails_the_body(self):
        body = self._chunked_body()
        reader = streams.ClientReader(streams.ChunkedBodyReader(body))
        self.client.sendall(b'2710\r\n' + b'x' * 100)
        self.client.close()

        self.assertRaises(exception.ClientDisconnected, self._read_all,
                          reader)
        self.assertTrue(body.failed)

    def test_applies_only_to_gunicorn_chunked_bodies(self):
        chunked = self._chunked_body()
        length = self._body(10)
        self.assertIsInstance(
            streams.gunicorn_body(
                {'gunicorn.socket': self.server, 'wsgi.input': chunked}),
            streams.ChunkedBodyReader)
        for other in ({'wsgi.input': chunked},
                      {'gunicorn.socket': self.server, 'wsgi.input': length},
                      {'gunicorn.socket': self.server,
                       'wsgi.input': io.BytesIO(b'0\r\n\r\n')}):
            self.assertNotIsInstance(
                streams.gunicorn_body(other), streams.ChunkedBodyReader)
