"""PropertiesController: /v2/metadefs/namespaces/{namespace}/properties[/{property_name}].

A property definition is a small JSON Schema (type, enum, bounds, pattern, ...) for one
metadata key. Checks follow glance/api/v2/metadef_properties.py.
"""

from imageapi.api.v2.metadefs import access
from imageapi.common import exception
from imageapi.common import metadef_schemas
from imageapi.common import wsgi
from imageapi.db.metadefs import parts as db_parts
from imageapi.db.metadefs import resource_types as db_resource_types

PROPERTIES_SCHEMA_PATH = 'v2/schemas/metadefs/properties'


def definition_view(prop):
    """A property definition as shown inside a namespace or a list."""
    return dict(prop['definition'])


def property_view(prop, name=None):
    view = definition_view(prop)
    view['name'] = name or prop['name']
    return view


class PropertiesController:

    def __init__(self, enforcer):
        self.enforcer = enforcer
        self.documents = metadef_schemas.documents()

    def _property_body(self, body):
        metadef_schemas.validate(self.documents['property'], 'property', body)
        definition = {k: v for k, v in body.items() if k != 'name'}
        metadef_schemas.check_property_size(body['name'], definition)
        return {'name': body['name'], 'definition': definition}

    def index(self, req, ctx, namespace):
        access.get_namespace(self.enforcer, ctx, namespace,
                             'get_metadef_properties')
        found = db_parts.part_find(ctx, 'property', namespace)
        return wsgi.json_response({
            'properties': {p['name']: definition_view(p) for p in found},
            'schema': PROPERTIES_SCHEMA_PATH})

    def show(self, req, ctx, namespace, property_name):
        resource_type = req.query_params().get('resource_type')
        actions = ('get_metadef_property',)
        if resource_type:
            actions += ('get_metadef_resource_type',)
        access.get_namespace(self.enforcer, ctx, namespace, *actions)
        name = property_name
        if resource_type:
            name = _unprefixed(ctx, namespace, property_name, resource_type)
        prop = db_parts.part_get(ctx, 'property', namespace, name)
        return wsgi.json_response(property_view(prop, property_name))

    def create(self, req, ctx, namespace):
        body = req.read_json()
        access.get_namespace(self.enforcer, ctx, namespace,
                             'add_metadef_property')
        prop = self._property_body(body)
        created = db_parts.part_create(ctx, 'property', namespace, prop)
        return wsgi.json_response(property_view(created), status=201)

    def update(self, req, ctx, namespace, property_name):
        body = req.read_json()
        access.get_namespace(self.enforcer, ctx, namespace,
                             'modify_metadef_property')
        prop = self._property_body(body)
        updated = db_parts.part_update(ctx, 'property', namespace,
                                       property_name, prop)
        return wsgi.json_response(property_view(updated))

    def delete(self, req, ctx, namespace, property_name):
        current = access.get_namespace(self.enforcer, ctx, namespace,
                                       'remove_metadef_property')
        db_parts.part_get(ctx, 'property', namespace, property_name)
        access.check_deletable(current, 'property', property_name)
        db_parts.part_delete(ctx, 'property', namespace, property_name)
        return wsgi.empty_response()


def _unprefixed(ctx, namespace, name, resource_type):
    """``name`` without the prefix ``resource_type`` gives the namespace.

    :raises MetadefPartNotFound: the name lacks that prefix.
    """
    associations = db_resource_types.resource_type_association_find(
        ctx, namespace)
    prefix = next((a['prefix'] for a in associations
                   if a['name'] == resource_type), None)
    if not prefix:
        return name
    if not name.startswith(prefix):
        raise exception.MetadefPartNotFound(kind='property', name=name,
                                            namespace=namespace)
    return name[len(prefix):]
