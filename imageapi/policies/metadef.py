"""Policy rules of the metadata definitions calls, with Glance's names and defaults.

Readers of a project read the public namespaces and their project's private ones;
only admins write. Targets give ``project_id`` (the namespace owner, or the caller's
project for a list or create) and ``visibility``.
"""

from oslo_policy import policy

from imageapi.policies import base

METADEF_ADMIN = 'rule:metadef_admin'
READ_NAMESPACE = ("%s or (role:reader and (project_id:%%(project_id)s or "
                  "'public':%%(visibility)s))" % base.ADMIN)

_NS = '/v2/metadefs/namespaces'
_ONE = _NS + '/{namespace_name}'


def _rule(name, check_str, description, operations):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check_str, scope_types=['project'],
        description=description,
        operations=[{'path': path, 'method': method}
                    for method, path in operations])


def _part_rules(kind, plural, collection, one, extra_writes=()):
    return [
        _rule('get_metadef_%s' % plural, READ_NAMESPACE,
              'List the %s of a namespace.' % plural, [('GET', collection)]),
        _rule('get_metadef_%s' % kind, READ_NAMESPACE,
              'Show one %s of a namespace.' % kind, [('GET', one)]),
        _rule('add_metadef_%s' % kind, METADEF_ADMIN,
              'Add a %s to a namespace.' % kind, [('POST', collection)]),
        _rule('modify_metadef_%s' % kind, METADEF_ADMIN,
              'Change a %s of a namespace.' % kind, [('PUT', one)]),
    ] + list(extra_writes)


rules = [
    policy.RuleDefault(name='metadef_default', check_str='',
                       description='Kept for policy files that refer to it.'),
    policy.RuleDefault(name='metadef_admin', check_str=base.ADMIN,
                       description='Who may change the metadata '
                                   'definitions catalog.'),
    _rule('get_metadef_namespaces', base.ADMIN_OR_PROJECT_READER,
          'List namespaces. Each one listed also passes '
          'get_metadef_namespace.', [('GET', _NS)]),
    _rule('get_metadef_namespace', READ_NAMESPACE,
          'Show a namespace. A namespace the caller may not get answers 404 '
          'to every call.', [('GET', _ONE)]),
    _rule('add_metadef_namespace', METADEF_ADMIN,
          'Create a namespace.', [('POST', _NS)]),
    _rule('modify_metadef_namespace', METADEF_ADMIN,
          'Change a namespace.', [('PUT', _ONE)]),
    _rule('delete_metadef_namespace', METADEF_ADMIN,
          'Delete a namespace, or all its objects, properties or tags.',
          [('DELETE', _ONE), ('DELETE', _ONE + '/objects'),
           ('DELETE', _ONE + '/properties'), ('DELETE', _ONE + '/tags')]),
]
rules += _part_rules(
    'object', 'objects', _ONE + '/objects', _ONE + '/objects/{object_name}',
    [_rule('delete_metadef_object', METADEF_ADMIN,
           'Delete an object of a namespace.',
           [('DELETE', _ONE + '/objects/{object_name}')])])
rules += _part_rules(
    'property', 'properties', _ONE + '/properties',
    _ONE + '/properties/{property_name}',
    [_rule('remove_metadef_property', METADEF_ADMIN,
           'Delete a property of a namespace.',
           [('DELETE', _ONE + '/properties/{property_name}')])])
rules += _part_rules(
    'tag', 'tags', _ONE + '/tags', _ONE + '/tags/{tag_name}',
    [_rule('add_metadef_tags', METADEF_ADMIN,
           'Add many tags to a namespace at once.',
           [('POST', _ONE + '/tags')]),
     _rule('delete_metadef_tag', METADEF_ADMIN,
           'Delete a tag of a namespace.',
           [('DELETE', _ONE + '/tags/{tag_name}')]),
     _rule('delete_metadef_tags', METADEF_ADMIN,
           'Delete all tags of a namespace.',
           [('DELETE', _ONE + '/tags')])])
rules += [
    _rule('list_metadef_resource_types', READ_NAMESPACE,
          'List resource types, and the associations of a namespace.',
          [('GET', '/v2/metadefs/resource_types'),
           ('GET', _ONE + '/resource_types')]),
    _rule('get_metadef_resource_type', READ_NAMESPACE,
          'Show a resource type association of a namespace.',
          [('GET', _ONE + '/resource_types')]),
    _rule('add_metadef_resource_type_association', METADEF_ADMIN,
          'Associate a namespace with a resource type.',
          [('POST', _ONE + '/resource_types')]),
    _rule('remove_metadef_resource_type_association', METADEF_ADMIN,
          'Remove the association of a namespace with a resource type.',
          [('DELETE', _ONE + '/resource_types/{resource_type}')]),
]


def list_rules():
    return rules
