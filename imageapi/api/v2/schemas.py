"""JSON Schemas of image records, as served at /v2/schemas/image and /images.

python-glanceclient downloads ``GET /v2/schemas/image`` and builds a warlock
model from it. The model validates with jsonschema on every attribute set, on
``images.create`` and on ``images.update``, where it validates the whole
``GET /v2/images/{id}`` body (minus ``self``) before computing a JSON patch.
For a property missing from the record, the patch says ``replace`` when the
schema entry has no ``"is_base": false`` and ``add`` when it has one.
So the served data has to match Glance's: the property names, types, enums,
maxLength and patterns, the ``readOnly`` markers, ``is_base: false`` on the
schema-image.json extras, ``additionalProperties: {"type": "string"}`` and the
``links``. The descriptions are our own words; clients only print them.

Where Glance answers 403 and where it answers 400 (glance/api/v2/images.py
``RequestDeserializer`` and glance/domain/__init__.py ``ImageFactory``):

* Create (POST /v2/images), in this order:
  1. any of direct_url, self, file, schema or stores in the body:
     403 "Attribute '%s' is read-only.", before schema validation;
  2. schema validation: 400 "Provided object does not match schema
     'image': <jsonschema error>";
  3. each key that is not a core column (id, name, visibility, ...): longer
     than 255 characters: 400 "Custom property should not be greater than 255
     characters."; location, deleted or deleted_at, or a name starting with
     ``os_glance``: 403 "Attribute '%s' is reserved.";
  4. created_at, updated_at, status, checksum, size or virtual_size: 403
     "Attribute '%s' is read-only."; then locations: 403 "Attribute
     'locations' is reserved.".
  A client-chosen ``id`` is allowed on create. Glance lets os_hash_algo and
  os_hash_value through step 4 and stores them as hidden extra properties,
  which looks like a bug; we answer 403 read-only instead.
* Patch (PATCH /v2/images/{id}), for each operation, remove included:
  the root of the path in READ_ONLY_PROPERTIES or ``id``: 403 read-only;
  in RESERVED_PROPERTIES or under RESERVED_PREFIX: 403 reserved. Then, for
  add and replace only, ``{root: value}`` is validated against the whole
  schema (``{root: [value]}`` for /locations/N): 400. Glance leaves ``stores``
  out of the patch read-only list (replace gives 409, add stores it as an extra
  property); we answer 403 read-only.

check_create_body() and check_patch_change() do those checks in that order.
What they leave to the controller is listed in their docstrings.
"""

import jsonschema

from imageapi.common import exception
from imageapi.common import wsgi

# Names starting with this are Glance's internal namespace: 403 reserved.
RESERVED_PREFIX = 'os_glance'

# Glance's error texts, for code and tests that build or compare messages.
READ_ONLY_MSG = "Attribute '%s' is read-only."
RESERVED_MSG = "Attribute '%s' is reserved."
SCHEMA_MISMATCH_MSG = "Provided object does not match schema '%s': %s"
PROPERTY_NAME_TOO_LONG_MSG = ('Custom property should not be greater than '
                              '255 characters.')

MAX_PROPERTY_NAME_LENGTH = 255
# image_properties.value is a TEXT column: 65,535 bytes on MariaDB (utf8mb4
# takes up to 4 per character), more on PostgreSQL and SQLite. A longer value
# is refused on all three.
MAX_PROPERTY_VALUE_BYTES = 65535

_UUID_PATTERN = ('^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
                 '-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$')

STATUSES = ('queued', 'saving', 'active', 'killed', 'deleted', 'uploading',
            'importing', 'pending_delete', 'deactivated')
VISIBILITIES = ('community', 'public', 'private', 'shared')
KEY_DELETION_POLICIES = ('on_image_deletion', 'do_not_delete')


def _string(description, read_only=False, nullable=False, max_length=None):
    prop = {'type': ['null', 'string'] if nullable else 'string',
            'description': description}
    if read_only:
        prop['readOnly'] = True
    if max_length is not None:
        prop['maxLength'] = max_length
    return prop


def _locations_property():
    validation_data = {
        'description': 'Hashes to set on a queued image together with the '
                       'location; on any other image they must equal the '
                       'values it already has. Never returned.',
        'type': 'object',
        'writeOnly': True,
        'additionalProperties': False,
        'properties': {
            'checksum': {'type': 'string', 'minLength': 32, 'maxLength': 32},
            'os_hash_algo': {'type': 'string', 'maxLength': 64},
            'os_hash_value': {'type': 'string', 'maxLength': 128},
        },
        'required': ['os_hash_algo', 'os_hash_value'],
    }
    return {
        'type': 'array',
        'items': {
            'type': 'object',
            'properties': {
                'url': {'type': 'string', 'maxLength': 255},
                'metadata': {'type': 'object'},
                'validation_data': validation_data,
            },
            'required': ['url', 'metadata'],
        },
        'description': 'Store URLs of the image data, with store metadata. '
                       'Shown only when show_multiple_locations is set.',
    }


def _core_properties(disk_formats, container_formats):
    """Glance's get_base_properties(), first part: the image columns."""
    return {
        'id': {'type': 'string', 'description': 'Image UUID.',
               'pattern': _UUID_PATTERN},
        'name': _string('Name of the image; need not be unique.',
                        nullable=True, max_length=255),
        'status': {'type': 'string', 'readOnly': True,
                   'description': 'Where the image is in its lifecycle.',
                   'enum': list(STATUSES)},
        'visibility': {'type': 'string',
                       'description': 'Who may see and use the image.',
                       'enum': list(VISIBILITIES)},
        'protected': {'type': 'boolean',
                      'description': 'When true the image cannot be '
                                     'deleted.'},
        'os_hidden': {'type': 'boolean',
                      'description': 'When true the image is left out of '
                                     'image lists unless asked for.'},
        'checksum': _string('MD5 hex digest of the image data.',
                            read_only=True, nullable=True, max_length=32),
        'os_hash_algo': _string('hashlib algorithm of os_hash_value.',
                                read_only=True, nullable=True, max_length=64),
        'os_hash_value': _string('Hex digest of the image data, computed '
                                 'with os_hash_algo.', read_only=True,
                                 nullable=True, max_length=128),
        'owner': _string('Project that owns the image.', nullable=True,
                         max_length=255),
        'size': {'type': ['null', 'integer'], 'readOnly': True,
                 'description': 'Size of the image data, in bytes.'},
        'virtual_size': {'type': ['null', 'integer'], 'readOnly': True,
                         'description': 'Size of the disk the image data '
                                        'describes, in bytes.'},
        'container_format': {
            'type': ['null', 'string'],
            'description': 'Container format of the image data.',
            'enum': [None] + list(container_formats)},
        'disk_format': {
            'type': ['null', 'string'],
            'description': 'Disk format of the image data.',
            'enum': [None] + list(disk_formats)},
        'created_at': _string('When the image was created (ISO 8601, UTC).',
                              read_only=True),
        'updated_at': _string('When the image was last changed (ISO 8601, '
                              'UTC).', read_only=True),
        'tags': {'type': 'array',
                 'description': 'Free-form labels of the image.',
                 'items': {'type': 'string', 'maxLength': 255}},
        'min_ram': {'type': 'integer',
                    'description': 'RAM needed to boot the image, in MiB.'},
        'min_disk': {'type': 'integer',
                     'description': 'Disk needed to boot the image, in GiB.'},
    }


def _link_properties():
    """Glance's get_base_properties(), second part: links and stores."""
    return {
        'direct_url': _string('Store URL of the image data. Shown only when '
                              'show_image_direct_url is set.',
                              read_only=True),
        'self': _string('URL of this image record.', read_only=True),
        'file': _string('URL of the image data.', read_only=True),
        'stores': _string('Comma-separated ids of the stores holding the '
                          'image data; multi-store deployments only.',
                          read_only=True),
        'schema': _string('URL of this schema.', read_only=True),
        'locations': _locations_property(),
    }


def _extra_properties():
    """Glance's default etc/schema-image.json: known extra properties.

    They are stored like any other extra property. The schema marks them
    ``is_base: false`` so glanceclient patches them with ``add``.
    """
    props = {
        'kernel_id': {'type': ['null', 'string'], 'pattern': _UUID_PATTERN,
                      'description': 'Image to boot as the kernel of an '
                                     'AMI-style image.'},
        'ramdisk_id': {'type': ['null', 'string'], 'pattern': _UUID_PATTERN,
                       'description': 'Image to boot as the ramdisk of an '
                                      'AMI-style image.'},
        'instance_uuid': _string('Instance this image was taken from; '
                                 'informational only.'),
        'architecture': _string('CPU architecture the image runs on, as '
                                'listed in the glanceclient property keys.'),
        'os_distro': _string('Operating system distribution, as listed in '
                             'the glanceclient property keys.'),
        'os_version': _string('Operating system version, as its '
                              'distributor numbers it.'),
        'description': _string('Free-form description of the image.'),
        'cinder_encryption_key_id': _string(
            'Key manager id of the key that encrypts volumes created from '
            'this image.'),
        'cinder_encryption_key_deletion_policy': {
            'type': 'string',
            'description': 'Whether deleting the image also deletes the key '
                           'in cinder_encryption_key_id. Without it the key '
                           'is kept.',
            'enum': list(KEY_DELETION_POLICIES)},
    }
    for prop in props.values():
        prop['is_base'] = False
    return props


def _links(*pairs):
    return [{'rel': rel, 'href': '{%s}' % field} for rel, field in pairs]


def image_schema(conf):
    """The schema served at GET /v2/schemas/image: a new dict per call."""
    properties = _core_properties(conf.image_format.disk_formats,
                                  conf.image_format.container_formats)
    properties.update(_link_properties())
    properties.update(_extra_properties())
    return {
        'name': 'image',
        'properties': properties,
        'additionalProperties': {'type': 'string'},
        'links': _links(('self', 'self'), ('enclosure', 'file'),
                        ('describedby', 'schema')),
    }


def images_schema(conf):
    """The schema served at GET /v2/schemas/images: a new dict per call."""
    return {
        'name': 'images',
        'properties': {
            'images': {'type': 'array', 'items': image_schema(conf)},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
            'schema': {'type': 'string'},
        },
        'links': _links(('first', 'first'), ('next', 'next'),
                        ('describedby', 'schema')),
    }


# Names of the properties image_schema() defines.
CORE_PROPERTIES = frozenset(_core_properties((), ())) | frozenset(
    _link_properties())
SCHEMA_EXTRA_PROPERTIES = frozenset(_extra_properties())
BASE_PROPERTIES = CORE_PROPERTIES | SCHEMA_EXTRA_PROPERTIES

# The schema's readOnly properties: no client may set or remove them.
READ_ONLY_PROPERTIES = frozenset([
    'checksum', 'created_at', 'direct_url', 'file', 'os_hash_algo',
    'os_hash_value', 'schema', 'self', 'size', 'status', 'stores',
    'updated_at', 'virtual_size'])
# Never writable by anyone; plus every name under RESERVED_PREFIX.
RESERVED_PROPERTIES = frozenset(['location', 'deleted', 'deleted_at'])

# Core properties a create body may set; they are image columns. Any other
# key that passes check_create_body() is an extra property (a string, or
# null for kernel_id and ramdisk_id).
WRITABLE_CORE_PROPERTIES = frozenset([
    'id', 'name', 'visibility', 'protected', 'os_hidden', 'owner',
    'container_format', 'disk_format', 'min_ram', 'min_disk', 'tags'])

# Create: 403 read-only before validation (Glance's _disallowed_properties),
# then after it (ImageFactory._readonly_properties), each in Glance's order.
_CREATE_REJECTED_EARLY = ('direct_url', 'self', 'file', 'schema', 'stores')
_CREATE_REJECTED_LATE = ('created_at', 'updated_at', 'status', 'checksum',
                         'os_hash_algo', 'os_hash_value', 'size',
                         'virtual_size')
# Patch: 'id' cannot be changed once the image exists.
_PATCH_READ_ONLY = READ_ONLY_PROPERTIES | {'id'}
_MESSAGE_LIMIT = 1024


def is_reserved(name):
    """True for a property name no client may set, change or remove."""
    return name in RESERVED_PROPERTIES or name.startswith(RESERVED_PREFIX)


def validate_image(schema, image):
    """Validate a whole or partial image (or member) dict; raise SchemaValidationError.

    Draft 4 rules, format keywords not asserted. Glance calls
    jsonschema.validate(), which picks the newest draft; the only difference
    here is that Draft 4 rejects integral floats such as 1.0 for min_ram.
    """
    name = schema.get('name', 'image')
    if not isinstance(image, dict):
        reason = '%r is not of type %r' % (image, 'object')
        raise exception.SchemaValidationError(
            reason=SCHEMA_MISMATCH_MSG % (name, reason))
    validator = jsonschema.Draft4Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(image))
    if error is not None:
        # Glance sends str(error): the message, the failing keyword with its
        # subschema, and the offending value, which can be long; cut it.
        reason = str(error)
        if len(reason) > _MESSAGE_LIMIT:
            reason = reason[:_MESSAGE_LIMIT] + '...'
        raise exception.SchemaValidationError(
            reason=SCHEMA_MISMATCH_MSG % (name, reason))


def check_create_body(schema, body):
    """Glance's checks of a POST /v2/images body, in Glance's order.

    Left to the controller: a non-admin setting another owner or public
    visibility (policy, 403), negative min_ram/min_disk (400), an existing
    id (409), and the tag and property quotas (413).
    """
    if isinstance(body, dict):
        for key in _CREATE_REJECTED_EARLY:
            if key in body:
                raise exception.ReadOnlyAttribute(attribute=key)
    validate_image(schema, body)
    for key in body:
        if key in WRITABLE_CORE_PROPERTIES or key in READ_ONLY_PROPERTIES:
            continue
        if len(key) > MAX_PROPERTY_NAME_LENGTH:
            raise exception.BadRequest(PROPERTY_NAME_TOO_LONG_MSG)
        if is_reserved(key):
            raise exception.ReservedAttribute(attribute=key)
    for key in _CREATE_REJECTED_LATE:
        if key in body:
            raise exception.ReadOnlyAttribute(attribute=key)
    if 'locations' in body:
        raise exception.ReservedAttribute(attribute='locations')
    for key, value in body.items():
        if key not in WRITABLE_CORE_PROPERTIES:
            check_property_value(key, value)


def check_property_value(name, value):
    """Refuse an extra property value longer than the database stores.

    Glance has no such check: its TEXT column fails on MySQL instead.

    :raises PropertyValueTooLong: more than MAX_PROPERTY_VALUE_BYTES bytes.
    """
    # Characters take at most 4 bytes: most values need no encoding here.
    if (isinstance(value, str) and len(value) * 4 > MAX_PROPERTY_VALUE_BYTES
            and len(value.encode('utf-8', 'surrogatepass'))
            > MAX_PROPERTY_VALUE_BYTES):
        raise exception.PropertyValueTooLong(
            name=name, limit=MAX_PROPERTY_VALUE_BYTES)


def check_patch_change(schema, op, path, value=None):
    """Glance's checks of one PATCH operation; ``path`` is the decoded list.

    Check the path depth first (1, or 2 for locations add and remove: 400
    "Invalid JSON pointer for this resource: '/...'"). Left to the
    controller: remove of a core property (403 "Property %s may not be
    removed."), replace or remove of a missing extra property (409 "Property
    %s does not exist."), add of an existing property with the v2.0 patch
    media type (409 "Property %s already present."), owner by a non-admin
    (403), disk_format or container_format unless queued or importing (403),
    negative min_ram/min_disk (400) and locations.
    """
    root = path[0]
    if root in _PATCH_READ_ONLY:
        raise exception.ReadOnlyAttribute(attribute=root)
    if is_reserved(root):
        raise exception.ReservedAttribute(attribute=root)
    if op == 'remove':
        return
    if len(path) == 1:
        validate_image(schema, {root: value})
        if root not in WRITABLE_CORE_PROPERTIES:
            check_property_value(root, value)
    elif schema['properties'].get(root, {}).get('type') == 'array':
        validate_image(schema, {root: [value]})


MEMBER_STATUSES = ('pending', 'accepted', 'rejected')


def member_schema():
    """The schema served at GET /v2/schemas/member (Glance's, own words)."""
    return {
        'name': 'member',
        'properties': {
            'member_id': {'type': 'string', 'maxLength': 255,
                          'description': 'Project the image is shared '
                                         'with.'},
            'image_id': {'type': 'string', 'pattern': _UUID_PATTERN,
                         'description': 'Image that is shared.'},
            'created_at': {'type': 'string',
                           'description': 'When the image was shared '
                                          '(ISO 8601, UTC).'},
            'updated_at': {'type': 'string',
                           'description': 'When the member status last '
                                          'changed (ISO 8601, UTC).'},
            'status': {'type': 'string', 'enum': list(MEMBER_STATUSES),
                       'description': 'Whether the member project took the '
                                      'image: only accepted images are '
                                      'in its image lists by default.'},
            'schema': {'type': 'string', 'readOnly': True},
        },
    }


def members_schema():
    """The schema served at GET /v2/schemas/members."""
    return {
        'name': 'members',
        'properties': {
            'members': {'type': 'array', 'items': member_schema()},
            'schema': {'type': 'string'},
        },
        'links': _links(('schema', 'schema')),
    }


_UUID_PATTERN = ('^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
                 '-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$')


def _task_properties():
    def text(description, nullable=False):
        return {'description': description,
                'type': ['null', 'string'] if nullable else 'string'}
    return {
        'id': {'description': 'An identifier for the task',
               'pattern': _UUID_PATTERN, 'type': 'string'},
        'type': {'description': 'The type of task represented by this '
                                'content',
                 'enum': ['import', 'api_image_import', 'location_import'],
                 'type': 'string'},
        'status': {'description': 'The current status of this task',
                   'enum': ['pending', 'processing', 'success', 'failure'],
                   'type': 'string'},
        'input': {'description': 'The parameters required by task, JSON '
                                 'blob',
                  'type': ['null', 'object']},
        'result': {'description': 'The result of current task, JSON blob',
                   'type': ['null', 'object']},
        'owner': text('An identifier for the owner of this task'),
        'message': text('Human-readable informative message only included '
                        'when appropriate (usually on failure)'),
        'image_id': text('Image associated with the task'),
        'request_id': text('Human-readable informative request-id'),
        'user_id': text('User associated with the task'),
        'expires_at': text('Datetime when this resource would be subject to '
                           'removal', nullable=True),
        'created_at': text('Datetime when this resource was created'),
        'updated_at': text('Datetime when this resource was updated'),
        'self': {'readOnly': True, 'type': 'string'},
        'schema': {'readOnly': True, 'type': 'string'},
    }


def task_schema(partial=False):
    """GET /v2/schemas/task; ``partial``: a task in a list (no input, result, message)."""
    properties = _task_properties()
    if partial:
        for key in ('input', 'result', 'message'):
            del properties[key]
    return {'name': 'task', 'properties': properties,
            'additionalProperties': False}


def tasks_schema():
    """The schema served at GET /v2/schemas/tasks."""
    return {
        'name': 'tasks',
        'properties': {
            'tasks': {'type': 'array', 'items': task_schema(partial=True)},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
            'schema': {'type': 'string'},
        },
        'links': _links(('first', 'first'), ('next', 'next'),
                        ('describedby', 'schema')),
    }


class SchemasController:
    """GET /v2/schemas/image, /images, /member, /members, /task and /tasks."""

    def __init__(self, conf):
        self._image = image_schema(conf)
        self._images = images_schema(conf)
        self._member = member_schema()
        self._members = members_schema()

    def member(self, req, ctx):
        return wsgi.json_response(self._member)

    def task(self, req, ctx):
        return wsgi.json_response(task_schema())

    def tasks(self, req, ctx):
        return wsgi.json_response(tasks_schema())

    def members(self, req, ctx):
        return wsgi.json_response(self._members)

    def image(self, req, ctx):
        return wsgi.json_response(self._image)

    def images(self, req, ctx):
        return wsgi.json_response(self._images)
