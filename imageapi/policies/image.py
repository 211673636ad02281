"""Policy rules of the images and image data calls, with Glance's names and defaults."""

from oslo_policy import policy

from imageapi.policies import base

_IMAGES = '/v2/images'
_IMAGE = '/v2/images/{image_id}'
_FILE = '/v2/images/{image_id}/file'
_TAG = '/v2/images/{image_id}/tags/{tag_value}'
_SCOPE = ['project']


def _rule(name, check_str, description, operations):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check_str, scope_types=_SCOPE,
        description=description,
        operations=[{'path': path, 'method': method}
                    for method, path in operations])


rules = [
    _rule('add_image', base.ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE,
          'Create an image owned by the caller\'s project.',
          [('POST', _IMAGES)]),
    _rule('get_images', base.ADMIN_OR_PROJECT_READER,
          'List images. Each image listed also passes get_image.',
          [('GET', _IMAGES)]),
    _rule('get_image', base.ADMIN_OR_PROJECT_READER_GET_IMAGE,
          'Show an image. An image the caller may not get answers 404 to '
          'every call, so that its existence is not revealed.',
          [('GET', _IMAGE)]),
    _rule('modify_image', base.ADMIN_OR_PROJECT_MEMBER,
          'Change an image record or its tags, stage its data or import '
          'it.',
          [('PATCH', _IMAGE), ('PUT', _TAG), ('DELETE', _TAG),
           ('PUT', '/v2/images/{image_id}/stage'),
           ('POST', '/v2/images/{image_id}/import')]),
    _rule('publicize_image', base.ADMIN,
          'Make an image public, at create or by PATCH.',
          [('POST', _IMAGES), ('PATCH', _IMAGE)]),
    _rule('communitize_image', base.ADMIN_OR_PROJECT_MEMBER,
          'Make an image community, at create or by PATCH.',
          [('POST', _IMAGES), ('PATCH', _IMAGE)]),
    _rule('delete_image', base.ADMIN_OR_PROJECT_MEMBER,
          'Delete an image and its data.',
          [('DELETE', _IMAGE)]),
    _rule('upload_image', base.ADMIN_OR_PROJECT_MEMBER,
          'Upload the data of an image.',
          [('PUT', _FILE)]),
    # NOTE: Glance 33 asks for the member role here; imageapi lets readers
    # download what they may see, as its RBAC contract says readers may
    # list, show and download. A policy file restores Glance's rule.
    _rule('download_image', base.ADMIN_OR_PROJECT_READER_GET_IMAGE,
          'Download the data of an image.',
          [('GET', _FILE)]),
    _rule('deactivate', base.ADMIN,
          'Deactivate an image: only admins may download its data until it '
          'is reactivated.',
          [('POST', _IMAGE + '/actions/deactivate')]),
    _rule('reactivate', base.ADMIN,
          'Reactivate a deactivated image.',
          [('POST', _IMAGE + '/actions/reactivate')]),
    _rule('copy_image', base.ADMIN,
          'Copy an active image to further stores (import method '
          'copy-image). Other import methods, and staging, need '
          'modify_image.',
          [('POST', '/v2/images/{image_id}/import')]),
    _rule('delete_image_location', base.ADMIN,
          'Delete the copy of an image in one store (multi-store).',
          [('DELETE', '/v2/stores/{store_id}/{image_id}')]),
    _rule('stores_info_detail', base.ADMIN,
          'List the stores with their types and properties.',
          [('GET', '/v2/info/stores/detail')]),
]


def list_rules():
    return rules
