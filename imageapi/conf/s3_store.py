"""Options of the S3 store driver (store/s3.py), in the [s3_store] group.

The option names, defaults and units are glance_store's (its ``[glance_store]``
s3_store_* options), so that a Glance configuration carries over. A multi-store setup
registers them once per backend, in the backend's own group.
"""

from oslo_config import cfg

GROUP = 's3_store'
group = cfg.OptGroup(GROUP, title='S3 store options')

_MIB = 'MiB (1 MiB = 1048576 bytes)'

opts = [
    cfg.StrOpt('s3_store_host',
               help='The S3 endpoint, such as https://s3.example.com or '
                    'http://127.0.0.1:7480 (a radosgw); without a scheme, '
                    'http is used. Required. Locations read "s3://<host>/'
                    '<bucket>/<image ID>", "s3+https://..." for https, as '
                    'Glance writes them, without the credentials.'),
    cfg.StrOpt('s3_store_access_key',
               secret=True,
               help='The S3 access key. Required.'),
    cfg.StrOpt('s3_store_secret_key',
               secret=True,
               help='The S3 secret key. Required.'),
    cfg.StrOpt('s3_store_bucket',
               help='The bucket that holds the images, one object per '
                    'image named by the image ID. Required.'),
    cfg.BoolOpt('s3_store_create_bucket_on_put',
                default=False,
                help='Create the bucket on the first upload that finds it '
                     'missing. Off: such an upload fails with 503.'),
    cfg.StrOpt('s3_store_bucket_url_format',
               default='auto',
               choices=(('auto', 'Let botocore choose.'),
                        ('virtual', 'The bucket in the host name: '
                                    'https://<bucket>.<host>/<key>.'),
                        ('path', 'The bucket in the path: '
                                 'https://<host>/<bucket>/<key>.')),
               help='How requests address the bucket.'),
    cfg.IntOpt('s3_store_large_object_size',
               default=100, min=1,
               help='Size in ' + _MIB + ' from which an image is uploaded in '
                    'parts (S3 multipart upload). An image of a declared '
                    'size below it is sent as one PUT, streamed; one of '
                    'unknown size (a chunked upload) always goes in parts.'),
    cfg.IntOpt('s3_store_large_object_chunk_size',
               default=10, min=5, max=5 * 1024,
               help='Size in ' + _MIB + ' of each part of a multipart '
                    'upload; the last one may be smaller. An upload holds '
                    'one part in memory at most. S3 allows 10000 parts per '
                    'object, so this bounds the largest image: 10 MiB parts '
                    'allow about 97 GiB. S3 needs at least 5 MiB.'),
]


def register_opts(conf, group_name=GROUP):
    """Register the S3 options in the group ``group_name``."""
    if group_name == GROUP:
        conf.register_group(group)
    else:
        conf.register_group(cfg.OptGroup(group_name,
                                         title='S3 store options'))
    conf.register_opts(opts, group=group_name)


def list_opts():
    return {group: opts}
