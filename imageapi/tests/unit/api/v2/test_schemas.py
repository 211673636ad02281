"""Tests of the image schemas and the create/patch checks built on them."""

import copy
import json

import jsonschema

from imageapi.api.v2 import schemas
from imageapi.common import exception
from imageapi.tests import base

_UUID = ('^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
         '-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$')
_IMAGE_ID = 'c2e5db72-bd7f-4b6e-9f3b-1d2c3a4b5c6d'

# What Glance serves at /v2/schemas/image with default options and the
# default etc/schema-image.json, descriptions left out.
_GLANCE_PROPERTIES = {
    'id': {'type': 'string', 'pattern': _UUID},
    'name': {'type': ['null', 'string'], 'maxLength': 255},
    'status': {'type': 'string', 'readOnly': True,
               'enum': ['queued', 'saving', 'active', 'killed', 'deleted',
                        'uploading', 'importing', 'pending_delete',
                        'deactivated']},
    'visibility': {'type': 'string',
                   'enum': ['community', 'public', 'private', 'shared']},
    'protected': {'type': 'boolean'},
    'os_hidden': {'type': 'boolean'},
    'checksum': {'type': ['null', 'string'], 'readOnly': True,
                 'maxLength': 32},
    'os_hash_algo': {'type': ['null', 'string'], 'readOnly': True,
                     'maxLength': 64},
    'os_hash_value': {'type': ['null', 'string'], 'readOnly': True,
                      'maxLength': 128},
    'owner': {'type': ['null', 'string'], 'maxLength': 255},
    'size': {'type': ['null', 'integer'], 'readOnly': True},
    'virtual_size': {'type': ['null', 'integer'], 'readOnly': True},
    'container_format': {
        'type': ['null', 'string'],
        'enum': [None, 'ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker',
                 'compressed']},
    'disk_format': {
        'type': ['null', 'string'],
        'enum': [None, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw',
                 'qcow2', 'vdi', 'iso', 'ploop']},
    'created_at': {'type': 'string', 'readOnly': True},
    'updated_at': {'type': 'string', 'readOnly': True},
    'tags': {'type': 'array', 'items': {'type': 'string', 'maxLength': 255}},
    'direct_url': {'type': 'string', 'readOnly': True},
    'min_ram': {'type': 'integer'},
    'min_disk': {'type': 'integer'},
    'self': {'type': 'string', 'readOnly': True},
    'file': {'type': 'string', 'readOnly': True},
    'stores': {'type': 'string', 'readOnly': True},
    'schema': {'type': 'string', 'readOnly': True},
    'locations': {
        'type': 'array',
        'items': {
            'type': 'object',
            'properties': {
                'url': {'type': 'string', 'maxLength': 255},
                'metadata': {'type': 'object'},
                'validation_data': {
                    'type': 'object', 'writeOnly': True,
                    'additionalProperties': False,
                    'properties': {
                        'checksum': {'type': 'string', 'minLength': 32,
                                     'maxLength': 32},
                        'os_hash_algo': {'type': 'string', 'maxLength': 64},
                        'os_hash_value': {'type': 'string',
                                          'maxLength': 128}},
                    'required': ['os_hash_algo', 'os_hash_value']}},
            'required': ['url', 'metadata']}},
    'kernel_id': {'type': ['null', 'string'], 'pattern': _UUID,
                  'is_base': False},
    'ramdisk_id': {'type': ['null', 'string'], 'pattern': _UUID,
                   'is_base': False},
    'instance_uuid': {'type': 'string', 'is_base': False},
    'architecture': {'type': 'string', 'is_base': False},
    'os_distro': {'type': 'string', 'is_base': False},
    'os_version': {'type': 'string', 'is_base': False},
    'description': {'type': 'string', 'is_base': False},
    'cinder_encryption_key_id': {'type': 'string', 'is_base': False},
    'cinder_encryption_key_deletion_policy': {
        'type': 'string', 'enum': ['on_image_deletion', 'do_not_delete'],
        'is_base': False},
}


def _without_descriptions(prop):
    """A property schema minus every 'description' keyword, recursively."""
    if isinstance(prop, list):
        return [_without_descriptions(item) for item in prop]
    if not isinstance(prop, dict):
        return prop
    out = {}
    for key, value in prop.items():
        if key == 'description' and isinstance(value, str):
            continue
        if key == 'properties':
            out[key] = {name: _without_descriptions(sub)
                        for name, sub in value.items()}
        else:
            out[key] = _without_descriptions(value)
    return out


def _api_record(**overrides):
    """An image record shaped like a show response, unset fields null."""
    record = {
        'id': _IMAGE_ID, 'name': None, 'status': 'queued',
        'visibility': 'shared', 'protected': False, 'os_hidden': False,
        'checksum': None, 'os_hash_algo': None, 'os_hash_value': None,
        'owner': 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5', 'size': None,
        'virtual_size': None, 'min_disk': 0, 'min_ram': 0,
        'disk_format': None, 'container_format': None,
        'created_at': '2025-01-02T03:04:05Z',
        'updated_at': '2025-01-02T03:04:05Z', 'tags': [],
        'self': '/v2/images/%s' % _IMAGE_ID,
        'file': '/v2/images/%s/file' % _IMAGE_ID,
        'schema': '/v2/schemas/image',
    }
    record.update(overrides)
    return record


class ImageSchemaTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.schema = schemas.image_schema(self.conf)

    def test_matches_glance_apart_from_descriptions(self):
        self.assertEqual('image', self.schema['name'])
        self.assertEqual({'type': 'string'},
                         self.schema['additionalProperties'])
        self.assertEqual([{'rel': 'self', 'href': '{self}'},
                          {'rel': 'enclosure', 'href': '{file}'},
                          {'rel': 'describedby', 'href': '{schema}'}],
                         self.schema['links'])
        self.assertEqual({'name', 'properties', 'additionalProperties',
                          'links'}, set(self.schema))
        got = {name: _without_descriptions(prop)
               for name, prop in self.schema['properties'].items()}
        self.assertEqual(_GLANCE_PROPERTIES, got)

    def test_every_property_has_a_description(self):
        for name, prop in self.schema['properties'].items():
            self.assertIsInstance(prop.get('description'), str, name)

    def test_is_valid_draft4_schema(self):
        jsonschema.Draft4Validator.check_schema(self.schema)

    def test_serializes_to_json(self):
        self.assertEqual(self.schema, json.loads(json.dumps(self.schema)))

    def test_enums_follow_config(self):
        self.flags(disk_formats=['raw', 'qcow2'],
                   container_formats=['bare'], group='image_format')
        schema = schemas.image_schema(self.conf)
        props = schema['properties']
        self.assertEqual([None, 'raw', 'qcow2'], props['disk_format']['enum'])
        self.assertEqual([None, 'bare'], props['container_format']['enum'])
        schemas.validate_image(schema, {'disk_format': 'qcow2'})
        schemas.validate_image(schema, {'disk_format': None})
        self.assertRaises(exception.SchemaValidationError,
                          schemas.validate_image, schema,
                          {'disk_format': 'vmdk'})
        self.assertRaises(exception.SchemaValidationError,
                          schemas.validate_image, schema,
                          {'container_format': 'ovf'})

    def test_each_call_returns_a_new_dict(self):
        self.schema['properties']['disk_format']['enum'].append('bogus')
        self.schema['properties'].pop('name')
        again = schemas.image_schema(self.conf)
        self.assertNotIn('bogus', again['properties']['disk_format']['enum'])
        self.assertIn('name', again['properties'])
        self.assertNotIn(
            'bogus', self.conf.image_format.disk_formats)

    def test_property_name_sets(self):
        props = self.schema['properties']
        self.assertEqual(set(props), schemas.BASE_PROPERTIES)
        self.assertEqual(
            {name for name, prop in props.items()
             if prop.get('is_base') is False},
            schemas.SCHEMA_EXTRA_PROPERTIES)
        self.assertEqual(
            schemas.BASE_PROPERTIES - schemas.SCHEMA_EXTRA_PROPERTIES,
            schemas.CORE_PROPERTIES)
        self.assertEqual(
            {name for name, prop in props.items() if prop.get('readOnly')},
            schemas.READ_ONLY_PROPERTIES)
        self.assertLessEqual(schemas.WRITABLE_CORE_PROPERTIES,
                             schemas.CORE_PROPERTIES)
        self.assertFalse(schemas.WRITABLE_CORE_PROPERTIES &
                         schemas.READ_ONLY_PROPERTIES)
        self.assertEqual({'location', 'deleted', 'deleted_at'},
                         schemas.RESERVED_PROPERTIES)
        self.assertEqual('os_glance', schemas.RESERVED_PREFIX)

    def test_message_constants_match_the_exceptions(self):
        self.assertEqual(schemas.READ_ONLY_MSG % 'size',
                         exception.ReadOnlyAttribute(attribute='size').msg)
        self.assertEqual(schemas.RESERVED_MSG % 'deleted',
                         exception.ReservedAttribute(attribute='deleted').msg)


class ValidateImageTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.schema = schemas.image_schema(self.conf)

    def _assert_invalid(self, image, *fragments):
        exc = self.assertRaises(exception.SchemaValidationError,
                                schemas.validate_image, self.schema, image)
        self.assertEqual(400, exc.code)
        self.assertTrue(exc.msg.startswith(
            "Provided object does not match schema 'image': "), exc.msg)
        for fragment in fragments:
            self.assertIn(fragment, exc.msg)
        return exc

    def test_api_record_with_nulls_validates(self):
        schemas.validate_image(self.schema, _api_record())

    def test_active_api_record_with_everything_validates(self):
        record = _api_record(
            name='cirros', status='active', visibility='public',
            protected=True, os_hidden=True, checksum='a' * 32,
            os_hash_algo='sha512', os_hash_value='b' * 128, size=1024,
            virtual_size=4096, min_disk=1, min_ram=64, disk_format='qcow2',
            container_format='bare', tags=['a', 'b'],
            direct_url='file:///var/lib/imageapi/images/%s' % _IMAGE_ID,
            locations=[{'url': 'file:///x', 'metadata': {}}],
            stores='fast,slow', kernel_id=None, ramdisk_id=_IMAGE_ID,
            os_distro='cirros', description='', hw_disk_bus='virtio',
            cinder_encryption_key_deletion_policy='do_not_delete')
        schemas.validate_image(self.schema, record)
        schemas.validate_image(self.schema,
                               json.loads(json.dumps(record)))

    def test_each_status_validates(self):
        for status in schemas.STATUSES:
            schemas.validate_image(self.schema, _api_record(status=status))

    def test_partial_and_empty_objects_validate(self):
        schemas.validate_image(self.schema, {})
        schemas.validate_image(self.schema, {'name': 'x' * 255})

    def test_bad_disk_format(self):
        self._assert_invalid(_api_record(disk_format='floppy'), "'floppy'")

    def test_name_too_long(self):
        self._assert_invalid({'name': 'x' * 256}, 'is too long')

    def test_bad_id_pattern(self):
        self._assert_invalid({'id': 'not-a-uuid'}, "'not-a-uuid'")
        self._assert_invalid({'id': _IMAGE_ID + '0'})

    def test_non_string_extra_property(self):
        exc = self._assert_invalid({'hw_disk_bus': 5},
                                   "5 is not of type 'string'")
        self.assertIn("'hw_disk_bus'", exc.msg)
        self._assert_invalid({'foo': None}, "None is not of type 'string'")
        self._assert_invalid({'foo': ['a']})

    def test_known_extras_are_checked(self):
        self._assert_invalid({'kernel_id': 'vmlinuz'}, "'vmlinuz'")
        self._assert_invalid({'os_distro': None})
        self._assert_invalid(
            {'cinder_encryption_key_deletion_policy': 'later'}, "'later'")

    def test_core_types(self):
        self._assert_invalid({'min_ram': '5'}, "'5' is not of type")
        self._assert_invalid({'min_disk': None})
        self._assert_invalid({'protected': 'true'})
        self._assert_invalid({'visibility': 'everyone'})
        self._assert_invalid({'status': 'gone'})
        self._assert_invalid({'tags': ['x' * 256]}, 'is too long')
        self._assert_invalid({'tags': 'one'})
        self._assert_invalid({'size': -1.5})

    def test_draft4_rejects_integral_floats(self):
        self._assert_invalid({'min_ram': 1.0})
        self._assert_invalid({'min_ram': True})

    def test_location_needs_url_and_metadata(self):
        self._assert_invalid({'locations': [{'url': 'file:///x'}]},
                             "'metadata' is a required property")

    def test_non_object_is_rejected(self):
        for body in ([], 'image', None, 5):
            self._assert_invalid(body, "is not of type 'object'")

    def test_long_message_is_cut(self):
        exc = self._assert_invalid({'name': 'x' * 100000})
        self.assertLess(len(exc.msg), 1200)


class ImagesSchemaTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.schema = schemas.images_schema(self.conf)

    def test_structure(self):
        self.assertEqual('images', self.schema['name'])
        self.assertEqual({'name', 'properties', 'links'}, set(self.schema))
        props = self.schema['properties']
        self.assertEqual({'images', 'first', 'next', 'schema'}, set(props))
        for name in ('first', 'next', 'schema'):
            self.assertEqual({'type': 'string'}, props[name])
        self.assertEqual('array', props['images']['type'])
        self.assertEqual(schemas.image_schema(self.conf),
                         props['images']['items'])
        self.assertEqual([{'rel': 'first', 'href': '{first}'},
                          {'rel': 'next', 'href': '{next}'},
                          {'rel': 'describedby', 'href': '{schema}'}],
                         self.schema['links'])
        jsonschema.Draft4Validator.check_schema(self.schema)

    def test_items_follow_config(self):
        self.flags(disk_formats=['raw'], group='image_format')
        schema = schemas.images_schema(self.conf)
        items = schema['properties']['images']['items']
        self.assertEqual([None, 'raw'],
                         items['properties']['disk_format']['enum'])

    def test_list_body_validates(self):
        body = {'images': [_api_record(), _api_record(name='b')],
                'first': '/v2/images?limit=2',
                'next': '/v2/images?limit=2&marker=%s' % _IMAGE_ID,
                'schema': '/v2/schemas/images'}
        schemas.validate_image(self.schema, body)

    def test_bad_image_in_list_fails(self):
        body = {'images': [_api_record(disk_format='floppy')],
                'first': '/v2/images', 'schema': '/v2/schemas/images'}
        exc = self.assertRaises(exception.SchemaValidationError,
                                schemas.validate_image, self.schema, body)
        self.assertIn("schema 'images'", exc.msg)


class CheckCreateBodyTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.schema = schemas.image_schema(self.conf)

    def _check(self, body):
        schemas.check_create_body(self.schema, body)

    def _assert_raises(self, exc_class, body, message):
        exc = self.assertRaises(exc_class, self._check, body)
        self.assertEqual(message, exc.msg)
        return exc

    def test_typical_bodies_pass(self):
        self._check({})
        self._check({'name': 'cirros', 'disk_format': 'qcow2',
                     'container_format': 'bare', 'visibility': 'private',
                     'min_ram': 64, 'min_disk': 1, 'protected': False,
                     'os_hidden': False, 'tags': ['a'], 'id': _IMAGE_ID,
                     'owner': 'p1', 'kernel_id': None,
                     'os_distro': 'cirros', 'hw_disk_bus': 'virtio',
                     'k' * 255: 'v'})

    def test_link_keys_are_read_only_before_validation(self):
        for key in ('self', 'file', 'schema', 'direct_url', 'stores'):
            exc = self._assert_raises(
                exception.ReadOnlyAttribute,
                {key: 'x', 'disk_format': 'floppy'},
                "Attribute '%s' is read-only." % key)
            self.assertEqual(403, exc.code)

    def test_validation_comes_before_other_read_only_keys(self):
        self.assertRaises(exception.SchemaValidationError, self._check,
                          {'status': 'gone'})
        self.assertRaises(exception.SchemaValidationError, self._check,
                          {'size': 'big'})

    def test_valid_read_only_values_are_forbidden(self):
        values = {'created_at': '2025-01-01T00:00:00Z',
                  'updated_at': '2025-01-01T00:00:00Z', 'status': 'active',
                  'checksum': 'a' * 32, 'os_hash_algo': 'sha512',
                  'os_hash_value': 'b' * 128, 'size': 1, 'virtual_size': 1}
        for key, value in values.items():
            exc = self._assert_raises(exception.ReadOnlyAttribute,
                                      {key: value},
                                      "Attribute '%s' is read-only." % key)
            self.assertEqual(403, exc.code)

    def test_reserved_keys(self):
        for key in ('location', 'deleted', 'deleted_at', 'os_glance',
                    'os_glance_import_task'):
            exc = self._assert_raises(exception.ReservedAttribute,
                                      {key: 'x'},
                                      "Attribute '%s' is reserved." % key)
            self.assertEqual(403, exc.code)

    def test_locations_are_reserved_after_validation(self):
        self.assertRaises(exception.SchemaValidationError, self._check,
                          {'locations': [{'url': 'file:///x'}]})
        self._assert_raises(
            exception.ReservedAttribute,
            {'locations': [{'url': 'file:///x', 'metadata': {}}]},
            "Attribute 'locations' is reserved.")

    def test_property_name_over_255_characters(self):
        exc = self._assert_raises(
            exception.BadRequest, {'k' * 256: 'v'},
            'Custom property should not be greater than 255 characters.')
        self.assertEqual(400, exc.code)

    def test_non_string_extra_property(self):
        self.assertRaises(exception.SchemaValidationError, self._check,
                          {'deleted': True})

    def test_body_is_not_modified(self):
        body = {'name': 'x', 'tags': ['a'], 'hw_disk_bus': 'virtio'}
        before = copy.deepcopy(body)
        self._check(body)
        self.assertEqual(before, body)


class CheckPatchChangeTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.schema = schemas.image_schema(self.conf)

    def _check(self, op, path, value=None):
        schemas.check_patch_change(self.schema, op, path, value)

    def test_valid_changes_pass(self):
        self._check('replace', ['name'], 'new')
        self._check('replace', ['name'], None)
        self._check('add', ['hw_disk_bus'], 'virtio')
        self._check('replace', ['kernel_id'], None)
        self._check('replace', ['tags'], ['a', 'b'])
        self._check('remove', ['hw_disk_bus'])
        self._check('remove', ['name'])
        self._check('add', ['locations', '-'],
                    {'url': 'file:///x', 'metadata': {}})

    def test_read_only_paths_for_every_op(self):
        for key in sorted(schemas.READ_ONLY_PROPERTIES | {'id'}):
            for op in ('add', 'replace', 'remove'):
                exc = self.assertRaises(exception.ReadOnlyAttribute,
                                        self._check, op, [key], 'x')
                self.assertEqual("Attribute '%s' is read-only." % key,
                                 exc.msg)

    def test_reserved_paths_for_every_op(self):
        for key in ('location', 'deleted', 'deleted_at',
                    'os_glance_stage_host'):
            for op in ('add', 'replace', 'remove'):
                exc = self.assertRaises(exception.ReservedAttribute,
                                        self._check, op, [key], 'x')
                self.assertEqual("Attribute '%s' is reserved." % key,
                                 exc.msg)

    def test_values_are_validated(self):
        for op, path, value in [('replace', ['name'], 'x' * 256),
                                ('replace', ['disk_format'], 'floppy'),
                                ('replace', ['min_ram'], '1'),
                                ('replace', ['visibility'], None),
                                ('add', ['hw_disk_bus'], 5),
                                ('add', ['kernel_id'], 'vmlinuz'),
                                ('replace', ['tags'], ['x' * 256]),
                                ('add', ['locations', '-'],
                                 {'url': 'file:///x'})]:
            self.assertRaises(exception.SchemaValidationError,
                              self._check, op, path, value)
