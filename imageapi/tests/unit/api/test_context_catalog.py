"""ContextMiddleware keeps auth_token's service catalog on the context (glance-download)."""

import json

import webob

from imageapi.api.middleware import context as context_middleware
from imageapi.tests import base

CATALOG = [{'type': 'image', 'endpoints': [
    {'region': 'RegionTwo', 'publicURL': 'http://192.0.2.7:9292'}]}]


class ContextCatalogTest(base.TestCase):

    def context_for(self, headers):
        seen = []

        @webob.dec.wsgify
        def app(req):
            seen.append(context_middleware.get_context(req))
            return webob.Response()

        req = webob.Request.blank('/v2/images', headers=dict(
            {'X-Identity-Status': 'Confirmed', 'X-Auth-Token': 't'},
            **headers))
        req.get_response(context_middleware.ContextMiddleware(app))
        return seen[0]

    def test_catalog_header_parsed(self):
        ctx = self.context_for({'X-Service-Catalog': json.dumps(CATALOG)})
        self.assertEqual(CATALOG, ctx.service_catalog)
        self.assertEqual('t', ctx.auth_token)

    def test_catalog_missing_or_malformed_empty(self):
        for headers in ({}, {'X-Service-Catalog': '{not json'},
                        {'X-Service-Catalog': '{"a": 1}'}):
            self.assertEqual([], self.context_for(headers).service_catalog)
