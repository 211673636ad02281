"""ObjectsController: /v2/metadefs/namespaces/{namespace}/objects[/{object_name}].

An object is a named set of property definitions with the list of those required,
such as a CPU topology. Checks follow glance/api/v2/metadef_objects.py.
"""

from imageapi.api.v2.metadefs import access
from imageapi.common import metadef_schemas
from imageapi.common import wsgi
from imageapi.db.metadefs import parts as db_parts

SCHEMA_PATH = '/v2/schemas/metadefs/object'
# Glance's link, without the leading slash.
OBJECTS_SCHEMA_PATH = 'v2/schemas/metadefs/objects'


def object_view(namespace, obj, prefix=None):
    """The API form of an object of ``namespace`` (a name).

    :param prefix: put before the names of its properties and required.
    """
    prefix = prefix or ''
    view = {'name': obj['name'],
            'properties': {prefix + name: definition for name, definition
                           in (obj['properties'] or {}).items()},
            'created_at': obj['created_at'], 'updated_at': obj['updated_at'],
            'self': '%s/objects/%s' % (access.namespace_path(namespace),
                                       obj['name']),
            'schema': SCHEMA_PATH}
    if obj.get('description') is not None:
        view['description'] = obj['description']
    if obj.get('required'):
        view['required'] = [prefix + name for name in obj['required']]
    return view


def _object_body(document, body):
    metadef_schemas.validate(document, 'object', body)
    for name, definition in (body.get('properties') or {}).items():
        metadef_schemas.validate_definition(definition)
    metadef_schemas.check_object_size(body)
    return {'name': body['name'], 'description': body.get('description'),
            'required': body.get('required'),
            'properties': body.get('properties') or {}}


class ObjectsController:

    def __init__(self, enforcer):
        self.enforcer = enforcer
        self.documents = metadef_schemas.documents()

    def index(self, req, ctx, namespace):
        access.get_namespace(self.enforcer, ctx, namespace,
                             'get_metadef_objects')
        found = db_parts.part_find(ctx, 'object', namespace)
        return wsgi.json_response({
            'objects': [object_view(namespace, o) for o in found],
            'schema': OBJECTS_SCHEMA_PATH})

    def show(self, req, ctx, namespace, object_name):
        access.get_namespace(self.enforcer, ctx, namespace,
                             'get_metadef_object')
        obj = db_parts.part_get(ctx, 'object', namespace, object_name)
        return wsgi.json_response(object_view(namespace, obj))

    def create(self, req, ctx, namespace):
        body = req.read_json()
        access.get_namespace(self.enforcer, ctx, namespace,
                             'add_metadef_object')
        obj = _object_body(self.documents['object'], body)
        created = db_parts.part_create(ctx, 'object', namespace, obj)
        return wsgi.json_response(object_view(namespace, created),
                                  status=201)

    def update(self, req, ctx, namespace, object_name):
        body = req.read_json()
        access.get_namespace(self.enforcer, ctx, namespace,
                             'modify_metadef_object')
        obj = _object_body(self.documents['object'], body)
        updated = db_parts.part_update(ctx, 'object', namespace, object_name,
                                       obj)
        return wsgi.json_response(object_view(namespace, updated))

    def delete(self, req, ctx, namespace, object_name):
        current = access.get_namespace(self.enforcer, ctx, namespace,
                                       'delete_metadef_object')
        db_parts.part_get(ctx, 'object', namespace, object_name)
        access.check_deletable(current, 'object', object_name)
        db_parts.part_delete(ctx, 'object', namespace, object_name)
        return wsgi.empty_response()
