"""imageapi.wsgi:application under an external gunicorn, as mod_wsgi would load it."""

import concurrent.futures
import os
import time

from imageapi.tests import base
from imageapi.tests.functional import databases
from imageapi.tests.functional import server as server_fixture


class TestWSGIApplication(base.TestCase):

    def test_workers_build_the_app_together_on_a_new_state_path(self):
        # Every worker builds the app, and so checks the SQLite schema, on
        # its first request: all of them at once on an empty database.
        server = self.useFixture(server_fixture.GunicornServer(
            self.state_path, workers=2,
            # Elsewhere the schema is made beforehand, by db sync: servers
            # only create a SQLite one.
            env=databases.backend_env(self)))
        deadline = time.monotonic() + 30
        while (server.log().count('Booting worker') < 2
               and time.monotonic() < deadline):
            time.sleep(0.05)
        time.sleep(1)  # both workers import the module and block in accept
        client = server.client()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(
                lambda _: client.get('/v2/images').status, range(8)))
        self.assertEqual([200] * 8, statuses, server.log()[-4000:])
        self.assertNotIn('Traceback', server.log())
        if databases.backend() == 'sqlite':
            self.assertTrue(os.path.isfile(
                os.path.join(self.state_path, 'imageapi.sqlite')))

    def test_image_round_trip(self):
        server = self.useFixture(server_fixture.GunicornServer(
            self.state_path, env=databases.backend_env(self)))
        client = server.client()
        response = client.create_image(name='via-wsgi')
        self.assertEqual(201, response.status)
        image_id = response.json()['id']
        self.assertEqual(204, client.upload(image_id, b'x' * 4096).status)
        self.assertEqual(b'x' * 4096, client.download(image_id).body)
