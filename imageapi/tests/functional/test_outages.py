"""Stalled clients and database outages against the real imageapi-api server.

The outage tests run the server on a throwaway PostgreSQL database (databases.py) and cut
it off the way an operator's outage does: ``ALTER DATABASE ... ALLOW_CONNECTIONS false``
and the server's connections terminated.
"""

import os
import select
import socket
import time


from imageapi.tests.functional import base
from imageapi.tests.functional import client as http_client
from imageapi.tests.functional import databases

MiB = 1024 * 1024


def _raw_request(server, head, body=b''):
    """A socket that sent ``head`` (request line and headers) and ``body``."""
    sock = socket.create_connection((server.host, server.port), timeout=30)
    sock.sendall(head + body)
    return sock


def _read_response(sock, timeout):
    """(status, raw response: head and body) read within ``timeout`` s."""
    sock.settimeout(timeout)
    data = b''
    while b'\r\n\r\n' not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _sep, body = data.partition(b'\r\n\r\n')
    status = int(head.split(b' ', 2)[1])
    length = 0
    for line in head.split(b'\r\n')[1:]:
        name, _colon, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            length = int(value)
    while len(body) < length and status != 100:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return status, head + b'\r\n\r\n' + body


class StalledUploadTest(base.ServerTestCase):
    """[upload] body_idle_timeout: a body that stops arriving gets 408."""

    server_env = {'OS_UPLOAD__BODY_IDLE_TIMEOUT': '2'}

    def _head(self, image_id, extra=b''):
        return (b'PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                b'Content-Type: application/octet-stream\r\n'
                b'Content-Length: %d\r\n%s\r\n'
                % (image_id.encode(), MiB, extra))

    def assertStallAnswered408(self, image_id, sock):
        started = time.monotonic()
        status, raw = _read_response(sock, timeout=30)
        sock.close()
        self.assertEqual(408, status, raw)
        self.assertIn(b'no data arrived for 2 seconds', raw)
        self.assertLess(time.monotonic() - started, 20)
        self.assertIn(b'x-openstack-request-id', raw.lower())
        row = self.image_row(image_id)
        self.assertEqual('queued', row['status'])
        self.assertIsNone(row['upload_claim'])
        self.assertEqual([], self.temp_files())

    def test_upload_stalled_mid_body_408_queued(self):
        image_id = self.create_image()['id']
        sock = _raw_request(self.server, self._head(image_id), b'x' * 1000)

        self.assertStallAnswered408(image_id, sock)

    def test_upload_stalled_after_100_continue_408_queued(self):
        image_id = self.create_image()['id']
        sock = _raw_request(self.server,
                            self._head(image_id, b'Expect: 100-continue\r\n'))
        status, _raw = _read_response(sock, timeout=10)
        self.assertEqual(100, status)

        self.assertStallAnswered408(image_id, sock)

    def test_other_requests_served_while_uploads_stall(self):
        # One worker of eight threads: seven stalled uploads leave a thread.
        stalled = []
        for _ in range(7):
            image_id = self.create_image()['id']
            stalled.append(_raw_request(self.server, self._head(image_id),
                                        b'x'))
        self.addCleanup(lambda: [sock.close() for sock in stalled])

        self.assertStatus(200, self.client.get('/v2/images'))


class PostgresServerTestCase(base.RealServerTestCase):
    """imageapi-api on a fresh PostgreSQL database, which tests can cut off."""

    server_env = {}

    def setUp(self):
        super().setUp()
        self.database = self.useFixture(databases.PostgresDatabase(self))
        env = {'OS_DATABASE__CONNECTION': self.database.url,
               'OS_UPLOAD__LEASE_SECONDS': '5',
               'OS_UPLOAD__REAP_INTERVAL': '1'}
        env.update(self.server_env)
        self.start_server(workers=1, env=env)
        self.client = self.server.client()

    def cut_database(self):
        self.database.cut()
        self.addCleanup(self.database.restore)

    def restore_database(self):
        self.database.restore()

    def image_status(self, image_id):
        response = self.client.get('/v2/images/%s' % image_id)
        self.assertStatus(200, response)
        return response.json()['status']

    def wait_for_status(self, image_id, status, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.image_status(image_id) == status:
                return
            time.sleep(0.2)
        self.fail('image %s never became %s' % (image_id, status))

    def data_files(self, image_id):
        datadir = os.path.join(self.state_path, 'images')
        tmp = os.path.join(datadir, '.tmp')
        names = [os.path.join(datadir, image_id)]
        if os.path.isdir(tmp):
            names += [os.path.join(tmp, n) for n in os.listdir(tmp)
                      if n.startswith(image_id)]
        return [name for name in names if os.path.exists(name)]

    def create_image(self):
        response = self.client.create_image()
        self.assertStatus(201, response)
        return response.json()['id']

    def assertRetryWorks(self, image_id):
        payload = http_client.Payload(MiB + 3, seed=7)
        self.assertStatus(204, self.client.upload(image_id, payload))
        image = self.client.get('/v2/images/%s' % image_id).json()
        self.assertEqual('active', image['status'])
        self.assertEqual(payload.md5, image['checksum'])


class DatabaseOutageTest(PostgresServerTestCase):

    def test_routes_answer_503_with_retry_after_while_database_down(self):
        image_id = self.create_image()
        self.cut_database()

        for method, path in (('GET', '/v2/images'),
                             ('GET', '/v2/images/%s' % image_id),
                             ('DELETE', '/v2/images/%s' % image_id)):
            response = self.client.request(method, path)
            self.assertStatus(503, response)
            self.assertEqual('30', response.headers.get('Retry-After'))
        self.assertStatus(503, self.client.create_image())
        self.assertEqual(503, self.client.get('/healthcheck').status)

        self.restore_database()
        self.assertStatus(200, self.client.get('/v2/images'))
        self.assertEqual(200, self.client.get('/healthcheck').status)

    def test_upload_database_lost_at_the_end_503_then_retry_works(self):
        image_id = self.create_image()
        payload = os.urandom(20 * MiB)
        conn = self.client.begin('PUT', '/v2/images/%s/file' % image_id, {
            'Content-Type': 'application/octet-stream',
            'Content-Length': str(len(payload))})
        conn.send(payload[:19 * MiB])
        self.cut_database()
        conn.send(payload[19 * MiB:])
        response = conn.getresponse()
        response.read()
        conn.close()

        self.assertEqual(503, response.status)
        self.assertIsNotNone(response.getheader('Retry-After'))
        self.restore_database()
        # The lease runs out; the reaper queues the image and purges the
        # data that was stored but never recorded.
        self.wait_for_status(image_id, 'queued')
        self.assertEqual([], self.data_files(image_id))
        self.assertRetryWorks(image_id)

    def test_upload_outage_longer_than_lease_503_then_retry_works(self):
        image_id = self.create_image()
        conn = self.client.begin('PUT', '/v2/images/%s/file' % image_id, {
            'Content-Type': 'application/octet-stream',
            'Content-Length': str(64 * MiB)})
        conn.send(b'x' * MiB)
        self.wait_for_status(image_id, 'saving')  # claimed: now cut
        self.cut_database()
        sock = conn.sock
        # Keep sending slowly, past the lease (5 s), until the server
        # answers.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            readable, _w, _x = select.select([sock], [], [], 0.25)
            if readable:
                break
            try:
                sock.sendall(b'y' * 65536)
            except OSError:
                break
        status, raw = _read_response(sock, timeout=10)
        conn.close()

        self.assertEqual(503, status, raw)
        self.assertIn(b'retry-after', raw.lower())
        self.assertIn(b'could not keep its claim', raw)
        self.restore_database()
        self.wait_for_status(image_id, 'queued')
        self.assertEqual([], self.data_files(image_id))
        self.assertRetryWorks(image_id)
