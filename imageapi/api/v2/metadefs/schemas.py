"""SchemasController: GET /v2/schemas/metadefs/{namespace,namespaces,object,...}.

The documents and the validation live in common/metadef_schemas.py, which
imageapi-manage shares.
"""

from imageapi.common import metadef_schemas
from imageapi.common import wsgi


class SchemasController:
    """GET /v2/schemas/metadefs/{namespace,namespaces,object,...}."""

    def __init__(self):
        self.documents = metadef_schemas.documents()

    def _serve(self, name):
        return wsgi.json_response(self.documents[name])

    def namespace(self, req, ctx):
        return self._serve('namespace')

    def namespaces(self, req, ctx):
        return self._serve('namespaces')

    def object(self, req, ctx):
        return self._serve('object')

    def objects(self, req, ctx):
        return self._serve('objects')

    def property(self, req, ctx):
        return self._serve('property')

    def properties(self, req, ctx):
        return self._serve('properties')

    def resource_type(self, req, ctx):
        return self._serve('resource_type')

    def resource_types(self, req, ctx):
        return self._serve('resource_types')

    def tag(self, req, ctx):
        return self._serve('tag')

    def tags(self, req, ctx):
        return self._serve('tags')
