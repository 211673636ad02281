"""JSON Schemas of the metadata definitions catalog, and validation against them.

api/v2/metadefs/ serves them at /v2/schemas/metadefs/* and validates request bodies;
imageapi-manage validates catalog files with them before loading.

The documents have Glance's structure (names, types, enums, maxLength, ``required``,
``readOnly``, links), which clients such as python-glanceclient build models from; the
descriptions are our own words. Request bodies are validated against the same
documents, then against LIMITS: what Glance leaves unbounded but a column must hold on
SQLite, PostgreSQL and MariaDB.
"""

import json

import jsonschema

from imageapi.common import exception

TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string', None]
VISIBILITIES = ('public', 'private')
NAME_LENGTH = 80
# A TEXT column holds 65,535 bytes on MariaDB.
TEXT_BYTES = 65535
# Keys a client may not send: 403 read-only, as Glance.
READ_ONLY = ('self', 'schema', 'created_at', 'updated_at')
# Glance's text of a body that does not match a schema.
SCHEMA_MISMATCH_MSG = "Provided object does not match schema '%s': %s"


def _string(max_length=None, description=None):
    prop = {'type': 'string'}
    if max_length is not None:
        prop['maxLength'] = max_length
    if description is not None:
        prop['description'] = description
    return prop


def _time(what):
    return {'type': 'string', 'readOnly': True, 'format': 'date-time',
            'description': what}


def _links_of(prop):
    return {'first': {'type': 'string'}, 'next': {'type': 'string'},
            'schema': {'type': 'string'}}


_LINKS = [{'rel': 'first', 'href': '{first}'},
          {'rel': 'next', 'href': '{next}'},
          {'rel': 'describedby', 'href': '{schema}'}]


def _property_fields():
    """What a property definition may say: Glance's JSON Schema subset."""
    type_enum = {'type': 'string', 'enum': TYPES}
    return {
        'name': _string(NAME_LENGTH),
        'title': _string(),
        'description': _string(),
        'operators': {'type': 'array', 'items': {'type': 'string'}},
        'type': dict(type_enum),
        'required': {'$ref': '#/definitions/stringArray'},
        'minimum': {'type': 'number'},
        'maximum': {'type': 'number'},
        'maxLength': {'$ref': '#/definitions/positiveInteger'},
        'minLength': {'$ref': '#/definitions/positiveIntegerDefault0'},
        'pattern': {'type': 'string', 'format': 'regex'},
        'enum': {'type': 'array'},
        'readonly': {'type': 'boolean'},
        'default': {},
        'items': {'type': 'object',
                  'properties': {'type': dict(type_enum),
                                 'enum': {'type': 'array'}}},
        'maxItems': {'$ref': '#/definitions/positiveInteger'},
        'minItems': {'$ref': '#/definitions/positiveIntegerDefault0'},
        'uniqueItems': {'type': 'boolean', 'default': False},
        'additionalItems': {'type': 'boolean'},
    }


def _definitions(with_property=True, min_items=None):
    string_array = {'type': 'array', 'items': {'type': 'string'},
                    'uniqueItems': True}
    if min_items is not None:
        string_array['minItems'] = min_items
    definitions = {
        'positiveInteger': {'type': 'integer', 'minimum': 0},
        'positiveIntegerDefault0': {
            'allOf': [{'$ref': '#/definitions/positiveInteger'},
                      {'default': 0}]},
        'stringArray': string_array,
    }
    if with_property:
        definitions['property'] = {
            'type': 'object',
            'additionalProperties': {
                'type': 'object', 'required': ['title', 'type'],
                'properties': _property_fields()}}
    return definitions


def _read_only_links():
    return {'schema': {'type': 'string', 'readOnly': True},
            'self': {'type': 'string', 'readOnly': True}}


def _namespace_item():
    properties = {
        'namespace': _string(NAME_LENGTH, 'Unique name of the namespace, '
                                          'such as OS::Compute::Hypervisor.'),
        'display_name': _string(NAME_LENGTH, 'Name for people, shown by '
                                             'dashboards.'),
        'description': _string(500, 'What the namespace is for.'),
        'visibility': {'type': 'string', 'enum': list(VISIBILITIES),
                       'description': 'public: every project reads it; '
                                      'private: only its owner.'},
        'protected': {'type': 'boolean',
                      'description': 'When true the namespace and what it '
                                     'holds cannot be deleted.'},
        'owner': _string(255, 'Project that owns the namespace.'),
        'created_at': _time('When the namespace was created.'),
        'updated_at': _time('When the namespace last changed.'),
        'resource_type_associations': {
            'type': 'array',
            'items': {'type': 'object', 'properties': {
                'name': _string(), 'prefix': _string(),
                'properties_target': _string()}}},
        'properties': {'$ref': '#/definitions/property'},
        'objects': {
            'type': 'array',
            'items': {'type': 'object', 'properties': {
                'name': _string(), 'description': _string(),
                'required': {'$ref': '#/definitions/stringArray'},
                'properties': {'$ref': '#/definitions/property'}}}},
        'tags': {'type': 'array',
                 'items': {'type': 'object',
                           'properties': {'name': _string()}}},
    }
    properties.update(_read_only_links())
    return {'name': 'namespace', 'properties': properties,
            'additionalProperties': False, 'required': ['namespace']}


def _object_item():
    properties = {
        'name': _string(NAME_LENGTH), 'description': _string(),
        'required': {'$ref': '#/definitions/stringArray'},
        'properties': {'$ref': '#/definitions/property'},
        'created_at': _time('When the object was created.'),
        'updated_at': _time('When the object last changed.'),
    }
    properties.update(_read_only_links())
    return {'name': 'object', 'properties': properties,
            'additionalProperties': False, 'required': ['name']}


def _property_item(required):
    return {'name': 'property', 'properties': _property_fields(),
            'additionalProperties': False, 'required': required}


def _association_item():
    return {
        'name': 'resource_type_association',
        'properties': {
            'name': _string(NAME_LENGTH, 'Resource type, named as Heat '
                                         'names it: OS::Glance::Image, '
                                         'OS::Nova::Flavor.'),
            'prefix': _string(NAME_LENGTH, 'Prepended to the property '
                                           'names of the namespace when '
                                           'applied to this resource type.'),
            'properties_target': _string(
                NAME_LENGTH, 'Where on the resource the properties go, for '
                             'a resource with several sets (such as '
                             'image or metadata of a volume).'),
            'created_at': _time('When the association was made.'),
            'updated_at': _time('When the association last changed.'),
        },
        'additionalProperties': False, 'required': ['name']}


def _tag_item():
    return {'name': 'tag',
            'properties': {'name': _string(NAME_LENGTH),
                           'created_at': _time('When the tag was created.'),
                           'updated_at': _time('When the tag last '
                                               'changed.')},
            'additionalProperties': False, 'required': ['name']}


def _collection(name, key, item, definitions=None):
    properties = _links_of(None)
    properties[key] = item
    document = {'name': name, 'properties': properties, 'links': _LINKS}
    if definitions is not None:
        document['definitions'] = definitions
    return document


def documents():
    """The ten schema documents, by the last part of their path."""
    full = _definitions()
    property_defs = _definitions(with_property=False, min_items=1)
    return {
        'namespace': dict(_namespace_item(), definitions=full),
        'namespaces': _collection(
            'namespaces', 'namespaces',
            {'type': 'array', 'items': _namespace_item()}, full),
        'object': dict(_object_item(), definitions=full),
        'objects': _collection(
            'objects', 'objects',
            {'type': 'array', 'items': _object_item()}, full),
        'property': dict(_property_item(['type', 'title', 'name']),
                         definitions=property_defs),
        'properties': _collection(
            'properties', 'properties',
            {'type': 'object',
             'additionalProperties': _property_item(['type', 'title'])},
            property_defs),
        'resource_type': _association_item(),
        'resource_types': _collection(
            'resource_type_associations', 'resource_type_associations',
            {'type': 'array', 'items': _association_item()}),
        'tag': _tag_item(),
        'tags': _collection('tags', 'tags',
                            {'type': 'array', 'items': _tag_item()}),
    }


_NAME = {'type': 'string', 'maxLength': NAME_LENGTH}
_NAMED = {'type': 'object', 'properties': {'name': _NAME}}
# Draft 4 has no propertyNames: a key longer than a name is "additional".
_PROPERTY_NAMES = {'type': 'object',
                   'patternProperties': {r'^[\s\S]{0,%d}\Z' % NAME_LENGTH: {}},
                   'additionalProperties': False}
# Where Glance's documents leave a length open that a column bounds.
LIMITS = {
    'namespace': {'properties': {
        'properties': _PROPERTY_NAMES,
        'tags': {'type': 'array', 'items': _NAMED},
        'objects': {'type': 'array', 'items': _NAMED},
        'resource_type_associations': {
            'type': 'array',
            'items': {'type': 'object', 'properties': {
                'name': _NAME, 'prefix': _NAME,
                'properties_target': _NAME}}}}},
    'tags': {'properties': {'tags': {'type': 'array', 'items': _NAMED}}},
}


def _check_text_bytes(value, what):
    if len(json.dumps(value).encode('utf-8')) > TEXT_BYTES:
        raise exception.BadRequest(
            reason='%s is longer than %d bytes.' % (what, TEXT_BYTES))


def check_object_size(obj):
    """An object's description, required list and properties fit TEXT columns."""
    for key in ('description', 'required', 'properties'):
        if obj.get(key) is not None:
            _check_text_bytes(obj[key], "The object's %s" % key)


def check_property_size(name, definition):
    _check_text_bytes(definition, 'The definition of property %s' % name)


def validate_definition(definition):
    """400 unless ``definition`` is a valid property definition of an object.

    :raises SchemaValidationError: it does not match Glance's subset.
    """
    document = dict(_property_item(['type', 'title']),
                    definitions=_definitions(with_property=False,
                                             min_items=1))
    if not isinstance(definition, dict):
        raise exception.SchemaValidationError(
            reason=SCHEMA_MISMATCH_MSG % (
                'property', 'a property definition is not a JSON object'))
    _validate(document, definition)


def validate(document, name, body):
    """400 unless ``body`` is valid for schema ``name`` of ``document``.

    Read-only keys first (403), then Glance's document, then LIMITS.

    :raises ReadOnlyAttribute: the body sets self, schema or a time.
    :raises SchemaValidationError: the body does not match.
    """
    if not isinstance(body, dict):
        raise exception.SchemaValidationError(
            reason=SCHEMA_MISMATCH_MSG % (
                document['name'], 'the body is not a JSON object'))
    for key in READ_ONLY:
        if key in body:
            raise exception.ReadOnlyAttribute(attribute=key)
    _validate(document, body)
    if name in LIMITS:
        _validate(dict(LIMITS[name], name=document['name']), body)


def _validate(schema, body):
    # Draft 4 as for images (api/v2/schemas.py), and "format": "regex"
    # asserted, so that a pattern that is not a regular expression is a 400.
    name = schema.get('name')
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        reason = error.message
        if error.absolute_path:
            where = '/'.join(str(part) for part in error.absolute_path)
            reason += ' (in %s)' % where
        if len(reason) > 1024:
            reason = reason[:1024] + '...'
        raise exception.SchemaValidationError(
            reason=SCHEMA_MISMATCH_MSG % (name, reason))
