"""Upload and download through the real paste app, a file SQLite database and real files."""

import datetime
import errno
import gzip
import hashlib
import io
import os
import threading
from unittest import mock

import fixtures as pyfixtures
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import webob

from imageapi.api.v2 import image_data
from imageapi import context
from imageapi.db import images as db_images
from imageapi.db import uploads as db_uploads
from imageapi import leases
from imageapi import store
from imageapi.tests import base
from imageapi.tests import fixtures

PROJECT = 'b7a2e9f0c1d24e5f8a9b0c1d2e3f4a5b'
OTHER = 'c8b3f0a1d2e34f5a9b0c1d2e3f4a5b6c'


class _Body(io.RawIOBase):
    """A request body served in full reads, with hooks.

    ``fail_at`` raises ``error`` on the read that would pass that offset;
    ``pause_at`` blocks on ``resume`` after signalling ``paused``.
    """

    def __init__(self, data, fail_at=None, error=None, pause_at=None):
        self.data = data
        self.pos = 0
        self.fail_at = fail_at
        self.error = error
        self.pause_at = pause_at
        self.paused = threading.Event()
        self.resume = threading.Event()

    def readable(self):
        return True

    def read(self, n=-1):
        n = len(self.data) - self.pos if n is None or n < 0 else n
        # Full reads only: webob takes a short read for a disconnect.
        if self.fail_at is not None and self.pos + n > self.fail_at:
            raise self.error
        if self.pause_at is not None and self.pos >= self.pause_at:
            self.pause_at = None
            self.paused.set()
            self.resume.wait(30)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk


class ImageDataTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.flags(reap_interval=0, group='upload')
        self.flags(chunk_size=4096, group='store')
        self.useFixture(fixtures.Database(
            url='sqlite:///%s/test.sqlite' % self.state_path))
        self.app = self.load_paste_app()
        self.datadir = self.conf.filesystem_store.datadir
        self.ctx = context.get_admin_context()

    def request(self, method, path, body=None, headers=None, project=PROJECT,
                chunked=False, content_type='application/octet-stream'):
        req = webob.Request.blank(path, method=method)
        req.headers['Accept'] = 'application/json'
        req.headers['X-Project-Id'] = project
        req.headers['X-Roles'] = 'member'
        if body is not None:
            stream = body if isinstance(body, _Body) else _Body(body)
            req.environ['wsgi.input'] = stream
            if chunked:
                req.headers['Transfer-Encoding'] = 'chunked'
                req.environ['wsgi.input_terminated'] = True
                req.environ.pop('CONTENT_LENGTH', None)
            else:
                req.content_length = len(stream.data)
        if content_type is not None and body is not None:
            req.content_type = content_type
        for name, value in (headers or {}).items():
            req.headers[name] = value
        return req.get_response(self.app)

    def create(self, project=PROJECT, **kwargs):
        values = {'disk_format': 'raw', 'container_format': 'bare',
                  'owner': project}
        values.update(kwargs)
        return db_images.image_create(self.ctx, values)['id']

    def upload(self, image_id, data, **kwargs):
        return self.request('PUT', '/v2/images/%s/file' % image_id, data,
                            **kwargs)

    def image(self, image_id):
        return db_images.image_get(self.ctx, image_id)

    def stored_files(self):
        if not os.path.isdir(self.datadir):
            return []
        return sorted(name for name in os.listdir(self.datadir)
                      if name != '.tmp')

    def temp_files(self):
        tmp = os.path.join(self.datadir, '.tmp')
        return os.listdir(tmp) if os.path.isdir(tmp) else []

    def assertQueuedAndEmpty(self, image_id):
        image = self.image(image_id)
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
        self.assertIsNone(image['checksum'])
        self.assertIsNone(image['upload_claim'])
        self.assertEqual([], image['locations'])
        self.assertNotIn(image_id, self.stored_files())
        self.assertEqual([], [name for name in self.temp_files()
                              if name.startswith(image_id)])

    def _start_paused_upload(self, image_id, data):
        body = _Body(data, pause_at=len(data) // 2)
        result = {}

        def run():
            result['resp'] = self.upload(image_id, body)
        thread = threading.Thread(target=run)
        thread.start()
        self.assertTrue(body.paused.wait(10))
        return body, thread, result


class TestUpload(ImageDataTestCase):

    def assertActive(self, image_id, data):
        image = self.image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(len(data), image['size'])
        self.assertEqual(hashlib.md5(data).hexdigest(), image['checksum'])
        self.assertEqual('sha512', image['os_hash_algo'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         image['os_hash_value'])
        self.assertIsNone(image['upload_claim'])
        with open(os.path.join(self.datadir, image_id), 'rb') as stored:
            self.assertEqual(data, stored.read())
        self.assertEqual([], self.temp_files())

    def test_upload_with_content_length_activates(self):
        image_id = self.create()
        data = os.urandom(100000)
        resp = self.upload(image_id, data)
        self.assertEqual(204, resp.status_int)
        self.assertEqual(b'', resp.body)
        self.assertActive(image_id, data)

    def test_upload_chunked_without_length_activates(self):
        image_id = self.create()
        data = os.urandom(50001)
        resp = self.upload(image_id, data, chunked=True)
        self.assertEqual(204, resp.status_int)
        self.assertActive(image_id, data)

    def test_upload_with_size_header_activates(self):
        image_id = self.create()
        data = os.urandom(3000)
        resp = self.upload(image_id, data, chunked=True,
                           headers={'x-openstack-image-size': '3000'})
        self.assertEqual(204, resp.status_int)
        self.assertActive(image_id, data)

    def test_upload_empty_body_activates_zero_size(self):
        image_id = self.create()
        resp = self.upload(image_id, b'')
        self.assertEqual(204, resp.status_int)
        self.assertActive(image_id, b'')

    def test_upload_hashing_algorithm_option_is_used(self):
        self.flags(hashing_algorithm='sha256')
        self.app = self.load_paste_app()
        image_id = self.create()
        resp = self.upload(image_id, b'abc')
        self.assertEqual(204, resp.status_int)
        image = self.image(image_id)
        self.assertEqual('sha256', image['os_hash_algo'])
        self.assertEqual(hashlib.sha256(b'abc').hexdigest(),
                         image['os_hash_value'])

    def test_upload_wrong_content_type_415(self):
        image_id = self.create()
        resp = self.upload(image_id, b'abc', content_type='application/json')
        self.assertEqual(415, resp.status_int)
        self.assertIn('application/json', resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_missing_content_type_415(self):
        image_id = self.create()
        resp = self.upload(image_id, b'abc', content_type=None)
        self.assertEqual(415, resp.status_int)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_size_header_not_integer_400(self):
        image_id = self.create()
        resp = self.upload(image_id, b'abc',
                           headers={'x-openstack-image-size': 'ten'})
        self.assertEqual(400, resp.status_int)
        self.assertIn('Invalid or missing image size', resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_missing_image_404(self):
        resp = self.upload('3c1a9a4e-4b4b-4d3c-9a3e-2d1f0e9c8b7a', b'abc')
        self.assertEqual(404, resp.status_int)

    def test_upload_malformed_id_404(self):
        resp = self.upload('not-a-uuid', b'abc')
        self.assertEqual(404, resp.status_int)

    def test_upload_deleted_image_404(self):
        image_id = self.create()
        db_images.image_destroy(self.ctx, image_id)
        resp = self.upload(image_id, b'abc')
        self.assertEqual(404, resp.status_int)

    def test_upload_invisible_image_404(self):
        image_id = self.create(project=OTHER, visibility='private')
        resp = self.upload(image_id, b'abc')
        self.assertEqual(404, resp.status_int)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_public_image_of_other_project_403(self):
        image_id = self.create(project=OTHER, visibility='public')
        resp = self.upload(image_id, b'abc')
        self.assertEqual(403, resp.status_int)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_formats_unset_400_names_both(self):
        image_id = self.create(disk_format=None, container_format=None)
        resp = self.upload(image_id, b'abc')
        self.assertEqual(400, resp.status_int)
        self.assertEqual('Properties disk_format, container_format must be '
                         'set prior to saving data.', resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_container_format_unset_400_names_it(self):
        image_id = self.create(container_format=None)
        resp = self.upload(image_id, b'abc')
        self.assertEqual(400, resp.status_int)
        self.assertEqual('Property container_format must be set prior to '
                         'saving data.', resp.json['message'])

    def test_upload_active_image_409_names_status(self):
        image_id = self.create()
        self.assertEqual(204, self.upload(image_id, b'abc').status_int)
        resp = self.upload(image_id, b'def')
        self.assertEqual(409, resp.status_int)
        self.assertIn('from active to saving', resp.json['message'])
        self.assertActive(image_id, b'abc')

    def test_upload_declared_size_over_cap_413_before_reading(self):
        self.flags(image_size_cap=10)
        self.app = self.load_paste_app()
        image_id = self.create()
        body = _Body(b'x' * 11, fail_at=0, error=AssertionError('read'))
        resp = self.upload(image_id, body, chunked=True,
                           headers={'x-openstack-image-size': '11'})
        self.assertEqual(413, resp.status_int)
        self.assertEqual(0, body.pos)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_chunked_body_over_cap_413_mid_stream(self):
        self.flags(image_size_cap=10000)
        self.app = self.load_paste_app()
        image_id = self.create()
        resp = self.upload(image_id, b'x' * 10001, chunked=True)
        self.assertEqual(413, resp.status_int)
        self.assertIn('too large', resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_refused_mid_stream_drains_rest_of_body(self):
        # So clients that send the whole body first can read the 413.
        self.flags(image_size_cap=10000)
        self.app = self.load_paste_app()
        image_id = self.create()
        body = _Body(b'x' * 50000)
        resp = self.upload(image_id, body, chunked=True)
        self.assertEqual(413, resp.status_int)
        self.assertEqual(50000, body.pos)

    def test_upload_body_at_cap_activates(self):
        self.flags(image_size_cap=10000)
        self.app = self.load_paste_app()
        image_id = self.create()
        resp = self.upload(image_id, b'x' * 10000, chunked=True)
        self.assertEqual(204, resp.status_int)

    def test_upload_short_body_400_size_mismatch(self):
        image_id = self.create()
        resp = self.upload(image_id, b'x' * 10, chunked=True,
                           headers={'x-openstack-image-size': '20'})
        self.assertEqual(400, resp.status_int)
        self.assertEqual('Size mismatch: expected 20 bytes, got 10 bytes',
                         resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_long_body_400_size_mismatch(self):
        image_id = self.create()
        resp = self.upload(image_id, b'x' * 30, chunked=True,
                           headers={'x-openstack-image-size': '20'})
        self.assertEqual(400, resp.status_int)
        self.assertIn('Size mismatch: expected 20 bytes',
                      resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_retry_after_failure_activates(self):
        image_id = self.create()
        self.upload(image_id, b'x' * 10, chunked=True,
                    headers={'x-openstack-image-size': '20'})
        resp = self.upload(image_id, b'y' * 20)
        self.assertEqual(204, resp.status_int)
        self.assertActive(image_id, b'y' * 20)

    def test_upload_store_full_413_and_queued(self):
        image_id = self.create()
        with mock.patch('imageapi.store.filesystem._write',
                        side_effect=OSError(errno.ENOSPC, 'No space')):
            resp = self.upload(image_id, os.urandom(10000))
        self.assertEqual(413, resp.status_int)
        self.assertIn('Image storage media is full', resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_store_not_writable_503_and_queued(self):
        image_id = self.create()
        with mock.patch('imageapi.store.filesystem._open',
                        side_effect=OSError(errno.EACCES, 'Denied')):
            resp = self.upload(image_id, os.urandom(10000))
        self.assertEqual(503, resp.status_int)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_failure_mid_stream_500_and_queued(self):
        image_id = self.create()
        body = _Body(os.urandom(20000), fail_at=9000,
                     error=RuntimeError('boom'))
        resp = self.upload(image_id, body)
        self.assertEqual(500, resp.status_int)
        self.assertNotIn('boom', resp.text)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_client_disconnect_400_and_queued(self):
        image_id = self.create()
        body = _Body(os.urandom(20000), fail_at=9000,
                     error=ConnectionResetError('reset by peer'))
        resp = self.upload(image_id, body, chunked=True)
        self.assertEqual(400, resp.status_int)
        self.assertIn('disconnected', resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_concurrent_second_upload_409(self):
        image_id = self.create()
        data = os.urandom(40000)
        body, thread, result = self._start_paused_upload(image_id, data)
        self.assertEqual('saving', self.image(image_id)['status'])
        resp = self.upload(image_id, b'other')
        self.assertEqual(409, resp.status_int)
        self.assertIn('from saving to saving', resp.json['message'])
        body.resume.set()
        thread.join(30)
        self.assertEqual(204, result['resp'].status_int)
        self.assertActive(image_id, data)

    def test_upload_race_on_claim_loser_409(self):
        # Both requests read `queued`; the conditional UPDATE decides.
        image_id = self.create()
        queued = self.image(image_id)
        real_get = db_images.image_get
        winner = {}

        def stale_get(ctx, iid):
            if not winner:
                winner['done'] = True
                self.assertEqual(204, self.upload(image_id, b'a').status_int)
            return queued if iid == image_id else real_get(ctx, iid)

        with mock.patch.object(db_images, 'image_get', stale_get):
            resp = self.upload(image_id, b'b')
        self.assertEqual(409, resp.status_int)
        self.assertActive(image_id, b'a')

    def test_upload_image_deleted_during_upload_410_data_removed(self):
        image_id = self.create()
        body, thread, result = self._start_paused_upload(
            image_id, os.urandom(40000))
        resp = self.request('DELETE', '/v2/images/%s' % image_id)
        self.assertEqual(204, resp.status_int)
        body.resume.set()
        thread.join(30)
        self.assertEqual(410, result['resp'].status_int)
        self.assertEqual([], self.stored_files())
        self.assertEqual([], self.temp_files())

    def test_upload_holds_lease_while_streaming(self):
        image_id = self.create()
        body, thread, result = self._start_paused_upload(
            image_id, os.urandom(40000))
        image = self.image(image_id)
        self.assertIsNotNone(image['upload_claim'])
        self.assertGreater(image['upload_expires_at'], timeutils.utcnow())
        body.resume.set()
        thread.join(30)
        self.assertEqual(204, result['resp'].status_int)


class TestQuota(ImageDataTestCase):

    def setUp(self):
        super().setUp()
        self.flags(user_storage_quota='100KB')
        self.app = self.load_paste_app()

    def used(self, project=PROJECT):
        return db_uploads.storage_used(self.ctx, project)

    def test_parse_quota_suffixes(self):
        self.assertEqual(0, image_data.parse_quota('0'))
        self.assertEqual(5, image_data.parse_quota('5B'))
        self.assertEqual(3 << 20, image_data.parse_quota('3MB'))
        self.assertEqual(2 << 40, image_data.parse_quota('2tb'))
        self.assertRaises(ValueError, image_data.parse_quota, '5 PB')

    def test_upload_declared_size_over_quota_413_before_reading(self):
        image_id = self.create()
        body = _Body(b'x' * 102401, fail_at=0, error=AssertionError('read'))
        resp = self.upload(image_id, body)
        self.assertEqual(413, resp.status_int)
        self.assertIn('storage quota', resp.json['message'])
        self.assertEqual(0, body.pos)
        self.assertQueuedAndEmpty(image_id)
        self.assertEqual(0, self.used())

    def test_upload_chunked_over_quota_413_mid_stream(self):
        image_id = self.create()
        resp = self.upload(image_id, b'x' * 102401, chunked=True)
        self.assertEqual(413, resp.status_int)
        self.assertQueuedAndEmpty(image_id)
        self.assertEqual(0, self.used())

    def test_upload_within_quota_counts_real_size(self):
        image_id = self.create()
        resp = self.upload(image_id, b'x' * 60000, chunked=True)
        self.assertEqual(204, resp.status_int)
        self.assertEqual(60000, self.used())

    def test_upload_quota_counts_earlier_images(self):
        first = self.create()
        self.assertEqual(204, self.upload(first, b'x' * 60000).status_int)
        second = self.create()
        resp = self.upload(second, b'x' * 60000, chunked=True)
        self.assertEqual(413, resp.status_int)
        self.assertQueuedAndEmpty(second)
        self.assertEqual(60000, self.used())

    def test_upload_quota_is_per_owner(self):
        first = self.create()
        self.assertEqual(204, self.upload(first, b'x' * 60000).status_int)
        other = self.create(project=OTHER)
        resp = self.upload(other, b'x' * 60000, project=OTHER)
        self.assertEqual(204, resp.status_int)

    def test_delete_releases_quota(self):
        first = self.create()
        self.assertEqual(204, self.upload(first, b'x' * 60000).status_int)
        self.request('DELETE', '/v2/images/%s' % first)
        self.assertEqual(0, self.used())
        second = self.create()
        self.assertEqual(204, self.upload(second, b'x' * 60000).status_int)

    def test_concurrent_uploads_never_pass_quota(self):
        first = self.create()
        body, thread, result = self._start_paused_upload(
            first, b'x' * 60000)
        second = self.create()
        resp = self.upload(second, b'y' * 60000, chunked=True)
        self.assertEqual(413, resp.status_int)
        body.resume.set()
        thread.join(30)
        self.assertEqual(204, result['resp'].status_int)
        self.assertEqual(60000, self.used())
        self.assertQueuedAndEmpty(second)


class TestReaper(ImageDataTestCase):

    def _claimed(self):
        image_id = self.create()
        db_uploads.upload_claim(self.ctx, image_id, 'c-1',
                                timeutils.utcnow() - datetime.timedelta(
                                    seconds=1))
        tmp = os.path.join(self.datadir, '.tmp')
        os.makedirs(tmp, exist_ok=True)
        with open(os.path.join(tmp, '%s.%s' % (image_id, 'a' * 32)),
                  'wb') as f:
            f.write(b'half')
        return image_id

    def test_reap_expired_claim_returns_queued_and_drops_partial(self):
        image_id = self._claimed()
        driver = store.get_driver(self.conf)
        self.assertEqual([image_id], leases.reap_expired(driver))
        self.assertQueuedAndEmpty(image_id)

    def test_reap_leaves_live_claims(self):
        image_id = self.create()
        db_uploads.upload_claim(self.ctx, image_id, 'c-2',
                                leases.lease_end(self.conf))
        driver = store.get_driver(self.conf)
        self.assertEqual([], leases.reap_expired(driver))
        self.assertEqual('saving', self.image(image_id)['status'])

    def test_lease_keeper_renews_held_claims(self):
        # The first renewal is due a third of the lease after the start.
        self.flags(lease_seconds=5, group='upload')
        image_id = self._claimed()
        keeper = leases.LeaseKeeper(self.conf, store.get_driver(self.conf))
        keeper.hold('c-1', image_id)
        self.addCleanup(keeper.stop)
        deadline = timeutils.utcnow() + datetime.timedelta(seconds=10)
        while timeutils.utcnow() < deadline:
            expires = self.image(image_id)['upload_expires_at']
            if expires > timeutils.utcnow():
                break
        self.assertGreater(self.image(image_id)['upload_expires_at'],
                           timeutils.utcnow())

    def test_reaped_upload_cannot_activate_later(self):
        image_id = self.create()
        data = os.urandom(40000)
        body, thread, result = self._start_paused_upload(image_id, data)
        db_uploads.upload_release(self.ctx, image_id,
                                  self.image(image_id)['upload_claim'])
        body.resume.set()
        thread.join(30)
        # Not deleted, queued again: try again later, not 410.
        self.assertEqual(503, result['resp'].status_int)
        self.assertIn('Retry-After', result['resp'].headers)
        self.assertQueuedAndEmpty(image_id)


class _ClockBody(_Body):
    """A body that moves ``clock`` on by ``step`` seconds at every read."""

    def __init__(self, data, clock, step):
        super().__init__(data)
        self.clock = clock
        self.step = step

    def read(self, n=-1):
        self.clock.monotonic.return_value += self.step
        return super().read(n)


class TestUploadFailures(ImageDataTestCase):
    """The database failing around an upload: 503, nothing left, retry works."""

    def test_upload_lease_not_renewed_in_time_503_queued(self):
        self.flags(lease_seconds=6, group='upload')
        self.app = self.load_paste_app()
        clock = self.useFixture(pyfixtures.MockPatch(
            'imageapi.leases.time')).mock
        clock.monotonic.return_value = 1000.0
        image_id = self.create()
        # No renewal happens in 4.1 s of fake time: past 2/3 of the lease.
        body = _ClockBody(os.urandom(5 * 4096), clock, 1.5)

        resp = self.upload(image_id, body)

        self.assertEqual(503, resp.status_int)
        self.assertEqual('30', resp.headers['Retry-After'])
        self.assertIn('could not keep its claim', resp.json['message'])
        self.assertQueuedAndEmpty(image_id)
        self.assertEqual(204, self.upload(image_id, b'again').status_int)

    def test_upload_database_error_at_finish_503_data_removed(self):
        image_id = self.create()
        with mock.patch.object(db_uploads, 'upload_finish', side_effect=(
                db_exc.DBConnectionError('connection refused'))):
            resp = self.upload(image_id, os.urandom(10000))

        self.assertEqual(503, resp.status_int)
        self.assertIn('Retry-After', resp.headers)
        self.assertQueuedAndEmpty(image_id)
        self.assertEqual([], self.stored_files())
        self.assertEqual(204, self.upload(image_id, b'retry').status_int)

    def test_upload_database_down_at_finish_reaper_purges_data(self):
        image_id = self.create()
        down = db_exc.DBConnectionError('connection refused')
        with mock.patch.object(db_uploads, 'upload_finish', side_effect=down), \
                mock.patch.object(db_uploads, 'upload_release',
                                  side_effect=[down, None]):
            resp = self.upload(image_id, os.urandom(10000))
        self.assertEqual(503, resp.status_int)
        self.assertEqual('saving', self.image(image_id)['status'])
        self.assertEqual([image_id], self.stored_files())

        later = timeutils.utcnow() + datetime.timedelta(hours=1)
        reaped = leases.reap_expired(store.get_driver(self.conf), now=later)

        self.assertEqual([image_id], reaped)
        self.assertQueuedAndEmpty(image_id)
        self.assertEqual([], self.stored_files())
        self.assertEqual(204, self.upload(image_id, b'retry').status_int)

    def test_delete_saving_image_removes_unrecorded_data(self):
        image_id = self.create()
        driver = store.get_driver(self.conf)
        driver.add(image_id, [b'stored, never recorded'])
        db_uploads.upload_claim(self.ctx, image_id, 'c-9',
                                leases.lease_end(self.conf))

        resp = self.request('DELETE', '/v2/images/%s' % image_id)

        self.assertEqual(204, resp.status_int)
        self.assertEqual([], self.stored_files())


class TestDownload(ImageDataTestCase):

    def test_download_returns_data_length_md5(self):
        image_id = self.create()
        data = os.urandom(30000)
        self.upload(image_id, data)
        resp = self.request('GET', '/v2/images/%s/file' % image_id)
        self.assertEqual(200, resp.status_int)
        self.assertEqual(data, resp.body)
        self.assertEqual(str(len(data)), resp.headers['Content-Length'])
        self.assertEqual(hashlib.md5(data).hexdigest(),
                         resp.headers['Content-MD5'])
        self.assertEqual('application/octet-stream',
                         resp.headers['Content-Type'])

    def _download_with_file_wrapper(self, image_id, headers=None):
        wrapped = []

        def file_wrapper(fileobj, block_size):
            wrapped.append(fileobj)
            return iter(lambda: fileobj.read(block_size), b'')
        req = webob.Request.blank('/v2/images/%s/file' % image_id)
        req.headers['X-Project-Id'] = PROJECT
        req.headers.update(headers or {})
        req.environ['wsgi.file_wrapper'] = file_wrapper
        return req.get_response(self.app), wrapped

    def test_download_whole_image_uses_server_file_wrapper(self):
        image_id = self.create()
        data = os.urandom(30000)
        self.upload(image_id, data)
        resp, wrapped = self._download_with_file_wrapper(image_id)
        self.assertEqual(200, resp.status_int)
        self.assertEqual(data, resp.body)
        self.assertEqual(1, len(wrapped))

    def test_download_range_does_not_use_file_wrapper(self):
        image_id = self.create()
        data = os.urandom(30000)
        self.upload(image_id, data)
        resp, wrapped = self._download_with_file_wrapper(
            image_id, {'Range': 'bytes=10-19'})
        self.assertEqual(206, resp.status_int)
        self.assertEqual(data[10:20], resp.body)
        self.assertEqual([], wrapped)

    def test_download_queued_image_204(self):
        image_id = self.create()
        resp = self.request('GET', '/v2/images/%s/file' % image_id)
        self.assertEqual(204, resp.status_int)

    def test_download_missing_image_404(self):
        resp = self.request('GET', '/v2/images/%s/file'
                            % '3c1a9a4e-4b4b-4d3c-9a3e-2d1f0e9c8b7a')
        self.assertEqual(404, resp.status_int)


def _fixture(name):
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), 'common', 'data', name + '.gz')
    with gzip.open(path, 'rb') as data:
        return data.read()


class TestFormatInspection(ImageDataTestCase):

    def test_upload_raw_sets_virtual_size(self):
        image_id = self.create()
        self.assertEqual(204, self.upload(image_id, b'r' * 5000).status_int)
        self.assertEqual(5000, self.image(image_id)['virtual_size'])

    def test_upload_qcow2_sets_virtual_size_from_header(self):
        data = _fixture('qcow2-plain.qcow2')
        image_id = self.create(disk_format='qcow2')
        self.assertEqual(204, self.upload(image_id, data).status_int)
        image = self.image(image_id)
        self.assertEqual('active', image['status'])
        self.assertGreater(image['virtual_size'], len(data))

    def test_upload_qcow2_declared_raw_data_415_nothing_kept(self):
        image_id = self.create(disk_format='qcow2')
        resp = self.upload(image_id, b'\0' * 300000)
        self.assertEqual(415, resp.status_int)
        self.assertIn('does not match stream data raw', resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_rejected_with_content_length_drains_the_rest(self):
        image_id = self.create(disk_format='qcow2')
        body = _Body(b'\0' * 600000)
        resp = self.upload(image_id, body)
        self.assertEqual(415, resp.status_int)
        self.assertEqual(600000, body.pos)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_after_format_rejection_retry_works(self):
        image_id = self.create(disk_format='qcow2')
        self.upload(image_id, b'\0' * 300000)
        resp = self.upload(image_id, _fixture('qcow2-plain.qcow2'))
        self.assertEqual(204, resp.status_int)

    def test_upload_qcow2_with_backing_file_415_safety(self):
        image_id = self.create(disk_format='qcow2')
        resp = self.upload(image_id, _fixture('qcow2-backing-file.qcow2'))
        self.assertEqual(415, resp.status_int)
        self.assertIn('safety check', resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_mismatch_allowed_when_match_not_required(self):
        self.flags(require_image_format_match=False, group='image_format')
        self.app = self.load_paste_app()
        image_id = self.create(disk_format='qcow2')
        resp = self.upload(image_id, b'\0' * 300000)
        self.assertEqual(204, resp.status_int)

    def test_upload_non_bare_container_not_inspected(self):
        image_id = self.create(disk_format='qcow2', container_format='ovf')
        resp = self.upload(image_id, b'\0' * 300000)
        self.assertEqual(204, resp.status_int)
        self.assertIsNone(self.image(image_id)['virtual_size'])


class TestRangeDownload(ImageDataTestCase):

    def setUp(self):
        super().setUp()
        self.data = os.urandom(10000)
        self.image_id = self.create()
        self.upload(self.image_id, self.data)

    def get(self, **headers):
        return self.request('GET', '/v2/images/%s/file' % self.image_id,
                            headers=headers)

    def test_download_range_206_with_content_range(self):
        resp = self.get(Range='bytes=100-199')
        self.assertEqual(206, resp.status_int)
        self.assertEqual(self.data[100:200], resp.body)
        self.assertEqual('bytes 100-199/10000', resp.headers['Content-Range'])
        self.assertEqual('100', resp.headers['Content-Length'])

    def test_download_open_range_to_end(self):
        resp = self.get(Range='bytes=9000-')
        self.assertEqual(206, resp.status_int)
        self.assertEqual(self.data[9000:], resp.body)

    def test_download_suffix_range(self):
        resp = self.get(Range='bytes=-10')
        self.assertEqual(206, resp.status_int)
        self.assertEqual(self.data[-10:], resp.body)
        self.assertEqual('bytes 9990-9999/10000',
                         resp.headers['Content-Range'])

    def test_download_multiple_ranges_400(self):
        resp = self.get(Range='bytes=0-1,5-6')
        self.assertEqual(400, resp.status_int)

    def test_download_range_start_past_end_416(self):
        resp = self.get(Range='bytes=10000-')
        self.assertEqual(416, resp.status_int)
        self.assertEqual('bytes */10000', resp.headers['Content-Range'])
