"""The v2 URL map: ROUTES lists every path, its methods and the controller action.

Unknown paths give 404; a known path with another method gives 405 with ``Allow``.
"""

import routes

from imageapi.api.middleware import context as context_middleware
from imageapi.api.v2 import cached_images
from imageapi.api.v2 import discovery
from imageapi.api.v2 import image_actions
from imageapi.api.v2 import image_data
from imageapi.api.v2 import images
from imageapi.api.v2 import imports
from imageapi.api.v2 import limits
from imageapi.api.v2 import members
from imageapi.api.v2.metadefs import namespaces as md_namespaces
from imageapi.api.v2.metadefs import objects as md_objects
from imageapi.api.v2.metadefs import properties as md_properties
from imageapi.api.v2.metadefs import resource_types as md_resource_types
from imageapi.api.v2.metadefs import schemas as md_schemas
from imageapi.api.v2.metadefs import tags as md_tags
from imageapi.api.v2 import schemas
from imageapi.api.v2 import tasks
from imageapi.common import config
from imageapi.common import exception
from imageapi.common import wsgi
from imageapi import policy

# path -> {method: (controller key, action)}
ROUTES = (
    ('/v2/images', {'GET': ('images', 'index'),
                    'POST': ('images', 'create')}),
    ('/v2/images/{image_id}', {'GET': ('images', 'show'),
                               'PATCH': ('images', 'update'),
                               'DELETE': ('images', 'delete')}),
    ('/v2/images/{image_id}/file', {'PUT': ('image_data', 'upload'),
                                    'GET': ('image_data', 'download')}),
    ('/v2/images/{image_id}/actions/deactivate', {
        'POST': ('image_actions', 'deactivate')}),
    ('/v2/images/{image_id}/actions/reactivate', {
        'POST': ('image_actions', 'reactivate')}),
    ('/v2/images/{image_id}/stage', {'PUT': ('image_data', 'stage')}),
    ('/v2/images/{image_id}/import', {'POST': ('imports', 'import_image')}),
    ('/v2/images/{image_id}/tasks', {'GET': ('imports', 'image_tasks')}),
    ('/v2/tasks', {'GET': ('tasks', 'index'), 'POST': ('tasks', 'create')}),
    ('/v2/tasks/{task_id}', {'GET': ('tasks', 'show')}),
    ('/v2/images/{image_id}/tags/{tag}', {'PUT': ('images', 'add_tag'),
                                          'DELETE': ('images',
                                                     'delete_tag')}),
    ('/v2/images/{image_id}/members', {'GET': ('members', 'index'),
                                       'POST': ('members', 'create')}),
    ('/v2/images/{image_id}/members/{member_id}', {
        'GET': ('members', 'show'),
        'PUT': ('members', 'update'),
        'DELETE': ('members', 'delete')}),
    ('/v2/schemas/image', {'GET': ('schemas', 'image')}),
    ('/v2/schemas/images', {'GET': ('schemas', 'images')}),
    ('/v2/schemas/member', {'GET': ('schemas', 'member')}),
    ('/v2/schemas/task', {'GET': ('schemas', 'task')}),
    ('/v2/schemas/tasks', {'GET': ('schemas', 'tasks')}),
    ('/v2/info/import', {'GET': ('imports', 'info')}),
    ('/v2/schemas/members', {'GET': ('schemas', 'members')}),
    ('/v2/info/usage', {'GET': ('discovery', 'usage')}),
    ('/v2/info/stores', {'GET': ('discovery', 'stores')}),
    ('/v2/info/stores/detail', {'GET': ('discovery', 'stores_detail')}),
    ('/v2/stores/{store_id}/{image_id}', {'DELETE': ('images',
                                                     'delete_from_store')}),
    ('/v2/cache', {'GET': ('cache', 'index'), 'DELETE': ('cache', 'clear')}),
    # Before /v2/cache/{image_id}, which would take 'clean' for an id.
    ('/v2/cache/clean', {'POST': ('cache', 'clean')}),
    ('/v2/cache/prune', {'POST': ('cache', 'prune')}),
    ('/v2/cache/{image_id}', {'PUT': ('cache', 'queue'),
                              'DELETE': ('cache', 'delete')}),
) + tuple(
    ('/v2/schemas/metadefs/%s' % name, {'GET': ('md_schemas', name)})
    for name in ('namespace', 'namespaces', 'object', 'objects', 'property',
                 'properties', 'resource_type', 'resource_types', 'tag',
                 'tags'))

_NS = '/v2/metadefs/namespaces/{namespace}'
ROUTES += (
    ('/v2/metadefs/resource_types', {'GET': ('md_resource_types', 'index')}),
    ('/v2/metadefs/namespaces', {'GET': ('md_namespaces', 'index'),
                                 'POST': ('md_namespaces', 'create')}),
    (_NS, {'GET': ('md_namespaces', 'show'),
           'PUT': ('md_namespaces', 'update'),
           'DELETE': ('md_namespaces', 'delete')}),
    (_NS + '/resource_types', {'GET': ('md_resource_types', 'show'),
                               'POST': ('md_resource_types', 'create')}),
    (_NS + '/resource_types/{resource_type}', {
        'DELETE': ('md_resource_types', 'delete')}),
    (_NS + '/objects', {'GET': ('md_objects', 'index'),
                        'POST': ('md_objects', 'create'),
                        'DELETE': ('md_namespaces', 'delete_objects')}),
    (_NS + '/objects/{object_name}', {'GET': ('md_objects', 'show'),
                                      'PUT': ('md_objects', 'update'),
                                      'DELETE': ('md_objects', 'delete')}),
    (_NS + '/properties', {'GET': ('md_properties', 'index'),
                           'POST': ('md_properties', 'create'),
                           'DELETE': ('md_namespaces', 'delete_properties')}),
    (_NS + '/properties/{property_name}', {
        'GET': ('md_properties', 'show'),
        'PUT': ('md_properties', 'update'),
        'DELETE': ('md_properties', 'delete')}),
    (_NS + '/tags', {'GET': ('md_tags', 'index'),
                     'POST': ('md_tags', 'create_many'),
                     'DELETE': ('md_namespaces', 'delete_tags')}),
    (_NS + '/tags/{tag_name}', {'GET': ('md_tags', 'show'),
                                'POST': ('md_tags', 'create'),
                                'PUT': ('md_tags', 'update'),
                                'DELETE': ('md_tags', 'delete')}),
)

_KNOWN_METHODS = frozenset(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE',
                            'OPTIONS', 'TRACE', 'CONNECT'])


def build_mapper():
    mapper = routes.Mapper()
    for path, methods in ROUTES:
        for method, (controller, action) in methods.items():
            mapper.connect(path, controller=controller, action=action,
                           conditions={'method': [method]})
        mapper.connect(path, controller=None, action='reject',
                       allowed=', '.join(sorted(methods)))
    return mapper


class API:
    """The WSGI app: match the route, call ``controller.action(req, **args)``."""

    def __init__(self, conf, service):
        """Build the controllers over ``service`` (imageapi/service.py).

        Nothing here has side effects beyond this object: the process's
        start-up step made ``service``.
        """
        self.conf = conf
        stores = service.stores
        self.enforcer = policy.Enforcer(conf)
        keystone_limits = limits.KeystoneLimits(conf)
        self.controllers = {
            'images': images.ImagesController(conf, stores, self.enforcer,
                                              keystone_limits, service.cache,
                                              service.staging),
            'image_data': image_data.ImageDataController(
                conf, stores, service.leases, self.enforcer,
                keystone_limits, service.staging, service.cache),
            'cache': cached_images.CacheController(
                conf, self.enforcer, service.cache, service.cache_keeper),
            'image_actions': image_actions.ImageActionsController(
                self.enforcer),
            'imports': imports.ImportsController(
                conf, stores, service.engine, self.enforcer,
                keystone_limits),
            'members': members.MembersController(conf, self.enforcer),
            'schemas': schemas.SchemasController(conf),
            'discovery': discovery.DiscoveryController(
                keystone_limits, stores, self.enforcer),
            'md_namespaces': md_namespaces.NamespacesController(
                conf, self.enforcer),
            'md_objects': md_objects.ObjectsController(self.enforcer),
            'md_properties': md_properties.PropertiesController(
                self.enforcer),
            'md_tags': md_tags.TagsController(self.enforcer),
            'md_resource_types': md_resource_types.ResourceTypesController(
                self.enforcer),
            'md_schemas': md_schemas.SchemasController(),
        }
        self.controllers['tasks'] = tasks.TasksController(
            conf, self.enforcer,
            creator=self.controllers['imports'].create_task)
        self.mapper = build_mapper()

    def __call__(self, environ, start_response):
        response = self._dispatch(wsgi.Request(environ))
        return response(environ, start_response)

    def _dispatch(self, req):
        if req.method not in _KNOWN_METHODS:
            raise exception.NotImplementedMethod(method=req.method)
        # Matched on the UTF-8 text of the path: Routes would match the
        # latin-1 str of WSGI and hand '\xc3\xa9' to the controller for 'é'.
        match = self.mapper.match(url=req.path_text(), environ=req.environ)
        if match is None:
            raise exception.NotFound()
        args = dict(match)
        controller = args.pop('controller')
        action = args.pop('action')
        if action == 'reject':
            raise _not_allowed(req.method, args['allowed'])
        ctx = context_middleware.get_context(req)
        # The context_is_admin rule decides, so a policy file can name
        # another admin role; db/ reads is_admin for visibility.
        ctx.is_admin = self.enforcer.is_admin(ctx)
        return getattr(self.controllers[controller], action)(req, ctx,
                                                             **args)


def _not_allowed(method, allowed):
    exc = exception.MethodNotAllowed(method=method)
    exc.headers = {'Allow': allowed}
    return exc


def app_factory(global_conf, **local_conf):
    """Paste app factory; ConfigOpts and Service come via load_paste_app."""
    return API(config.conf_from_paste(global_conf),
               config.service_from_paste(global_conf))
