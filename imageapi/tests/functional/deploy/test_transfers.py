"""Uploads and downloads through the servers an operator deploys with.

The same tests run through Apache with mod_wsgi (etc/apache2/imageapi.conf) and plain
gunicorn (etc/gunicorn.conf.py), each loading ``imageapi.wsgi:application``: bodies
with a Content-Length and chunked ones, a body over 1 GiB streamed by the client,
Range downloads, concurrent uploads, and an upload slower than gunicorn's default
worker timeout of 30 seconds. Under gunicorn, ``imageapi.wsgi:application`` also has
imageapi-api's body handling: a stalled body gets 408, bad chunked framing 400.
"""

import concurrent.futures
import os
import time

from imageapi.tests.functional import client as http_client
from imageapi.tests.functional.deploy import servers
from imageapi.tests.functional import test_outages
from imageapi.tests.functional import test_upload

MiB = 1024 * 1024
GiB = 1024 * MiB


def paced(payload, interval):
    """The chunks of ``payload``, one every ``interval`` seconds: a slow client."""
    for chunk in payload:
        # The client's pace, not a wait for the server.
        time.sleep(interval)
        yield chunk


class TransferTests:
    """Mixed into a test_upload.UploadTestCase with its ``server_class``."""

    def assertRoundTrip(self, image_id, payload):
        self.assertActiveWith(image_id, payload.size, payload.md5,
                              payload.sha512)
        response, size, md5, sha512 = self.client.download_digests(image_id)
        self.assertEqual(200, response.status)
        self.assertEqual(str(payload.size), response.headers['Content-Length'])
        self.assertEqual((payload.size, payload.md5, payload.sha512),
                         (size, md5, sha512))

    def test_upload_content_length_round_trip(self):
        image_id = self.create_image()['id']
        payload = http_client.Payload(5 * MiB + 7)
        self.assertStatus(204, self.client.upload(image_id, payload))
        self.assertRoundTrip(image_id, payload)

    def test_upload_chunked_round_trip(self):
        image_id = self.create_image()['id']
        payload = http_client.Payload(3 * MiB + 5)
        self.assertStatus(204, self.client.upload(image_id, iter(payload),
                                                  chunked=True))
        self.assertRoundTrip(image_id, payload)

    def test_upload_over_one_gib_round_trip(self):
        # Past Apache's default LimitRequestBody of 1 GiB, which the site
        # lifts; the client streams it from a generator.
        image_id = self.create_image()['id']
        payload = http_client.Payload(GiB + 4099, chunk_size=MiB)
        self.assertStatus(204, self.client.upload(image_id, payload))
        self.assertRoundTrip(image_id, payload)

    def test_download_ranges(self):
        image_id = self.create_image()['id']
        payload = http_client.Payload(MiB + 11)
        self.assertStatus(204, self.client.upload(image_id, payload))
        data = payload.data()
        for header, first, last in [('bytes=100-1099', 100, 1099),
                                    ('bytes=-10', len(data) - 10,
                                     len(data) - 1),
                                    ('bytes=%d-' % MiB, MiB, len(data) - 1)]:
            response = self.client.get('/v2/images/%s/file' % image_id,
                                       headers={'Range': header})
            self.assertStatus(206, response)
            self.assertEqual('bytes %d-%d/%d' % (first, last, len(data)),
                             response.headers['Content-Range'])
            self.assertEqual(data[first:last + 1], response.body)

    def test_concurrent_uploads_all_activate(self):
        payloads = [http_client.Payload(8 * MiB + n, seed=n)
                    for n in range(6)]
        ids = [self.create_image()['id'] for _ in payloads]

        def upload(index):
            # Half with a Content-Length, half chunked.
            body = payloads[index]
            if index % 2:
                return self.client.upload(ids[index], iter(body),
                                          chunked=True)
            return self.client.upload(ids[index], body)

        with concurrent.futures.ThreadPoolExecutor(len(ids)) as pool:
            responses = list(pool.map(upload, range(len(ids))))
        for image_id, payload, response in zip(ids, payloads, responses):
            self.assertStatus(204, response)
            self.assertRoundTrip(image_id, payload)

    def test_upload_slower_than_gunicorns_default_timeout(self):
        # 36 seconds of 64 KiB a second: past gunicorn's default worker
        # timeout (30 s), well within the idle timeouts of both servers.
        image_id = self.create_image()['id']
        payload = http_client.Payload(36 * 65536, seed=3)
        started = time.monotonic()
        response = self.client.upload(image_id, paced(payload, 1.0),
                                      size=payload.size)
        self.assertGreater(time.monotonic() - started, 30)
        self.assertStatus(204, response)
        self.assertRoundTrip(image_id, payload)


class TestApache(TransferTests, test_upload.UploadTestCase):
    """Apache httpd with mod_wsgi in daemon mode."""

    server_class = servers.ApacheServer

    def setUp(self):
        reason = servers.apache_unusable()
        if reason:
            if os.environ.get('IMAGEAPI_TEST_REQUIRE_DEPLOY'):
                self.fail(reason)
            self.skipTest(reason)
        super().setUp()


class TestGunicornConf(TransferTests, test_upload.UploadTestCase):
    """Plain gunicorn with etc/gunicorn.conf.py."""

    server_class = servers.GunicornConfServer
    workers = 2

    def test_upload_slower_than_gunicorns_default_timeout(self):
        workers = self.server.worker_pids()
        super().test_upload_slower_than_gunicorns_default_timeout()
        # No worker was killed and replaced meanwhile.
        self.assertEqual(workers, self.server.worker_pids())

    # imageapi-api's body handling, through imageapi.wsgi:application.
    test_upload_malformed_chunked_framing_400_queued = (
        test_upload.TestStreaming.test_upload_malformed_chunked_framing_400_queued)


class TestGunicornConfStalledUpload(test_outages.StalledUploadTest):
    """[upload] body_idle_timeout under plain gunicorn with etc/gunicorn.conf.py."""

    server_class = servers.GunicornConfServer
