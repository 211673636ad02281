"""The access log and request ids of log lines, read from the real server's --log-file.

``imageapi-api --log-file`` writes oslo.log's format: each line's bracket holds the
request id, user and project of the context it was logged with.
"""

import os
import re
import time
import uuid

from imageapi.tests.functional import base
from imageapi.tests.functional import client as http_client

_LINE = re.compile(
    r'^\S+ \S+ \d+ (?P<level>[A-Z]+) (?P<logger>\S+) '
    r'\[(?P<global_id>\S+) (?P<request_id>\S+) (?P<user>\S+) '
    r'(?P<project>\S+)[^\]]*\] (?P<message>.*)$')
_ACCESS = re.compile(
    r'^(?P<remote>\S+) "(?P<method>\S+) (?P<target>\S+)" '
    r'status: (?P<status>\S+) len_in: (?P<bytes_in>\d+) '
    r'len_out: (?P<bytes_out>\d+) time: (?P<seconds>[0-9.]+)$')

USER, PROJECT = 'access-user', 'access-project'
_WAIT_SECONDS = 60


class LogFileTestCase(base.RealServerTestCase):
    """A server logging to a file of the test (``--log-file``)."""

    server_env = {}
    server_args = ()

    def setUp(self):
        super().setUp()
        self.log_file = os.path.join(self.state_path, 'imageapi-api.log')
        self.start_server(
            workers=1, env=self.server_env,
            args=['--log-file', self.log_file] + list(self.server_args))
        self.client = self.server.client(
            headers={'X-User-Id': USER, 'X-Project-Id': PROJECT})

    def log_text(self):
        with open(self.log_file, encoding='utf-8') as log:
            return log.read()

    def log_lines(self):
        """Parsed lines of the log file that carry a context bracket."""
        return [m.groupdict() for m in
                map(_LINE.match, self.log_text().splitlines()) if m]

    def access_line(self, request_id):
        """The access line of ``request_id``, once the server wrote it."""
        deadline = time.monotonic() + _WAIT_SECONDS
        while time.monotonic() < deadline:
            for line in self.log_lines():
                if (line['logger'] == 'imageapi.access'
                        and line['request_id'] == request_id):
                    access = _ACCESS.match(line['message'])
                    self.assertIsNotNone(access, line['message'])
                    return dict(line, **access.groupdict())
            time.sleep(0.05)
        self.fail('no access line for %s in:\n%s'
                  % (request_id, self.log_text()[-4000:]))

    def active_image(self, payload):
        created = self.client.create_image(name='logged')
        self.assertStatus(201, created)
        image_id = created.json()['id']
        self.assertStatus(204, self.client.upload(image_id, payload))
        return image_id


class TestAccessLog(LogFileTestCase):

    def assertLine(self, line, method, target, status, bytes_in, bytes_out):
        self.assertEqual((USER, PROJECT), (line['user'], line['project']))
        self.assertEqual(('127.0.0.1', method, target, status),
                         (line['remote'], line['method'], line['target'],
                          line['status']))
        self.assertEqual((bytes_in, bytes_out),
                         (int(line['bytes_in']), int(line['bytes_out'])))
        self.assertGreater(float(line['seconds']), 0)

    def test_upload_logs_bytes_in(self):
        image_id = self.client.create_image(name='up').json()['id']
        payload = http_client.Payload(300 * 1024 + 7)

        response = self.client.upload(image_id, payload)

        self.assertStatus(204, response)
        line = self.access_line(response.request_id)
        self.assertLine(line, 'PUT', '/v2/images/%s/file' % image_id, '204',
                        payload.size, 0)

    def test_chunked_upload_logs_bytes_in(self):
        image_id = self.client.create_image(name='up').json()['id']
        payload = http_client.Payload(200 * 1024 + 3)

        response = self.client.upload(image_id, payload, chunked=True)

        self.assertStatus(204, response)
        line = self.access_line(response.request_id)
        self.assertLine(line, 'PUT', '/v2/images/%s/file' % image_id, '204',
                        payload.size, 0)

    def test_ranged_download_logs_bytes_of_range(self):
        image_id = self.active_image(http_client.Payload(256 * 1024))

        response = self.client.get('/v2/images/%s/file' % image_id,
                                   headers={'Range': 'bytes=1000-40999'})

        self.assertStatus(206, response)
        self.assertEqual(40000, len(response.body))
        line = self.access_line(response.request_id)
        self.assertLine(line, 'GET', '/v2/images/%s/file' % image_id, '206',
                        0, 40000)

    def test_not_found_logs_query_without_token(self):
        path = '/v2/images/%s?limit=1&auth_token=s3cret&x=%%0a' % uuid.uuid4()

        response = self.client.get(path)

        self.assertStatus(404, response)
        line = self.access_line(response.request_id)
        self.assertLine(line, 'GET',
                        path.replace('s3cret', '***'), '404', 0,
                        len(response.body))
        self.assertNotIn('s3cret', self.log_text())

    def test_aborted_download_logs_bytes_really_sent(self):
        # Larger than what loopback socket buffers hold, so the server is
        # still sending when the client goes away.
        payload = http_client.Payload(48 * 1024 * 1024)
        image_id = self.active_image(payload)
        response = self.client.download(image_id, stream=True)
        self.assertStatus(200, response)
        received = len(response.raw.read(65536))
        response.close()

        line = self.access_line(response.request_id)

        self.assertEqual(('GET', '200'), (line['method'], line['status']))
        self.assertLessEqual(received, int(line['bytes_out']))
        self.assertLess(int(line['bytes_out']), payload.size)

    def test_whole_download_logs_every_byte(self):
        payload = http_client.Payload(3 * 1024 * 1024 + 5)
        image_id = self.active_image(payload)

        response = self.client.download(image_id)

        self.assertStatus(200, response)
        line = self.access_line(response.request_id)
        self.assertLine(line, 'GET', '/v2/images/%s/file' % image_id, '200',
                        0, payload.size)


class TestNoAuthRequestIds(LogFileTestCase):
    """Two requests on the server's one thread each log with their own id.

    oslo.policy logs every rule it checks at DEBUG, with the context oslo.log
    takes from the thread.
    """

    server_env = {'OS_WSGI__THREADS': '1',
                  'OS_DEFAULT__DEFAULT_LOG_LEVELS': 'oslo_policy=DEBUG'}
    server_args = ('--debug',)

    def test_each_request_logs_with_its_own_id_and_user(self):
        sent = []
        for user in ('first-user', 'second-user'):
            response = self.server.client().get(
                '/v2/images', headers={'X-User-Id': user,
                                       'X-Project-Id': PROJECT,
                                       'X-Roles': 'member'})
            self.assertStatus(200, response)
            self.access_line(response.request_id)
            sent.append((response.request_id, user))

        lines = self.log_lines()
        for request_id, user in sent:
            mine = [line for line in lines
                    if line['logger'].startswith('oslo_policy')
                    and line['request_id'] == request_id]
            self.assertNotEqual([], mine, request_id)
            self.assertEqual({user}, {line['user'] for line in mine})
        policy_ids = {line['request_id'] for line in lines
                      if line['logger'].startswith('oslo_policy')}
        self.assertEqual({request_id for request_id, _user in sent},
                         policy_ids)
