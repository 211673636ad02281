"""ResourceTypesController: /v2/metadefs/resource_types and a namespace's associations.

Associating a namespace with a resource type says its properties apply to that kind of
resource, with an optional name prefix (``hw_`` for images) and properties target.
Checks follow glance/api/v2/metadef_resource_types.py.
"""

from imageapi.api.v2.metadefs import access
from imageapi.common import exception
from imageapi.common import metadef_schemas
from imageapi.common import wsgi
from imageapi.db.metadefs import resource_types as db_resource_types


def association_view(association):
    view = {key: association[key] for key in
            ('name', 'prefix', 'properties_target', 'created_at',
             'updated_at') if association.get(key) is not None}
    return view


class ResourceTypesController:

    def __init__(self, enforcer):
        self.enforcer = enforcer
        self.documents = metadef_schemas.documents()

    def index(self, req, ctx):
        self.enforcer.authorize(ctx, 'list_metadef_resource_types',
                                access.caller_target(ctx))
        found = db_resource_types.resource_type_find(ctx)
        return wsgi.json_response({'resource_types': found})

    def show(self, req, ctx, namespace):
        access.get_namespace(self.enforcer, ctx, namespace,
                             'list_metadef_resource_types')
        found = db_resource_types.resource_type_association_find(ctx,
                                                                 namespace)
        return wsgi.json_response({
            'resource_type_associations': [association_view(a)
                                           for a in found]})

    def create(self, req, ctx, namespace):
        body = req.read_json()
        access.get_namespace(self.enforcer, ctx, namespace,
                             'add_metadef_resource_type_association')
        metadef_schemas.validate(self.documents['resource_type'],
                                 'resource_type', body)
        created = db_resource_types.resource_type_association_create(
            ctx, namespace, body)
        return wsgi.json_response(association_view(created), status=201)

    def delete(self, req, ctx, namespace, resource_type):
        current = access.get_namespace(
            self.enforcer, ctx, namespace,
            'remove_metadef_resource_type_association')
        if current['protected']:
            # As Glance: a missing association is a 404 before the 403.
            found = db_resource_types.resource_type_association_find(
                ctx, namespace)
            if resource_type not in {a['name'] for a in found}:
                raise exception.MetadefAssociationNotFound(
                    name=resource_type, namespace=namespace)
            access.check_deletable(current, 'resource type association',
                                   resource_type)
        db_resource_types.resource_type_association_delete(ctx, namespace,
                                                           resource_type)
        return wsgi.empty_response()
