"""imageapi-api as a process: port 0, workers, stop, crash and restart on one state dir."""

import os
import signal

import fixtures

from imageapi.tests.functional import base
from imageapi.tests.functional import client as http_client
from imageapi.tests.functional import server as server_fixture


class TestServerProcess(base.ServerTestCase):

    workers = 2

    def _alive(self, pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] != 'Z'

    def test_port_zero_is_reported(self):
        self.assertNotEqual(0, self.server.port)
        self.assertIn('imageapi-api listening on http://127.0.0.1:%d\n'
                      % self.server.port, self.server.log())
        self.assertEqual('http://127.0.0.1:%d' % self.server.port,
                         self.server.url)

    def test_sigterm_stops_arbiter_and_workers(self):
        workers = self.server.worker_pids()
        self.assertEqual(2, len(workers))
        self.server.stop()
        self.assertEqual(0, self.server.process.returncode)
        for pid in [self.server.pid] + workers:
            self.assertFalse(self._alive(pid), pid)

    def test_sigkill_then_restart_keeps_images(self):
        image = self.create_image(name='survivor')
        data = http_client.Payload(200 * 1024).data()
        self.assertStatus(204, self.client.upload(image['id'], data))
        workers = self.server.worker_pids()
        old_port = self.server.port
        self.server.kill(signal.SIGKILL)
        for pid in [self.server.pid] + workers:
            self.assertFalse(self._alive(pid), pid)

        self.server.restart(same_port=True)
        self.assertEqual(old_port, self.server.port)
        shown = self.server.client().get('/v2/images/%s' % image['id'])
        self.assertStatus(200, shown)
        self.assertEqual('active', shown.json()['status'])
        self.assertEqual(data, self.client.download(image['id']).body)

    def test_restart_on_new_port(self):
        image = self.create_image(name='kept')
        self.server.restart()
        client = self.server.client()
        response = client.get('/v2/images/%s' % image['id'])
        self.assertStatus(200, response)
        self.assertEqual('kept', response.json()['name'])

    def test_server_env_sets_options(self):
        state_path = self.useFixture(fixtures.TempDir()).path
        server = self.useFixture(server_fixture.Server(
            state_path, env={'OS_DEFAULT__LIMIT_PARAM_DEFAULT': '1'}))
        client = server.client()
        for name in ('a', 'b'):
            self.assertStatus(201, client.create_image(name=name))
        body = client.get('/v2/images').json()
        self.assertEqual(1, len(body['images']))
        self.assertIn('next', body)
