"""Policy rules of the image members calls (image sharing), with Glance's names and defaults.

For these calls ``member_id`` in the target is the member the call is about: the one in
the URL, or the one being added.
"""

from oslo_policy import policy

from imageapi.policies import base

_MEMBERS = '/v2/images/{image_id}/members'
_MEMBER = '/v2/images/{image_id}/members/{member_id}'


def _rule(name, check_str, description, method, path):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check_str, scope_types=['project'],
        description=description,
        operations=[{'path': path, 'method': method}])


rules = [
    _rule('add_member', base.ADMIN_OR_PROJECT_MEMBER,
          'Share an image with another project.', 'POST', _MEMBERS),
    _rule('get_members', base.ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER,
          'List the members of an image. A member project sees only its '
          'own membership.', 'GET', _MEMBERS),
    _rule('get_member', base.ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER,
          'Show one member of an image.', 'GET', _MEMBER),
    _rule('modify_member', base.ADMIN_OR_SHARED_MEMBER,
          'Accept or reject a shared image: only the member project may '
          'set its status.', 'PUT', _MEMBER),
    _rule('delete_member', base.ADMIN_OR_PROJECT_MEMBER,
          'Stop sharing an image with a project.', 'DELETE', _MEMBER),
]


def list_rules():
    return rules
