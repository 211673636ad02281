"""NamespacesController: /v2/metadefs/namespaces[/{namespace}] and emptying a namespace.

A namespace groups property definitions, objects (named sets of properties) and tags,
and says which resource types (OS::Glance::Image, ...) they apply to. Checks follow
glance/api/v2/metadef_namespaces.py: visible or 404, then the policy rule (403).
"""

from urllib import parse

from imageapi.api.v2.metadefs import access
from imageapi.api.v2.metadefs import objects
from imageapi.api.v2.metadefs import properties
from imageapi.api.v2.metadefs import resource_types
from imageapi.common import exception
from imageapi.common import metadef_schemas
from imageapi.common import wsgi
from imageapi.db.metadefs import namespaces as db_namespaces

SCHEMA_PATH = '/v2/schemas/metadefs/namespace'
_VIEW_FIELDS = ('namespace', 'display_name', 'description', 'visibility',
                'protected', 'owner', 'created_at', 'updated_at')
_PART_ACTIONS = (('resource_type_associations',
                  'add_metadef_resource_type_association'),
                 ('objects', 'add_metadef_object'),
                 ('properties', 'add_metadef_property'),
                 ('tags', 'add_metadef_tag'))


def namespace_view(namespace, prefix=None):
    """The API form of a namespace; its parts when they are not empty.

    :param prefix: put before every property name (the ``resource_type``
        query parameter of show).
    """
    view = {key: namespace[key] for key in _VIEW_FIELDS
            if namespace.get(key) is not None}
    name = namespace['namespace']
    view['self'] = access.namespace_path(name)
    view['schema'] = SCHEMA_PATH
    if namespace.get('resource_type_associations'):
        view['resource_type_associations'] = [
            resource_types.association_view(a)
            for a in namespace['resource_type_associations']]
    if namespace.get('properties'):
        view['properties'] = {
            (prefix or '') + p['name']: properties.definition_view(p)
            for p in namespace['properties']}
    if namespace.get('objects'):
        view['objects'] = [objects.object_view(name, o, prefix)
                           for o in namespace['objects']]
    if namespace.get('tags'):
        view['tags'] = [{'name': t['name']} for t in namespace['tags']]
    return view


def _list_params(conf, params):
    """limit, marker, sort_key, sort_dir and filters of an index query.

    :raises BadRequest: a value Glance refuses, or a sort key that is not
        a namespace attribute.
    """
    limit = params.get('limit', conf.limit_param_default)
    try:
        limit = int(limit)
    except ValueError:
        raise exception.BadRequest(reason='limit param must be an integer')
    if limit < 0:
        raise exception.BadRequest(reason='limit param must be positive')
    sort_dir = params.get('sort_dir', 'desc')
    if sort_dir not in ('asc', 'desc'):
        raise exception.BadRequest(
            reason='Invalid sort direction: %s' % sort_dir)
    sort_key = params.get('sort_key', 'created_at')
    if sort_key not in db_namespaces.SORT_KEYS:
        raise exception.InvalidSortKey(key=sort_key)
    visibility = params.get('visibility') or None
    if visibility is not None and visibility not in metadef_schemas.VISIBILITIES:
        raise exception.BadRequest(
            reason='Invalid visibility value: %s' % visibility)
    resource_types = [name for name in
                      params.get('resource_types', '').split(',') if name]
    return {'limit': min(limit, conf.api_limit_max),
            'marker': params.get('marker'), 'sort_key': sort_key,
            'sort_dir': sort_dir, 'visibility': visibility,
            'resource_types': resource_types}


def _links(params, found, limit):
    """The first and next links of a page, Glance's way."""
    query = {k: v for k, v in params.items() if k != 'marker'}
    first = access.NAMESPACES_PATH
    if query:
        first += '?' + parse.urlencode(query)
    links = {'first': first}
    if found and len(found) == limit:
        query['marker'] = found[-1]['namespace']
        links['next'] = '%s?%s' % (access.NAMESPACES_PATH,
                                   parse.urlencode(query))
    return links


def _content(body):
    """The parts a create body holds, as the repository takes them."""
    props = body.get('properties') or {}
    for name, definition in props.items():
        metadef_schemas.check_property_size(name, definition)
    for obj in body.get('objects') or ():
        if 'name' not in obj:
            raise exception.BadRequest(reason='Every object needs a name.')
        metadef_schemas.check_object_size(obj)
    for tag in body.get('tags') or ():
        if 'name' not in tag:
            raise exception.BadRequest(reason='Every tag needs a name.')
    for association in body.get('resource_type_associations') or ():
        if 'name' not in association:
            raise exception.BadRequest(
                reason='Every resource type association needs a name.')
    return {'objects': body.get('objects') or (), 'properties': props,
            'tags': body.get('tags') or (),
            'associations': body.get('resource_type_associations') or ()}


class NamespacesController:

    def __init__(self, conf, enforcer):
        self.conf = conf
        self.enforcer = enforcer
        self.documents = metadef_schemas.documents()

    def _validate(self, body):
        metadef_schemas.validate(self.documents['namespace'], 'namespace', body)

    # ------------------------------------------------------------ read
    def index(self, req, ctx):
        params = dict(req.query_params())
        found_params = _list_params(self.conf, params)
        target = access.caller_target(ctx)
        for action in ('get_metadef_namespaces',
                       'list_metadef_resource_types'):
            self.enforcer.authorize(ctx, action, target)
        found = db_namespaces.namespace_find(ctx, **found_params)
        shown = [ns for ns in found if self.enforcer.check(
            ctx, 'get_metadef_namespace', access.namespace_target(ns))]
        body = {'namespaces': [namespace_view(ns) for ns in shown],
                'schema': '/v2/schemas/metadefs/namespaces'}
        body.update(_links(params, found, found_params['limit']))
        return wsgi.json_response(body)

    def show(self, req, ctx, namespace):
        params = req.query_params()
        access.get_namespace(
            self.enforcer, ctx, namespace, 'list_metadef_resource_types',
            'get_metadef_objects', 'get_metadef_properties',
            'get_metadef_tags')
        detail = db_namespaces.namespace_get_detail(ctx, namespace)
        prefix = None
        if params.get('resource_type'):
            prefix = next((a['prefix'] for a in
                           detail['resource_type_associations']
                           if a['name'] == params['resource_type']), None)
        return wsgi.json_response(namespace_view(detail, prefix))

    # ------------------------------------------------------------ write
    def create(self, req, ctx):
        body = req.read_json()
        self._validate(body)
        content = _content(body)
        target = access.caller_target(ctx)
        self.enforcer.authorize(ctx, 'add_metadef_namespace', target)
        for key, action in _PART_ACTIONS:
            if body.get(key):
                self.enforcer.authorize(ctx, action, target)
        values = {key: body.get(key) for key in ('namespace', 'display_name',
                                                 'description', 'visibility',
                                                 'protected', 'owner')}
        values['owner'] = values['owner'] or ctx.project_id
        if values['owner'] is None:
            raise exception.BadRequest(
                reason='A namespace needs an owner: the caller has no '
                       'project, so the body must name one.')
        created = db_namespaces.namespace_create(ctx, values, **content)
        return wsgi.json_response(
            namespace_view(created), status=201,
            headers={'Location': parse.quote(
                access.namespace_path(body['namespace']), safe='/:')})

    def update(self, req, ctx, namespace):
        body = req.read_json()
        current = access.get_namespace(self.enforcer, ctx, namespace)
        self._validate(body)
        self.enforcer.authorize_namespace(
            ctx, 'modify_metadef_namespace',
            access.namespace_target(current), namespace)
        # As Glance: PUT replaces; what the body leaves out is reset.
        values = {'namespace': body['namespace'],
                  'display_name': body.get('display_name'),
                  'description': body.get('description'),
                  'visibility': body.get('visibility') or 'private',
                  'protected': bool(body.get('protected')),
                  'owner': body.get('owner') or ctx.project_id
                  or current['owner']}
        updated = db_namespaces.namespace_update(ctx, namespace, values)
        return wsgi.json_response(namespace_view(updated))

    def delete(self, req, ctx, namespace):
        current = access.get_namespace(self.enforcer, ctx, namespace,
                                       'delete_metadef_namespace')
        access.check_deletable(current)
        db_namespaces.namespace_delete(ctx, namespace)
        return wsgi.empty_response()

    def _empty(self, ctx, namespace, part, *actions):
        current = access.get_namespace(self.enforcer, ctx, namespace,
                                       'delete_metadef_namespace', *actions)
        access.check_deletable(current)
        db_namespaces.namespace_empty(ctx, namespace, part)
        return wsgi.empty_response()

    def delete_objects(self, req, ctx, namespace):
        return self._empty(ctx, namespace, 'objects')

    def delete_properties(self, req, ctx, namespace):
        return self._empty(ctx, namespace, 'properties')

    def delete_tags(self, req, ctx, namespace):
        return self._empty(ctx, namespace, 'tags', 'delete_metadef_tags')
