"""Uploads through the real imageapi-api server: streaming, crashes, races, memory.

Each test starts its own gunicorn server on a free loopback port and checks the
database row and the store directory, not just the status code.
"""

import concurrent.futures
import hashlib
import json
import os
import subprocess
import time

from imageapi.tests.functional import base
from imageapi.tests.functional import client as http_client

MiB = 1024 * 1024


def _peak_rss_kib(pid):
    """VmHWM (peak resident set) of a process, in KiB."""
    with open('/proc/%d/status' % pid) as status:
        for line in status:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    raise AssertionError('no VmHWM for %d' % pid)


class UploadTestCase(base.ServerTestCase):

    def assertActiveWith(self, image_id, size, md5, sha512):
        image = self.show_image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(size, image['size'])
        self.assertEqual(md5, image['checksum'])
        self.assertEqual('sha512', image['os_hash_algo'])
        self.assertEqual(sha512, image['os_hash_value'])
        self.assertEqual(size, os.path.getsize(self.image_path(image_id)))
        self.assertEqual([], self.temp_files())

    def assertQueuedAndEmpty(self, image_id):
        row = self.image_row(image_id)
        self.assertEqual('queued', row['status'])
        self.assertIsNone(row['size'])
        self.assertIsNone(row['checksum'])
        self.assertIsNone(row['upload_claim'])
        self.assertFalse(os.path.exists(self.image_path(image_id)))
        self.assertEqual([], [n for n in self.temp_files()
                              if n.startswith(image_id)])


class TestStreaming(UploadTestCase):

    def test_upload_content_length_hashes_match_hashlib(self):
        image_id = self.create_image()['id']
        payload = http_client.Payload(3 * MiB + 17)
        self.assertStatus(204, self.client.upload(image_id, payload))
        self.assertActiveWith(image_id, payload.size, payload.md5,
                              payload.sha512)

    def test_upload_chunked_without_length_activates(self):
        image_id = self.create_image()['id']
        payload = http_client.Payload(2 * MiB + 5)
        response = self.client.upload(image_id, iter(payload), chunked=True)
        self.assertStatus(204, response)
        self.assertActiveWith(image_id, payload.size, payload.md5,
                              payload.sha512)

    def test_upload_download_round_trip(self):
        image_id = self.create_image()['id']
        payload = http_client.Payload(MiB + 3)
        self.client.upload(image_id, payload)
        response, size, md5, sha512 = self.client.download_digests(image_id)
        self.assertEqual(200, response.status)
        self.assertEqual((payload.size, payload.md5, payload.sha512),
                         (size, md5, sha512))
        self.assertEqual(payload.md5, response.headers['Content-MD5'])

    def _curl(self, *args):
        argv = ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}']
        return subprocess.run(argv + list(args), check=True,
                              capture_output=True, text=True).stdout

    def test_upload_with_the_documented_curl_calls(self):
        # The calls from the issue: -d @file and a streamed -T file.
        # curl -d sends text: printable bytes, so it sends them all.
        data = bytes(33 + b % 94 for b in os.urandom(300000))
        path = os.path.join(self.state_path, 'ubuntu.qcow2')
        with open(path, 'wb') as f:
            f.write(data)
        for flag in ('-d', '-T'):
            image_id = self.create_image()['id']
            url = '%s/v2/images/%s/file' % (self.server.url, image_id)
            source = '@' + path if flag == '-d' else path
            code = self._curl('-X', 'PUT', '-H', 'X-Auth-Token: unused',
                              '-H', 'Content-Type: application/octet-stream',
                              flag, source, url)
            self.assertEqual('204', code)
            self.assertActiveWith(image_id, len(data),
                                  hashlib.md5(data).hexdigest(),
                                  hashlib.sha512(data).hexdigest())

    def test_upload_curl_chunked_from_stdin(self):
        image_id = self.create_image()['id']
        data = os.urandom(200000)
        url = '%s/v2/images/%s/file' % (self.server.url, image_id)
        result = subprocess.run(
            ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X',
             'PUT', '-H', 'Content-Type: application/octet-stream', '-H',
             'Transfer-Encoding: chunked', '-T', '-', url],
            input=data, check=True, capture_output=True)
        self.assertEqual(b'204', result.stdout)
        self.assertActiveWith(image_id, len(data),
                              hashlib.md5(data).hexdigest(),
                              hashlib.sha512(data).hexdigest())

    def test_upload_short_body_with_size_header_400_queued(self):
        image_id = self.create_image()['id']
        response = self.client.upload(
            image_id, iter([b'x' * 1000]), chunked=True,
            headers={'x-openstack-image-size': '5000'})
        self.assertStatus(400, response)
        self.assertEqual('Size mismatch: expected 5000 bytes, got 1000 bytes',
                         response.json()['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_upload_client_disconnect_mid_body_leaves_queued(self):
        image_id = self.create_image()['id']
        conn = self.client.begin(
            'PUT', '/v2/images/%s/file' % image_id,
            headers={'Content-Type': 'application/octet-stream',
                     'Transfer-Encoding': 'chunked'})
        for _ in range(20):
            conn.send(http_client.chunk_frame(b'y' * 65536))
        self._wait_for_status(image_id, 'saving')
        conn.close()
        self._wait_for_status(image_id, 'queued')
        deadline = time.monotonic() + 10
        while self.temp_files() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_malformed_chunked_framing_400_queued(self):
        image_id = self.create_image()['id']
        conn = self.client.begin(
            'PUT', '/v2/images/%s/file' % image_id,
            headers={'Content-Type': 'application/octet-stream',
                     'Transfer-Encoding': 'chunked'})
        self.addCleanup(conn.close)
        conn.send(http_client.chunk_frame(b'y' * 65536) + b'zz\r\nnot hex')

        response = conn.getresponse()

        self.assertEqual(400, response.status)
        self.assertIn('chunked', response.read().decode())
        self.assertQueuedAndEmpty(image_id)

    def _wait_for_status(self, image_id, status, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.image_row(image_id)['status'] == status:
                return
            time.sleep(0.02)
        self.fail('image %s never reached %s (is %s)'
                  % (image_id, status, self.image_row(image_id)['status']))


class TestKeepAlive(UploadTestCase):
    """Requests after an upload on the same connection (gunicorn keep-alive).

    A Content-Length body is received from the socket by imageapi itself
    (cmd/gunicorn_input.py SocketBodyReader); gunicorn must still find the next request
    where it starts.
    """

    def _put_then_get(self, image_id, body):
        conn = self.client.connection()
        self.addCleanup(conn.close)
        headers = {'Content-Type': 'application/octet-stream',
                   'Content-Length': str(len(body))}
        conn.request('PUT', '/v2/images/%s/file' % image_id, body=body,
                     headers=headers)
        put = conn.getresponse()
        put.read()
        conn.request('GET', '/v2/images/%s' % image_id)
        get = conn.getresponse()
        return put, get, json.loads(get.read())

    def test_request_after_an_upload_on_the_same_connection(self):
        image_id = self.create_image()['id']
        data = os.urandom(3 * MiB + 5)

        put, get, image = self._put_then_get(image_id, data)

        self.assertEqual(204, put.status)
        self.assertEqual(200, get.status)
        self.assertEqual('active', image['status'])
        self.assertEqual(hashlib.md5(data).hexdigest(), image['checksum'])

    def test_request_after_a_chunked_upload_on_the_same_connection(self):
        image_id = self.create_image()['id']
        data = os.urandom(3 * MiB + 5)
        conn = self.client.connection()
        self.addCleanup(conn.close)
        # An iterable body without Content-Length goes out chunked.
        conn.request('PUT', '/v2/images/%s/file' % image_id,
                     body=iter([data[:100000], data[100000:]]),
                     headers={'Content-Type': 'application/octet-stream'})
        put = conn.getresponse()
        put.read()
        conn.request('GET', '/v2/images/%s' % image_id)
        get = conn.getresponse()
        image = json.loads(get.read())

        self.assertEqual(204, put.status)
        self.assertEqual(200, get.status)
        self.assertEqual(hashlib.md5(data).hexdigest(), image['checksum'])

    def test_409_reaches_a_client_that_sends_the_whole_body_first(self):
        # Refused on the image's status before a byte is read; gunicorn
        # alone would drop the connection once 64 KiB of it waited, and
        # the client would see a reset instead of the 409.
        image_id = self.create_image()['id']
        self.assertStatus(204, self.client.upload(image_id, b'first'))

        put, get, image = self._put_then_get(image_id, os.urandom(4 * MiB))

        self.assertEqual(409, put.status)
        self.assertEqual(200, get.status)
        self.assertEqual(5, image['size'])

    def test_request_after_a_body_refused_mid_stream(self):
        # Random bytes are no qcow2: refused once the first chunk is read,
        # the rest of the body drained, then the next request is served.
        image_id = self.create_image(disk_format='qcow2')['id']

        put, get, image = self._put_then_get(image_id, os.urandom(5 * MiB))

        self.assertEqual(415, put.status)
        self.assertEqual(200, get.status)
        self.assertEqual('queued', image['status'])
        self.assertQueuedAndEmpty(image_id)


class TestCapAndQuota(UploadTestCase):

    server_env = {'OS_DEFAULT__IMAGE_SIZE_CAP': str(4 * MiB),
                  'OS_DEFAULT__USER_STORAGE_QUOTA': '6MB'}
    workers = 2

    def test_upload_chunked_over_cap_413_queued(self):
        image_id = self.create_image()['id']
        response = self.client.upload(
            image_id, iter(http_client.Payload(4 * MiB + 1)), chunked=True)
        self.assertStatus(413, response)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_declared_over_cap_413_before_the_body(self):
        # Answered from the headers alone: the client has sent no byte of
        # the body yet when it reads the response (as curl does after
        # Expect: 100-continue).
        image_id = self.create_image()['id']
        conn = self.client.begin(
            'PUT', '/v2/images/%s/file' % image_id,
            headers={'Content-Type': 'application/octet-stream',
                     'Content-Length': str(4 * MiB + 1)})
        response = conn.getresponse()
        self.assertEqual(413, response.status)
        self.assertIn('too large', response.read().decode())
        conn.close()
        self.assertQueuedAndEmpty(image_id)

    def test_concurrent_uploads_never_pass_quota(self):
        ids = [self.create_image()['id'] for _ in range(3)]

        def upload(image_id):
            return self.client.upload(
                image_id, iter(http_client.Payload(3 * MiB)), chunked=True)
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = list(pool.map(upload, ids))
        statuses = sorted(r.status for r in results)
        self.assertLessEqual(statuses.count(204), 2)
        self.assertEqual(3, statuses.count(204) + statuses.count(413))
        stored = sum(self.image_row(i)['size'] or 0 for i in ids)
        self.assertLessEqual(stored, 6 * MiB)
        usage = self.db_query('SELECT used FROM storage_usage')
        self.assertEqual([stored], [row['used'] for row in usage])
        for image_id, result in zip(ids, results):
            if result.status == 413:
                self.assertQueuedAndEmpty(image_id)


class TestRaces(UploadTestCase):

    workers = 2

    def test_concurrent_uploads_exactly_one_wins(self):
        for _round in range(15):
            image_id = self.create_image()['id']
            payloads = [http_client.Payload(256 * 1024, seed=s)
                        for s in (1, 2)]

            def upload(payload):
                return self.client.upload(image_id, payload)
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                results = list(pool.map(upload, payloads))
            statuses = sorted(r.status for r in results)
            self.assertEqual([204, 409], statuses)
            winner = payloads[[r.status for r in results].index(204)]
            self.assertActiveWith(image_id, winner.size, winner.md5,
                                  winner.sha512)


class TestCrashRecovery(UploadTestCase):

    def test_sigkill_mid_upload_queued_after_restart_within_60s(self):
        # Default lease and reap settings: the guarantee users get.
        image_id = self.create_image()['id']
        conn = self.client.begin(
            'PUT', '/v2/images/%s/file' % image_id,
            headers={'Content-Type': 'application/octet-stream',
                     'Transfer-Encoding': 'chunked'})
        for _ in range(64):
            conn.send(http_client.chunk_frame(b'z' * 65536))
        deadline = time.monotonic() + 10
        while not self.temp_files() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual('saving', self.image_row(image_id)['status'])
        self.assertNotEqual([], self.temp_files())
        self.server.kill()
        conn.close()
        self.server.restart()
        self.client = self.server.client()
        restarted = time.monotonic()
        while time.monotonic() - restarted < 60:
            if self.image_row(image_id)['status'] == 'queued':
                break
            time.sleep(0.5)
        self.assertQueuedAndEmpty(image_id)
        self.assertEqual([], self.temp_files())
        payload = http_client.Payload(100000)
        self.assertStatus(204, self.client.upload(image_id, payload))
        self.assertActiveWith(image_id, payload.size, payload.md5,
                              payload.sha512)


class TestLargeImage(UploadTestCase):

    def test_one_gib_round_trip_with_flat_server_memory(self):
        image_id = self.create_image()['id']
        payload = http_client.Payload(1024 * MiB, chunk_size=MiB)
        self.assertStatus(204, self.client.upload(image_id, payload,
                                                  chunked=True))
        response, size, md5, sha512 = self.client.download_digests(image_id)
        self.assertEqual(200, response.status)
        self.assertEqual((payload.size, payload.md5, payload.sha512),
                         (size, md5, sha512))
        self.assertActiveWith(image_id, payload.size, payload.md5,
                              payload.sha512)
        for pid in [self.server.pid] + self.server.worker_pids():
            self.assertLess(_peak_rss_kib(pid), 150 * 1024,
                            'process %d peaked over 150 MB' % pid)
