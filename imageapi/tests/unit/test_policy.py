"""The policy rules and the Enforcer: Glance's secure-RBAC defaults, a policy file, 404s."""

import logging
import os

import fixtures as pyfixtures
from oslo_policy import policy as oslo_policy

from imageapi.common import exception
from imageapi import context
from imageapi import policies
from imageapi import policy
from imageapi.tests import base

OWNER = 'owner-project'
OTHER = 'other-project'

# Glance 33's defaults (glance/policies/base.py, image.py), spelled out so
# that a change to imageapi/policies shows up here.
_ADMIN = 'rule:context_is_admin'
_SEEN = ('project_id:%(project_id)s or project_id:%(member_id)s or '
         '"community":%(visibility)s or "public":%(visibility)s or '
         '"shared":%(visibility)s')
GLANCE_DEFAULTS = {
    'default': '',
    'context_is_admin': 'role:admin',
    'add_image': _ADMIN + ' or (role:member and project_id:%(project_id)s '
                          'and project_id:%(owner)s)',
    'get_images': _ADMIN + ' or (role:reader and project_id:%(project_id)s)',
    'get_image': _ADMIN + ' or (role:reader and (%s))' % _SEEN,
    'modify_image': _ADMIN + ' or (role:member and project_id:%(project_id)s)',
    'publicize_image': _ADMIN,
    'communitize_image': _ADMIN + ' or (role:member and '
                                  'project_id:%(project_id)s)',
    'delete_image': _ADMIN + ' or (role:member and project_id:%(project_id)s)',
    'upload_image': _ADMIN + ' or (role:member and project_id:%(project_id)s)',
    'download_image': _ADMIN + ' or (role:reader and (%s))' % _SEEN,
    'delete_image_location': _ADMIN,
    'deactivate': _ADMIN,
    'reactivate': _ADMIN,
    'copy_image': _ADMIN,
    # glance/policies/tasks.py
    'get_task': 'rule:default', 'get_tasks': 'rule:default',
    'add_task': 'rule:default', 'tasks_api_access': _ADMIN,
    'stores_info_detail': _ADMIN,
    'add_member': _ADMIN + ' or (role:member and project_id:%(project_id)s)',
    'get_members': _ADMIN + ' or role:reader and (project_id:%(project_id)s '
                            'or project_id:%(member_id)s)',
    'get_member': _ADMIN + ' or role:reader and (project_id:%(project_id)s '
                           'or project_id:%(member_id)s)',
    'modify_member': _ADMIN + ' or (role:member and '
                              'project_id:%(member_id)s)',
    'delete_member': _ADMIN + ' or (role:member and '
                              'project_id:%(project_id)s)',
}
# glance/policies/metadef.py: readers read public namespaces and their own
# project's; only admins write.
_READ_NAMESPACE = (_ADMIN + " or (role:reader and (project_id:%(project_id)s"
                   " or 'public':%(visibility)s))")
GLANCE_DEFAULTS.update({
    'metadef_default': '', 'metadef_admin': _ADMIN,
    'get_metadef_namespaces': _ADMIN + ' or (role:reader and '
                                       'project_id:%(project_id)s)',
})
GLANCE_DEFAULTS.update(
    (name, _READ_NAMESPACE) for name in (
        'get_metadef_namespace', 'get_metadef_object', 'get_metadef_objects',
        'get_metadef_property', 'get_metadef_properties',
        'get_metadef_tag', 'get_metadef_tags', 'get_metadef_resource_type',
        'list_metadef_resource_types'))
GLANCE_DEFAULTS.update(
    (name, 'rule:metadef_admin') for name in (
        'add_metadef_namespace', 'modify_metadef_namespace',
        'delete_metadef_namespace', 'add_metadef_object',
        'modify_metadef_object', 'delete_metadef_object',
        'add_metadef_property', 'modify_metadef_property',
        'remove_metadef_property', 'add_metadef_tag', 'add_metadef_tags',
        'modify_metadef_tag', 'delete_metadef_tag', 'delete_metadef_tags',
        'add_metadef_resource_type_association',
        'remove_metadef_resource_type_association'))

# glance/policies/cache.py
GLANCE_DEFAULTS.update(
    (name, 'rule:context_is_admin') for name in (
        'cache_image', 'cache_list', 'cache_delete', 'cache_clean',
        'cache_prune'))


def _ctx(project=OWNER, roles=('member', 'reader'), system=None):
    return context.RequestContext(project_id=project, roles=list(roles),
                                  system_scope=system, overwrite=False)


def _image(visibility='shared', owner=OWNER):
    return {'id': 'c6b1b9d4-37f5-4d9b-9a4e-2b1f4f4c2a11', 'owner': owner,
            'visibility': visibility, 'name': None, 'status': 'queued',
            'properties': {'os_distro': 'cirros'}, 'locations': []}


class RulesTest(base.TestCase):

    def test_list_rules_equals_glance_secure_rbac_defaults(self):
        rules = {rule.name: rule.check_str for rule in policies.list_rules()}

        self.assertEqual(GLANCE_DEFAULTS, rules)

    def test_image_rules_are_project_scoped(self):
        for rule in policies.list_rules():
            if rule.name not in ('default', 'context_is_admin',
                                 'metadef_default', 'metadef_admin'):
                self.assertEqual(['project'], rule.scope_types, rule.name)


class EnforcerTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.enforcer = policy.Enforcer(self.conf)

    def check(self, action, ctx, image=None, member=None):
        target = policy.ImageTarget(image or _image(), member=member)
        return self.enforcer.check(ctx, action, target)

    def test_reader_of_owner_may_get_not_modify(self):
        reader = _ctx(roles=['reader'])

        self.assertTrue(self.check('get_image', reader))
        self.assertFalse(self.check('modify_image', reader))
        self.assertFalse(self.check('upload_image', reader))
        self.assertFalse(self.check('delete_image', reader))

    def test_reader_may_download(self):
        self.assertTrue(self.check('download_image', _ctx(roles=['reader'])))

    def test_custom_role_may_not_download(self):
        self.assertFalse(self.check('download_image', _ctx(roles=['auditor'])))

    def test_member_of_owner_may_write(self):
        for action in ('modify_image', 'upload_image', 'delete_image',
                       'download_image', 'add_member', 'delete_member'):
            self.assertTrue(self.check(action, _ctx()), action)

    def test_member_of_other_project_may_not_write(self):
        for action in ('modify_image', 'upload_image', 'delete_image',
                       'add_member', 'delete_member'):
            self.assertFalse(self.check(action, _ctx(project=OTHER)), action)

    def test_private_image_not_gettable_by_other_project(self):
        self.assertFalse(self.check('get_image', _ctx(project=OTHER),
                                    image=_image('private')))

    def test_public_and_community_gettable_by_any_reader(self):
        for visibility in ('public', 'community'):
            self.assertTrue(self.check('get_image',
                                       _ctx(project=OTHER, roles=['reader']),
                                       image=_image(visibility)))

    def test_admin_role_passes_everything(self):
        admin = _ctx(project=OTHER, roles=['admin'])

        for rule in policies.list_rules():
            self.assertTrue(self.check(rule.name, admin), rule.name)

    def test_modify_member_only_by_the_member_project(self):
        self.assertTrue(self.check('modify_member', _ctx(project=OTHER),
                                   member=OTHER))
        self.assertFalse(self.check('modify_member', _ctx(), member=OTHER))

    def test_get_member_by_owner_reader_or_the_member(self):
        self.assertTrue(self.check('get_member', _ctx(roles=['reader']),
                                   member=OTHER))
        self.assertTrue(self.check('get_member', _ctx(project=OTHER),
                                   member=OTHER))
        self.assertFalse(self.check('get_member', _ctx(project='third'),
                                    member=OTHER))

    def test_publicize_admin_only(self):
        target = policy.new_image_target(OWNER, 'public')

        self.assertFalse(self.enforcer.check(_ctx(), 'publicize_image',
                                             target))

    def test_add_image_for_other_owner_refused(self):
        self.assertFalse(self.enforcer.check(
            _ctx(), 'add_image', policy.new_image_target(OTHER, 'shared')))

    def test_system_scoped_token_refused_as_glance_does(self):
        self.assertFalse(self.check('get_image',
                                    _ctx(roles=['admin'], system='all')))

    def test_is_admin_follows_context_is_admin(self):
        self.assertTrue(self.enforcer.is_admin(_ctx(roles=['admin'])))
        self.assertFalse(self.enforcer.is_admin(_ctx()))

    def test_authorize_image_unseen_raises_not_found(self):
        target = policy.ImageTarget(_image('private'))

        self.assertRaises(exception.ImageNotFound,
                          self.enforcer.authorize_image,
                          _ctx(project=OTHER), 'modify_image', target)

    def test_authorize_image_seen_raises_forbidden(self):
        target = policy.ImageTarget(_image('public'))

        self.assertRaises(exception.Forbidden, self.enforcer.authorize_image,
                          _ctx(project=OTHER), 'modify_image', target)

    def test_target_member_looked_up_once(self):
        calls = []
        target = policy.ImageTarget(
            _image(), member_lookup=lambda: calls.append(1) or OTHER)

        self.assertTrue(self.enforcer.check(_ctx(project=OTHER),
                                            'modify_member', target))
        self.assertEqual(OTHER, target['member_id'])
        self.assertEqual([1], calls)

    def test_target_carries_extra_properties(self):
        target = policy.ImageTarget(_image())

        self.assertEqual('cirros', target['os_distro'])
        self.assertEqual(OWNER, target['project_id'])

    def test_policy_file_overrides_a_default(self):
        path = os.path.join(self.state_path, 'policy.yaml')
        with open(path, 'w') as policy_file:
            policy_file.write('"modify_image": "role:reader"\n')
        self.flags(policy_file=path, group='oslo_policy')
        enforcer = policy.Enforcer(self.conf)

        self.assertTrue(enforcer.check(_ctx(project=OTHER, roles=['reader']),
                                       'modify_image',
                                       policy.ImageTarget(_image())))

    def _write_policy(self, path, rule):
        with open(path, 'w') as policy_file:
            policy_file.write('"modify_image": "%s"\n' % rule)
        # The second write gets a later mtime, whatever the clock grain.
        stamp = 2000000000 if rule == 'role:reader' else 1000000000
        os.utime(path, (stamp, stamp))

    def test_policy_file_change_is_seen_after_the_check_interval(self):
        self._count_enforce()  # with results kept, as in production
        path = os.path.join(self.state_path, 'policy.yaml')
        self._write_policy(path, 'role:admin')
        self.flags(policy_file=path, group='oslo_policy')
        enforcer = policy.Enforcer(self.conf)
        reader = _ctx(project=OTHER, roles=['reader'])
        target = policy.ImageTarget(_image())
        self.assertFalse(enforcer.check(reader, 'modify_image', target))

        self._write_policy(path, 'role:reader')
        # Within the interval the file is not looked at again...
        enforcer.reload_check_seconds = 3600
        self.assertFalse(enforcer.check(reader, 'modify_image', target))
        # ...once it has passed, the change applies.
        enforcer._next_reload_check = 0.0
        self.assertTrue(enforcer.check(reader, 'modify_image', target))

    def _count_enforce(self):
        # With its debug log on, oslo.policy dumps every target, which
        # reads all of it: then nothing is kept (see policy._ReadKeys).
        self.useFixture(pyfixtures.FakeLogger(name='oslo_policy',
                                              level=logging.INFO))
        return self.useFixture(pyfixtures.MockPatchObject(
            self.enforcer, 'enforce', wraps=self.enforcer.enforce)).mock

    def test_check_same_caller_same_owner_result_kept(self):
        enforce = self._count_enforce()
        reader = _ctx(roles=['reader'])
        other_image = dict(_image('private'), id='other-image', name='x')

        self.assertTrue(self.check('get_image', reader, _image('private')))
        self.assertTrue(self.check('get_image', reader, other_image))
        self.assertFalse(self.check('get_image', _ctx(project=OTHER),
                                    _image('private')))
        self.assertFalse(self.check('modify_image', reader, other_image))
        self.assertTrue(self.enforcer.is_admin(_ctx(roles=['admin'])))
        self.assertTrue(self.enforcer.is_admin(_ctx(roles=['admin'])))

        self.assertEqual(4, enforce.call_count)

    def test_check_kept_result_reads_member_only_when_rule_does(self):
        enforce = self._count_enforce()
        looked_up = []

        def target(owner):
            return policy.ImageTarget(
                _image('shared', owner=owner),
                member_lookup=lambda: looked_up.append(owner))
        reader = _ctx(roles=['reader'])

        # Another project's image: the rule gets as far as member_id.
        self.assertTrue(self.enforcer.check(reader, 'get_image',
                                            target(OTHER)))
        self.assertTrue(self.enforcer.check(reader, 'get_image',
                                            target(OTHER)))
        # The caller's own: decided on project_id alone, every time.
        self.assertTrue(self.enforcer.check(reader, 'get_image',
                                            target(OWNER)))
        self.assertTrue(self.enforcer.check(reader, 'get_image',
                                            target(OWNER)))

        self.assertEqual([OTHER, OTHER], looked_up)
        self.assertEqual(2, enforce.call_count)

    def test_check_after_set_rules_evaluates_new_rules(self):
        enforce = self._count_enforce()
        reader = _ctx(project=OTHER, roles=['reader'])
        self.assertFalse(self.check('modify_image', reader))

        self.enforcer.set_rules(oslo_policy.Rules.from_dict(
            {'modify_image': 'role:reader'}), overwrite=False, use_conf=True)

        self.assertTrue(self.check('modify_image', reader))
        self.assertEqual(2, enforce.call_count)

    def test_check_reading_whole_target_result_not_kept(self):
        self._count_enforce()

        class Walks(oslo_policy.Check):
            calls = 0

            def __call__(self, target, creds, enforcer, current_rule=None):
                Walks.calls += 1
                return len(target) > 0

        self.enforcer.set_rules({'walk': Walks('walk', 'all')},
                                overwrite=False, use_conf=True)

        self.assertTrue(self.check('walk', _ctx()))
        self.assertTrue(self.check('walk', _ctx()))
        self.assertEqual(2, Walks.calls)


class GeneratorEnforcerTest(base.TestCase):

    def test_get_enforcer_without_arguments_has_the_rules(self):
        self.useFixture(pyfixtures.MonkeyPatch(
            'imageapi.policy._GENERATOR_ENFORCER', None))
        self.useFixture(pyfixtures.EnvironmentVariable(
            'OS_IMAGEAPI_CONFIG_DIR'))

        enforcer = policy.get_enforcer()

        self.assertIn('get_image', enforcer.registered_rules)
