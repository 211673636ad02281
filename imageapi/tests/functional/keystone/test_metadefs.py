"""The metadata definitions catalog with real keystone tokens: who reads, who writes.

Glance 33's defaults: a reader of a project reads the public namespaces and the
private ones of its project, another project's private namespace is a 404, only admins
write (403 for a member on what it can see). The last test drives the catalog with
``openstack image metadef namespace`` as a user would.
"""

import json
import os
import shutil
import subprocess

from imageapi.tests.functional.keystone import base
from imageapi.tests.functional.keystone import fixtures as ks_fixtures

NS = '/v2/metadefs/namespaces'


def _path(name, *rest):
    return '/'.join((NS, name) + rest)


class TestMetadefPolicies(base.KeystoneServerTestCase):

    def setUp(self):
        super().setUp()
        self.admin = self.client('admin')
        alpha = self.project_id('alpha')
        for body in ({'namespace': 'OS::Public', 'visibility': 'public',
                      'owner': alpha, 'tags': [{'name': 't'}]},
                     {'namespace': 'OS::AlphaPrivate', 'owner': alpha,
                      'objects': [{'name': 'o'}]},
                     {'namespace': 'OS::BetaPrivate',
                      'owner': self.project_id('beta')}):
            self.assertStatus(201, self.admin.post(NS, json=body))

    def listed(self, client):
        response = client.get(NS)
        self.assertStatus(200, response)
        return sorted(n['namespace'] for n in response.json()['namespaces'])

    def test_reader_lists_public_and_own_private(self):
        for user in ('alpha-reader', 'alpha-member'):
            self.assertEqual(['OS::AlphaPrivate', 'OS::Public'],
                             self.listed(self.client(user)))

    def test_admin_lists_every_namespace(self):
        self.assertEqual(['OS::AlphaPrivate', 'OS::BetaPrivate',
                          'OS::Public'], self.listed(self.admin))

    def test_reader_reads_own_private_and_its_parts(self):
        reader = self.client('alpha-reader')
        self.assertStatus(200, reader.get(_path('OS::AlphaPrivate')))
        self.assertStatus(200, reader.get(_path('OS::AlphaPrivate',
                                                'objects', 'o')))
        self.assertStatus(200, reader.get(_path('OS::Public', 'tags', 't')))

    def test_other_project_private_is_404(self):
        for user in ('alpha-reader', 'alpha-member'):
            client = self.client(user)
            self.assertStatus(404, client.get(_path('OS::BetaPrivate')))
            self.assertStatus(404, client.delete(_path('OS::BetaPrivate')))
            self.assertStatus(404, client.get(_path('OS::BetaPrivate',
                                                    'tags')))

    def test_other_project_reads_public(self):
        beta = self.client('beta-reader')
        self.assertStatus(200, beta.get(_path('OS::Public')))
        self.assertStatus(200, beta.get(_path('OS::Public', 'tags')))

    def test_member_and_reader_cannot_write(self):
        for user in ('alpha-member', 'alpha-reader', 'beta-member'):
            client = self.client(user)
            self.assertStatus(403, client.post(NS, json={'namespace': 'x'}))
            self.assertStatus(403, client.post(_path('OS::Public', 'tags',
                                                     'new')))
            self.assertStatus(403, client.put(_path('OS::Public'), json={
                'namespace': 'OS::Public'}))
            self.assertStatus(403, client.delete(_path('OS::Public')))
            self.assertStatus(403, client.post(
                _path('OS::Public', 'resource_types'),
                json={'name': 'OS::Glance::Image'}))

    def test_admin_writes_and_protected_refuses_delete(self):
        self.assertStatus(201, self.admin.post(NS, json={
            'namespace': 'OS::Protected', 'protected': True}))
        self.assertStatus(403, self.admin.delete(_path('OS::Protected')))
        self.assertStatus(200, self.admin.put(_path('OS::Protected'), json={
            'namespace': 'OS::Protected', 'protected': False}))
        self.assertStatus(204, self.admin.delete(_path('OS::Protected')))

    def test_without_token_is_401(self):
        self.assertStatus(401, self.client().get(NS))


def _openstack_cli():
    """The ``openstack`` command: IMAGEAPI_TEST_OPENSTACK_CLI, else PATH."""
    return (os.environ.get('IMAGEAPI_TEST_OPENSTACK_CLI')
            or shutil.which('openstack'))


class TestOpenStackClient(base.KeystoneServerTestCase):

    def setUp(self):
        super().setUp()
        self.cli = _openstack_cli()
        if self.cli is None:
            if ks_fixtures.in_ci():
                self.fail('python-openstackclient is not installed')
            self.skipTest('python-openstackclient is not installed')

    def openstack(self, *args, user='admin'):
        server = self.keystone.server
        account = server.users[user]
        env = dict(os.environ, OS_AUTH_TYPE='password',
                   OS_AUTH_URL=server.auth_url, OS_IDENTITY_API_VERSION='3',
                   OS_REGION_NAME=server.region, OS_USERNAME=user,
                   OS_PASSWORD=account['password'],
                   OS_PROJECT_NAME=account['project'],
                   OS_USER_DOMAIN_NAME='Default',
                   OS_PROJECT_DOMAIN_NAME='Default',
                   # The catalog names a fixed URL; this test's server has
                   # its own port.
                   OS_IMAGE_ENDPOINT_OVERRIDE=self.server.url)
        result = subprocess.run([self.cli] + list(args), env=env,
                                capture_output=True, text=True, timeout=120)
        return result

    def ok(self, *args, **kwargs):
        result = self.openstack(*args, **kwargs)
        self.assertEqual(0, result.returncode, result.stderr)
        return result.stdout

    def test_namespace_create_list_show_delete(self):
        created = json.loads(self.ok(
            'image', 'metadef', 'namespace', 'create', '--public',
            '--display-name', 'From the CLI', '--description', 'd',
            'OS::CLI::Test', '-f', 'json'))
        self.assertEqual('OS::CLI::Test', created['namespace'])

        listed = json.loads(self.ok('image', 'metadef', 'namespace', 'list',
                                    '-f', 'json', user='alpha-reader'))
        self.assertIn('OS::CLI::Test',
                      [row.get('Namespace', row.get('namespace'))
                       for row in listed])

        shown = json.loads(self.ok('image', 'metadef', 'namespace', 'show',
                                   'OS::CLI::Test', '-f', 'json'))
        self.assertEqual('From the CLI', shown['display_name'])
        self.assertEqual('public', shown['visibility'])

        refused = self.openstack('image', 'metadef', 'namespace', 'delete',
                                 'OS::CLI::Test', user='alpha-member')
        self.assertNotEqual(0, refused.returncode)

        self.ok('image', 'metadef', 'namespace', 'delete', 'OS::CLI::Test')
        gone = self.openstack('image', 'metadef', 'namespace', 'show',
                              'OS::CLI::Test')
        self.assertNotEqual(0, gone.returncode)
