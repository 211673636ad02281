"""web-download and the import plugins end to end, against the real imageapi-api.

A loopback HTTP server started by the test is the source; the server under test
allows 127.0.0.1 and that server's port in [import_filtering_opts] (and nothing
else), as an operator would allow an internal mirror.
"""

import hashlib
import os
import shutil
import subprocess
import time

from imageapi.tests.functional import base
from imageapi.tests import http_source

TERMINAL_TASK = ('success', 'failure')
PROJECT = '6f1b0c3e2d4a4b5c8d9e0f1a2b3c4d5e'


def _digests(data):
    return (hashlib.md5(data, usedforsecurity=False).hexdigest(),
            hashlib.sha512(data).hexdigest())


class ImportMethodsTestCase(base.ServerTestCase):

    extra_env = {}

    def setUp(self):
        self.source = self.useFixture(http_source.SourceServer())
        self.server_env = dict({
            'OS_IMPORT_FILTERING_OPTS__ALLOWED_HOSTS': '[127.0.0.1]',
            'OS_IMPORT_FILTERING_OPTS__ALLOWED_PORTS':
                '[%d]' % self.source.port}, **self.extra_env)
        super().setUp()
        # NOTE: an import by a caller without a project (noauth without
        # X-Project-Id) is a 500 on import-core's side (tasks.owner NOT NULL).
        self.client = self.server.client(headers={
            'X-Project-Id': PROJECT, 'X-User-Id': 'user1',
            'X-Roles': 'member'})

    # ------------------------------------------------------------ helpers
    def import_image(self, image_id, uri, expect=202, **method):
        method = dict({'name': 'web-download', 'uri': uri}, **method)
        response = self.client.post('/v2/images/%s/import' % image_id,
                                    json={'method': method})
        self.assertStatus(expect, response)
        return response

    def wait_for_task(self, image_id, timeout=60):
        """The image's import task once it is finished (polled over the API)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.client.get('/v2/images/%s/tasks' % image_id)
            self.assertStatus(200, response)
            tasks = response.json()['tasks']
            if tasks and tasks[0]['status'] in TERMINAL_TASK:
                return tasks[0]
            time.sleep(0.05)
        self.fail('the import of image %s did not finish' % image_id)

    def staged_files(self):
        """Files in the staging area, finished or not (in its .tmp)."""
        found = []
        for root, _dirs, files in os.walk(
                os.path.join(self.state_path, 'staging')):
            found.extend(os.path.join(root, name) for name in files)
        return sorted(found)

    def assertActiveWith(self, image_id, data, task):
        md5, sha512 = _digests(data)
        self.assertEqual('success', task['status'], task.get('message'))
        image = self.show_image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(len(data), image['size'])
        self.assertEqual(md5, image['checksum'])
        self.assertEqual('sha512', image['os_hash_algo'])
        self.assertEqual(sha512, image['os_hash_value'])
        with open(self.image_path(image_id), 'rb') as f:
            self.assertEqual(sha512, hashlib.sha512(f.read()).hexdigest())
        self.assertEqual([], self.staged_files())
        self.assertEqual([], self.temp_files())
        return image

    def assertFailedAndEmpty(self, image_id, task, message):
        self.assertEqual('failure', task['status'])
        self.assertIn(message, task['message'])
        image = self.show_image(image_id)
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
        self.assertIsNone(image['checksum'])
        self.assertNotIn('os_glance_import_task', image)
        self.assertFalse(os.path.exists(self.image_path(image_id)))
        self.assertEqual([], self.staged_files())
        self.assertEqual([], self.temp_files())


class TestWebDownload(ImportMethodsTestCase):

    def test_info_import_lists_web_download(self):
        response = self.client.get('/v2/info/import')
        self.assertStatus(200, response)
        self.assertIn('web-download',
                      response.json()['import-methods']['value'])

    def test_web_download_activates_with_hashes(self):
        data = os.urandom(3 * 65536 + 123)
        self.source.add('/image.raw', data)
        image_id = self.create_image()['id']
        self.import_image(image_id, self.source.url('/image.raw'))
        self.assertActiveWith(image_id, data, self.wait_for_task(image_id))

    def test_web_download_chunked_source_activates(self):
        data = os.urandom(100000)
        self.source.add('/image.raw', data, chunked=True)
        image_id = self.create_image()['id']
        self.import_image(image_id, self.source.url('/image.raw'))
        self.assertActiveWith(image_id, data, self.wait_for_task(image_id))

    def test_web_download_through_redirect_activates(self):
        data = os.urandom(5000)
        self.source.redirect('/latest', '/image-v2.raw')
        self.source.add('/image-v2.raw', data)
        image_id = self.create_image()['id']
        self.import_image(image_id, self.source.url('/latest'))
        self.assertActiveWith(image_id, data, self.wait_for_task(image_id))

    def test_web_download_unreachable_fails_queued(self):
        image_id = self.create_image()['id']
        # Nothing listens on the allowed port any more.
        self.source.server.shutdown()
        self.source.server.server_close()
        self.import_image(image_id, self.source.url('/image.raw'))
        self.assertFailedAndEmpty(image_id, self.wait_for_task(image_id),
                                  'Connection refused')

    def test_web_download_not_found_fails_queued(self):
        image_id = self.create_image()['id']
        self.import_image(image_id, self.source.url('/missing'))
        self.assertFailedAndEmpty(image_id, self.wait_for_task(image_id),
                                  '404 Not Found')

    def test_web_download_disconnect_mid_body_fails_queued(self):
        self.source.add('/image.raw', os.urandom(300000), cut_after=100000)
        image_id = self.create_image()['id']
        self.import_image(image_id, self.source.url('/image.raw'))
        self.assertFailedAndEmpty(image_id, self.wait_for_task(image_id),
                                  'cut short after 100000 of 300000 bytes')

    def test_web_download_denied_redirect_fails_queued(self):
        self.source.redirect('/image.raw', 'http://localhost:%d/image.raw'
                             % self.source.port)
        image_id = self.create_image()['id']
        self.import_image(image_id, self.source.url('/image.raw'))
        self.assertFailedAndEmpty(image_id, self.wait_for_task(image_id),
                                  "host 'localhost' is not allowed")
        self.assertEqual(['/image.raw'],
                         [p for p, _h in self.source.requests])

    def test_web_download_denied_uri_400_no_task(self):
        image_id = self.create_image()['id']
        for uri, reason in (
                ('http://localhost:%d/i' % self.source.port,
                 "host 'localhost' is not allowed"),
                ('http://127.0.0.1:22/i', 'port 22 is not allowed'),
                ('ftp://127.0.0.1/i', "scheme 'ftp' is not allowed"),
                ('http://169.254.169.254/latest/', 'is not allowed')):
            response = self.import_image(image_id, uri, expect=400)
            self.assertIn('URI for web-download does not pass filtering',
                          response.body.decode())
            self.assertIn(reason, response.body.decode())
        response = self.client.post(
            '/v2/images/%s/import' % image_id,
            json={'method': {'name': 'web-download'}})
        self.assertStatus(400, response)
        self.assertEqual([], self.client.get(
            '/v2/images/%s/tasks' % image_id).json()['tasks'])
        self.assertEqual('queued', self.show_image(image_id)['status'])
        self.assertEqual([], self.source.requests)


class TestWebDownloadCap(ImportMethodsTestCase):

    extra_env = {'OS_DEFAULT__IMAGE_SIZE_CAP': '100000'}

    def test_web_download_declared_over_cap_fails_queued(self):
        self.source.add('/image.raw', os.urandom(100001))
        image_id = self.create_image()['id']
        self.import_image(image_id, self.source.url('/image.raw'))
        self.assertFailedAndEmpty(image_id, self.wait_for_task(image_id),
                                  'over the image size cap of 100000 bytes')

    def test_web_download_chunked_over_cap_fails_queued(self):
        self.source.add('/image.raw', os.urandom(100001), chunked=True)
        image_id = self.create_image()['id']
        self.import_image(image_id, self.source.url('/image.raw'))
        task = self.wait_for_task(image_id)
        self.assertEqual('failure', task['status'])
        self.assertFailedAndEmpty(image_id, task, '100000')


class TestWebDownloadQuota(ImportMethodsTestCase):

    extra_env = {'OS_DEFAULT__USER_STORAGE_QUOTA': '150000'}

    def test_web_download_over_quota_fails_queued(self):
        self.source.add('/small.raw', os.urandom(100000))
        self.source.add('/big.raw', os.urandom(100000), chunked=True)
        first = self.create_image()['id']
        self.import_image(first, self.source.url('/small.raw'))
        self.assertEqual('success', self.wait_for_task(first)['status'])
        second = self.create_image()['id']
        self.import_image(second, self.source.url('/big.raw'))
        task = self.wait_for_task(second)
        self.assertEqual('failure', task['status'])
        self.assertFailedAndEmpty(second, task, 'quota')


class TestImportPlugins(ImportMethodsTestCase):
    """image_conversion (qemu-img) and inject_image_metadata in the flow."""

    extra_env = {
        'OS_IMAGE_IMPORT_OPTS__IMAGE_IMPORT_PLUGINS':
            'image_conversion,inject_image_metadata',
        'OS_INJECT_METADATA_PROPERTIES__INJECT': 'injected_by:imageapi',
        'OS_INJECT_METADATA_PROPERTIES__IGNORE_USER_ROLES': 'nobody',
    }

    def setUp(self):
        super().setUp()
        if shutil.which('qemu-img') is None:
            self.skipTest('qemu-img is not installed and could not be '
                          '(tools/qemu/ensure-qemu-img.sh)')

    def make_qcow2(self, raw_data):
        raw = os.path.join(self.state_path, 'src.raw')
        qcow2 = os.path.join(self.state_path, 'src.qcow2')
        with open(raw, 'wb') as f:
            f.write(raw_data)
        subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2',
                        raw, qcow2], check=True, capture_output=True)
        with open(qcow2, 'rb') as f:
            return f.read()

    def test_qcow2_import_converted_to_raw_hashes_of_raw(self):
        raw_data = os.urandom(1024 * 1024)
        self.source.add('/image.qcow2', self.make_qcow2(raw_data))
        image_id = self.create_image(disk_format='qcow2')['id']
        self.import_image(image_id, self.source.url('/image.qcow2'))
        image = self.assertActiveWith(image_id, raw_data,
                                      self.wait_for_task(image_id))
        self.assertEqual('raw', image['disk_format'])
        self.assertEqual(len(raw_data), image['virtual_size'])
        self.assertEqual('imageapi', image['injected_by'])

    def test_format_mismatch_refused_by_plugin_fails_queued(self):
        qcow2 = self.make_qcow2(os.urandom(65536))
        self.source.add('/image.qcow2', qcow2)
        image_id = self.create_image(disk_format='raw',
                                     container_format='ovf')['id']
        self.import_image(image_id, self.source.url('/image.qcow2'))
        self.assertFailedAndEmpty(
            image_id, self.wait_for_task(image_id),
            'claimed to be raw format but format inspection found qcow2')
        self.assertNotIn('injected_by', self.show_image(image_id))
