"""FillingChunks and FollowingChunks on real cache files: fill in passing, follow a fill."""

import threading

from oslo_utils import uuidutils

from imageapi.cache import chunks
from imageapi.tests.unit.cache import test_directory

DATA = test_directory.DATA
_sha512 = test_directory._sha512


class Rest:
    """The store's side of a follower: records what it was asked for."""

    def __init__(self, data=DATA):
        self.data = data
        self.asked = []
        self.closed = False

    def __call__(self, offset, length):
        self.asked.append((offset, length))
        return self

    def __iter__(self):
        offset, length = self.asked[-1]
        yield self.data[offset:offset + length]

    def close(self):
        self.closed = True


class FillingChunksTest(test_directory.ImageCacheTestCase):

    def start(self, image_id=None):
        image_id = image_id or uuidutils.generate_uuid()
        return image_id, self.cache.start_fill(image_id, len(DATA), 'sha512',
                                               _sha512(DATA))

    def test_all_chunks_passed_commit(self):
        image_id, fill = self.start()
        filling = chunks.FillingChunks(iter([DATA[:10], DATA[10:]]), fill)

        self.assertEqual(DATA, b''.join(filling))
        filling.close()

        self.assertEqual([image_id], self.cache.cached_ids())

    def test_committed_before_last_chunk_handed_out(self):
        image_id, fill = self.start()
        filling = chunks.FillingChunks(iter([DATA[:10], DATA[10:]]), fill)
        next(filling)
        self.assertEqual([], self.cache.cached_ids())

        next(filling)

        self.assertEqual([image_id], self.cache.cached_ids())

    def test_closed_early_aborts(self):
        _image_id, fill = self.start()
        filling = chunks.FillingChunks(iter([DATA[:10], DATA[10:]]), fill)
        next(filling)

        filling.close()

        self.assertEqual([], self.cache.cached_ids())
        self.assertEqual([], self.incomplete())

    def test_store_error_aborts_and_raises(self):
        def failing():
            yield DATA[:10]
            raise IOError('store went away')
        _image_id, fill = self.start()
        filling = chunks.FillingChunks(failing(), fill)
        next(filling)

        self.assertRaises(IOError, next, filling)
        self.assertEqual([], self.incomplete())


class FollowingChunksTest(test_directory.ImageCacheTestCase):

    def setUp(self):
        super().setUp()
        self.patch(chunks, 'FOLLOW_POLL_SECONDS', 0.001)
        self.image_id = uuidutils.generate_uuid()
        self.fill = self.cache.start_fill(self.image_id, len(DATA), 'sha512',
                                          _sha512(DATA))

    def follower(self, rest):
        fileobj = self.cache.follow(self.image_id)
        self.assertIsNotNone(fileobj)
        return chunks.FollowingChunks(fileobj, len(DATA), 4096, rest)

    def test_follow_without_filler_is_none(self):
        self.fill.abort()

        self.assertIsNone(self.cache.follow(self.image_id))

    def test_follower_reads_what_filler_writes_then_commits(self):
        rest = Rest()
        following = self.follower(rest)
        self.fill.write(DATA[:5000])
        got = [next(following)]

        def finish():
            self.fill.write(DATA[5000:])
            self.fill.commit()
        writer = threading.Thread(target=finish)
        writer.start()
        got += list(following)
        writer.join()

        self.assertEqual(DATA, b''.join(got))
        self.assertEqual([], rest.asked)
        self.assertEqual([self.image_id], self.cache.cached_ids())

    def test_filler_aborts_rest_from_store(self):
        rest = Rest()
        following = self.follower(rest)
        self.fill.write(DATA[:5000])
        self.fill.abort()

        got = b''.join(following)
        following.close()

        self.assertEqual(DATA, got)
        self.assertEqual([(5000, len(DATA) - 5000)], rest.asked)
        self.assertTrue(rest.closed)

    def test_filler_idle_rest_from_store(self):
        self.patch(chunks, 'FOLLOW_IDLE_SECONDS', 0)
        rest = Rest()
        following = self.follower(rest)
        self.fill.write(DATA[:100])

        got = b''.join(following)

        self.assertEqual(DATA, got)
        self.assertEqual([(100, len(DATA) - 100)], rest.asked)
        self.fill.abort()

    def test_new_fill_never_reuses_dead_fillers_file(self):
        self.fill.write(b'stale bytes')
        self.fill._release()  # its process died: unlocked, file left

        fresh = self.cache.start_fill(self.image_id, len(DATA), 'sha512',
                                      _sha512(DATA))

        self.assertIsNotNone(fresh)
        follower = self.cache.follow(self.image_id)
        self.assertEqual(b'', follower.read())
        follower.close()
        fresh.abort()
