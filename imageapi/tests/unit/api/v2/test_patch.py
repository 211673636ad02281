"""API tests of PATCH /v2/images/{id} with both of Glance's JSON-patch media types."""

import datetime

from imageapi.tests.unit.api.v2 import base


def add(path, value):
    return {'op': 'add', 'path': path, 'value': value}


def replace(path, value):
    return {'op': 'replace', 'path': path, 'value': value}


def remove(path):
    return {'op': 'remove', 'path': path}


class PatchTestCase(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image(name='before', foo='bar',
                                          tags=['t1'],
                                          disk_format='raw',
                                          container_format='bare')['id']
        self.path = self.image_path(self.image_id)

    def patch_image(self, *changes, **kwargs):
        return self.api_patch(self.path, *changes, **kwargs)

    def patch_ok(self, *changes, **kwargs):
        resp = self.patch_image(*changes, **kwargs)
        self.assertEqual(200, resp.status_int, resp.text)
        return resp.json

    def assertUnchanged(self):
        image = self.show_image(self.image_id)
        self.assertEqual(('before', 'bar', ['t1']),
                         (image['name'], image.get('foo'), image['tags']))


class PatchV21Test(PatchTestCase):

    def test_replace_name_returns_200_with_image(self):
        image = self.patch_ok(replace('/name', 'after'))

        self.assertEqual('after', image['name'])
        self.assertEqual(image, self.show_image(self.image_id))

    def test_replace_name_with_null_is_allowed(self):
        self.assertIsNone(self.patch_ok(replace('/name', None))['name'])

    def test_add_existing_core_property_replaces_it(self):
        self.assertEqual('after', self.patch_ok(add('/name', 'after'))['name'])

    def test_add_new_extra_property_stores_it(self):
        self.assertEqual('ubuntu',
                         self.patch_ok(add('/os_distro', 'ubuntu'))[
                             'os_distro'])

    def test_add_existing_extra_property_replaces_it(self):
        self.assertEqual('baz', self.patch_ok(add('/foo', 'baz'))['foo'])

    def test_replace_existing_extra_property_changes_it(self):
        self.assertEqual('baz', self.patch_ok(replace('/foo', 'baz'))['foo'])

    def test_replace_missing_extra_property_returns_409(self):
        resp = self.patch_image(replace('/missing', 'x'))

        self.assertFault(resp, 409, 'Property missing does not exist.')

    def test_replace_missing_schema_extra_property_returns_409(self):
        resp = self.patch_image(replace('/os_distro', 'x'))

        self.assertFault(resp, 409)

    def test_remove_extra_property_deletes_it(self):
        self.assertNotIn('foo', self.patch_ok(remove('/foo')))

    def test_remove_missing_extra_property_returns_409(self):
        self.assertFault(self.patch_image(remove('/missing')), 409,
                         'Property missing does not exist.')

    def test_remove_core_property_returns_403(self):
        self.assertFault(self.patch_image(remove('/name')), 403,
                         'Property name may not be removed.')

    def test_remove_tags_returns_403(self):
        self.assertFault(self.patch_image(remove('/tags')), 403)

    def test_replace_tags_sets_them(self):
        image = self.patch_ok(replace('/tags', ['b', 'a', 'b']))

        self.assertEqual(['a', 'b'], image['tags'])

    def test_add_tags_sets_them(self):
        self.assertEqual(['x'], self.patch_ok(add('/tags', ['x']))['tags'])

    def test_replace_tags_with_long_tag_returns_400(self):
        self.assertFault(self.patch_image(replace('/tags', ['t' * 256])), 400)
        self.assertUnchanged()

    def test_replace_protected_and_min_ram_sets_both(self):
        image = self.patch_ok(replace('/protected', True),
                              replace('/min_ram', 512))

        self.assertEqual((True, 512), (image['protected'], image['min_ram']))

    def test_replace_os_hidden_hides_image_from_list(self):
        self.patch_ok(replace('/os_hidden', True))

        self.assertEqual([], self.api_get('/v2/images').json['images'])

    def test_patch_several_operations_apply_in_order(self):
        image = self.patch_ok(add('/x', '1'), replace('/x', '2'),
                              remove('/foo'))

        self.assertEqual('2', image['x'])
        self.assertNotIn('foo', image)

    def test_add_then_remove_leaves_property_out(self):
        self.assertNotIn('x', self.patch_ok(add('/x', '1'), remove('/x')))

    def test_patch_with_failing_operation_applies_none(self):
        resp = self.patch_image(replace('/name', 'after'),
                                replace('/missing', 'x'))

        self.assertFault(resp, 409)
        self.assertUnchanged()

    def test_add_escaped_pointer_names_property_with_slash(self):
        image = self.patch_ok(add('/a~1b~0c', 'v'))

        self.assertEqual('v', image['a/b~c'])

    def test_patch_changes_updated_at(self):
        self.freeze_time(datetime.datetime(2031, 5, 6, 7, 8, 9))

        image = self.patch_ok(replace('/name', 'after'))

        self.assertEqual('2031-05-06T07:08:09Z', image['updated_at'])

    def test_empty_patch_returns_image_unchanged(self):
        before = self.show_image(self.image_id)
        self.freeze_time(datetime.datetime(2031, 5, 6, 7, 8, 9))

        self.assertEqual(before, self.patch_ok())

    def test_patch_media_type_with_charset_returns_200(self):
        self.patch_ok(replace('/name', 'after'),
                      media_type=base.PATCH_V21 + '; charset=UTF-8')


class PatchV20Test(PatchTestCase):

    def patch_image(self, *changes, **kwargs):
        return super().patch_image(*changes, media_type=base.PATCH_V20,
                                   **kwargs)

    def test_replace_name_returns_200(self):
        image = self.patch_ok({'replace': '/name', 'value': 'after'})

        self.assertEqual('after', image['name'])

    def test_add_new_extra_property_returns_200(self):
        image = self.patch_ok({'add': '/os_distro', 'value': 'ubuntu'})

        self.assertEqual('ubuntu', image['os_distro'])

    def test_add_existing_extra_property_returns_409(self):
        resp = self.patch_image({'add': '/foo', 'value': 'baz'})

        self.assertFault(resp, 409, 'Property foo already present.')
        self.assertUnchanged()

    def test_add_core_property_returns_409(self):
        resp = self.patch_image({'add': '/name', 'value': 'after'})

        self.assertFault(resp, 409, 'Property name already present.')

    def test_remove_extra_property_returns_200(self):
        self.assertNotIn('foo', self.patch_ok({'remove': '/foo'}))

    def test_replace_missing_extra_property_returns_409(self):
        self.assertFault(self.patch_image({'replace': '/x', 'value': 'v'}),
                         409)

    def test_patch_two_operation_members_returns_400(self):
        resp = self.patch_image({'add': '/x', 'replace': '/y', 'value': 'v'})

        self.assertFault(resp, 400)

    def test_patch_v21_operation_object_returns_400(self):
        self.assertFault(self.patch_image(replace('/name', 'after')), 400)


class PatchReadOnlyTest(PatchTestCase):
    """Glance's 403 for read-only and reserved paths, whatever the op."""

    def _assert_forbidden(self, change, message):
        self.assertFault(self.patch_image(change), 403, message)
        self.assertEqual('queued', self.show_image(self.image_id)['status'])

    def test_replace_status_returns_403(self):
        self._assert_forbidden(replace('/status', 'active'),
                               "Attribute 'status' is read-only.")

    def test_replace_id_returns_403(self):
        self._assert_forbidden(replace('/id', self.new_id()),
                               "Attribute 'id' is read-only.")

    def test_add_checksum_returns_403(self):
        self._assert_forbidden(add('/checksum', 'a' * 32),
                               "Attribute 'checksum' is read-only.")

    def test_replace_size_returns_403(self):
        self._assert_forbidden(replace('/size', 1),
                               "Attribute 'size' is read-only.")

    def test_replace_virtual_size_returns_403(self):
        self._assert_forbidden(replace('/virtual_size', 1),
                               "Attribute 'virtual_size' is read-only.")

    def test_add_os_hash_value_returns_403(self):
        self._assert_forbidden(add('/os_hash_value', 'ab'),
                               "Attribute 'os_hash_value' is read-only.")

    def test_replace_os_hash_algo_returns_403(self):
        self._assert_forbidden(replace('/os_hash_algo', 'md5'),
                               "Attribute 'os_hash_algo' is read-only.")

    def test_remove_created_at_returns_403(self):
        self._assert_forbidden(remove('/created_at'),
                               "Attribute 'created_at' is read-only.")

    def test_replace_updated_at_returns_403(self):
        self._assert_forbidden(replace('/updated_at', 'x'),
                               "Attribute 'updated_at' is read-only.")

    def test_replace_self_returns_403(self):
        self._assert_forbidden(replace('/self', 'x'),
                               "Attribute 'self' is read-only.")

    def test_replace_file_returns_403(self):
        self._assert_forbidden(replace('/file', 'x'),
                               "Attribute 'file' is read-only.")

    def test_replace_schema_returns_403(self):
        self._assert_forbidden(replace('/schema', 'x'),
                               "Attribute 'schema' is read-only.")

    def test_add_direct_url_returns_403(self):
        self._assert_forbidden(add('/direct_url', 'x'),
                               "Attribute 'direct_url' is read-only.")

    def test_add_stores_returns_403(self):
        self._assert_forbidden(add('/stores', 'x'),
                               "Attribute 'stores' is read-only.")

    def test_add_os_glance_property_returns_403(self):
        self._assert_forbidden(add('/os_glance_import_task', 'x'),
                               "Attribute 'os_glance_import_task' is "
                               "reserved.")

    def test_add_location_returns_403(self):
        self._assert_forbidden(add('/location', 'x'),
                               "Attribute 'location' is reserved.")

    def test_add_deleted_returns_403(self):
        self._assert_forbidden(add('/deleted', 'x'),
                               "Attribute 'deleted' is reserved.")

    def test_add_location_entry_returns_403(self):
        # Glance refuses location changes while locations are not shown.
        self._assert_forbidden(
            add('/locations/-', {'url': 'file:///etc/passwd',
                                 'metadata': {}}),
            "It's not allowed to add locations if locations are invisible.")

    def test_remove_location_entry_returns_403(self):
        self._assert_forbidden(
            remove('/locations/0'),
            "It's not allowed to remove locations if locations are "
            "invisible.")

    def test_replace_locations_returns_403(self):
        self._assert_forbidden(
            replace('/locations', [{'url': 'file:///etc/passwd',
                                    'metadata': {}}]),
            "It's not allowed to update locations if locations are "
            "invisible.")

    def test_replace_locations_with_empty_list_returns_403(self):
        self._assert_forbidden(replace('/locations', []),
                               'Cannot set locations to empty list.')

    def test_add_location_entry_when_locations_shown_returns_403(self):
        self.flags(show_multiple_locations=True)

        self.assertFault(self.patch_image(
            add('/locations/-', {'url': 'file:///etc/passwd',
                                 'metadata': {}})), 403)
        self.assertEqual([], self.show_image(self.image_id)['locations'])

    def test_add_locations_without_position_returns_400(self):
        resp = self.patch_image(add('/locations', []))

        self.assertFault(resp, 400, "Invalid JSON pointer for this "
                                    "resource: '/locations'")

    def test_add_nested_path_returns_400(self):
        resp = self.patch_image(add('/name/x', 'v'))

        self.assertFault(resp, 400, "Invalid JSON pointer for this "
                                    "resource: '/name/x'")


class PatchValidationTest(PatchTestCase):

    def test_replace_name_256_chars_returns_400(self):
        self.assertFault(self.patch_image(replace('/name', 'n' * 256)), 400)
        self.assertUnchanged()

    def test_add_extra_property_integer_returns_400(self):
        self.assertFault(self.patch_image(add('/x', 1)), 400)

    def test_add_extra_property_name_256_chars_returns_400(self):
        resp = self.patch_image(add('/' + 'p' * 256, 'v'))

        self.assertFault(resp, 400, 'Custom property should not be greater '
                                    'than 255 characters.')

    def test_replace_unknown_disk_format_returns_400(self):
        self.assertFault(self.patch_image(replace('/disk_format', 'xyz')),
                         400)

    def test_replace_negative_min_disk_returns_400(self):
        self.assertFault(self.patch_image(replace('/min_disk', -1)), 400)

    def test_replace_min_ram_over_int32_returns_400(self):
        self.assertFault(self.patch_image(replace('/min_ram', 2 ** 31)), 400)

    def test_replace_unknown_visibility_returns_400(self):
        self.assertFault(self.patch_image(replace('/visibility', 'x')), 400)

    def test_add_over_property_quota_returns_413(self):
        self.flags(image_property_quota=2)

        resp = self.patch_image(add('/a', '1'), add('/b', '2'))

        self.assertFault(resp, 413)
        self.assertUnchanged()

    def test_add_at_property_quota_after_removal_returns_200(self):
        self.flags(image_property_quota=2)

        self.patch_ok(remove('/foo'), add('/a', '1'), add('/b', '2'))

    def test_replace_tags_over_quota_returns_413(self):
        self.flags(image_tag_quota=2)

        self.assertFault(self.patch_image(replace('/tags', ['a', 'b', 'c'])),
                         413)


class PatchRequestFormatTest(PatchTestCase):

    def test_patch_json_media_type_returns_415_with_accept_patch(self):
        resp = self.patch_image(replace('/name', 'x'),
                                media_type='application/json')

        self.assertFault(resp, 415)
        self.assertEqual(
            {base.PATCH_V20, base.PATCH_V21},
            {t.strip() for t in resp.headers['Accept-Patch'].split(',')})

    def test_patch_missing_media_type_returns_415(self):
        resp = self.api_request('PATCH', self.path, body=b'[]')

        self.assertFault(resp, 415)
        self.assertIn('Accept-Patch', resp.headers)

    def test_patch_malformed_json_returns_400(self):
        resp = self.api_request('PATCH', self.path, body=b'[{',
                                content_type=base.PATCH_V21)

        self.assertFault(resp, 400)

    def test_patch_object_body_returns_400(self):
        resp = self.api_request('PATCH', self.path, json_body={'op': 'add'},
                                content_type=base.PATCH_V21)

        self.assertFault(resp, 400, 'JSON array')

    def test_patch_non_object_operation_returns_400(self):
        self.assertFault(self.patch_image('add'), 400)

    def test_patch_unknown_op_returns_400(self):
        resp = self.patch_image({'op': 'move', 'path': '/name', 'value': 'x'})

        self.assertFault(resp, 400)

    def test_patch_missing_path_returns_400(self):
        self.assertFault(self.patch_image({'op': 'add', 'value': 'x'}), 400)

    def test_patch_missing_value_returns_400(self):
        resp = self.patch_image({'op': 'replace', 'path': '/name'})

        self.assertFault(resp, 400, 'value')

    def test_patch_path_without_leading_slash_returns_400(self):
        self.assertFault(self.patch_image(replace('name', 'x')), 400)

    def test_patch_bad_escape_in_path_returns_400(self):
        self.assertFault(self.patch_image(add('/a~2', 'x')), 400)


class PatchPolicyTest(PatchTestCase):

    def test_patch_unknown_image_returns_404(self):
        resp = self.api_patch(self.image_path(self.new_id()),
                              replace('/name', 'x'))

        self.assertFault(resp, 404)

    def test_patch_read_only_path_of_unknown_image_returns_403(self):
        # Glance validates the operations before looking the image up.
        resp = self.api_patch(self.image_path(self.new_id()),
                              replace('/status', 'active'))

        self.assertFault(resp, 403)

    def test_patch_malformed_image_id_returns_404(self):
        resp = self.api_patch(self.image_path('nope'), replace('/name', 'x'))

        self.assertFault(resp, 404)

    def test_patch_deleted_image_returns_404(self):
        self.api_delete(self.path)

        self.assertFault(self.patch_image(replace('/name', 'x')), 404)

    def test_patch_non_owner_of_invisible_image_returns_404(self):
        resp = self.patch_image(replace('/name', 'x'), project=base.PROJECT_B)

        self.assertFault(resp, 404)
        self.assertUnchanged()

    def test_patch_non_owner_of_public_image_returns_403(self):
        public = self.create_image(visibility='public', _admin=True,
                                   owner=base.PROJECT_A)['id']

        resp = self.api_patch(self.image_path(public), replace('/name', 'x'),
                              project=base.PROJECT_B)

        self.assertFault(resp, 403)

    def test_patch_non_owner_of_community_image_returns_403(self):
        community = self.create_image(visibility='community')['id']

        resp = self.api_patch(self.image_path(community),
                              replace('/name', 'x'), project=base.PROJECT_B)

        self.assertFault(resp, 403)

    def test_patch_admin_of_other_project_returns_200(self):
        resp = self.patch_image(replace('/name', 'x'),
                                project=base.ADMIN_PROJECT, admin=True)

        self.assertEqual(200, resp.status_int, resp.text)

    def test_replace_visibility_public_non_admin_returns_403(self):
        resp = self.patch_image(replace('/visibility', 'public'))

        self.assertFault(resp, 403, 'publicize_image')
        self.assertEqual('shared',
                         self.show_image(self.image_id)['visibility'])

    def test_replace_visibility_public_admin_returns_200(self):
        image = self.patch_ok(replace('/visibility', 'public'), admin=True)

        self.assertEqual('public', image['visibility'])

    def test_replace_visibility_community_non_admin_returns_200(self):
        image = self.patch_ok(replace('/visibility', 'community'))

        self.assertEqual('community', image['visibility'])

    def test_replace_owner_non_admin_returns_403(self):
        resp = self.patch_image(replace('/owner', base.PROJECT_B))

        self.assertFault(resp, 403)
        self.assertEqual(base.PROJECT_A,
                         self.show_image(self.image_id)['owner'])

    def test_replace_owner_admin_hands_image_over(self):
        self.patch_ok(replace('/owner', base.PROJECT_B), admin=True)

        resp = self.api_get(self.path, project=base.PROJECT_B)

        self.assertEqual(200, resp.status_int)
        self.assertFault(self.api_get(self.path), 404)

    def test_replace_disk_format_of_queued_image_returns_200(self):
        image = self.patch_ok(replace('/disk_format', 'qcow2'))

        self.assertEqual('qcow2', image['disk_format'])

    def test_replace_disk_format_of_active_image_returns_403(self):
        self.activate_image(self.image_id)

        resp = self.patch_image(replace('/disk_format', 'qcow2'))

        self.assertFault(resp, 403, 'disk_format')
        self.assertEqual('raw', self.show_image(self.image_id)['disk_format'])

    def test_replace_container_format_of_active_image_returns_403(self):
        self.activate_image(self.image_id)

        resp = self.patch_image(replace('/container_format', 'ovf'))

        self.assertFault(resp, 403, 'container_format')

    def test_replace_same_disk_format_of_active_image_returns_200(self):
        self.activate_image(self.image_id)

        self.patch_ok(replace('/disk_format', 'raw'))

    def test_replace_name_of_active_image_returns_200(self):
        self.activate_image(self.image_id)

        self.assertEqual('x', self.patch_ok(replace('/name', 'x'))['name'])
