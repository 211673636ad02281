"""Find a metadata definition namespace and check the caller's rights on it.

Every metadefs controller starts here: the repository hides namespaces the caller
cannot see (404), then the policy rules decide (404 when even get_metadef_namespace
fails, else 403), as glance/api/v2/policy.py ``MetadefAPIPolicy`` does.
"""

from imageapi.common import exception
from imageapi.db.metadefs import namespaces as db_namespaces

NAMESPACES_PATH = '/v2/metadefs/namespaces'


def namespace_target(namespace):
    return {'project_id': namespace['owner'],
            'visibility': namespace['visibility']}


def caller_target(ctx):
    """The target of calls on no particular namespace: list and create."""
    return {'project_id': ctx.project_id}


def namespace_path(name):
    return '%s/%s' % (NAMESPACES_PATH, name)


def get_namespace(enforcer, ctx, name, *actions):
    """The visible namespace ``name``, once the caller passes ``actions``.

    :raises MetadefNamespaceNotFound: missing, not visible, or the caller
        may not get it.
    :raises Forbidden: the caller may get it, but not do an action.
    """
    namespace = db_namespaces.namespace_get(ctx, name)
    target = namespace_target(namespace)
    for action in ('get_metadef_namespace',) + actions:
        enforcer.authorize_namespace(ctx, action, target, name)
    return namespace


def check_deletable(namespace, kind=None, name=None):
    """403 for a delete inside (or of) a protected namespace, as Glance.

    :raises ProtectedMetadefDelete: the namespace is protected.
    """
    if namespace['protected']:
        raise exception.ProtectedMetadefDelete(
            kind=kind or 'namespace', name=name or namespace['namespace'])
