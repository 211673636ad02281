"""RBDDriver on a real Ceph, beyond the contract: sizes, snapshot, clones, thin writes, purge."""

import os

from imageapi.common import exception
from imageapi.store import rbd as rbd_store
from imageapi.tests.functional.ceph import base
from imageapi.tests.unit.store import contract

IMAGE_ID = contract.IMAGE_ID
MiB = 1024 * 1024
CHUNK = 256 * 1024


class RBDDriverTest(base.RBDTestCase):

    def setUp(self):
        super().setUp()
        self.flags(chunk_size=CHUNK, group='store')

    def driver(self, **options):
        for name, value in options.items():
            self.flags(group='rbd_store', **{name: value})
        return self.rbd_driver()

    def stat(self, name):
        with rbd_store.rbd.Image(self.ioctx, name, read_only=True) as image:
            return image.stat()

    def allocated(self, name):
        """Bytes of the snapshot in RADOS objects that exist (not holes)."""
        extents = []
        with rbd_store.rbd.Image(self.ioctx, name, snapshot='snap',
                                 read_only=True) as image:
            image.diff_iterate(0, image.size(), None,
                               lambda offset, length, exists:
                               extents.append(length if exists else 0))
        return sum(extents)

    def read(self, driver, location):
        chunks = driver.get(location)
        try:
            return b''.join(chunks)
        finally:
            chunks.close()

    def test_add_known_size_image_of_that_size_snapshot_protected(self):
        driver = self.driver()
        data = os.urandom(3 * CHUNK + 11)

        stored = driver.add(IMAGE_ID, contract.pieces(data, CHUNK), len(data))

        self.assertEqual('rbd://%s/%s/%s/snap' % (
            os.environ['CEPH_FSID'], os.environ['CEPH_RBD_POOL'], IMAGE_ID),
            stored.location)
        stat = self.stat(IMAGE_ID)
        self.assertEqual((len(data), 23), (stat['size'], stat['order']))
        self.assertEqual([('snap', True)], self.snapshots(IMAGE_ID))
        self.assertEqual([], self.markers())

    def test_add_unknown_size_grows_in_steps_and_trims(self):
        driver = self.driver(rbd_store_chunk_size=1)
        data = os.urandom(5 * MiB // 2)

        stored = driver.add(IMAGE_ID, contract.pieces(data, CHUNK), None)

        stat = self.stat(IMAGE_ID)
        self.assertEqual((len(data), 20), (stat['size'], stat['order']))
        self.assertEqual(data, self.read(driver, stored.location))

    def test_thin_provisioning_leaves_zero_chunks_unwritten(self):
        # 1 MiB objects: what diff_iterate reports is whole objects.
        self.flags(rbd_store_chunk_size=1, group='rbd_store')
        data = bytes(2 * MiB) + b'x' * MiB
        thick = self.driver().add(IMAGE_ID, contract.pieces(data, CHUNK),
                                  len(data))
        self.assertEqual(len(data), self.allocated(IMAGE_ID))
        self.rbd_driver().delete(thick.location)

        thin = self.driver(rbd_thin_provisioning=True)
        stored = thin.add(IMAGE_ID, contract.pieces(data, CHUNK), len(data))

        self.assertEqual(MiB, self.allocated(IMAGE_ID))
        self.assertEqual(data, self.read(thin, stored.location))

    def test_delete_while_cloned_raises_in_use_and_keeps_data(self):
        driver = self.driver()
        stored = driver.add(IMAGE_ID, [b'parent data'], 11)
        self.assertFalse(driver.in_use(stored.location))
        self.clone(IMAGE_ID, 'vm-disk')

        self.assertTrue(driver.in_use(stored.location))
        error = self.assertRaises(exception.InUseByStore, driver.delete,
                                  stored.location)

        self.assertEqual(409, error.code)
        self.assertIn('in use', str(error))
        self.assertEqual([('snap', True)], self.snapshots(IMAGE_ID))
        self.assertEqual(b'parent data', self.read(driver, stored.location))
        with rbd_store.rbd.Image(self.ioctx, 'vm-disk',
                                 read_only=True) as clone:
            self.assertEqual(b'parent data', clone.read(0, 11))

    def test_purge_image_held_by_upload_moves_it_to_trash(self):
        driver = self.driver()
        writer = driver.writer(IMAGE_ID, 2 * CHUNK)
        writer.write(b'a' * CHUNK)

        self.assertEqual(2, driver.purge(IMAGE_ID))  # marker, image

        self.assertEqual([], self.rbd_images())
        self.assertEqual(1, len(self.trashed()))
        self.assertTrue(self.trashed()[0].startswith(
            rbd_store.PURGED_PREFIX + IMAGE_ID + '.'))
        # The image ID is free for a new upload at once.
        retry = driver.add(IMAGE_ID, [b'retry'], 5)
        writer.write(b'b' * CHUNK)
        self.assertRaises(exception.UploadLeaseLost, writer.commit)
        writer.abort()
        self.assertEqual(([], [IMAGE_ID]), (self.trashed(),
                                            self.rbd_images()))
        self.assertEqual(b'retry', self.read(driver, retry.location))

    def test_purge_image_listed_without_header_removes_entry(self):
        # What a process killed inside RBD.create leaves: the image in the
        # pool's directory, its header object not (yet) written.
        driver = self.driver()
        writer = driver.writer(IMAGE_ID, 10)
        with rbd_store.rbd.Image(self.ioctx, IMAGE_ID,
                                 read_only=True) as image:
            header = 'rbd_header.%s' % image.id()
        self.ioctx.remove_object(header)
        self.assertEqual([IMAGE_ID], self.rbd_images())

        self.assertEqual(2, driver.purge(IMAGE_ID))  # marker, image entry

        self.assertEqual(([], []), (self.rbd_images(), self.markers()))
        writer.abort()
        stored = driver.add(IMAGE_ID, [b'retry'], 5)
        self.assertEqual(b'retry', self.read(driver, stored.location))

    def test_location_of_other_cluster_or_pool_not_found(self):
        driver = self.driver()
        stored = driver.add(IMAGE_ID, [b'x'], 1)
        fsid = os.environ['CEPH_FSID']

        for location in (stored.location.replace(fsid, 'other-fsid'),
                         stored.location.replace('/images/', '/volumes/'),
                         stored.location[:-4] + 'other'):
            self.assertRaises(exception.StoredDataNotFound, driver.get,
                              location)
            self.assertFalse(driver.in_use(location))

    def test_missing_pool_is_503(self):
        driver = self.driver(rbd_store_pool='no-such-pool')

        error = self.assertRaises(exception.BackendUnavailable, driver.add,
                                  IMAGE_ID, [b'x'], 1)

        self.assertEqual(503, error.code)
        self.assertIn('no-such-pool', str(error))
