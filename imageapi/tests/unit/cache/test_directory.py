"""ImageCache on real files in a temp directory: fills, entries, pruning, cleaning."""

import hashlib
import os
import time

from oslo_utils import uuidutils

from imageapi.cache import directory
from imageapi.tests import base

DATA = b'cached image data\n' * 1000


def _sha512(data):
    return hashlib.sha512(data).hexdigest()


class ImageCacheTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.state_path, 'cache')
        self.cache = directory.ImageCache(self.path, max_size=10 ** 9,
                                          stall_time=3600)

    def fill(self, image_id=None, data=DATA, hash_value=None):
        image_id = image_id or uuidutils.generate_uuid()
        fill = self.cache.start_fill(image_id, len(data), 'sha512',
                                     hash_value or _sha512(data))
        for start in range(0, len(data), 4096):
            fill.write(data[start:start + 4096])
        return image_id, fill.commit()

    def open_entry(self, image_id, data=DATA):
        return self.cache.open_entry(image_id, len(data), 'sha512',
                                     _sha512(data))

    def incomplete(self):
        return os.listdir(os.path.join(self.path, 'incomplete'))


class FillTest(ImageCacheTestCase):

    def test_fill_matching_hash_becomes_entry(self):
        image_id, committed = self.fill()

        self.assertTrue(committed)
        with self.open_entry(image_id) as cached:
            self.assertEqual(DATA, cached.read())
        self.assertEqual([], self.incomplete())
        self.assertEqual([image_id], self.cache.cached_ids())

    def test_fill_hash_mismatch_discarded(self):
        image_id, committed = self.fill(hash_value=_sha512(b'other'))

        self.assertFalse(committed)
        self.assertIsNone(self.open_entry(image_id))
        self.assertFalse(os.path.exists(self.cache.entry_path(image_id)))
        self.assertEqual([], self.incomplete())

    def test_fill_short_data_discarded(self):
        image_id = uuidutils.generate_uuid()
        fill = self.cache.start_fill(image_id, len(DATA), 'sha512',
                                     _sha512(DATA))
        fill.write(DATA[:100])

        self.assertFalse(fill.commit())
        self.assertEqual([], self.incomplete())
        self.assertEqual([], self.cache.cached_ids())

    def test_fill_too_much_data_discarded(self):
        image_id = uuidutils.generate_uuid()
        fill = self.cache.start_fill(image_id, 10, 'sha512', _sha512(DATA))
        fill.write(DATA)

        self.assertFalse(fill.commit())
        self.assertEqual([], self.incomplete())

    def test_fill_aborted_leaves_nothing(self):
        image_id = uuidutils.generate_uuid()
        fill = self.cache.start_fill(image_id, len(DATA), 'sha512',
                                     _sha512(DATA))
        fill.write(DATA[:100])
        fill.abort()

        self.assertEqual([], self.incomplete())
        self.assertEqual([], self.cache.cached_ids())

    def test_second_filler_of_same_image_refused(self):
        image_id = uuidutils.generate_uuid()
        first = self.cache.start_fill(image_id, len(DATA), 'sha512',
                                      _sha512(DATA))

        self.assertIsNone(self.cache.start_fill(image_id, len(DATA),
                                                'sha512', _sha512(DATA)))
        first.abort()
        self.assertIsNotNone(self.cache.start_fill(image_id, len(DATA),
                                                   'sha512', _sha512(DATA)))

    def test_fill_unknown_hash_algo_refused(self):
        self.assertIsNone(self.cache.start_fill(
            uuidutils.generate_uuid(), 1, 'nosuchhash', 'ab'))

    def test_fill_not_an_image_id_refused(self):
        self.assertIsNone(self.cache.start_fill('../escape', 1, 'sha512',
                                                'ab'))

    def test_commit_syncs_data_before_rename(self):
        calls = []
        real = directory.fdatasync
        self.patch(directory, 'fdatasync',
                   lambda fd: calls.append(fd) or real(fd))

        self.fill()

        self.assertEqual(1, len(calls))


class EntryTest(ImageCacheTestCase):

    def test_open_entry_counts_hits(self):
        image_id, _ = self.fill()
        for _ in range(3):
            self.open_entry(image_id).close()

        [record] = self.cache.cached_images()
        self.assertEqual(3, record['hits'])
        self.assertEqual(len(DATA), record['size'])
        self.assertEqual(image_id, record['image_id'])
        self.assertEqual({'image_id', 'hits', 'last_accessed',
                          'last_modified', 'size'}, set(record))

    def test_open_entry_other_hash_removed(self):
        image_id, _ = self.fill()

        self.assertIsNone(self.cache.open_entry(image_id, len(DATA), 'sha512',
                                                _sha512(b'new data')))
        self.assertEqual([], self.cache.cached_ids())
        self.assertFalse(os.path.exists(self.cache.entry_path(image_id)))

    def test_open_entry_changed_in_place_removed(self):
        image_id, _ = self.fill()
        with open(self.cache.entry_path(image_id), 'r+b') as cached:
            cached.write(b'X')

        self.assertIsNone(self.open_entry(image_id))
        self.assertEqual([], self.cache.cached_ids())

    def test_open_entry_truncated_removed(self):
        image_id, _ = self.fill()
        os.truncate(self.cache.entry_path(image_id), 10)

        self.assertIsNone(self.open_entry(image_id))

    def test_open_entry_replaced_file_removed(self):
        image_id, _ = self.fill()
        path = self.cache.entry_path(image_id)
        stat = os.stat(path)
        with open(path + '.new', 'wb') as other:
            other.write(b'Y' * len(DATA))
        os.utime(path + '.new', ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.replace(path + '.new', path)

        self.assertIsNone(self.open_entry(image_id))

    def test_open_entry_file_gone_removes_row(self):
        image_id, _ = self.fill()
        os.unlink(self.cache.entry_path(image_id))

        self.assertIsNone(self.open_entry(image_id))
        self.assertEqual([], self.cache.cached_ids())

    def test_entries_survive_a_new_instance(self):
        image_id, _ = self.fill()
        self.open_entry(image_id).close()

        again = directory.ImageCache(self.path, 10 ** 9, 3600)

        with again.open_entry(image_id, len(DATA), 'sha512',
                              _sha512(DATA)) as cached:
            self.assertEqual(DATA, cached.read())
        self.assertEqual(2, again.cached_images()[0]['hits'])

    def test_delete_all_removes_files_and_rows(self):
        ids = [self.fill()[0] for _ in range(3)]

        self.assertEqual(3, self.cache.delete_all())
        self.assertEqual([], self.cache.cached_ids())
        for image_id in ids:
            self.assertFalse(os.path.exists(self.cache.entry_path(image_id)))


class PruneTest(ImageCacheTestCase):

    def test_prune_removes_least_recently_used_until_it_fits(self):
        ids = [self.fill()[0] for _ in range(3)]
        self.open_entry(ids[0]).close()  # now the most recently used
        self.cache.max_size = 2 * len(DATA)

        self.assertEqual((1, len(DATA)), self.cache.prune())
        self.assertEqual(sorted([ids[0], ids[2]]), self.cache.cached_ids())
        self.assertFalse(os.path.exists(self.cache.entry_path(ids[1])))

    def test_prune_under_limit_removes_nothing(self):
        self.fill()

        self.assertEqual((0, 0), self.cache.prune())
        self.assertEqual(len(DATA), self.cache.total_size())

    def test_prune_to_zero_empties(self):
        self.fill()
        self.fill()
        self.cache.max_size = 0

        self.assertEqual((2, 2 * len(DATA)), self.cache.prune())
        self.assertEqual(0, self.cache.total_size())


class QueueTest(ImageCacheTestCase):

    def test_queue_lists_oldest_first_and_dequeues(self):
        first, second = uuidutils.generate_uuid(), uuidutils.generate_uuid()
        self.assertTrue(self.cache.queue(first))
        os.utime(os.path.join(self.path, 'queue', first), (1, 1))
        self.assertTrue(self.cache.queue(second))

        self.assertEqual([first, second], self.cache.queued_images())
        self.assertTrue(self.cache.dequeue(first))
        self.assertFalse(self.cache.dequeue(first))
        self.assertEqual(1, self.cache.dequeue_all())
        self.assertEqual([], self.cache.queued_images())

    def test_queue_cached_image_refused(self):
        image_id, _ = self.fill()

        self.assertFalse(self.cache.queue(image_id))
        self.assertEqual([], self.cache.queued_images())


class CleanTest(ImageCacheTestCase):

    def test_clean_removes_stalled_fill_not_live_one(self):
        stalled = self.cache.start_fill(uuidutils.generate_uuid(), 10,
                                        'sha512', 'ab')
        stalled.write(b'12345')
        stalled_path = stalled.path
        stalled._release()  # as if its process died: no lock, file stays
        live = self.cache.start_fill(uuidutils.generate_uuid(), 10, 'sha512',
                                     'ab')
        old = time.time() - 7200
        for path in (stalled_path, live.path):
            os.utime(path, (old, old))

        self.assertEqual(1, self.cache.clean())
        self.assertEqual([os.path.basename(live.path)], self.incomplete())
        live.abort()

    def test_clean_recent_unlocked_fill_kept(self):
        fill = self.cache.start_fill(uuidutils.generate_uuid(), 10, 'sha512',
                                     'ab')
        fill._release()

        self.assertEqual(0, self.cache.clean())
        self.assertEqual(1, len(self.incomplete()))

    def test_clean_removes_changed_entries_and_orphan_rows(self):
        changed, _ = self.fill()
        gone, _ = self.fill()
        kept, _ = self.fill()
        with open(self.cache.entry_path(changed), 'r+b') as cached:
            cached.write(b'X')
        os.unlink(self.cache.entry_path(gone))

        self.assertEqual(2, self.cache.clean())
        self.assertEqual([kept], self.cache.cached_ids())

    def test_clean_rebuilds_lost_index_from_directory(self):
        image_id, _ = self.fill()
        os.unlink(os.path.join(self.path, 'cache.db'))
        rebuilt = directory.ImageCache(self.path, 10 ** 9, 3600)
        self.assertEqual([], rebuilt.cached_ids())

        rebuilt.clean('sha512')

        with rebuilt.open_entry(image_id, len(DATA), 'sha512',
                                _sha512(DATA)) as cached:
            self.assertEqual(DATA, cached.read())

    def test_rebuilt_entry_with_other_content_never_served(self):
        image_id = uuidutils.generate_uuid()
        with open(self.cache.entry_path(image_id), 'wb') as stray:
            stray.write(b'not the image')

        self.cache.clean('sha512')

        self.assertIsNone(self.open_entry(image_id))
        self.assertFalse(os.path.exists(self.cache.entry_path(image_id)))

    def test_verify_rehashes_and_removes_corrupt(self):
        image_id, _ = self.fill()
        self.assertTrue(self.cache.verify(image_id))
        path = self.cache.entry_path(image_id)
        stat = os.stat(path)
        with open(path, 'r+b') as cached:
            cached.write(b'X')
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

        self.assertFalse(self.cache.verify(image_id))
        self.assertEqual([], self.cache.cached_ids())
