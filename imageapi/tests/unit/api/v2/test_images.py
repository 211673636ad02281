"""API tests of image create, show and delete, and of the tag calls, as Glance answers them."""

import datetime
import os
import re


from imageapi.db import images as db_images
from imageapi.store import filesystem
from imageapi.tests.unit.api.v2 import base

_TIME_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
# What Glance's create response holds for a body that sets no extras.
_GLANCE_CREATE_KEYS = frozenset([
    'checksum', 'container_format', 'created_at', 'disk_format', 'file',
    'id', 'min_disk', 'min_ram', 'name', 'os_hash_algo', 'os_hash_value',
    'os_hidden', 'owner', 'protected', 'schema', 'self', 'size', 'status',
    'tags', 'updated_at', 'virtual_size', 'visibility'])


class CreateImageTest(base.APITestCase):

    def test_create_minimal_body_returns_201(self):
        resp = self.api_post('/v2/images', json_body={'name': 'cirros'})

        self.assertEqual(201, resp.status_int)
        self.assertEqual('cirros', resp.json['name'])

    def test_create_minimal_body_returns_glance_keys(self):
        image = self.create_image(name='cirros')

        self.assertEqual(_GLANCE_CREATE_KEYS, frozenset(image))

    def test_create_response_sets_location_header_to_image(self):
        resp = self.api_post('/v2/images', json_body={})

        self.assertTrue(resp.location.endswith(
            '/v2/images/%s' % resp.json['id']), resp.location)

    def test_create_response_lists_import_methods(self):
        resp = self.api_post('/v2/images', json_body={})

        self.assertEqual('glance-direct,web-download,copy-image',
                         resp.headers['OpenStack-image-import-methods'])

    def test_create_response_has_no_empty_import_methods_header(self):
        # RFC 7230 has no empty fields; Glance sends the header only when
        # import methods are enabled.
        self.flags(enabled_import_methods=[])
        resp = self.api_post('/v2/images', json_body={})

        self.assertNotIn('OpenStack-image-import-methods', resp.headers)

    def test_create_without_id_generates_uuid(self):
        image = self.create_image()

        self.assertRegex(image['id'], r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                                      r'[0-9a-f]{4}-[0-9a-f]{12}$')

    def test_create_twice_generates_distinct_ids(self):
        self.assertNotEqual(self.create_image()['id'],
                            self.create_image()['id'])

    def test_create_minimal_body_has_glance_defaults(self):
        image = self.create_image()

        expected = {'status': 'queued', 'visibility': 'shared',
                    'protected': False, 'os_hidden': False, 'min_disk': 0,
                    'min_ram': 0, 'tags': [], 'name': None}
        self.assertEqual(expected, {k: image[k] for k in expected})

    def test_create_minimal_body_has_null_data_fields(self):
        image = self.create_image()

        for key in ('size', 'virtual_size', 'checksum', 'os_hash_algo',
                    'os_hash_value', 'disk_format', 'container_format'):
            self.assertIsNone(image[key], key)

    def test_create_sets_owner_to_caller_project(self):
        image = self.create_image(_project=base.PROJECT_B)

        self.assertEqual(base.PROJECT_B, image['owner'])

    def test_create_timestamps_are_iso8601_utc_seconds(self):
        image = self.create_image()

        self.assertRegex(image['created_at'], _TIME_RE)
        self.assertEqual(image['created_at'], image['updated_at'])

    def test_create_timestamps_come_from_the_clock(self):
        self.freeze_time(datetime.datetime(2024, 2, 29, 13, 5, 7))

        image = self.create_image()

        self.assertEqual('2024-02-29T13:05:07Z', image['created_at'])

    def test_create_response_has_self_file_schema_links(self):
        image = self.create_image()

        self.assertEqual('/v2/images/%s' % image['id'], image['self'])
        self.assertEqual('/v2/images/%s/file' % image['id'], image['file'])
        self.assertEqual('/v2/schemas/image', image['schema'])

    def test_create_with_valid_uuid_uses_it(self):
        image_id = self.new_id()

        image = self.create_image(id=image_id)

        self.assertEqual(image_id, image['id'])
        self.assertEqual(image_id, self.show_image(image_id)['id'])

    def test_create_with_existing_id_returns_409(self):
        image_id = self.create_image()['id']

        resp = self.api_post('/v2/images', json_body={'id': image_id})

        self.assertFault(resp, 409, image_id)

    def test_create_with_id_of_other_projects_image_returns_409(self):
        image_id = self.create_image(visibility='private')['id']

        resp = self.api_post('/v2/images', json_body={'id': image_id},
                             project=base.PROJECT_B)

        self.assertFault(resp, 409)

    def test_create_with_id_of_deleted_image_returns_409(self):
        image_id = self.create_image()['id']
        self.assertEqual(204, self.api_delete(
            self.image_path(image_id)).status_int)

        resp = self.api_post('/v2/images', json_body={'id': image_id})

        self.assertFault(resp, 409)

    def test_create_with_malformed_uuid_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'id': 'not-a-uuid'})

        self.assertFault(resp, 400, "does not match schema 'image'")

    def test_create_stores_extra_properties_as_strings(self):
        image = self.create_image(name='x', os_distro='ubuntu', foo='bar')

        shown = self.show_image(image['id'])
        self.assertEqual('ubuntu', shown['os_distro'])
        self.assertEqual('bar', shown['foo'])

    def test_create_extra_property_integer_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'foo': 1})

        self.assertFault(resp, 400, "does not match schema 'image'")

    def test_create_extra_property_null_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'foo': None})

        self.assertFault(resp, 400)

    def test_create_kernel_id_null_is_accepted(self):
        image = self.create_image(kernel_id=None)

        self.assertIsNone(image['kernel_id'])

    def test_create_kernel_id_not_uuid_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'kernel_id': 'k'})

        self.assertFault(resp, 400)

    def test_create_property_name_256_chars_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'p' * 256: 'v'})

        self.assertFault(resp, 400, 'Custom property should not be greater '
                                    'than 255 characters.')

    def test_create_property_name_255_chars_is_accepted(self):
        image = self.create_image(**{'p' * 255: 'v'})

        self.assertEqual('v', image['p' * 255])

    def test_create_known_formats_are_stored(self):
        image = self.create_image(disk_format='qcow2',
                                  container_format='bare')

        self.assertEqual(('qcow2', 'bare'),
                         (image['disk_format'], image['container_format']))

    def test_create_unknown_disk_format_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'disk_format': 'xyz'})

        self.assertFault(resp, 400, "does not match schema 'image'")

    def test_create_unknown_container_format_returns_400(self):
        resp = self.api_post('/v2/images',
                             json_body={'container_format': 'xyz'})

        self.assertFault(resp, 400, "does not match schema 'image'")

    def test_create_disk_format_added_in_config_is_accepted(self):
        self.flags(disk_formats=['raw', 'xyz'], group='image_format')
        self.app = self.load_app()

        image = self.create_image(disk_format='xyz')

        self.assertEqual('xyz', image['disk_format'])

    def test_create_disk_format_removed_from_config_returns_400(self):
        self.flags(disk_formats=['raw'], group='image_format')
        self.app = self.load_app()

        resp = self.api_post('/v2/images', json_body={'disk_format': 'qcow2'})

        self.assertFault(resp, 400)

    def test_create_name_255_chars_is_accepted(self):
        image = self.create_image(name='n' * 255)

        self.assertEqual('n' * 255, image['name'])

    def test_create_name_256_chars_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'name': 'n' * 256})

        self.assertFault(resp, 400, "does not match schema 'image'")

    def test_create_protected_not_boolean_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'protected': 'yes'})

        self.assertFault(resp, 400)

    def test_create_negative_min_ram_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'min_ram': -1})

        self.assertFault(resp, 400, 'min_ram')

    def test_create_min_disk_over_int32_returns_400(self):
        # Glance refuses values its INT columns cannot hold (400, not 500).
        resp = self.api_post('/v2/images', json_body={'min_disk': 2 ** 31})

        self.assertFault(resp, 400, 'min_disk')

    def test_create_min_disk_int32_max_is_accepted(self):
        image = self.create_image(min_disk=2 ** 31 - 1)

        self.assertEqual(2 ** 31 - 1, image['min_disk'])

    def test_create_stores_tags_sorted_without_duplicates(self):
        image = self.create_image(tags=['b', 'a', 'b'])

        self.assertEqual(['a', 'b'], image['tags'])

    def test_create_tag_256_chars_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'tags': ['t' * 256]})

        self.assertFault(resp, 400)

    def test_create_tags_not_a_list_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'tags': 'a'})

        self.assertFault(resp, 400)

    # -------------------------------------------------- read-only, reserved
    def _assert_create_forbidden(self, body, message):
        resp = self.api_post('/v2/images', json_body=body)
        self.assertFault(resp, 403, message)
        list_resp = self.api_get('/v2/images', admin=True)
        self.assertEqual([], list_resp.json['images'])

    def test_create_with_status_returns_403(self):
        self._assert_create_forbidden({'status': 'active'},
                                      "Attribute 'status' is read-only.")

    def test_create_with_size_returns_403(self):
        self._assert_create_forbidden({'size': 1},
                                      "Attribute 'size' is read-only.")

    def test_create_with_virtual_size_returns_403(self):
        self._assert_create_forbidden(
            {'virtual_size': 1}, "Attribute 'virtual_size' is read-only.")

    def test_create_with_checksum_returns_403(self):
        self._assert_create_forbidden({'checksum': 'a' * 32},
                                      "Attribute 'checksum' is read-only.")

    def test_create_with_os_hash_algo_returns_403(self):
        self._assert_create_forbidden(
            {'os_hash_algo': 'sha512'},
            "Attribute 'os_hash_algo' is read-only.")

    def test_create_with_os_hash_value_returns_403(self):
        self._assert_create_forbidden(
            {'os_hash_value': 'ab'}, "Attribute 'os_hash_value' is read-only.")

    def test_create_with_created_at_returns_403(self):
        self._assert_create_forbidden(
            {'created_at': '2020-01-01T00:00:00Z'},
            "Attribute 'created_at' is read-only.")

    def test_create_with_updated_at_returns_403(self):
        self._assert_create_forbidden(
            {'updated_at': '2020-01-01T00:00:00Z'},
            "Attribute 'updated_at' is read-only.")

    def test_create_with_self_returns_403(self):
        self._assert_create_forbidden({'self': '/v2/images/x'},
                                      "Attribute 'self' is read-only.")

    def test_create_with_file_returns_403(self):
        self._assert_create_forbidden({'file': '/x'},
                                      "Attribute 'file' is read-only.")

    def test_create_with_schema_returns_403(self):
        self._assert_create_forbidden({'schema': '/x'},
                                      "Attribute 'schema' is read-only.")

    def test_create_with_direct_url_returns_403(self):
        self._assert_create_forbidden(
            {'direct_url': 'file:///x'}, "Attribute 'direct_url' is read-only.")

    def test_create_with_stores_returns_403(self):
        self._assert_create_forbidden({'stores': 'a'},
                                      "Attribute 'stores' is read-only.")

    def test_create_with_locations_returns_403_reserved(self):
        self._assert_create_forbidden(
            {'locations': []}, "Attribute 'locations' is reserved.")

    def test_create_with_location_returns_403_reserved(self):
        self._assert_create_forbidden({'location': 'file:///x'},
                                      "Attribute 'location' is reserved.")

    def test_create_with_deleted_returns_403_reserved(self):
        self._assert_create_forbidden({'deleted': 'true'},
                                      "Attribute 'deleted' is reserved.")

    def test_create_with_deleted_at_returns_403_reserved(self):
        self._assert_create_forbidden({'deleted_at': 'x'},
                                      "Attribute 'deleted_at' is reserved.")

    def test_create_with_os_glance_property_returns_403_reserved(self):
        self._assert_create_forbidden(
            {'os_glance_import_task': 'x'},
            "Attribute 'os_glance_import_task' is reserved.")

    def test_create_read_only_link_is_checked_before_schema(self):
        # Glance rejects self/file/schema/direct_url/stores before
        # validating the body, so a bad disk_format does not mask it.
        resp = self.api_post('/v2/images',
                             json_body={'self': 'x', 'disk_format': 'bad'})

        self.assertFault(resp, 403)

    def test_create_read_only_status_is_checked_after_schema(self):
        resp = self.api_post('/v2/images',
                             json_body={'status': 'active',
                                        'disk_format': 'bad'})

        self.assertFault(resp, 400)

    # -------------------------------------------------- request format
    def test_create_malformed_json_returns_400(self):
        resp = self.api_request('POST', '/v2/images', body=b'{"name": ',
                                content_type=base.JSON)

        self.assertFault(resp, 400, 'Malformed JSON')

    def test_create_json_array_body_returns_400(self):
        resp = self.api_post('/v2/images', json_body=[{'name': 'x'}])

        self.assertFault(resp, 400)

    def test_create_wrong_content_type_returns_415(self):
        resp = self.api_request('POST', '/v2/images', body=b'{}',
                                content_type='text/plain')

        self.assertFault(resp, 415, 'text/plain')

    def test_create_without_content_type_returns_415(self):
        resp = self.api_request('POST', '/v2/images', body=b'{}')

        self.assertFault(resp, 415)

    def test_create_json_with_charset_is_accepted(self):
        resp = self.api_request('POST', '/v2/images', body=b'{}',
                                content_type='application/json; '
                                             'charset=UTF-8')

        self.assertEqual(201, resp.status_int, resp.text)

    # -------------------------------------------------- policy
    def test_create_non_admin_for_other_owner_returns_403(self):
        resp = self.api_post('/v2/images',
                             json_body={'owner': base.PROJECT_B})

        self.assertFault(resp, 403)

    def test_create_non_admin_with_own_project_as_owner_returns_201(self):
        image = self.create_image(owner=base.PROJECT_A)

        self.assertEqual(base.PROJECT_A, image['owner'])

    def test_create_admin_for_other_owner_returns_201(self):
        image = self.create_image(owner=base.PROJECT_B, _admin=True)

        self.assertEqual(base.PROJECT_B, image['owner'])

    def test_create_non_admin_public_returns_403(self):
        resp = self.api_post('/v2/images', json_body={'visibility': 'public'})

        self.assertFault(resp, 403, 'publicize_image')

    def test_create_admin_public_returns_201(self):
        image = self.create_image(visibility='public', _admin=True)

        self.assertEqual('public', image['visibility'])

    def test_create_non_admin_community_returns_201(self):
        image = self.create_image(visibility='community')

        self.assertEqual('community', image['visibility'])

    def test_create_non_admin_private_returns_201(self):
        image = self.create_image(visibility='private')

        self.assertEqual('private', image['visibility'])

    def test_create_unknown_visibility_returns_400(self):
        resp = self.api_post('/v2/images', json_body={'visibility': 'open'})

        self.assertFault(resp, 400)

    # -------------------------------------------------- quotas
    def test_create_over_property_quota_returns_413(self):
        self.flags(image_property_quota=2)

        resp = self.api_post('/v2/images',
                             json_body={'a': '1', 'b': '2', 'c': '3'})

        self.assertFault(resp, 413, 'Maximum: 2')

    def test_create_at_property_quota_returns_201(self):
        self.flags(image_property_quota=2)

        self.create_image(a='1', b='2', name='core fields do not count')

    def test_create_unlimited_property_quota_returns_201(self):
        self.flags(image_property_quota=-1)

        self.create_image(**{'p%d' % i: 'v' for i in range(200)})

    def test_create_over_tag_quota_returns_413(self):
        self.flags(image_tag_quota=2)

        resp = self.api_post('/v2/images', json_body={'tags': ['a', 'b', 'c']})

        self.assertFault(resp, 413)

    def test_create_duplicate_tags_count_once_for_quota(self):
        self.flags(image_tag_quota=2)

        image = self.create_image(tags=['a', 'b', 'a'])

        self.assertEqual(['a', 'b'], image['tags'])


class ShowImageTest(base.APITestCase):

    def test_show_own_image_returns_200_with_create_body(self):
        created = self.create_image(name='x', foo='bar')

        resp = self.api_get(self.image_path(created['id']))

        self.assertEqual(200, resp.status_int)
        self.assertEqual(created, resp.json)

    def test_show_unknown_id_returns_404(self):
        resp = self.api_get(self.image_path(self.new_id()))

        self.assertFault(resp, 404, 'No image found')

    def test_show_malformed_id_returns_404(self):
        resp = self.api_get(self.image_path('not-a-uuid'))

        self.assertFault(resp, 404)

    def test_show_deleted_image_returns_404(self):
        image_id = self.create_image()['id']
        self.api_delete(self.image_path(image_id))

        resp = self.api_get(self.image_path(image_id), admin=True)

        self.assertFault(resp, 404)

    def test_show_other_projects_private_image_returns_404(self):
        image_id = self.create_image(visibility='private')['id']

        resp = self.api_get(self.image_path(image_id), project=base.PROJECT_B)

        self.assertFault(resp, 404)

    def test_show_other_projects_shared_image_returns_404(self):
        image_id = self.create_image(visibility='shared')['id']

        resp = self.api_get(self.image_path(image_id), project=base.PROJECT_B)

        self.assertFault(resp, 404)

    def test_show_other_projects_public_image_returns_200(self):
        image_id = self.create_image(visibility='public', _admin=True)['id']

        resp = self.api_get(self.image_path(image_id), project=base.PROJECT_B)

        self.assertEqual(200, resp.status_int)

    def test_show_other_projects_community_image_returns_200(self):
        image_id = self.create_image(visibility='community')['id']

        resp = self.api_get(self.image_path(image_id), project=base.PROJECT_B)

        self.assertEqual(200, resp.status_int)

    def test_show_admin_sees_other_projects_private_image(self):
        image_id = self.create_image(visibility='private')['id']

        resp = self.api_get(self.image_path(image_id), project=base.PROJECT_B,
                            admin=True)

        self.assertEqual(200, resp.status_int)

    def test_show_active_image_has_size_and_hashes(self):
        image_id = self.create_image(disk_format='raw',
                                     container_format='bare')['id']
        self.activate_image(image_id, b'0123456789')

        image = self.show_image(image_id)

        self.assertEqual('active', image['status'])
        self.assertEqual(10, image['size'])
        self.assertEqual('781e5e245d69b566979b86e28d23f2c7', image['checksum'])
        self.assertEqual('sha512', image['os_hash_algo'])
        self.assertEqual(128, len(image['os_hash_value']))

    def test_show_hides_direct_url_by_default(self):
        image_id = self.create_image()['id']
        self.activate_image(image_id)

        self.assertNotIn('direct_url', self.show_image(image_id))

    def test_show_with_direct_url_enabled_returns_it(self):
        self.flags(show_image_direct_url=True)
        image_id = self.create_image()['id']
        self.activate_image(image_id)

        image = self.show_image(image_id)

        self.assertEqual('file://%s' % os.path.join(self.datadir, image_id),
                         image['direct_url'])

    def test_show_with_locations_enabled_returns_them(self):
        self.flags(show_multiple_locations=True)
        image_id = self.create_image()['id']
        self.activate_image(image_id)

        image = self.show_image(image_id)

        url = 'file://%s' % os.path.join(self.datadir, image_id)
        self.assertEqual([{'url': url, 'metadata': {}}], image['locations'])

    def test_show_hides_internal_stage_host_property(self):
        image_id = self.create_image()['id']
        db_images.image_update(self.context(admin=True), image_id, {},
                               properties={'os_glance_stage_host': 'h'})

        self.assertNotIn('os_glance_stage_host', self.show_image(image_id))


class DeleteImageTest(base.APITestCase):

    def test_delete_own_image_returns_204_without_body(self):
        image_id = self.create_image()['id']

        resp = self.api_delete(self.image_path(image_id))

        self.assertEqual(204, resp.status_int)
        self.assertEqual(b'', resp.body)

    def test_delete_then_show_returns_404(self):
        image_id = self.create_image()['id']
        self.api_delete(self.image_path(image_id))

        self.assertFault(self.api_get(self.image_path(image_id)), 404)

    def test_delete_twice_returns_404(self):
        image_id = self.create_image()['id']
        self.api_delete(self.image_path(image_id))

        self.assertFault(self.api_delete(self.image_path(image_id)), 404)

    def test_delete_leaves_image_out_of_list(self):
        image_id = self.create_image()['id']
        other_id = self.create_image()['id']
        self.api_delete(self.image_path(image_id))

        images = self.api_get('/v2/images').json['images']

        self.assertEqual([other_id], [i['id'] for i in images])

    def test_delete_unknown_image_returns_404(self):
        self.assertFault(self.api_delete(self.image_path(self.new_id())), 404)

    def test_delete_protected_image_returns_403(self):
        image_id = self.create_image(protected=True)['id']

        resp = self.api_delete(self.image_path(image_id))

        self.assertFault(resp, 403, 'protected')
        self.assertEqual('queued', self.show_image(image_id)['status'])

    def test_delete_non_owner_of_public_image_returns_403(self):
        image_id = self.create_image(visibility='public', _admin=True,
                                     owner=base.PROJECT_A)['id']

        resp = self.api_delete(self.image_path(image_id),
                               project=base.PROJECT_B)

        self.assertFault(resp, 403, 'delete_image')

    def test_delete_non_owner_of_private_image_returns_404(self):
        image_id = self.create_image(visibility='private')['id']

        resp = self.api_delete(self.image_path(image_id),
                               project=base.PROJECT_B)

        self.assertFault(resp, 404)
        self.assertEqual('queued', self.show_image(image_id)['status'])

    def test_delete_admin_of_other_projects_image_returns_204(self):
        image_id = self.create_image()['id']

        resp = self.api_delete(self.image_path(image_id),
                               project=base.ADMIN_PROJECT, admin=True)

        self.assertEqual(204, resp.status_int)

    def test_delete_active_image_removes_data_file(self):
        image_id = self.create_image()['id']
        self.activate_image(image_id, b'x' * 100)
        path = os.path.join(self.datadir, image_id)
        self.assertTrue(os.path.exists(path))

        self.api_delete(self.image_path(image_id))

        self.assertFalse(os.path.exists(path))

    def test_delete_active_image_with_data_already_gone_returns_204(self):
        image_id = self.create_image()['id']
        self.activate_image(image_id)
        os.unlink(os.path.join(self.datadir, image_id))

        resp = self.api_delete(self.image_path(image_id))

        self.assertEqual(204, resp.status_int)

    def test_delete_store_failure_still_returns_204(self):
        # The record is gone first; leftover data is logged, not an error.
        image_id = self.create_image()['id']
        self.activate_image(image_id)
        self.patch(filesystem.FilesystemDriver, 'delete', _raise_runtime_error)

        resp = self.api_delete(self.image_path(image_id))

        self.assertEqual(204, resp.status_int)
        self.assertFault(self.api_get(self.image_path(image_id)), 404)


def _raise_runtime_error(*args, **kwargs):
    raise RuntimeError('store exploded')


class ImageTagsTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image(tags=['old'])['id']

    def tag_path(self, tag, image_id=None):
        return '/v2/images/%s/tags/%s' % (image_id or self.image_id, tag)

    def test_add_tag_returns_204_without_body(self):
        resp = self.api_put(self.tag_path('new'))

        self.assertEqual(204, resp.status_int)
        self.assertEqual(b'', resp.body)

    def test_add_tag_shows_in_image(self):
        self.api_put(self.tag_path('new'))

        self.assertEqual(['new', 'old'], self.show_image(self.image_id)['tags'])

    def test_add_existing_tag_is_idempotent(self):
        resp = self.api_put(self.tag_path('old'))

        self.assertEqual(204, resp.status_int)
        self.assertEqual(['old'], self.show_image(self.image_id)['tags'])

    def test_add_tag_with_url_encoded_space_decodes_it(self):
        self.api_put(self.tag_path('two%20words'))

        self.assertIn('two words', self.show_image(self.image_id)['tags'])

    def test_add_tag_255_chars_returns_204(self):
        self.assertEqual(204, self.api_put(self.tag_path('t' * 255)).status_int)

    def test_add_tag_256_chars_returns_400(self):
        resp = self.api_put(self.tag_path('t' * 256))

        self.assertFault(resp, 400)
        self.assertEqual(['old'], self.show_image(self.image_id)['tags'])

    def test_add_tag_over_quota_returns_413(self):
        self.flags(image_tag_quota=1)

        resp = self.api_put(self.tag_path('new'))

        self.assertFault(resp, 413)
        self.assertEqual(['old'], self.show_image(self.image_id)['tags'])

    def test_add_existing_tag_at_quota_returns_204(self):
        self.flags(image_tag_quota=1)

        self.assertEqual(204, self.api_put(self.tag_path('old')).status_int)

    def test_add_tag_to_unknown_image_returns_404(self):
        resp = self.api_put(self.tag_path('t', image_id=self.new_id()))

        self.assertFault(resp, 404)

    def test_add_tag_non_owner_of_public_image_returns_403(self):
        image_id = self.create_image(visibility='public', _admin=True,
                                     owner=base.PROJECT_A)['id']

        resp = self.api_put(self.tag_path('t', image_id=image_id),
                            project=base.PROJECT_B)

        self.assertFault(resp, 403)

    def test_add_tag_non_owner_of_private_image_returns_404(self):
        resp = self.api_put(self.tag_path('t'), project=base.PROJECT_B)

        self.assertFault(resp, 404)

    def test_add_tag_changes_updated_at(self):
        self.freeze_time(datetime.datetime(2030, 1, 2, 3, 4, 5))

        self.api_put(self.tag_path('new'))

        self.assertEqual('2030-01-02T03:04:05Z',
                         self.show_image(self.image_id)['updated_at'])

    def test_delete_tag_returns_204_without_body(self):
        resp = self.api_delete(self.tag_path('old'))

        self.assertEqual(204, resp.status_int)
        self.assertEqual(b'', resp.body)

    def test_delete_tag_removes_it(self):
        self.api_delete(self.tag_path('old'))

        self.assertEqual([], self.show_image(self.image_id)['tags'])

    def test_delete_missing_tag_returns_404(self):
        resp = self.api_delete(self.tag_path('absent'))

        self.assertFault(resp, 404, 'absent')

    def test_delete_tag_of_unknown_image_returns_404(self):
        resp = self.api_delete(self.tag_path('old', image_id=self.new_id()))

        self.assertFault(resp, 404)

    def test_delete_tag_non_owner_of_public_image_returns_403(self):
        image_id = self.create_image(visibility='public', tags=['t'],
                                     _admin=True, owner=base.PROJECT_A)['id']

        resp = self.api_delete(self.tag_path('t', image_id=image_id),
                               project=base.PROJECT_B)

        self.assertFault(resp, 403)
        self.assertEqual(['t'], self.show_image(image_id)['tags'])
