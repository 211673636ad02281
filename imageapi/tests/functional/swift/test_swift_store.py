"""The Swift driver's own behaviour on a real Swift: segments, cleanup, ranges, containers."""

import hashlib
import os
import threading

import fixtures

from imageapi.common import exception
from imageapi.store import swift
from imageapi.tests.functional.swift import base
from imageapi.tests.unit.store import contract

IMAGE_ID = contract.IMAGE_ID
OTHER_ID = contract.OTHER_ID
KIB = 1024
MIB = 1024 * KIB
CHUNK = 64 * KIB
SEGMENT = 100000  # not a multiple of CHUNK: chunks straddle segments


def payload(size, seed=0):
    """``size`` pseudo-random bytes as CHUNK-sized pieces, made lazily."""
    block = hashlib.sha512(b'%d' % seed).digest() * (CHUNK // 64)
    for start in range(0, size, CHUNK):
        yield block[:min(CHUNK, size - start)]


def md5_of(chunks):
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    for chunk in chunks:
        md5.update(chunk)
        size += len(chunk)
    return size, md5.hexdigest()


class SwiftStoreTestCase(base.SwiftTestCase):

    segment_size = SEGMENT

    def setUp(self):
        super().setUp()
        self.flags(chunk_size=CHUNK, group='store')
        self.driver = self.swift_driver()
        self.driver.large_object_size = 0
        self.driver.segment_size = self.segment_size

    def read(self, location, **kwargs):
        chunks = self.driver.get(location, **kwargs)
        try:
            return b''.join(chunks)
        finally:
            chunks.close()

    def head(self, name, container=None):
        return self.swift.request('HEAD', container or self.container, name)


class SegmentTest(SwiftStoreTestCase):

    def test_add_segmented_writes_manifest_of_segments(self):
        data = os.urandom(3 * SEGMENT + 5)

        stored = self.driver.add(IMAGE_ID, contract.pieces(data, CHUNK), None)

        self.assertEqual(len(data), stored.size)
        self.assertEqual(
            'swift+config://ref1/%s/%s' % (self.container, IMAGE_ID),
            stored.location)
        segments = self.manifest_segments(IMAGE_ID)
        self.assertEqual(4, len(segments))
        for name in segments:
            self.assertRegex(name, r'^%s\.[0-9a-f]{32}\.\d{6}$' % IMAGE_ID)
        self.assertEqual([SEGMENT] * 3 + [5], [
            int(self.head(name).header('Content-Length'))
            for name in segments])
        self.assertEqual([], self.leftovers(IMAGE_ID))
        self.assertEqual(data, self.read(stored.location))

    def test_add_known_size_below_threshold_is_one_object(self):
        self.driver.large_object_size = MIB
        data = os.urandom(3 * SEGMENT)

        stored = self.driver.add(IMAGE_ID, contract.pieces(data, CHUNK),
                                 len(data))

        response = self.head(IMAGE_ID)
        self.assertIsNone(response.header('X-Static-Large-Object'))
        self.assertEqual(hashlib.md5(data).hexdigest(),
                         response.header('ETag'))
        self.assertEqual([], self.object_names(IMAGE_ID + '.'))
        self.assertEqual(data, self.read(stored.location))

    def test_add_known_size_at_threshold_is_segmented(self):
        self.driver.large_object_size = 2 * SEGMENT
        data = os.urandom(2 * SEGMENT)

        self.driver.add(IMAGE_ID, contract.pieces(data, CHUNK), len(data))

        self.assertEqual(2, len(self.manifest_segments(IMAGE_ID)))

    def test_add_many_mib_with_small_segments_streams(self):
        # Past the 8 MiB max_file_size of `tox -e swift`: only segments get
        # it into Swift. The data is made and checked chunk by chunk.
        self.driver.segment_size = MIB
        size = 21 * MIB + 7

        stored = self.driver.add(IMAGE_ID, payload(size), size)

        self.assertEqual(22, len(self.manifest_segments(IMAGE_ID)))
        self.assertEqual(md5_of(payload(size)),
                         md5_of(self.driver.get(stored.location)))
        self.assertEqual(size, self.driver.get_size(stored.location))

    def test_add_single_object_over_max_file_size_raises_storage_full(self):
        limit = base.max_file_size()
        if limit > 64 * MIB:
            self.skipTest('Swift takes objects of up to %d bytes' % limit)
        self.driver.large_object_size = 5 * 1024 * MIB
        size = limit + CHUNK

        self.assertRaises(exception.StorageFull, self.driver.add, IMAGE_ID,
                          payload(size), size)

        self.assertEqual(404, self.head(IMAGE_ID).status)
        self.assertEqual([], self.object_names(IMAGE_ID))


class CleanupTest(SwiftStoreTestCase):

    def test_add_chunks_fail_after_segments_leaves_nothing(self):
        data = os.urandom(5 * SEGMENT)
        seen = []

        def chunks():
            for index, chunk in enumerate(contract.pieces(data, CHUNK)):
                if index == 6:
                    seen.extend(self.object_names(IMAGE_ID))
                    raise contract.Boom()
                yield chunk

        self.assertRaises(contract.Boom, self.driver.add, IMAGE_ID, chunks(),
                          None)

        # A marker and three finished segments were there; none is left.
        self.assertEqual(4, len(seen))
        self.assertEqual([], self.object_names(IMAGE_ID))

    def test_add_segment_md5_mismatch_raises_and_leaves_nothing(self):
        # Swift's ETag cannot be faked: the writer's own md5 goes wrong.
        def bad_md5():
            md5 = hashlib.md5(usedforsecurity=False)
            md5.update(b'not what was sent')
            return md5

        self.useFixture(fixtures.MonkeyPatch(
            'imageapi.store.swift._new_md5', bad_md5))
        data = os.urandom(2 * SEGMENT)

        error = self.assertRaises(exception.StorageChecksumMismatch,
                                  self.driver.add, IMAGE_ID,
                                  contract.pieces(data, CHUNK), None)

        self.assertIn('%s.' % IMAGE_ID, str(error))
        self.assertEqual([], self.object_names(IMAGE_ID))

    def test_add_single_object_md5_mismatch_removes_object(self):
        self.useFixture(fixtures.MonkeyPatch(
            'imageapi.store.swift._new_md5',
            lambda: hashlib.md5(b'x', usedforsecurity=False)))
        self.driver.large_object_size = MIB

        self.assertRaises(exception.StorageChecksumMismatch, self.driver.add,
                          IMAGE_ID, [b'data'], 4)

        self.assertEqual([], self.object_names(IMAGE_ID))

    def test_purge_after_killed_upload_removes_segments_and_marker(self):
        # A process that died mid-upload: its writer never aborted.
        writer = self.driver.writer(IMAGE_ID, None)
        writer.__enter__()
        for chunk in contract.pieces(os.urandom(3 * SEGMENT), CHUNK):
            writer.write(chunk)
        self.assertEqual(4, len(self.object_names(IMAGE_ID + '.')))

        removed = self.driver.purge(IMAGE_ID)

        self.assertEqual(4, removed)
        self.assertEqual([], self.object_names(IMAGE_ID))
        stored = self.driver.add(IMAGE_ID, [b'retry'], 5)
        self.assertEqual(b'retry', self.read(stored.location))

    def test_purge_unrecorded_manifest_removes_it_and_segments(self):
        self.driver.add(IMAGE_ID, contract.pieces(os.urandom(2 * SEGMENT),
                                                  CHUNK), None)
        self.driver.add(OTHER_ID, [b'other'], None)

        removed = self.driver.purge(IMAGE_ID)

        self.assertEqual(3, removed)
        self.assertEqual([], self.object_names(IMAGE_ID))
        self.assertEqual(1, len(self.manifest_segments(OTHER_ID)))

    def test_purge_during_single_object_upload_fails_it(self):
        self.driver.large_object_size = MIB
        started, resume = threading.Event(), threading.Event()
        outcome = {}

        def chunks():
            yield b'x' * CHUNK
            started.set()
            resume.wait(10)
            yield b'y' * CHUNK

        def upload():
            try:
                outcome['stored'] = self.driver.add(IMAGE_ID, chunks(),
                                                    2 * CHUNK)
            except Exception as exc:
                outcome['error'] = exc
        thread = threading.Thread(target=upload)
        thread.start()
        self.assertTrue(started.wait(10))

        self.assertEqual(1, self.driver.purge(IMAGE_ID))
        resume.set()
        thread.join(10)

        self.assertIsInstance(outcome.get('error'),
                              exception.UploadLeaseLost)
        self.assertEqual([], self.object_names(IMAGE_ID))

    def test_delete_segmented_removes_manifest_and_segments(self):
        stored = self.driver.add(
            IMAGE_ID, contract.pieces(os.urandom(3 * SEGMENT), CHUNK), None)
        self.driver.add(OTHER_ID, [b'kept'], None)

        self.driver.delete(stored.location)

        self.assertEqual([], self.object_names(IMAGE_ID))
        self.assertEqual(1, len(self.manifest_segments(OTHER_ID)))
        self.assertRaises(exception.StoredDataNotFound, self.driver.delete,
                          stored.location)


class RangeTest(SwiftStoreTestCase):

    def setUp(self):
        super().setUp()
        self.data = os.urandom(3 * SEGMENT)
        self.location = self.driver.add(
            IMAGE_ID, contract.pieces(self.data, CHUNK), None).location

    def test_get_range_across_segment_boundary(self):
        got = self.read(self.location, offset=SEGMENT - 10, length=25)

        self.assertEqual(self.data[SEGMENT - 10:SEGMENT + 15], got)

    def test_get_range_spanning_three_segments_in_chunks(self):
        chunks = list(self.driver.get(self.location, offset=5,
                                      length=2 * SEGMENT + 10))

        self.assertEqual(self.data[5:2 * SEGMENT + 15], b''.join(chunks))
        self.assertTrue(all(len(chunk) <= CHUNK for chunk in chunks))

    def test_get_length_past_end_stops_at_end(self):
        got = self.read(self.location, offset=3 * SEGMENT - 3, length=100)

        self.assertEqual(self.data[-3:], got)


class MultipleContainersTest(SwiftStoreTestCase):

    def setUp(self):
        super().setUp()
        self.flags(swift_store_multiple_containers_seed=3,
                   group='swift_store')
        self.driver = self.swift_driver()

    def test_add_seeded_puts_images_in_containers_by_id(self):
        one = self.driver.add(IMAGE_ID, [b'one'], 3)
        two = self.driver.add(OTHER_ID, [b'two'], 3)

        self.assertEqual(
            sorted([self.container + '_6bb', self.container + '_e0a']),
            self.containers())
        self.assertEqual('swift+config://ref1/%s_6bb/%s'
                         % (self.container, IMAGE_ID), one.location)
        self.assertEqual(b'one', self.read(one.location))
        self.assertEqual(b'two', self.read(two.location))

    def test_purge_seeded_removes_from_the_image_container(self):
        self.driver.add(IMAGE_ID, [b'one'], 3)

        self.assertEqual(1, self.driver.purge(IMAGE_ID))

        self.assertEqual([], self.object_names(
            container=self.container + '_6bb'))

    def test_get_after_seed_change_reads_older_locations(self):
        location = self.driver.add(IMAGE_ID, [b'one'], 3).location
        self.flags(swift_store_multiple_containers_seed=0,
                   group='swift_store')

        self.assertEqual(b'one', self.read(location))

    def test_get_container_not_named_for_image_raises_not_found(self):
        self.driver.add(IMAGE_ID, [b'one'], 3)
        location = 'swift+config://ref1/%s_e0a/%s' % (self.container,
                                                      IMAGE_ID)

        self.assertRaises(exception.StoredDataNotFound, self.driver.get,
                          location)


class ContainerTest(SwiftStoreTestCase):

    def test_add_missing_container_without_create_raises_unavailable(self):
        self.flags(swift_store_create_container_on_put=False,
                   group='swift_store')
        driver = self.swift_driver()

        self.assertRaises(exception.BackendUnavailable, driver.add, IMAGE_ID,
                          [b'x'], 1)

        self.assertEqual([], self.containers())

    def test_driver_reuses_connections(self):
        opened = []
        real = swift.swift_connection._new_connection

        def counting(*args):
            opened.append(args)
            return real(*args)

        self.useFixture(fixtures.MonkeyPatch(
            'imageapi.store.swift_connection._new_connection', counting))
        location = self.driver.add(IMAGE_ID, [b'x'], 1).location
        opened.clear()

        for _ in range(5):
            self.driver.get_size(location)
            self.read(location)

        self.assertEqual(0, len(opened))
