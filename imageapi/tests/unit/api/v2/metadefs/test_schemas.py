"""/v2/schemas/metadefs/*: the documents Glance 33 serves, descriptions aside."""

import json
import os

from imageapi.tests.unit.api.v2.metadefs import base as md_base

# Glance 33's ten documents with their descriptive texts removed (the
# structure clients build models from).
_GLANCE = os.path.join(os.path.dirname(__file__), 'glance_schemas.json')


def _structure(value):
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in value.items()
                if not (k == 'description' and isinstance(v, str))}
    if isinstance(value, list):
        return [_structure(v) for v in value]
    return value


class SchemasTest(md_base.MetadefsTestCase):

    def test_each_document_has_glance_structure(self):
        with open(_GLANCE) as f:
            expected = json.load(f)
        self.assertEqual(10, len(expected))
        for name, document in expected.items():
            resp = self.api_get('/v2/schemas/metadefs/' + name)
            self.assertEqual(200, resp.status_int, name)
            self.assertEqual(document, _structure(resp.json), name)

    def test_documents_describe_in_own_words(self):
        body = self.api_get('/v2/schemas/metadefs/namespace').json
        self.assertIsInstance(
            body['properties']['namespace']['description'], str)

    def test_post_to_schema_returns_405(self):
        resp = self.api_post('/v2/schemas/metadefs/tag', json_body={})
        self.assertFault(resp, 405)
        self.assertEqual('GET', resp.headers['Allow'])

    def test_unknown_schema_returns_404(self):
        self.assertFault(self.api_get('/v2/schemas/metadefs/nothing'), 404)
