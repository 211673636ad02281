"""SIGTERM to the real imageapi-api while uploads run: finish in time or abort cleanly.

The arbiter alone gets the signal, as a service manager sends it. An upload whose
client finishes within ``[wsgi] graceful_timeout`` completes; one whose client keeps
sending too slowly is cut, and leaves its image queued with nothing in the store.
"""

import os
import signal
import socket
import threading
import time

from imageapi.tests.functional import base
from imageapi.tests.functional import client as http_client

_WAIT_SECONDS = 60
# gunicorn's gthread worker polls its sockets once a second at most.
_WORKER_POLL_SECONDS = 1.5


class ShutdownTestCase(base.ServerTestCase):

    def wait_for(self, condition, what):
        deadline = time.monotonic() + _WAIT_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s' % what)
            time.sleep(0.05)

    def late_request(self):
        """A GET sent after SIGTERM: the server must never answer it.

        gunicorn stops accepting once the worker has the signal: the
        connection waits in the listen backlog and is reset when the worker
        exits. None when the connection is refused outright, which is as
        good. The arbiter passes the signal on after it logs it, and a
        gthread worker notices it at its next poll (at most a second), so
        a connection made within that window may still be served.
        """
        time.sleep(_WORKER_POLL_SECONDS)
        try:
            sock = socket.create_connection(
                (self.server.host, self.server.port), timeout=_WAIT_SECONDS)
        except ConnectionRefusedError:
            return None
        self.addCleanup(sock.close)
        sock.sendall(b'GET /v2/images HTTP/1.1\r\nHost: x\r\n\r\n')
        return sock

    def assertNeverAnswered(self, sock):
        if sock is None:
            return
        try:
            answer = sock.recv(65536)
        except ConnectionResetError:
            answer = b''
        self.assertEqual(b'', answer)

    def start_upload(self, payload):
        """Send the headers and the first chunk; return once it is saving."""
        image_id = self.create_image(name='in-flight')['id']
        conn = self.client.begin(
            'PUT', '/v2/images/%s/file' % image_id,
            headers={'Content-Type': http_client.OCTET_STREAM,
                     'Content-Length': str(payload.size)})
        chunks = iter(payload)
        conn.send(next(chunks))
        self.wait_for(lambda: self.image_row(image_id)['status'] == 'saving',
                      'the upload to start')
        return image_id, conn, chunks

    def sigterm(self):
        """SIGTERM to the arbiter; return once it handles it."""
        self.server.process.send_signal(signal.SIGTERM)
        self.wait_for(lambda: 'Handling signal: term' in self.server.log(),
                      'the arbiter to handle SIGTERM')


class TestUploadFinishesInTime(ShutdownTestCase):

    server_env = {'OS_WSGI__GRACEFUL_TIMEOUT': '60'}

    def test_upload_in_flight_completes_then_server_exits(self):
        payload = http_client.Payload(4 * 1024 * 1024 + 11)
        image_id, conn, chunks = self.start_upload(payload)

        self.sigterm()
        late = self.late_request()
        for chunk in chunks:
            conn.send(chunk)
        response = conn.getresponse()

        self.assertEqual(204, response.status, response.read())
        conn.close()
        self.assertEqual(0, self.server.process.wait(_WAIT_SECONDS))
        self.assertNeverAnswered(late)
        row = self.image_row(image_id)
        self.assertEqual(('active', payload.size, payload.sha512),
                         (row['status'], row['size'], row['os_hash_value']))
        with open(self.image_path(image_id), 'rb') as stored:
            self.assertEqual(payload.data(), stored.read())
        self.assertEqual([], self.temp_files())


class TestSlowUploadAborted(ShutdownTestCase):

    server_env = {'OS_WSGI__GRACEFUL_TIMEOUT': '2',
                  'OS_WSGI__CLEANUP_TIMEOUT': '30'}

    def trickle(self, conn, chunks, stop):
        """Keep sending, a chunk at a time, far slower than the timeout."""
        try:
            for chunk in chunks:
                if stop.wait(0.2):
                    return
                conn.send(chunk[:4096])
        except OSError:
            return  # the server cut the upload

    def test_upload_still_running_is_aborted_cleanly(self):
        payload = http_client.Payload(64 * 1024 * 1024)
        image_id, conn, chunks = self.start_upload(payload)
        stop = threading.Event()
        sender = threading.Thread(target=self.trickle,
                                  args=(conn, chunks, stop), daemon=True)
        sender.start()
        self.addCleanup(sender.join)
        self.addCleanup(stop.set)
        self.addCleanup(conn.close)

        self.sigterm()
        late = self.late_request()

        # The worker exits once the upload cleaned up, before gunicorn
        # would kill it (cleanup_timeout): a clean exit, status 0.
        self.assertEqual(0, self.server.process.wait(_WAIT_SECONDS))
        self.assertNeverAnswered(late)
        row = self.image_row(image_id)
        self.assertEqual(('queued', None, None, 0),
                         (row['status'], row['size'], row['upload_claim'],
                          row['upload_reserved']))
        self.assertEqual([], self.db_query(
            'SELECT * FROM image_locations WHERE image_id = ?', image_id))
        # Nothing left charged to the owner's storage quota.
        self.assertEqual(set(), {usage['used'] for usage in self.db_query(
            'SELECT used FROM storage_usage')} - {0})
        self.assertFalse(os.path.exists(self.image_path(image_id)))
        self.assertEqual([], self.temp_files())
        self.assertIn('1 request(s) still running', self.server.log())
