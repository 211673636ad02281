"""The real ``imageapi-api`` with an RBD store, an S3 store, and both beside a file store.

The server gets its store options from OS_<GROUP>__<OPTION> variables. Each test
checks the API's answers and, behind the server's back, what Ceph holds: RBD images,
their snapshot, upload markers and trash; S3 objects and unfinished multipart uploads.
"""

import os
import time

from imageapi.tests.functional import base as functional_base
from imageapi.tests.functional.ceph import base
from imageapi.tests.functional import client as http_client

MiB = 1024 * 1024


class CephServerMixin(functional_base.ServerTestCase):
    """A fresh ``imageapi-api`` per test with the options of ``store_env()``."""

    # Short leases, so that the reaper takes a killed upload in seconds.
    lease_env = {'OS_UPLOAD__LEASE_SECONDS': '5',
                 'OS_UPLOAD__REAP_INTERVAL': '1'}

    @property
    def server_env(self):
        # Read by ServerTestCase.setUp after the Ceph bases' setUp: the
        # store options are known by then.
        return dict(self.store_env(), **self.lease_env)

    def store_env(self):
        raise NotImplementedError

    def locations(self, image_id):
        """The location URLs of ``image_id`` in the server's database."""
        return [row['value'] for row in self.db_query(
            'SELECT value FROM image_locations WHERE image_id = ? AND '
            'status != ?', image_id, 'deleted')]

    def wait_for(self, what, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s' % what)
            time.sleep(0.1)

    def assertRoundTrip(self, image_id, payload):
        image = self.show_image(image_id)
        self.assertEqual(('active', payload.size, payload.md5,
                          payload.sha512),
                         (image['status'], image['size'], image['checksum'],
                          image['os_hash_value']))
        response, size, md5, sha512 = self.client.download_digests(image_id)
        self.assertEqual(200, response.status)
        self.assertEqual((payload.size, payload.md5, payload.sha512),
                         (size, md5, sha512))
        response = self.client.get('/v2/images/%s/file' % image_id,
                                   headers={'Range': 'bytes=%d-%d'
                                            % (MiB - 10, MiB + 9)})
        self.assertStatus(206, response)
        self.assertEqual(payload.data()[MiB - 10:MiB + 10], response.body)

    def start_upload(self, image_id, chunks):
        """A chunked PUT that sends ``chunks`` 64 KiB chunks and no end."""
        conn = self.client.begin(
            'PUT', '/v2/images/%s/file' % image_id,
            headers={'Content-Type': 'application/octet-stream',
                     'Transfer-Encoding': 'chunked'})
        for _ in range(chunks):
            conn.send(http_client.chunk_frame(b'y' * 65536))
        self.wait_for('status saving',
                      lambda: self.show_image(image_id)['status'] == 'saving')
        return conn

    def crash_and_restart(self, image_id, conn):
        """SIGKILL the server mid-upload, restart it, wait for the reaper."""
        self.server.kill()
        conn.close()
        self.server.restart()
        self.client = self.server.client()
        self.wait_for('status queued',
                      lambda: self.show_image(image_id)['status'] == 'queued')


class RBDServerTest(CephServerMixin, base.RBDTestCase):

    def store_env(self):
        env = {'OS_STORE__DRIVER': 'rbd'}
        for name, value in self.rbd_options.items():
            env['OS_RBD_STORE__%s' % name.upper()] = str(value)
        return env

    def upload(self, payload, **kwargs):
        image_id = self.create_image()['id']
        self.assertStatus(204, self.client.upload(image_id, payload,
                                                  **kwargs))
        return image_id

    def test_chunked_upload_download_range_delete(self):
        payload = http_client.Payload(3 * MiB + 5)

        image_id = self.upload(payload, chunked=True)

        self.assertRoundTrip(image_id, payload)
        self.assertEqual(['rbd://%s/%s/%s/snap'
                          % (os.environ['CEPH_FSID'],
                             os.environ['CEPH_RBD_POOL'], image_id)],
                         self.locations(image_id))
        self.assertEqual([('snap', True)], self.snapshots(image_id))
        with base.rbd_store.rbd.Image(self.ioctx, image_id,
                                      read_only=True) as image:
            self.assertEqual(payload.size, image.size())  # trimmed
        self.assertEqual([], self.markers())

        self.assertStatus(204, self.client.delete('/v2/images/%s'
                                                  % image_id))
        self.assertEqual([], self.rbd_images())

    def test_delete_while_cloned_409_keeps_image_and_data(self):
        payload = http_client.Payload(2 * MiB)
        image_id = self.upload(payload)
        self.clone(image_id, 'instance-disk')

        response = self.client.delete('/v2/images/%s' % image_id)

        self.assertStatus(409, response)
        self.assertIn('in use', response.json()['message'])
        self.assertRoundTrip(image_id, payload)
        self.assertEqual([('snap', True)], self.snapshots(image_id))
        base.rbd_store.rbd.RBD().remove(self.ioctx, 'instance-disk')
        self.assertStatus(204, self.client.delete('/v2/images/%s'
                                                  % image_id))
        self.assertEqual([], self.rbd_images())

    def test_client_disconnect_mid_upload_leaves_no_rbd_image(self):
        image_id = self.create_image()['id']
        conn = self.start_upload(image_id, 40)
        self.wait_for('the RBD image', lambda: self.rbd_images())

        conn.close()

        self.wait_for('status queued',
                      lambda: self.show_image(image_id)['status'] == 'queued')
        self.wait_for('no RBD image', lambda: not self.rbd_images())
        self.assertEqual(([], []), (self.markers(), self.trashed()))

    def test_sigkill_mid_upload_reaper_frees_image_id(self):
        image_id = self.create_image()['id']
        conn = self.start_upload(image_id, 40)

        self.crash_and_restart(image_id, conn)

        # The reaper purges right after it requeues. The killed process
        # holds the image's exclusive lock until Ceph drops its watch
        # (30 s): the purge waits for that, then removes the image.
        self.wait_for('the image ID freed', lambda: not self.rbd_images(),
                      timeout=120)
        self.assertEqual([], self.markers())
        # or, had Ceph reported the lock holder gone sooner, in the trash
        self.assertLessEqual(len(self.trashed()), 1)
        payload = http_client.Payload(MiB + 1)
        self.assertStatus(204, self.client.upload(image_id, payload))
        self.assertRoundTrip(image_id, payload)


class S3ServerTest(CephServerMixin, base.S3TestCase):

    def store_env(self):
        env = {'OS_STORE__DRIVER': 's3',
               'OS_S3_STORE__S3_STORE_LARGE_OBJECT_SIZE': '8',
               'OS_S3_STORE__S3_STORE_LARGE_OBJECT_CHUNK_SIZE': '5'}
        for name, value in self.s3_options.items():
            env['OS_S3_STORE__%s' % name.upper()] = str(value)
        return env

    def test_small_upload_is_one_streamed_put(self):
        payload = http_client.Payload(3 * MiB + 5)
        image_id = self.create_image()['id']

        self.assertStatus(204, self.client.upload(image_id, payload))

        self.assertRoundTrip(image_id, payload)
        self.assertEqual(['s3://%s/%s/%s' % (
            os.environ['S3_ENDPOINT'].partition('://')[2], self.bucket,
            image_id)], self.locations(image_id))
        head = self.s3.head_object(Bucket=self.bucket, Key=image_id)
        self.assertEqual('"%s"' % payload.md5, head['ETag'])  # not multipart
        self.assertEqual([image_id], self.keys())

    def test_chunked_upload_goes_in_parts_download_range_delete(self):
        payload = http_client.Payload(11 * MiB + 3)
        image_id = self.create_image()['id']

        self.assertStatus(204, self.client.upload(image_id, payload,
                                                  chunked=True))

        self.assertRoundTrip(image_id, payload)
        head = self.s3.head_object(Bucket=self.bucket, Key=image_id)
        self.assertTrue(head['ETag'].endswith('-3"'), head['ETag'])
        self.assertEqual(([image_id], []), (self.keys(), self.uploads()))
        self.assertStatus(204, self.client.delete('/v2/images/%s'
                                                  % image_id))
        self.assertEqual([], self.keys())

    def test_client_disconnect_mid_upload_aborts_multipart(self):
        image_id = self.create_image()['id']
        conn = self.start_upload(image_id, 6 * 16)  # past the first part
        self.wait_for('a multipart upload', lambda: self.uploads())

        conn.close()

        self.wait_for('status queued',
                      lambda: self.show_image(image_id)['status'] == 'queued')
        self.wait_for('no multipart upload', lambda: not self.uploads())
        self.assertEqual([], self.keys())

    def test_sigkill_mid_upload_reaper_aborts_multipart(self):
        image_id = self.create_image()['id']
        conn = self.start_upload(image_id, 6 * 16)
        self.wait_for('a multipart upload', lambda: self.uploads())

        self.crash_and_restart(image_id, conn)

        self.wait_for('no multipart upload', lambda: not self.uploads())
        self.assertEqual([], self.keys())


class FileRBDAndS3Test(CephServerMixin, base.RBDTestCase, base.S3TestCase):
    """Glance's multi-store: a file, an RBD and an S3 store side by side."""

    @property
    def datadir(self):
        return os.path.join(self.state_path, 'local')

    def store_env(self):
        env = {'OS_DEFAULT__ENABLED_BACKENDS': 'local:file,ceph:rbd,cloud:s3',
               'OS_GLANCE_STORE__DEFAULT_BACKEND': 'local',
               'OS_LOCAL__FILESYSTEM_STORE_DATADIR': self.datadir}
        for name, value in self.rbd_options.items():
            env['OS_CEPH__%s' % name.upper()] = str(value)
        for name, value in self.s3_options.items():
            env['OS_CLOUD__%s' % name.upper()] = str(value)
        return env

    def upload_to(self, store_id, payload):
        image_id = self.create_image()['id']
        response = self.client.upload(
            image_id, payload, headers={'X-Image-Meta-Store': store_id})
        self.assertStatus(204, response)
        return image_id

    def test_upload_to_each_store_download_and_delete(self):
        payload = http_client.Payload(2 * MiB + 7)
        images = {store: self.upload_to(store, payload)
                  for store in ('local', 'ceph', 'cloud')}

        for store, image_id in images.items():
            self.assertEqual(store, self.show_image(image_id)['stores'])
            self.assertRoundTrip(image_id, payload)
        self.assertEqual([images['ceph']], self.rbd_images())
        self.assertEqual([images['cloud']], self.keys())
        self.assertEqual([images['local']], [
            name for name in os.listdir(self.datadir) if name != '.tmp'])

        for image_id in images.values():
            self.assertStatus(204, self.client.delete('/v2/images/%s'
                                                      % image_id))
        self.assertEqual(([], []), (self.rbd_images(), self.keys()))
        self.assertEqual([], [name for name in os.listdir(self.datadir)
                              if name != '.tmp'])
