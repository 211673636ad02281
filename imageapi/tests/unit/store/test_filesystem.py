"""Tests for the filesystem store driver and get_driver, on real files."""

import errno
import io
import os
import stat
import uuid

import fixtures
from stevedore import extension

from imageapi.common import exception
from imageapi import store
from imageapi.store import driver
from imageapi.store import filesystem
from imageapi.tests import base
from imageapi.tests.unit.store import contract

IMAGE_ID = '6bbe7cc2-eae7-4c0f-b50d-a7160b0c6a86'
OTHER_ID = 'e0a1f1d5-16e8-4f73-a4dc-2ff8a5a3d0a1'
CHUNK = 4096


class EndlessReader:
    """A body that never ends; counts what was read from it."""

    def __init__(self):
        self.bytes_read = 0

    def read(self, n):
        self.bytes_read += n
        return b'z' * n


class CallbackReader:
    """Reads from ``data``, calling ``callback`` before the second read."""

    def __init__(self, data, callback):
        self._stream = io.BytesIO(data)
        self._callback = callback
        self._reads = 0

    def read(self, n):
        self._reads += 1
        if self._reads == 2:
            self._callback()
        return self._stream.read(n)


class FilesystemTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.flags(chunk_size=CHUNK, group='store')
        self.datadir = os.path.join(self.state_path, 'images')
        self.tmpdir = os.path.join(self.datadir, '.tmp')
        self.driver = filesystem.FilesystemDriver(self.conf)

    def patch(self, name, **kwargs):
        """Patch a module-level name of store.filesystem; return the mock."""
        return self.useFixture(fixtures.MockPatchObject(
            filesystem, name, **kwargs)).mock

    def tmp_names(self):
        if not os.path.isdir(self.tmpdir):
            return []
        return os.listdir(self.tmpdir)

    def final_path(self, image_id=IMAGE_ID):
        return os.path.join(self.datadir, image_id)

    def add(self, image_id, reader, size=None):
        """driver.add over ``reader`` read in CHUNK-byte chunks."""
        return self.driver.add(image_id, iter(lambda: reader.read(CHUNK), b''),
                               size)

    def store_data(self, data, image_id=IMAGE_ID):
        return self.add(image_id, io.BytesIO(data), len(data))

    def assertNothingStored(self, image_id=IMAGE_ID):
        self.assertFalse(os.path.lexists(self.final_path(image_id)))
        self.assertEqual([], self.tmp_names())


class AddTestCase(FilesystemTestCase):

    def test_add_new_files_private_modes(self):
        self.store_data(b'abc')

        self.assertEqual(0o750, stat.S_IMODE(os.stat(self.datadir).st_mode))
        self.assertEqual(0o750, stat.S_IMODE(os.stat(self.tmpdir).st_mode))
        self.assertEqual(0o600,
                         stat.S_IMODE(os.stat(self.final_path()).st_mode))

    def test_add_reader_error_propagates_leaves_nothing(self):
        seen = []

        def fail():
            seen.extend(self.tmp_names())
            raise exception.ImageSizeLimitExceeded(limit=CHUNK)

        reader = CallbackReader(b'x' * 3 * CHUNK, fail)

        self.assertRaises(exception.ImageSizeLimitExceeded, self.add,
                          IMAGE_ID, reader)

        self.assertEqual(1, len(seen))
        self.assertRegex(seen[0], '^%s\\.[0-9a-f]{32}$' % IMAGE_ID)
        self.assertNothingStored()

    def test_add_interrupted_leaves_nothing(self):
        def interrupt():
            raise KeyboardInterrupt()

        reader = CallbackReader(b'x' * 3 * CHUNK, interrupt)

        self.assertRaises(KeyboardInterrupt, self.add, IMAGE_ID,
                          reader)

        self.assertNothingStored()

    def test_add_existing_image_raises_duplicate_without_reading(self):
        self.store_data(b'first')
        reader = EndlessReader()

        self.assertRaises(exception.Duplicate, self.add, IMAGE_ID,
                          reader)

        self.assertEqual(0, reader.bytes_read)
        with open(self.final_path(), 'rb') as f:
            self.assertEqual(b'first', f.read())

    def test_add_concurrent_winner_raises_duplicate_keeps_winner(self):
        def win_race():
            with open(self.final_path(), 'wb') as f:
                f.write(b'winner')

        reader = CallbackReader(b'x' * 2 * CHUNK, win_race)

        self.assertRaises(exception.Duplicate, self.add, IMAGE_ID,
                          reader)

        with open(self.final_path(), 'rb') as f:
            self.assertEqual(b'winner', f.read())
        self.assertEqual([], self.tmp_names())

    def test_add_invalid_image_id_raises_invalid_parameter(self):
        for image_id in ('../escape', 'a/b', '.tmp', '', 'a.b', 'a\0b'):
            self.assertRaises(exception.InvalidParameterValue,
                              self.add, image_id, io.BytesIO(b'x'))

        self.assertFalse(os.path.exists(os.path.join(self.state_path,
                                                     'escape')))
        self.assertEqual([], self.tmp_names())

    def test_add_disk_full_raises_storage_full_leaves_nothing(self):
        write = self.patch('_write')
        for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            write.side_effect = OSError(code, os.strerror(code))

            self.assertRaises(exception.StorageFull, self.store_data,
                              b'x' * CHUNK)

            self.assertNothingStored()

    def test_add_open_denied_raises_storage_write_denied(self):
        self.patch('_open', side_effect=PermissionError(
            errno.EACCES, os.strerror(errno.EACCES)))

        exc = self.assertRaises(exception.StorageWriteDenied,
                                self.store_data, b'x')

        self.assertNotIn(self.state_path, str(exc))
        self.assertNothingStored()

    def test_add_read_only_link_raises_storage_write_denied(self):
        self.patch('_link', side_effect=OSError(
            errno.EROFS, os.strerror(errno.EROFS)))

        self.assertRaises(exception.StorageWriteDenied, self.store_data,
                          b'x' * CHUNK)

        self.assertNothingStored()

    def test_add_other_os_error_propagates_leaves_nothing(self):
        self.patch('_write', side_effect=OSError(errno.EIO, 'I/O error'))

        exc = self.assertRaises(OSError, self.store_data, b'x')

        self.assertEqual(errno.EIO, exc.errno)
        self.assertNothingStored()

    def test_add_short_writes_writes_every_byte(self):
        self.patch('_write',
                   side_effect=lambda fd, view: os.write(fd, view[:1000]))
        data = os.urandom(2 * CHUNK + 1)

        self.store_data(data)

        with open(self.final_path(), 'rb') as f:
            self.assertEqual(data, f.read())

    def test_add_write_accepts_nothing_raises_eio(self):
        self.patch('_write', return_value=0)

        exc = self.assertRaises(OSError, self.store_data, b'x')

        self.assertEqual(errno.EIO, exc.errno)
        self.assertNothingStored()


class AddSyncTestCase(FilesystemTestCase):

    def record(self, calls):
        """Patch fsync, fdatasync and link to log into ``calls``, then run."""
        def on_fsync(fd):
            kind = 'dir' if stat.S_ISDIR(os.fstat(fd).st_mode) else 'file'
            calls.append('fsync:' + kind)
            os.fsync(fd)

        def on_fdatasync(fd):
            calls.append('fdatasync')
            os.fdatasync(fd)

        def on_link(src, dst):
            calls.append('link')
            os.link(src, dst)

        self.patch('_fsync', side_effect=on_fsync)
        self.patch('_fdatasync', side_effect=on_fdatasync)
        self.patch('_link', side_effect=on_link)

    def test_add_fsync_enabled_fsyncs_file_before_link_then_dir(self):
        calls = []
        self.record(calls)

        self.store_data(b'x' * 3 * CHUNK)

        self.assertEqual(['fsync:file', 'link', 'fsync:dir'], calls)

    def test_add_fsync_disabled_no_sync_calls(self):
        self.flags(fsync=False, sync_interval=CHUNK, group='filesystem_store')
        self.driver = filesystem.FilesystemDriver(self.conf)
        calls = []
        self.record(calls)

        self.store_data(b'x' * 3 * CHUNK)

        self.assertEqual(['link'], calls)

    def test_add_sync_interval_reached_calls_fdatasync(self):
        self.flags(sync_interval=2 * CHUNK, group='filesystem_store')
        self.driver = filesystem.FilesystemDriver(self.conf)
        calls = []
        self.record(calls)

        self.store_data(b'x' * (5 * CHUNK))

        self.assertEqual(['fdatasync', 'fdatasync', 'fsync:file', 'link',
                          'fsync:dir'], calls)

    def test_add_sync_interval_zero_no_fdatasync(self):
        self.flags(sync_interval=0, group='filesystem_store')
        self.driver = filesystem.FilesystemDriver(self.conf)
        calls = []
        self.record(calls)

        self.store_data(b'x' * (5 * CHUNK))

        self.assertEqual(['fsync:file', 'link', 'fsync:dir'], calls)

    def test_add_file_fsync_fails_leaves_nothing(self):
        self.patch('_fsync', side_effect=OSError(
            errno.ENOSPC, os.strerror(errno.ENOSPC)))
        link = self.patch('_link')

        self.assertRaises(exception.StorageFull, self.store_data, b'x')

        link.assert_not_called()
        self.assertNothingStored()

    def test_add_dir_fsync_fails_removes_final(self):
        self.patch('_fsync', side_effect=[None, OSError(errno.EIO, 'EIO')])

        self.assertRaises(OSError, self.store_data, b'x')

        self.assertNothingStored()


class ReadTestCase(FilesystemTestCase):

    def setUp(self):
        super().setUp()
        self.data = os.urandom(3 * CHUNK + 100)
        self.location = self.store_data(self.data).location

    def test_get_whole_file_yields_chunks_of_chunk_size(self):
        chunks = self.driver.get(self.location)
        self.addCleanup(chunks.close)

        got = list(chunks)

        self.assertEqual([CHUNK, CHUNK, CHUNK, 100], [len(c) for c in got])
        self.assertEqual(self.data, b''.join(got))

    def test_get_offset_and_length_yields_range(self):
        chunks = self.driver.get(self.location, offset=100,
                                 length=CHUNK + 50)
        self.addCleanup(chunks.close)

        got = list(chunks)

        self.assertEqual(self.data[100:100 + CHUNK + 50], b''.join(got))
        self.assertTrue(all(len(c) <= CHUNK for c in got))

    def test_get_offset_only_reads_to_end(self):
        with self.driver.get(self.location, offset=CHUNK) as chunks:
            self.assertEqual(self.data[CHUNK:], b''.join(chunks))

    def test_get_length_past_end_stops_at_end(self):
        with self.driver.get(self.location, offset=10,
                             length=10 * CHUNK) as chunks:
            self.assertEqual(self.data[10:], b''.join(chunks))

    def test_get_zero_length_yields_nothing(self):
        with self.driver.get(self.location, length=0) as chunks:
            self.assertEqual([], list(chunks))

    def test_get_offset_past_end_yields_nothing(self):
        with self.driver.get(self.location,
                             offset=len(self.data) + 1) as chunks:
            self.assertEqual([], list(chunks))

    def test_get_negative_offset_raises_invalid_range(self):
        self.assertRaises(exception.InvalidRange, self.driver.get,
                          self.location, offset=-1)
        self.assertRaises(exception.InvalidRange, self.driver.get,
                          self.location, length=-1)

    def test_get_closed_yields_nothing_more(self):
        chunks = self.driver.get(self.location)
        next(chunks)

        chunks.close()
        chunks.close()

        self.assertEqual([], list(chunks))

    def test_get_missing_raises_stored_data_not_found(self):
        self.driver.delete(self.location)

        self.assertRaises(exception.StoredDataNotFound, self.driver.get,
                          self.location)

    def test_get_size_returns_bytes(self):
        self.assertEqual(len(self.data), self.driver.get_size(self.location))

    def test_get_size_missing_raises_stored_data_not_found(self):
        location = 'file://' + self.final_path(OTHER_ID)

        self.assertRaises(exception.StoredDataNotFound, self.driver.get_size,
                          location)

    def test_delete_existing_removes_file(self):
        self.driver.delete(self.location)

        self.assertFalse(os.path.exists(self.final_path()))

    def test_delete_missing_raises_stored_data_not_found(self):
        self.driver.delete(self.location)

        self.assertRaises(exception.StoredDataNotFound, self.driver.delete,
                          self.location)

    def test_delete_denied_raises_storage_write_denied(self):
        self.useFixture(fixtures.MockPatch(
            'os.unlink', side_effect=PermissionError(errno.EACCES, 'no')))

        self.assertRaises(exception.StorageWriteDenied, self.driver.delete,
                          self.location)

    def test_foreign_locations_refused_as_not_found(self):
        outside = os.path.join(self.state_path, 'outside')
        with open(outside, 'wb') as f:
            f.write(b'keep me')
        os.makedirs(self.tmpdir, exist_ok=True)
        open(os.path.join(self.tmpdir, IMAGE_ID + '.' + 'a' * 32),
             'wb').close()
        locations = [
            'file://' + outside,
            'file://' + self.datadir + '/../outside',
            'file://' + self.datadir + '/.tmp/' + IMAGE_ID + '.' + 'a' * 32,
            'file://' + self.datadir + '//' + IMAGE_ID,
            'file://' + self.datadir,
            'file://localhost' + self.final_path(),
            'swift://account/container/' + IMAGE_ID,
            self.final_path(),
            None,
        ]

        for location in locations:
            self.assertRaises(exception.StoredDataNotFound, self.driver.get,
                              location)
            self.assertRaises(exception.StoredDataNotFound,
                              self.driver.get_size, location)
            self.assertRaises(exception.StoredDataNotFound,
                              self.driver.delete, location)

        with open(outside, 'rb') as f:
            self.assertEqual(b'keep me', f.read())
        self.assertEqual(1, len(self.tmp_names()))
        self.assertTrue(os.path.exists(self.final_path()))


class PurgeTestCase(FilesystemTestCase):

    def make_partial(self, image_id):
        os.makedirs(self.tmpdir, exist_ok=True)
        path = os.path.join(self.tmpdir,
                            '%s.%s' % (image_id, uuid.uuid4().hex))
        with open(path, 'wb') as f:
            f.write(b'partial')
        return os.path.basename(path)

    def test_purge_removes_only_that_images_files(self):
        self.make_partial(IMAGE_ID)
        self.make_partial(IMAGE_ID)
        other = self.make_partial(OTHER_ID)
        prefixed = self.make_partial(IMAGE_ID + 'x')
        self.store_data(b'stored')
        self.store_data(b'other', image_id=OTHER_ID)

        removed = self.driver.purge(IMAGE_ID)

        self.assertEqual(3, removed)
        self.assertEqual(sorted([other, prefixed]), sorted(self.tmp_names()))
        self.assertFalse(os.path.exists(self.final_path()))
        self.assertTrue(os.path.exists(self.final_path(OTHER_ID)))

    def test_purge_nothing_there_returns_zero(self):
        self.assertEqual(0, self.driver.purge(IMAGE_ID))

        self.assertFalse(os.path.exists(self.datadir))

    def test_purge_empty_tmpdir_returns_zero(self):
        os.makedirs(self.tmpdir)

        self.assertEqual(0, self.driver.purge(IMAGE_ID))

    def test_purge_invalid_image_id_raises(self):
        self.assertRaises(exception.InvalidParameterValue,
                          self.driver.purge, '../images')


class FilesystemContractTest(contract.DriverContractTests, base.TestCase):
    """The shared driver contract, on real files."""

    chunk_size = CHUNK

    def make_driver(self):
        return filesystem.FilesystemDriver(self.conf)

    def partial_count(self, image_id):
        tmpdir = os.path.join(self.state_path, 'images', '.tmp')
        if not os.path.isdir(tmpdir):
            return 0
        return len([n for n in os.listdir(tmpdir)
                    if n.startswith(image_id + '.')])


class GetDriverTestCase(base.TestCase):

    def test_get_driver_file_returns_filesystem_driver(self):
        found = store.get_driver(self.conf)

        self.assertIsInstance(found, filesystem.FilesystemDriver)
        self.assertIs(self.conf, found.conf)
        self.assertEqual(frozenset({driver.RANDOM_READ}), found.capabilities)

    def test_get_driver_file_is_an_entry_point(self):
        names = extension.ExtensionManager(store.NAMESPACE).names()

        self.assertIn('file', names)

    def test_get_driver_unknown_name_raises_backend_unavailable(self):
        self.flags(driver='nonesuch', group='store')

        self.assertRaises(exception.BackendUnavailable, store.get_driver,
                          self.conf)

    def test_get_driver_each_call_returns_new_instance(self):
        self.assertIsNot(store.get_driver(self.conf),
                         store.get_driver(self.conf))
