"""TagsController: /v2/metadefs/namespaces/{namespace}/tags[/{tag_name}].

Tags are plain names a namespace suggests for resources. POST on the collection sets
many at once, replacing the namespace's tags unless ``X-OpenStack-Append`` is true.
Checks follow glance/api/v2/metadef_tags.py.
"""

from oslo_utils import strutils

from imageapi.api.v2.metadefs import access
from imageapi.common import exception
from imageapi.common import metadef_schemas
from imageapi.common import wsgi
from imageapi.db.metadefs import parts as db_parts

SCHEMA_PATH = '/v2/schemas/metadefs/tag'
TAGS_SCHEMA_PATH = '/v2/schemas/metadefs/tags'
APPEND_HEADER = 'X-OpenStack-Append'


def tag_view(tag):
    return {'name': tag['name'], 'created_at': tag['created_at'],
            'updated_at': tag['updated_at']}


class TagsController:

    def __init__(self, enforcer):
        self.enforcer = enforcer
        self.documents = metadef_schemas.documents()

    def _tag_name(self, name):
        """A tag name from the path: 400 unless it fits the tag schema."""
        metadef_schemas.validate(self.documents['tag'], 'tag', {'name': name})
        return name

    def index(self, req, ctx, namespace):
        access.get_namespace(self.enforcer, ctx, namespace,
                             'get_metadef_tags')
        found = db_parts.part_find(ctx, 'tag', namespace)
        return wsgi.json_response({'tags': [tag_view(t) for t in found]})

    def show(self, req, ctx, namespace, tag_name):
        access.get_namespace(self.enforcer, ctx, namespace,
                             'get_metadef_tag')
        tag = db_parts.part_get(ctx, 'tag', namespace, tag_name)
        return wsgi.json_response(tag_view(tag))

    def create(self, req, ctx, namespace, tag_name):
        access.get_namespace(self.enforcer, ctx, namespace,
                             'add_metadef_tag')
        created = db_parts.part_create(ctx, 'tag', namespace,
                                       {'name': self._tag_name(tag_name)})
        return wsgi.json_response(tag_view(created), status=201)

    def create_many(self, req, ctx, namespace):
        body = req.read_json()
        access.get_namespace(self.enforcer, ctx, namespace,
                             'add_metadef_tags')
        metadef_schemas.validate(self.documents['tags'], 'tags', body)
        names = []
        for tag in body.get('tags') or ():
            if 'name' not in tag:
                raise exception.BadRequest(reason='Every tag needs a name.')
            names.append(tag['name'])
        try:
            append = strutils.bool_from_string(
                req.headers.get(APPEND_HEADER, 'false'), strict=True)
        except ValueError:
            raise exception.BadRequest(
                reason='%s must be true or false.' % APPEND_HEADER)
        created = db_parts.tag_create_many(ctx, namespace, names, append)
        return wsgi.json_response({'tags': [{'name': t['name']}
                                            for t in created]}, status=201)

    def update(self, req, ctx, namespace, tag_name):
        body = req.read_json()
        access.get_namespace(self.enforcer, ctx, namespace,
                             'modify_metadef_tag')
        metadef_schemas.validate(self.documents['tag'], 'tag', body)
        updated = db_parts.part_update(ctx, 'tag', namespace, tag_name,
                                       {'name': body['name']})
        return wsgi.json_response(tag_view(updated))

    def delete(self, req, ctx, namespace, tag_name):
        current = access.get_namespace(self.enforcer, ctx, namespace,
                                       'delete_metadef_tag')
        db_parts.part_get(ctx, 'tag', namespace, tag_name)
        access.check_deletable(current, 'tag', tag_name)
        db_parts.part_delete(ctx, 'tag', namespace, tag_name)
        return wsgi.empty_response()
