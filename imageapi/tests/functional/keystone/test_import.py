"""Glance's policies of stage, import and the tasks API over real tokens, and the clients.

Stage and import take modify_image (members of the owner's project), copy-image takes
copy_image (admins), the tasks API tasks_api_access (admins), an image's tasks
get_image; an image the caller cannot see is a 404 throughout.
"""

import os
import shutil
import subprocess
import time

from imageapi.tests.functional import client as http_client
from imageapi.tests.functional.keystone import base
from imageapi.tests.functional.keystone import fixtures as ks_fixtures

DATA = b'imageapi import policy test data'
MiB = 1024 * 1024


class TestImportPolicies(base.KeystoneServerTestCase):

    def setUp(self):
        super().setUp()
        self.owner = self.client('alpha-member')
        self.image_id = self.owner.create_image(name='imp').json()['id']
        self.path = '/v2/images/%s' % self.image_id

    def stage(self, client):
        return client.put(self.path + '/stage', body=DATA, headers={
            'Content-Type': 'application/octet-stream',
            'Content-Length': str(len(DATA))})

    def start_import(self, client, method='glance-direct'):
        return client.post(self.path + '/import',
                           json={'method': {'name': method}})

    def wait_active(self):
        deadline = time.monotonic() + 60
        while self.owner.get(self.path).json()['status'] != 'active':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def test_stage_reader_403_other_project_404_member_204(self):
        self.assertStatus(403, self.stage(self.client('alpha-reader')))
        self.assertStatus(404, self.stage(self.client('beta-member')))
        self.assertStatus(204, self.stage(self.owner))

    def test_import_reader_403_other_project_404_member_202(self):
        self.assertStatus(204, self.stage(self.owner))
        self.assertStatus(403, self.start_import(self.client('alpha-reader')))
        self.assertStatus(404, self.start_import(self.client('beta-member')))
        self.assertStatus(202, self.start_import(self.owner))
        self.wait_active()

    def test_copy_image_member_403(self):
        self.assertStatus(204, self.stage(self.owner))
        self.assertStatus(202, self.start_import(self.owner))
        self.wait_active()
        self.assertStatus(403, self.start_import(self.owner, 'copy-image'))
        # Past the policy, an admin meets the single store: Glance's 404.
        self.assertStatus(404, self.start_import(self.client('admin'),
                                                 'copy-image'))

    def test_image_tasks_reader_200_other_project_404(self):
        self.assertStatus(204, self.stage(self.owner))
        self.assertStatus(202, self.start_import(self.owner))
        self.wait_active()
        response = self.client('alpha-reader').get(self.path + '/tasks')
        self.assertStatus(200, response)
        self.assertEqual(1, len(response.json()['tasks']))
        self.assertStatus(404, self.client('beta-member').get(
            self.path + '/tasks'))

    def test_tasks_api_admin_only(self):
        self.assertStatus(204, self.stage(self.owner))
        self.assertStatus(202, self.start_import(self.owner))
        self.wait_active()
        task_id = self.owner.get(self.path + '/tasks').json()['tasks'][0][
            'id']
        for user in ('alpha-member', 'alpha-reader', 'beta-member'):
            client = self.client(user)
            self.assertStatus(403, client.get('/v2/tasks'))
            self.assertStatus(403, client.get('/v2/tasks/%s' % task_id))
        admin = self.client('admin')
        self.assertStatus(200, admin.get('/v2/tasks/%s' % task_id))
        self.assertIn(task_id, [t['id'] for t in admin.get(
            '/v2/tasks').json()['tasks']])


def _command(variable, name):
    """A client command: the environment variable, else PATH."""
    return os.environ.get(variable) or shutil.which(name)


class TestImportClients(base.KeystoneServerTestCase):
    """``openstack image create --import`` and ``glance image-create-via-import``.

    The commands run as subprocesses with alpha-member's credentials; the
    test asserts on the image they leave.
    """

    def run_cli(self, variable, name, *args, extra_env=None, stdin=None):
        command = _command(variable, name)
        if command is None:
            if ks_fixtures.in_ci():
                self.fail('%s is not installed' % name)
            self.skipTest('%s is not installed' % name)
        server = self.keystone.server
        account = server.users['alpha-member']
        env = dict(os.environ, OS_AUTH_TYPE='password',
                   OS_AUTH_URL=server.auth_url, OS_IDENTITY_API_VERSION='3',
                   OS_REGION_NAME=server.region, OS_USERNAME='alpha-member',
                   OS_PASSWORD=account['password'],
                   OS_PROJECT_NAME=account['project'],
                   OS_USER_DOMAIN_NAME='Default',
                   OS_PROJECT_DOMAIN_NAME='Default', **(extra_env or {}))
        result = subprocess.run(
            [command] + list(args), env=env, capture_output=True,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            timeout=180)
        self.assertEqual(0, result.returncode, result.stderr)
        return result.stdout

    def data_file(self, payload):
        path = os.path.join(self.state_path, 'disk.raw')
        with open(path, 'wb') as out:
            for chunk in payload:
                out.write(chunk)
        return path

    def assertImported(self, name, payload):
        owner = self.client('alpha-member')
        deadline = time.monotonic() + 60
        while True:
            [image] = owner.get('/v2/images?name=%s' % name).json()['images']
            if image['status'] == 'active':
                break
            self.assertLess(time.monotonic(), deadline, image['status'])
            time.sleep(0.1)
        self.assertEqual((payload.size, payload.md5),
                         (image['size'], image['checksum']))
        tasks = owner.get('/v2/images/%s/tasks' % image['id']).json()
        self.assertEqual(['success'],
                         [t['status'] for t in tasks['tasks']])

    def test_openstack_image_create_import(self):
        payload = http_client.Payload(2 * 1024 * 1024 + 1)
        self.run_cli('IMAGEAPI_TEST_OPENSTACK_CLI', 'openstack',
                     'image', 'create', '--import', '--disk-format', 'raw',
                     '--container-format', 'bare', '--file',
                     self.data_file(payload), 'osc-import',
                     extra_env={'OS_IMAGE_ENDPOINT_OVERRIDE':
                                self.server.url})
        self.assertImported('osc-import', payload)

    def test_glance_image_create_via_import(self):
        # glanceclient takes the data from stdin when stdin is no terminal
        # (and refuses --file then), as in `glance ... < disk.raw`.
        payload = http_client.Payload(1024 * 1024 + 3, seed=2)
        with open(self.data_file(payload), 'rb') as data:
            self.run_cli('IMAGEAPI_TEST_GLANCE_CLI', 'glance',
                         '--os-image-url', self.server.url,
                         'image-create-via-import', '--disk-format', 'raw',
                         '--container-format', 'bare', '--name',
                         'glance-import', '--import-method', 'glance-direct',
                         stdin=data)
        self.assertImported('glance-import', payload)


class TestImportLimits(base.KeystoneServerTestCase):
    """image_stage_total and image_count_uploading on stage and import.

    tools/keystone/provision.py gives project beta image_stage_total 5 MiB
    and image_count_uploading 1.
    """

    def setUp(self):
        server = ks_fixtures.require_keystone(self)
        self.extra_config = {
            'DEFAULT': {'use_keystone_limits': 'true'},
            'oslo_limit': server.oslo_limit_options()}
        super().setUp()
        self.beta = self.client('beta-member')

    def stage(self, image_id, payload):
        return self.beta.put(
            '/v2/images/%s/stage' % image_id, body=iter(payload),
            headers={'Content-Type': 'application/octet-stream',
                     'Content-Length': str(payload.size)})

    def new_image(self):
        return self.beta.create_image(name='limited').json()['id']

    def usage(self):
        return self.beta.get('/v2/info/usage').json()['usage']

    def test_stage_over_image_stage_total_413(self):
        image_id = self.new_image()
        # Refused on its Content-Length before the body, as uploads are.
        conn = self.beta.begin(
            'PUT', '/v2/images/%s/stage' % image_id,
            headers={'Content-Type': 'application/octet-stream',
                     'Content-Length': str(6 * MiB)})
        self.addCleanup(conn.close)
        self.assertEqual(413, conn.getresponse().status)
        image = self.beta.get('/v2/images/%s' % image_id).json()
        self.assertEqual('queued', image['status'])
        self.assertEqual(0, self.usage()['image_stage_total']['usage'])

    def test_staged_data_counts_then_import_frees_it(self):
        first = self.new_image()
        self.assertStatus(204, self.stage(first, http_client.Payload(
            2 * MiB)))
        usage = self.usage()
        self.assertEqual((2, 1), (usage['image_stage_total']['usage'],
                                  usage['image_count_uploading']['usage']))
        second = self.new_image()
        self.assertStatus(413, self.stage(second, http_client.Payload(
            MiB)))
        self.assertEqual('queued', self.beta.get(
            '/v2/images/%s' % second).json()['status'])
        self.assertStatus(202, self.beta.post(
            '/v2/images/%s/import' % first,
            json={'method': {'name': 'glance-direct'}}))
        deadline = time.monotonic() + 60
        while self.beta.get('/v2/images/%s' % first).json()[
                'status'] != 'active':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        usage = self.usage()
        self.assertEqual((0, 0, 2), (usage['image_stage_total']['usage'],
                                     usage['image_count_uploading']['usage'],
                                     usage['image_size_total']['usage']))
