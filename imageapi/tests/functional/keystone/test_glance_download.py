"""glance-download between two imageapi-api servers and a real keystone.

A second imageapi-api, with its own database and store, is registered in the
keystone catalog as the image service of a region of its own; the first one
imports from it with the caller's token and the endpoint its catalog names.
"""

import hashlib
import http.client
import json
import os
import time
import urllib.parse
import uuid

import fixtures
import openstack
from testtools import content

from imageapi.tests.functional import base as functional_base
from imageapi.tests.functional.keystone import fixtures as ks_fixtures
from imageapi.tests.functional import server as server_fixture

TERMINAL_TASK = ('success', 'failure')


class CatalogRegion(fixtures.Fixture):
    """A keystone region with an image endpoint at ``url`` (public), removed after."""

    def __init__(self, keystone, url):
        super().__init__()
        self.keystone = keystone
        self.url = url
        self.region = 'Region-%s' % uuid.uuid4().hex[:8]

    def _call(self, method, path, body=None, expect=(201, 204)):
        parsed = urllib.parse.urlsplit(self.keystone.auth_url)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port,
                                          timeout=60)
        try:
            conn.request(method, parsed.path.rstrip('/') + path,
                         body=json.dumps(body) if body else None,
                         headers={'X-Auth-Token':
                                  self.keystone.token('admin', 'admin'),
                                  'Content-Type': 'application/json'})
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        if response.status not in expect:
            raise ks_fixtures.KeystoneError('%s %s: %d %r' % (
                method, path, response.status, raw[:300]))
        return json.loads(raw) if raw else None

    def _setUp(self):
        self._call('POST', '/regions', {'region': {'id': self.region}})
        self.addCleanup(self._call, 'DELETE', '/regions/%s' % self.region)
        endpoint = self._call('POST', '/endpoints', {'endpoint': {
            'service_id': self.keystone.info['image_service_id'],
            'interface': 'public', 'region_id': self.region,
            'url': self.url}})['endpoint']
        self.addCleanup(self._call, 'DELETE',
                        '/endpoints/%s' % endpoint['id'])


class TestGlanceDownload(functional_base.RealServerTestCase):

    def setUp(self):
        super().setUp()
        self.keystone = ks_fixtures.require_keystone(self)
        self.remote = self.start_imageapi('remote')
        self.region = self.useFixture(
            CatalogRegion(self.keystone, self.remote.url)).region
        port = self.remote.port
        self.local = self.start_imageapi('local', {
            'DEFAULT': {'enabled_import_methods':
                        'glance-direct,web-download,glance-download'},
            'import_filtering_opts': {'allowed_hosts': '[127.0.0.1]',
                                      'allowed_ports': '[%d]' % port}})
        self.server = self.local  # whose log a failure attaches

    def start_imageapi(self, name, extra=None):
        state = self.useFixture(fixtures.TempDir()).path
        config = self.keystone.write_imageapi_config(
            os.path.join(state, 'imageapi.conf'), extra)
        server = server_fixture.Server(state, args=['--config-file', config])
        self.addOnException(lambda exc_info, s=server, n=name: self.addDetail(
            'imageapi-api-%s-log' % n,
            content.text_content(s.log())))
        return self.useFixture(server)

    def client(self, server, user='alpha-member'):
        return server.client(headers={
            'X-Auth-Token': self.keystone.token(user)})

    def remote_image(self, data, user='alpha-member', **fields):
        client = self.client(self.remote, user)
        fields = dict({'disk_format': 'raw', 'container_format': 'bare',
                       'name': 'source'}, **fields)
        image = client.post('/v2/images', json=fields).json()
        self.assertStatus(204, client.upload(image['id'], data))
        return client.get('/v2/images/%s' % image['id']).json()

    def import_from(self, remote_id, expect=202, **extra):
        client = self.client(self.local)
        response = client.post('/v2/images', json={
            'disk_format': 'raw', 'container_format': 'bare',
            'name': 'copy'})
        self.assertStatus(201, response)
        image_id = response.json()['id']
        method = dict({'name': 'glance-download',
                       'glance_region': self.region,
                       'glance_image_id': remote_id}, **extra)
        response = client.post('/v2/images/%s/import' % image_id,
                               json={'method': method})
        self.assertStatus(expect, response)
        return image_id, response

    def wait_for_task(self, image_id, timeout=60):
        client = self.client(self.local)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tasks = client.get('/v2/images/%s/tasks' % image_id).json()[
                'tasks']
            if tasks and tasks[0]['status'] in TERMINAL_TASK:
                return tasks[0]
            time.sleep(0.05)
        self.fail('the import of image %s did not finish' % image_id)

    def local_image(self, image_id):
        return self.client(self.local).get(
            '/v2/images/%s' % image_id).json()

    def local_image_files(self):
        images = os.path.join(self.local.state_path, 'images')
        return sorted(n for n in os.listdir(images) if n != '.tmp') \
            if os.path.isdir(images) else []

    def test_glance_download_copies_data_and_properties(self):
        data = os.urandom(200000)
        remote = self.remote_image(data, hw_disk_bus='scsi',
                                   os_distro='debian', team='infra')
        image_id, _response = self.import_from(remote['id'])
        task = self.wait_for_task(image_id)
        self.assertEqual('success', task['status'], task.get('message'))
        image = self.local_image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(len(data), image['size'])
        self.assertEqual(hashlib.md5(data, usedforsecurity=False).hexdigest(),
                         image['checksum'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         image['os_hash_value'])
        self.assertEqual(remote['os_hash_value'], image['os_hash_value'])
        self.assertEqual('scsi', image['hw_disk_bus'])
        self.assertEqual('debian', image['os_distro'])
        self.assertNotIn('team', image)
        download = self.client(self.local).download(image_id)
        self.assertEqual(200, download.status)
        self.assertEqual(data, download.body)

    def test_openstacksdk_import_glance_download(self):
        data = os.urandom(50000)
        remote = self.remote_image(data)
        account = self.keystone.users['alpha-member']
        # The catalog names a fixed URL for RegionOne; the local server has
        # its own port.
        conn = openstack.connect(
            auth_url=self.keystone.auth_url, username='alpha-member',
            password=account['password'], project_name=account['project'],
            user_domain_name='Default', project_domain_name='Default',
            region_name=self.keystone.region,
            image_endpoint_override=self.local.url)
        self.addCleanup(conn.close)
        image = conn.image.create_image(name='sdk-copy', disk_format='raw',
                                        container_format='bare')
        # NOTE: openstacksdk (4.22) sends glance_region and glance_image_id
        # only when remote_service_interface is given too.
        response = conn.image.import_image(
            image, method='glance-download', remote_region=self.region,
            remote_image_id=remote['id'], remote_service_interface='public')
        self.assertEqual(202, response.status_code, response.text)
        task = self.wait_for_task(image.id)
        self.assertEqual('success', task['status'], task.get('message'))
        found = conn.image.get_image(image.id)
        self.assertEqual('active', found.status)
        self.assertEqual(remote['checksum'], found.checksum)
        self.assertEqual(remote['os_hash_value'], found.hash_value)

    def test_glance_download_other_projects_private_image_fails(self):
        remote = self.remote_image(b'secret' * 1000, user='beta-member')
        image_id, _response = self.import_from(remote['id'])
        task = self.wait_for_task(image_id)
        self.assertEqual('failure', task['status'])
        self.assertIn('404', task['message'])
        image = self.local_image(image_id)
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
        self.assertEqual([], self.local_image_files())

    def test_glance_download_unknown_region_fails(self):
        image_id, _response = self.import_from(
            str(uuid.uuid4()), glance_region='RegionNowhere')
        task = self.wait_for_task(image_id)
        self.assertEqual('failure', task['status'])
        self.assertIn('No image service endpoint for region RegionNowhere',
                      task['message'])
        self.assertEqual('queued', self.local_image(image_id)['status'])

    def test_glance_download_bad_remote_id_400(self):
        _image_id, response = self.import_from('not-a-uuid', expect=400)
        self.assertIn('Remote image id does not look like a UUID',
                      response.body.decode())
