"""Policy rules of the image cache API (/v2/cache), with Glance's names and defaults."""

from oslo_policy import policy

from imageapi.policies import base

_CACHE = '/v2/cache'
_ENTRY = '/v2/cache/{image_id}'


def _rule(name, description, operations):
    return policy.DocumentedRuleDefault(
        name=name, check_str=base.ADMIN, scope_types=['project'],
        description=description,
        operations=[{'path': path, 'method': method}
                    for method, path in operations])


rules = [
    _rule('cache_image', 'Queue an image for caching on this node.',
          [('PUT', _ENTRY)]),
    _rule('cache_list', 'List the images cached and queued on this node.',
          [('GET', _CACHE)]),
    _rule('cache_delete', 'Remove images from this node\'s cache and/or '
                          'queue.',
          [('DELETE', _CACHE), ('DELETE', _ENTRY)]),
    _rule('cache_clean', 'Remove invalid and stalled cache files.',
          [('POST', _CACHE + '/clean')]),
    _rule('cache_prune', 'Prune this node\'s cache to its maximum size.',
          [('POST', _CACHE + '/prune')]),
]


def list_rules():
    return rules
