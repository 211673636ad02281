"""The metadefs policy rules through the API: defaults by role, and a policy file."""

import fixtures as pyfixtures

from imageapi.tests.unit.api.v2 import base
from imageapi.tests.unit.api.v2.metadefs import base as md_base
from imageapi.tests.unit.api.v2.metadefs.base import NS_PATH
from imageapi.tests.unit.api.v2.metadefs.base import ns_path


class DefaultRulesTest(md_base.MetadefsTestCase):

    def setUp(self):
        super().setUp()
        self.create_namespace('OS::Mine', objects=[{'name': 'o'}],
                              tags=[{'name': 't'}])
        self.create_namespace('OS::Pub', project=base.PROJECT_B,
                              visibility='public', tags=[{'name': 't'}])

    def test_reader_reads_every_part_of_visible_namespaces(self):
        for path in (ns_path('OS::Mine'), ns_path('OS::Mine', 'objects'),
                     ns_path('OS::Mine', 'objects', 'o'),
                     ns_path('OS::Mine', 'properties'),
                     ns_path('OS::Mine', 'tags'),
                     ns_path('OS::Pub', 'tags', 't'),
                     ns_path('OS::Pub', 'resource_types'),
                     '/v2/metadefs/resource_types', NS_PATH):
            resp = self.as_reader('GET', path)
            self.assertEqual(200, resp.status_int, (path, resp.text))

    def test_reader_writes_nothing(self):
        for method, path in (('POST', NS_PATH),
                             ('PUT', ns_path('OS::Mine')),
                             ('DELETE', ns_path('OS::Mine')),
                             ('POST', ns_path('OS::Mine', 'tags', 'x')),
                             ('DELETE', ns_path('OS::Pub', 'tags', 't')),
                             ('DELETE', ns_path('OS::Mine', 'objects'))):
            resp = self.as_reader(method, path, json_body={
                'namespace': 'OS::Mine'})
            self.assertFault(resp, 403)

    def test_no_project_and_no_owner_returns_400(self):
        resp = self.api_post(NS_PATH, json_body={'namespace': 'OS::X'},
                             admin=True, project=None)
        self.assertFault(resp, 400, 'owner')


class PolicyFileTest(md_base.MetadefsTestCase):

    def use_policy(self, text):
        policy_file = self.useFixture(pyfixtures.TempDir()).join('p.yaml')
        with open(policy_file, 'w') as out:
            out.write(text)
        self.flags(policy_file=policy_file, group='oslo_policy')
        self.app = self.load_app()

    def test_denied_part_rule_is_403_on_a_visible_namespace(self):
        self.create_namespace('OS::Mine', objects=[{'name': 'o'}])
        self.use_policy('"get_metadef_objects": "!"\n')
        self.assertFault(self.api_get(ns_path('OS::Mine', 'objects')), 403)
        # show embeds the objects: it needs the rule too.
        self.assertFault(self.api_get(ns_path('OS::Mine')), 403)

    def test_denied_namespace_rule_is_404(self):
        self.create_namespace('OS::Mine', objects=[{'name': 'o'}])
        self.use_policy('"get_metadef_namespace": "!"\n')
        self.assertFault(self.api_get(ns_path('OS::Mine', 'objects')), 404)
        self.assertEqual([], self.api_get(NS_PATH).json['namespaces'])

    def test_denied_resource_type_rule_refuses_prefixed_property(self):
        self.create_namespace('OS::Mine', properties={
            'p': {'title': 'P', 'type': 'string'}})
        self.use_policy('"get_metadef_resource_type": "!"\n')
        path = ns_path('OS::Mine', 'properties', 'p')
        self.assertEqual(200, self.api_get(path).status_int)
        self.assertFault(self.api_get(path + '?resource_type=R'), 403)

    def test_members_may_write_when_the_file_says_so(self):
        self.create_namespace('OS::Mine')
        self.use_policy('"metadef_admin": "role:member"\n')
        resp = self.api_post(ns_path('OS::Mine', 'tags', 'new'))
        self.assertEqual(201, resp.status_int, resp.text)
