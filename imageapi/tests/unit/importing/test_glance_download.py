"""glance-download: Glance's 400s, the catalog, and a remote Image API on loopback."""

import hashlib
import json

from imageapi.common import exception
from imageapi import context as imageapi_context
from imageapi.importing import errors
from imageapi.importing import methods
from imageapi.tests import base
from imageapi.tests import http_source

IMAGE = {'id': '0c6e3a0f-2a39-4bde-9a4f-3f4c6c9a4b21', 'status': 'queued',
         'disk_format': 'raw', 'container_format': 'bare'}
REMOTE_ID = '5b0e8f0e-2f5c-4b8e-8a8e-6d2a0c1e9b77'


def _body(**method):
    method.setdefault('name', 'glance-download')
    return {'method': method}


def _catalog(url, region='RegionTwo', form='v2'):
    if form == 'v2':
        endpoints = [{'region': region, 'publicURL': url,
                      'internalURL': url + '/internal'}]
    else:
        endpoints = [{'region_id': region, 'interface': 'public',
                      'url': url}]
    return [{'type': 'identity', 'endpoints': [
        {'region': region, 'publicURL': 'http://192.0.2.1/identity'}]},
        {'type': 'image', 'endpoints': endpoints}]


class GlanceDownloadTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.method = methods.METHODS['glance-download']
        self.remote = self.useFixture(http_source.SourceServer())
        self.flags(allowed_hosts=['127.0.0.1'],
                   allowed_ports=[self.remote.port],
                   group='import_filtering_opts')
        self.context = imageapi_context.RequestContext(
            auth_token='user-token', project_id='p1',
            service_catalog=_catalog(self.remote.url('')))
        self.data = b'remote image data' * 1000
        self.record = {
            'id': REMOTE_ID, 'status': 'active', 'size': len(self.data),
            'disk_format': 'qcow2', 'container_format': 'bare',
            'hw_disk_bus': 'scsi', 'os_distro': 'debian', 'owner_note': 'x',
            'os_glance_import_task': 'abc', 'checksum':
            hashlib.md5(self.data, usedforsecurity=False).hexdigest()}

    def serve(self, record=None, data=None):
        path = '/v2/images/%s' % REMOTE_ID
        self.remote.add(path, json.dumps(record or self.record).encode())
        self.remote.add(path + '/file', self.data if data is None else data)

    def validate(self, body, context=None):
        self.method.validate(self.conf, context or self.context, IMAGE, body)

    def open(self, body=None):
        body = body or _body(glance_region='RegionTwo',
                             glance_image_id=REMOTE_ID)
        self.validate(body)
        admin = imageapi_context.get_admin_context()
        source = self.method.open_source(self.conf, admin, IMAGE, body)
        self.addCleanup(source.close)
        return source

    def test_registered_by_name_not_enabled_by_default(self):
        self.assertEqual('glance-download', self.method.name)
        self.assertNotIn('glance-download', methods.enabled(self.conf))

    def test_validate_missing_region_400(self):
        exc = self.assertRaises(exception.BadRequest, self.validate,
                                _body(glance_image_id=REMOTE_ID))
        self.assertEqual("'glance_region' needs to be set for "
                         "glance-download import method", str(exc))

    def test_validate_missing_image_id_400(self):
        exc = self.assertRaises(exception.BadRequest, self.validate,
                                _body(glance_region='RegionTwo'))
        self.assertIn("'glance_image_id' needs to be set", str(exc))

    def test_validate_image_id_not_uuid_400(self):
        exc = self.assertRaises(exception.BadRequest, self.validate,
                                _body(glance_region='RegionTwo',
                                      glance_image_id='nope'))
        self.assertEqual('Remote image id does not look like a UUID: nope',
                         str(exc))

    def test_validate_interface_defaults_to_public(self):
        body = _body(glance_region='RegionTwo', glance_image_id=REMOTE_ID)
        self.validate(body)
        self.assertEqual('public', body['method']['glance_service_interface'])

    def test_validate_bad_interface_400(self):
        self.assertRaises(exception.BadRequest, self.validate, _body(
            glance_region='RegionTwo', glance_image_id=REMOTE_ID,
            glance_service_interface='private'))

    def test_open_source_reads_record_and_streams_data(self):
        self.serve()
        source = self.open()
        self.assertEqual(len(self.data), source.size)
        self.assertEqual({'disk_format': 'qcow2', 'container_format': 'bare',
                          'hw_disk_bus': 'scsi', 'os_distro': 'debian'},
                         source.properties)
        chunks = []
        while True:
            chunk = source.read(4096)
            if not chunk:
                break
            chunks.append(chunk)
        self.assertEqual(self.data, b''.join(chunks))
        self.assertEqual(
            ['user-token', 'user-token'],
            [h.get('X-Auth-Token') for _p, h in self.remote.requests])

    def test_open_source_configured_prefixes_copied(self):
        self.flags(extra_properties=['owner_'],
                   group='glance_download_properties')
        self.serve()
        self.assertEqual({'disk_format': 'qcow2', 'container_format': 'bare',
                          'owner_note': 'x'}, self.open().properties)

    def test_open_source_v3_catalog_and_region_case(self):
        self.context.service_catalog = _catalog(self.remote.url(''),
                                                region='regiontwo',
                                                form='v3')
        self.serve()
        self.assertEqual(len(self.data), self.open().size)

    def test_open_source_internal_interface_used(self):
        self.serve()
        exc = self.assertRaises(errors.SourceUnavailable, self.open, _body(
            glance_region='RegionTwo', glance_image_id=REMOTE_ID,
            glance_service_interface='internal'))
        self.assertIn('404', exc.message)
        self.assertEqual(['/internal/v2/images/%s' % REMOTE_ID],
                         [p for p, _h in self.remote.requests])

    def test_open_source_unknown_region_fails(self):
        exc = self.assertRaises(errors.SourceUnavailable, self.open, _body(
            glance_region='RegionNine', glance_image_id=REMOTE_ID))
        self.assertIn('No image service endpoint for region RegionNine',
                      exc.message)

    def test_open_source_remote_not_active_fails(self):
        self.serve(dict(self.record, status='queued'))
        exc = self.assertRaises(errors.SourceUnavailable, self.open)
        self.assertEqual('Source image status should be active instead of '
                         'queued', exc.message)

    def test_open_source_remote_missing_fails(self):
        exc = self.assertRaises(errors.SourceUnavailable, self.open)
        self.assertIn('404', exc.message)

    def test_open_source_data_length_differs_fails(self):
        self.serve(data=b'short')
        exc = self.assertRaises(errors.SourceUnavailable, self.open)
        self.assertIn('data is 5 bytes, its record says', exc.message)

    def test_open_source_endpoint_filtered(self):
        self.flags(allowed_hosts=[], group='import_filtering_opts')
        self.serve()
        exc = self.assertRaises(errors.SourceUnavailable, self.open)
        self.assertIn('does not pass filtering', exc.message)
        self.assertEqual([], self.remote.requests)

    def test_open_source_without_handed_over_caller_fails(self):
        admin = imageapi_context.get_admin_context()
        exc = self.assertRaises(
            errors.SourceUnavailable, self.method.open_source, self.conf,
            admin, dict(IMAGE, id='f0000000-0000-4000-8000-000000000000'),
            _body(glance_region='RegionTwo', glance_image_id=REMOTE_ID))
        self.assertIn('credentials of the import request', exc.message)
