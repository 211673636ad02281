"""Tests for imageapi.common.streams: the upload stream and the client reader."""

import hashlib
import io
import os
import threading
from unittest import mock

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


class Reservations:
    """A quota: records what was reserved, refuses past ``quota`` bytes."""

    def __init__(self, quota):
        self.quota = quota
        self.calls = []

    def __call__(self, delta):
        if sum(self.calls) + delta > self.quota:
            raise exception.StorageQuotaFull(quota=self.quota,
                                             used=sum(self.calls))
        self.calls.append(delta)


def _stream(reader, chunk_size=4096, hash_algo='sha512', **kwargs):
    return streams.UploadStream(reader, chunk_size, hash_algo, **kwargs)


class UploadStreamTestCase(base.TestCase):

    def test_iterate_body_yields_chunks_and_hashes(self):
        data = bytes(range(256)) * 40
        stream = _stream(io.BytesIO(data), size=len(data))

        with stream:
            yielded = list(stream)

        self.assertEqual([4096, 4096, len(data) - 8192],
                         [len(c) for c in yielded])
        self.assertEqual(data, b''.join(yielded))
        self.assertEqual(len(data), stream.size)
        self.assertEqual(hashlib.md5(data).hexdigest(), stream.checksum)
        self.assertEqual('sha512', stream.hash_algo)
        self.assertEqual(hashlib.sha512(data).hexdigest(), stream.hash_value)

    def test_iterate_short_reads_continues_until_empty(self):
        data = b'abcdefghij'
        reader = TrickleReader(data, 3)
        stream = _stream(reader, chunk_size=8, hash_algo='sha256')

        yielded = list(stream)

        self.assertEqual([b'abc', b'def', b'ghi', b'j'], yielded)
        self.assertEqual({8}, set(reader.requested))
        self.assertEqual(10, stream.size)
        self.assertEqual(hashlib.sha256(data).hexdigest(), stream.hash_value)

    def test_iterate_empty_body_yields_nothing(self):
        stream = _stream(io.BytesIO(b''), size=0)

        self.assertEqual([], list(stream))
        self.assertEqual(0, stream.size)
        self.assertEqual(hashlib.md5(b'').hexdigest(), stream.checksum)
        self.assertEqual(hashlib.sha512(b'').hexdigest(), stream.hash_value)

    def test_iterate_after_end_reads_no_more(self):
        reader = TrickleReader(b'abc', 8)
        stream = _stream(reader, chunk_size=8)
        list(stream)
        reads = len(reader.requested)

        self.assertEqual([], list(stream))
        self.assertEqual(reads, len(reader.requested))

    def test_iterate_reader_error_propagates(self):
        reader = FailingReader(b'abc', exception.ClientDisconnected(
            reason='reset'))
        stream = _stream(reader, chunk_size=8)

        self.assertEqual(b'abc', next(iter(stream)))
        self.assertRaises(exception.ClientDisconnected, next, stream)
        self.assertEqual(3, stream.size)

    def test_create_unknown_algorithm_raises_value_error(self):
        reader = TrickleReader(b'abc', 8)

        self.assertRaises(ValueError, _stream, reader, 8, 'no-such-hash')
        self.assertEqual([], reader.requested)

    # ------------------------------------------------ declared size, cap
    def test_body_longer_than_declared_raises_within_one_chunk(self):
        reader = TrickleReader(b'x' * 100, 1000)
        stream = _stream(reader, chunk_size=8, size=20)

        exc = self.assertRaises(exception.SizeMismatch, list, stream)

        self.assertEqual(400, exc.code)
        self.assertEqual(3, len(reader.requested))  # 8, 16, then 24 > 20

    def test_body_shorter_than_declared_raises_at_end(self):
        stream = _stream(io.BytesIO(b'x' * 10), size=20)
        chunks = iter(stream)

        self.assertEqual(b'x' * 10, next(chunks))
        self.assertRaises(exception.SizeMismatch, next, chunks)

    def test_body_past_cap_raises_size_limit(self):
        stream = _stream(io.BytesIO(b'x' * 100), chunk_size=30, cap=50)

        exc = self.assertRaises(exception.ImageSizeLimitExceeded, list,
                                stream)
        self.assertEqual(413, exc.code)
        self.assertEqual(60, stream.size)

    def test_body_exactly_at_cap_passes(self):
        stream = _stream(io.BytesIO(b'x' * 50), chunk_size=30, cap=50)
        self.assertEqual(50, len(b''.join(stream)))

    # ------------------------------------------------------------- quota
    def test_declared_size_reserved_whole_before_first_read(self):
        reserve = Reservations(quota=1000)
        reader = TrickleReader(b'x' * 100, 1000)
        stream = _stream(reader, size=100, reserve=reserve)

        iter(stream)

        self.assertEqual([100], reserve.calls)
        self.assertEqual([], reader.requested)
        list(stream)
        self.assertEqual([100], reserve.calls)

    def test_declared_size_over_quota_refused_before_reading(self):
        reader = TrickleReader(b'x' * 100, 1000)
        stream = _stream(reader, size=100, reserve=Reservations(quota=99))

        self.assertRaises(exception.StorageQuotaFull, list, stream)
        self.assertEqual([], reader.requested)

    def test_unknown_size_reserves_a_step_ahead(self):
        reserve = Reservations(quota=1 << 40)
        stream = _stream(io.BytesIO(b'x' * 10), reserve=reserve)

        list(stream)

        self.assertEqual([streams.QUOTA_STEP], reserve.calls)

    def test_unknown_size_near_quota_reserves_only_what_it_needs(self):
        reserve = Reservations(quota=25)
        stream = _stream(io.BytesIO(b'x' * 25), chunk_size=10,
                         reserve=reserve)

        self.assertEqual(25, len(b''.join(stream)))
        self.assertEqual([10, 10, 5], reserve.calls)

    def test_unknown_size_past_quota_raises(self):
        reserve = Reservations(quota=25)
        stream = _stream(io.BytesIO(b'x' * 26), chunk_size=10,
                         reserve=reserve)

        self.assertRaises(exception.StorageQuotaFull, list, stream)
        # The third chunk needed 10 more bytes; only 5 were left.
        self.assertEqual([10, 10], reserve.calls)

    # -------------------------------------------------------- inspection
    def test_inspector_fed_every_chunk_and_asked_at_end(self):
        inspector = mock.Mock()
        inspector.finish.return_value = 12345
        stream = _stream(io.BytesIO(b'x' * 10), chunk_size=4,
                         inspector=inspector)

        list(stream)

        self.assertEqual([mock.call(b'xxxx'), mock.call(b'xxxx'),
                          mock.call(b'xx')], inspector.feed.call_args_list)
        inspector.finish.assert_called_once_with(10)
        self.assertEqual(12345, stream.virtual_size)

    def test_inspector_rejection_at_end_ends_iteration_with_error(self):
        inspector = mock.Mock()
        inspector.finish.side_effect = exception.ImageFormatMismatch(
            reason='no')
        stream = _stream(io.BytesIO(b'x' * 10), inspector=inspector)
        chunks = iter(stream)
        next(chunks)

        self.assertRaises(exception.ImageFormatMismatch, next, chunks)


class ThreadedHashingTestCase(base.TestCase):
    """Chunks of 256 KiB and more are hashed on two threads."""

    def _threads(self):
        return [t for t in threading.enumerate()
                if t.name == 'imageapi-hash']

    def test_iterate_large_chunks_hashes_match_hashlib(self):
        data = os.urandom(5 * 1024 * 1024 + 123)
        stream = _stream(io.BytesIO(data), chunk_size=1024 * 1024)
        with stream:
            self.assertEqual(data, b''.join(stream))
        self.assertEqual(hashlib.md5(data).hexdigest(), stream.checksum)
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         stream.hash_value)
        self.assertEqual(len(data), stream.size)

    def test_iterate_small_then_large_chunks_keeps_order(self):
        # Short reads are hashed inline until a large one starts the
        # threads; the digests must still follow the byte order.
        data = os.urandom(3 * 1024 * 1024)
        reader = io.BytesIO(data)
        sizes = iter([1000, 5000] + [1024 * 1024] * 4)

        class Mixed:
            def read(self, n):
                return reader.read(next(sizes, n))
        stream = _stream(Mixed(), chunk_size=1024 * 1024)
        with stream:
            self.assertEqual(data, b''.join(stream))
        self.assertEqual(hashlib.sha512(data).hexdigest(), stream.hash_value)
        self.assertEqual(hashlib.md5(data).hexdigest(), stream.checksum)

    def test_reader_error_mid_stream_stops_hash_threads(self):
        before = len(self._threads())
        reader = FailingReader(os.urandom(1024 * 1024), OSError('reset'))
        stream = _stream(reader, chunk_size=1024 * 1024)

        def consume():
            with stream:
                for _chunk in stream:
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
