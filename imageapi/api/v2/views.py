"""Repository dicts -> the image records clients see (links, visible fields)."""

import urllib.parse

_CORE = ('id', 'name', 'status', 'visibility', 'protected', 'os_hidden',
         'checksum', 'os_hash_algo', 'os_hash_value', 'owner', 'size',
         'virtual_size', 'min_disk', 'min_ram', 'disk_format',
         'container_format', 'created_at', 'updated_at', 'tags')

IMAGE_SCHEMA_PATH = '/v2/schemas/image'
IMAGES_SCHEMA_PATH = '/v2/schemas/images'

# Internal properties never shown to clients.
_HIDDEN_PROPERTIES = frozenset(['os_glance_stage_host',
                                'os_glance_hash_op_host'])


def image_path(image_id):
    return '/v2/images/%s' % image_id


def image_view(image, conf, locations_shown=None):
    """The API representation of a repository image dict.

    :param locations_shown: ([DEFAULT] show_image_direct_url,
        show_multiple_locations), read from ``conf`` when not given; a
        list reads them once for all its images.
    """
    direct_url, multiple = locations_shown or _locations_shown(conf)
    view = {key: image[key] for key in _CORE}
    for name, value in image['properties'].items():
        if name not in _HIDDEN_PROPERTIES:
            view[name] = value
    path = image_path(image['id'])
    view['self'] = path
    view['file'] = path + '/file'
    view['schema'] = IMAGE_SCHEMA_PATH
    locations = image['locations']
    if direct_url and locations:
        view['direct_url'] = locations[0]['url']
    if multiple:
        view['locations'] = [{'url': loc['url'],
                              'metadata': loc['metadata']}
                             for loc in locations]
    if conf.enabled_backends:
        # Glance's multi-store: the ids of the stores holding the data.
        stores = [loc['metadata'].get('store') for loc in locations]
        if any(stores):
            view['stores'] = ','.join(store for store in stores if store)
    return view


def _locations_shown(conf):
    return conf.show_image_direct_url, conf.show_multiple_locations


def images_view(images, params, next_marker, conf):
    """The list body: images plus first/next links that keep the query."""
    kept = [(k, v) for k, v in params if k != 'marker']
    first = '/v2/images'
    if kept:
        first += '?' + urllib.parse.urlencode(kept)
    shown = _locations_shown(conf)
    body = {'images': [image_view(image, conf, shown) for image in images],
            'first': first, 'schema': IMAGES_SCHEMA_PATH}
    if next_marker:
        body['next'] = '/v2/images?' + urllib.parse.urlencode(
            kept + [('marker', next_marker)])
    return body
