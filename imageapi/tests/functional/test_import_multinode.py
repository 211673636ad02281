"""Two API nodes on one PostgreSQL database, sharing one staging directory.

imageapi's multi-node import: every node mounts the same staging directory
(``[os_glance_staging_store] filesystem_store_datadir``), so an import sent to any node
finds the data another node staged, and any node's reaper can clean up after a node that
died mid-import. Both nodes here also share the filesystem store directory, as nodes
sharing an NFS export would.
"""

import os
import time


from imageapi.tests.functional import base as functional_base
from imageapi.tests.functional import client as http_client
from imageapi.tests.functional import databases
from imageapi.tests.functional import server as server_fixture
from imageapi.tests.functional import test_import

MiB = 1024 * 1024


class TwoNodesImportTest(test_import.ImportTestCase):

    def setUp(self):
        # ServerTestCase's single server is not wanted: two nodes instead.
        super(functional_base.ServerTestCase, self).setUp()
        database = self.useFixture(databases.PostgresDatabase(self))
        # ServerTestCase.db_query reads this database.
        self.database_url = database.url
        env = {'OS_DATABASE__CONNECTION': database.url,
               'OS_OS_GLANCE_STAGING_STORE__FILESYSTEM_STORE_DATADIR':
                   self.staging_dir,
               'OS_FILESYSTEM_STORE__DATADIR': self.datadir,
               'OS_UPLOAD__LEASE_SECONDS': '5',
               'OS_UPLOAD__REAP_INTERVAL': '1'}
        self.nodes = []
        for name in ('a', 'b'):
            state = os.path.join(self.state_path, name)
            os.makedirs(state)
            self.nodes.append(self.useFixture(server_fixture.Server(
                state, env=env)))
        self.server = self.nodes[0]  # whose log a failure attaches
        self.a, self.b = (node.client() for node in self.nodes)
        self.client = self.a

    def test_stage_on_a_import_on_b_download_from_a(self):
        payload = http_client.Payload(3 * MiB + 7)
        image_id = self.create_image()['id']
        self.assertStatus(204, self.stage(image_id, payload))
        self.client = self.b
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.client = self.a
        self.assertActiveWith(image_id, payload)

    def test_node_killed_mid_import_other_node_fails_it(self):
        payload = http_client.Payload(2 * MiB)
        image_id = self.create_image()['id']
        self.assertStatus(204, self.stage(image_id, payload))
        pipe = self.pipe_staged(image_id)
        self.client = self.b
        self.assertStatus(202, self.start_import(image_id))
        [task] = self.image_tasks(image_id)
        writer = open(pipe, 'wb')
        try:
            writer.write(next(iter(payload)))
            writer.flush()
            deadline = time.monotonic() + test_import._WAIT
            while not self.temp_files() and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertNotEqual([], self.temp_files())
            self.nodes[1].kill()
        finally:
            try:
                writer.close()
            except BrokenPipeError:
                pass
        # Node B stays dead: node A's reaper fails the import.
        self.client = self.a
        done = self.wait_for_task(task['id'], ('failure',))
        self.assertIn('interrupted', done['message'])
        self.wait_for(image_id, ('queued',))
        self.assertImportable(image_id)
        self.assertStatus(204, self.stage(image_id, payload))
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.assertActiveWith(image_id, payload)
