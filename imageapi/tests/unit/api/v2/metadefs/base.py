"""MetadefsTestCase: APITestCase with helpers for the /v2/metadefs calls."""

from imageapi.tests.unit.api.v2 import base

NS_PATH = '/v2/metadefs/namespaces'


def ns_path(name, *rest):
    return '/'.join((NS_PATH, name) + rest)


def string_property(title='A title', **extra):
    return dict({'title': title, 'type': 'string'}, **extra)


class MetadefsTestCase(base.APITestCase):

    def create_namespace(self, name='OS::Test', expect=201, project=None,
                         **fields):
        """POST a namespace as admin (of ``project``); returns the body."""
        body = dict(fields, namespace=name)
        resp = self.api_post(NS_PATH, json_body=body, admin=True,
                             project=project or base.PROJECT_A)
        self.assertEqual(expect, resp.status_int, resp.text)
        return resp.json

    def as_reader(self, method, path, project=base.PROJECT_A, **kwargs):
        """A request from a user with only the reader role."""
        headers = dict(kwargs.pop('headers', None) or {}, **{
            'X-Roles': 'reader'})
        return self.api_request(method, path, project=project,
                                headers=headers, **kwargs)
