"""S3Driver on a real radosgw, beyond the contract: parts, aborts, purge, buckets."""

import os

from imageapi.common import exception
from imageapi.tests.functional.ceph import base
from imageapi.tests.unit.store import contract

IMAGE_ID = contract.IMAGE_ID
MiB = 1024 * 1024


class S3DriverTest(base.S3TestCase):

    def setUp(self):
        super().setUp()
        self.flags(chunk_size=MiB, group='store')
        self.flags(s3_store_large_object_size=8,
                   s3_store_large_object_chunk_size=5, group='s3_store')

    def parts(self):
        """Numbers of the parts sent so far in the one multipart upload."""
        [(key, upload_id)] = self.uploads()
        listed = self.s3.list_parts(Bucket=self.bucket, Key=key,
                                    UploadId=upload_id)
        return [part['PartNumber'] for part in listed.get('Parts', [])]

    def test_parts_go_out_as_they_fill(self):
        driver = self.s3_driver()
        data = os.urandom(12 * MiB)
        with driver.writer(IMAGE_ID, None) as writer:
            for chunk in contract.pieces(data[:11 * MiB], MiB):
                writer.write(chunk)
            # Two full parts sent, the third being filled: one part held.
            self.assertEqual([1, 2], self.parts())
            for chunk in contract.pieces(data[11 * MiB:], MiB):
                writer.write(chunk)
            stored = writer.commit()

        self.assertEqual(([IMAGE_ID], []), (self.keys(), self.uploads()))
        chunks = driver.get(stored.location, offset=5 * MiB - 3, length=6)
        self.assertEqual(data[5 * MiB - 3:5 * MiB + 3], b''.join(chunks))

    def test_failure_after_parts_aborts_upload(self):
        driver = self.s3_driver()
        data = os.urandom(11 * MiB)

        self.assertRaises(contract.Boom, driver.add, IMAGE_ID,
                          contract.failing(contract.pieces(data, MiB), 10),
                          None)

        self.assertEqual(([], []), (self.keys(), self.uploads()))

    def test_streamed_put_short_of_declared_size_leaves_nothing(self):
        driver = self.s3_driver()

        with driver.writer(IMAGE_ID, 3 * MiB) as writer:
            writer.write(b'x' * MiB)
            self.assertRaises(exception.SizeMismatch, writer.commit)

        self.assertEqual(([], []), (self.keys(), self.uploads()))

    def test_streamed_put_refused_by_s3_raises_its_error(self):
        # radosgw reads a single PUT above rgw_max_put_size (5 GiB) to its
        # end, then refuses it: the error surfaces at commit.
        driver = self.s3_driver()
        driver.large_object_size = 8 << 30
        size = (5 << 30) + MiB
        chunk = b'x' * MiB

        with driver.writer(IMAGE_ID, size) as writer:
            for _ in range(size // MiB):
                writer.write(chunk)
            error = self.assertRaises(exception.StorageFull, writer.commit)

        self.assertIn('EntityTooLarge', str(error))
        self.assertEqual(([], []), (self.keys(), self.uploads()))

    def test_purge_after_killed_upload_aborts_parts_and_marker(self):
        # A process that died mid-upload: its writer never aborted.
        driver = self.s3_driver()
        writer = driver.writer(IMAGE_ID, None)
        writer.__enter__()
        for chunk in contract.pieces(os.urandom(6 * MiB), MiB):
            writer.write(chunk)
        self.assertEqual([1], self.parts())

        self.assertEqual(2, driver.purge(IMAGE_ID))  # marker, upload

        self.assertEqual(([], []), (self.keys(), self.uploads()))
        stored = driver.add(IMAGE_ID, [b'retry'], 5)
        self.assertEqual(b'retry', b''.join(driver.get(stored.location)))

    def test_missing_bucket_without_create_is_503(self):
        self.flags(s3_store_create_bucket_on_put=False, group='s3_store')
        driver = self.s3_driver()

        error = self.assertRaises(exception.BackendUnavailable, driver.add,
                                  IMAGE_ID, [b'x'], 1)

        self.assertIn('bucket %s does not exist' % self.bucket, str(error))

    def test_location_of_other_bucket_or_host_not_found(self):
        driver = self.s3_driver()
        stored = driver.add(IMAGE_ID, [b'x'], 1)
        with_credentials = stored.location.replace('s3://', 's3://a:b@')

        self.assertEqual(b'x', b''.join(driver.get(with_credentials)))
        for location in (stored.location.replace(self.bucket, 'other'),
                         stored.location.replace('127.0.0.1', 'localhost')):
            self.assertRaises(exception.StoredDataNotFound, driver.get,
                              location)
