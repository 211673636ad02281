"""The store driver contract (imageapi/store/driver.py) as a test suite every driver runs.

A driver's test module subclasses ``DriverContractTests`` together with its own TestCase
and provides ``make_driver()`` (a driver over a fresh, empty store) and, when the store
keeps partial uploads somewhere, ``partial_count(image_id)``. The suite only uses the
driver's public interface, so the Swift, RBD and S3 drivers can run it against their real
servers.
"""

import os
import threading

from imageapi.common import exception
from imageapi.store import driver as store_driver

IMAGE_ID = '6bbe7cc2-eae7-4c0f-b50d-a7160b0c6a86'
OTHER_ID = 'e0a1f1d5-16e8-4f73-a4dc-2ff8a5a3d0a1'


def pieces(data, size):
    """``data`` as a list of chunks of at most ``size`` bytes."""
    return [data[i:i + size] for i in range(0, len(data), size)]


class Boom(Exception):
    """Raised by a chunk iterator in the middle of an upload."""


def failing(chunks, after):
    """Yield ``after`` of ``chunks``, then raise Boom."""
    for index, chunk in enumerate(chunks):
        if index == after:
            raise Boom()
        yield chunk


class DriverContractTests:
    """Mix into a TestCase; see the module docstring."""

    chunk_size = 4096

    def make_driver(self):
        raise NotImplementedError

    def partial_count(self, image_id):
        """How many partial uploads of ``image_id`` the store holds."""
        return 0

    def setUp(self):
        super().setUp()
        self.flags(chunk_size=self.chunk_size, group='store')
        self.store = self.make_driver()

    def put(self, data, image_id=IMAGE_ID, size=-1):
        size = len(data) if size == -1 else size
        return self.store.add(image_id, pieces(data, self.chunk_size), size)

    def read(self, location, **kwargs):
        chunks = self.store.get(location, **kwargs)
        try:
            got = [bytes(chunk) for chunk in chunks]
        finally:
            chunks.close()
        for chunk in got:
            self.assertLessEqual(len(chunk), self.chunk_size)
        return b''.join(got)

    def assertNoData(self, location):
        self.assertRaises(exception.StoredDataNotFound, self.store.get,
                          location)

    # ------------------------------------------------------------- add
    def test_contract_add_then_get_returns_same_bytes(self):
        data = os.urandom(3 * self.chunk_size + 17)

        stored = self.put(data)

        self.assertIsInstance(stored, store_driver.StoredImage)
        self.assertEqual(len(data), stored.size)
        self.assertEqual(data, self.read(stored.location))
        self.assertEqual(len(data), self.store.get_size(stored.location))
        self.assertEqual(0, self.partial_count(IMAGE_ID))

    def test_contract_add_unknown_size_stores_every_chunk(self):
        data = os.urandom(2 * self.chunk_size + 5)

        stored = self.put(data, size=None)

        self.assertEqual(data, self.read(stored.location))

    def test_contract_add_empty_stores_empty_data(self):
        stored = self.put(b'')

        self.assertEqual(0, stored.size)
        self.assertEqual(b'', self.read(stored.location))

    def test_contract_add_chunk_iterator_error_leaves_nothing(self):
        data = os.urandom(4 * self.chunk_size)

        self.assertRaises(Boom, self.store.add, IMAGE_ID,
                          failing(pieces(data, self.chunk_size), 2),
                          len(data))

        self.assertEqual(0, self.partial_count(IMAGE_ID))
        # Nothing visible: a retry of the same image succeeds.
        stored = self.put(data)
        self.assertEqual(data, self.read(stored.location))

    def test_contract_writer_without_commit_leaves_nothing(self):
        with self.store.writer(IMAGE_ID, 10) as writer:
            writer.write(b'0123456789')

        self.assertEqual(0, self.partial_count(IMAGE_ID))
        stored = self.put(b'again')
        self.assertEqual(b'again', self.read(stored.location))

    def test_contract_add_existing_image_raises_duplicate_keeps_data(self):
        first = self.put(b'first')

        self.assertRaises(exception.Duplicate, self.put, b'second')

        self.assertEqual(b'first', self.read(first.location))

    def test_contract_add_invalid_image_id_raises_invalid_parameter(self):
        for image_id in ('../escape', 'a/b', '', 'a\0b'):
            self.assertRaises(exception.InvalidParameterValue,
                              self.store.add, image_id, [b'x'], 1)

    def test_contract_images_are_kept_apart(self):
        one = self.put(b'one')
        two = self.put(b'two', image_id=OTHER_ID)

        self.assertNotEqual(one.location, two.location)
        self.assertEqual(b'one', self.read(one.location))
        self.assertEqual(b'two', self.read(two.location))

    # ------------------------------------------------------------- get
    def test_contract_get_offset_and_length_yields_range(self):
        data = os.urandom(3 * self.chunk_size)
        location = self.put(data).location

        self.assertEqual(data[100:100 + self.chunk_size + 7],
                         self.read(location, offset=100,
                                   length=self.chunk_size + 7))
        self.assertEqual(data[5000:], self.read(location, offset=5000))
        self.assertEqual(data[-10:], self.read(location,
                                               offset=len(data) - 10,
                                               length=100))
        self.assertEqual(b'', self.read(location, offset=10, length=0))
        self.assertEqual(b'', self.read(location, offset=len(data)))

    def test_contract_get_negative_range_raises_invalid_range(self):
        location = self.put(b'abc').location

        self.assertRaises(exception.InvalidRange, self.store.get, location,
                          offset=-1)
        self.assertRaises(exception.InvalidRange, self.store.get, location,
                          length=-1)

    def test_contract_get_unknown_location_raises_not_found(self):
        location = self.put(b'abc').location

        self.assertNoData(location + 'x')
        self.assertNoData('nowhere://at/all')
        self.assertRaises(exception.StoredDataNotFound, self.store.get_size,
                          'nowhere://at/all')

    def test_contract_get_closed_early_yields_nothing_more(self):
        location = self.put(os.urandom(3 * self.chunk_size)).location
        reader = self.store.get(location)
        chunks = iter(reader)

        next(chunks)
        self.store.get(location).close()  # an unused reader closes too
        reader.close()
        reader.close()

        self.assertEqual([], list(chunks))

    # ---------------------------------------------------------- delete
    def test_contract_delete_removes_data(self):
        location = self.put(b'abc').location

        self.store.delete(location)

        self.assertNoData(location)
        self.assertRaises(exception.StoredDataNotFound, self.store.delete,
                          location)
        self.put(b'new')  # the image ID may be stored again

    # ----------------------------------------------------------- purge
    def test_contract_purge_nothing_there_returns_zero(self):
        location = self.put(b'keep').location

        self.assertEqual(0, self.store.purge(OTHER_ID))
        self.assertEqual(b'keep', self.read(location))

    def test_contract_purge_removes_unrecorded_data(self):
        location = self.put(b'never recorded').location

        self.assertGreaterEqual(self.store.purge(IMAGE_ID), 1)

        self.assertNoData(location)
        self.assertEqual(0, self.store.purge(IMAGE_ID))
        stored = self.put(b'retry')  # no Duplicate any more
        self.assertEqual(b'retry', self.read(stored.location))

    def test_contract_purge_during_upload_fails_it(self):
        # What the reaper does when an uploader's lease ran out.
        started, resume = threading.Event(), threading.Event()
        outcome = {}

        def chunks():
            yield b'x' * self.chunk_size
            started.set()
            resume.wait(10)
            yield b'y' * self.chunk_size

        def upload():
            try:
                outcome['stored'] = self.store.add(IMAGE_ID, chunks())
            except Exception as exc:
                outcome['error'] = exc
        thread = threading.Thread(target=upload)
        thread.start()
        self.assertTrue(started.wait(10))

        removed = self.store.purge(IMAGE_ID)
        resume.set()
        thread.join(10)

        self.assertGreaterEqual(removed, 1)
        self.assertIsInstance(outcome.get('error'),
                              exception.UploadLeaseLost)
        self.assertEqual(0, self.partial_count(IMAGE_ID))
        self.assertEqual(0, self.store.purge(IMAGE_ID))

    def test_contract_purge_invalid_image_id_raises(self):
        self.assertRaises(exception.InvalidParameterValue,
                          self.store.purge, '../x')

    # ---------------------------------------------------- capabilities
    def test_contract_capabilities_are_known_names(self):
        self.assertLessEqual(set(self.store.capabilities),
                             {store_driver.RANDOM_READ})
