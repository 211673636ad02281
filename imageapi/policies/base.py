"""Check strings shared by the rule modules, and the base rules.

The strings are Glance's (glance/policies/base.py of Glance 33): admin anywhere, a member
or reader of the image's project, or of a project the image is shared with. Targets give
``project_id`` (the image owner), ``member_id``, ``visibility`` and ``owner``; see
imageapi/policy.py.
"""

from oslo_policy import policy

ADMIN = 'rule:context_is_admin'
DEFAULT = 'rule:default'

PROJECT_MEMBER = 'role:member and project_id:%(project_id)s'
PROJECT_READER = 'role:reader and project_id:%(project_id)s'
IMAGE_MEMBER = 'project_id:%(member_id)s'
_COMMUNITY = '"community":%(visibility)s'
_PUBLIC = '"public":%(visibility)s'
_SHARED = '"shared":%(visibility)s'
_ANY_VISIBLE = ('project_id:%%(project_id)s or %s or %s or %s or %s'
                % (IMAGE_MEMBER, _COMMUNITY, _PUBLIC, _SHARED))

ADMIN_OR_PROJECT_MEMBER = '%s or (%s)' % (ADMIN, PROJECT_MEMBER)
ADMIN_OR_PROJECT_READER = '%s or (%s)' % (ADMIN, PROJECT_READER)
ADMIN_OR_PROJECT_READER_GET_IMAGE = '%s or (role:reader and (%s))' % (
    ADMIN, _ANY_VISIBLE)

ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE = (
    '%s or (%s and project_id:%%(owner)s)' % (ADMIN, PROJECT_MEMBER))
ADMIN_OR_SHARED_MEMBER = '%s or (role:member and %s)' % (ADMIN, IMAGE_MEMBER)
# NOTE: no parentheses around the "and", as in Glance; oslo.policy binds
# "and" tighter than "or", so this reads "admin or (reader and (...))".
ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER = (
    '%s or role:reader and (project_id:%%(project_id)s or %s)'
    % (ADMIN, IMAGE_MEMBER))

rules = [
    policy.RuleDefault(
        name='default', check_str='',
        description='Rule used by a policy file for a name it does not '
                    'define. Empty: such rules pass. Set it to '
                    '"role:admin" to close them instead.'),
    policy.RuleDefault(
        name='context_is_admin', check_str='role:admin',
        description='Who is an administrator: sees and may change every '
                    'image of every project.'),
]


def list_rules():
    return rules
