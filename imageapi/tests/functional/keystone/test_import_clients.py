"""web-download driven by the clients users have: openstacksdk and the openstack CLI.

The source is a loopback HTTP server of the test, allowed in the server's
[import_filtering_opts]; each test asserts on the image the client leaves.
"""

import hashlib
import os
import shutil
import subprocess
import time

import openstack

from imageapi.tests.functional.keystone import base
from imageapi.tests.functional.keystone import fixtures as ks_fixtures
from imageapi.tests import http_source


def _openstack_cli():
    """The ``openstack`` command: IMAGEAPI_TEST_OPENSTACK_CLI, else PATH."""
    return (os.environ.get('IMAGEAPI_TEST_OPENSTACK_CLI')
            or shutil.which('openstack'))


class TestImportClients(base.KeystoneServerTestCase):

    user = 'alpha-member'

    def setUp(self):
        self.source = self.useFixture(http_source.SourceServer())
        self.extra_config = {'import_filtering_opts': {
            'allowed_hosts': '[127.0.0.1]',
            'allowed_ports': '[%d]' % self.source.port}}
        super().setUp()
        self.data = os.urandom(300000)
        self.source.add('/image.raw', self.data)

    def credentials(self):
        server = self.keystone.server
        account = server.users[self.user]
        return {'auth_url': server.auth_url, 'username': self.user,
                'password': account['password'],
                'project_name': account['project'],
                'user_domain_name': 'Default',
                'project_domain_name': 'Default',
                'region_name': server.region}

    def wait_active(self, image_id, timeout=60):
        client = self.client(self.user)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            image = client.get('/v2/images/%s' % image_id).json()
            if image['status'] == 'active':
                return image
            time.sleep(0.05)
        tasks = client.get('/v2/images/%s/tasks' % image_id).json()
        self.fail('image %s is %s; tasks %r'
                  % (image_id, image['status'], tasks))

    def assertImportedData(self, image):
        self.assertEqual(len(self.data), image['size'])
        self.assertEqual(
            hashlib.md5(self.data, usedforsecurity=False).hexdigest(),
            image['checksum'])
        self.assertEqual(hashlib.sha512(self.data).hexdigest(),
                         image['os_hash_value'])
        self.assertEqual(self.project_id('alpha'), image['owner'])

    def test_openstacksdk_import_web_download(self):
        # The catalog names a fixed URL; this test's server has its own port.
        conn = openstack.connect(image_endpoint_override=self.server.url,
                                 **self.credentials())
        self.addCleanup(conn.close)
        image = conn.image.create_image(name='sdk-web',
                                        disk_format='raw',
                                        container_format='bare')
        conn.image.import_image(image, method='web-download',
                                uri=self.source.url('/image.raw'))
        self.assertImportedData(self.wait_active(image.id))
        self.assertEqual(
            'active', conn.image.get_image(image.id).status)

    def openstack(self, cli, env, *args):
        result = subprocess.run([cli] + list(args), env=env,
                                stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stderr)
        return result.stdout

    def test_openstack_cli_image_import_web_download(self):
        cli = _openstack_cli()
        if cli is None:
            if ks_fixtures.in_ci():
                self.fail('python-openstackclient is not installed')
            self.skipTest('python-openstackclient is not installed')
        creds = self.credentials()
        env = dict(os.environ, OS_AUTH_TYPE='password',
                   OS_AUTH_URL=creds['auth_url'],
                   OS_IDENTITY_API_VERSION='3',
                   OS_REGION_NAME=creds['region_name'],
                   OS_USERNAME=self.user, OS_PASSWORD=creds['password'],
                   OS_PROJECT_NAME=creds['project_name'],
                   OS_USER_DOMAIN_NAME='Default',
                   OS_PROJECT_DOMAIN_NAME='Default',
                   OS_IMAGE_ENDPOINT_OVERRIDE=self.server.url)
        # python-openstackclient 10.5's image create --import has no
        # --import-method, and its image create uploads a stdin that is not
        # a terminal (and fails with none): the image is made over the API.
        response = self.client(self.user).post('/v2/images', json={
            'name': 'cli-web', 'disk_format': 'raw',
            'container_format': 'bare'})
        self.assertStatus(201, response)
        image_id = response.json()['id']
        # --disallow-failure: without it the CLI sends
        # all_stores_must_succeed=false, which a single-store site refuses
        # with 400 (as Glance does), and the CLI does not report.
        self.openstack(cli, env, 'image', 'import', '--method',
                       'web-download', '--uri',
                       self.source.url('/image.raw'), '--disallow-failure',
                       image_id)
        self.assertImportedData(self.wait_active(image_id))
        self.assertEqual(['/image.raw'],
                         [p for p, _h in self.source.requests])
