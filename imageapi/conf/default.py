"""Options of the [DEFAULT] group, named as Glance names them so configs carry over."""

import os

from oslo_config import cfg

_DEFAULT_STATE_PATH = os.path.join(os.path.expanduser('~'), '.local', 'share',
                                   'imageapi')

opts = [
    cfg.StrOpt('state_path',
               default=_DEFAULT_STATE_PATH,
               sample_default='~/.local/share/imageapi',
               help='Directory that roots every embedded-default path: the '
                    'SQLite database file, the filesystem image store and '
                    'the staging area. It is created on start if missing.'),
    cfg.IntOpt('image_size_cap',
               default=1099511627776, min=1, max=9223372036854775808,
               help='Largest image, in bytes, that an upload may store. An '
                    'upload that declares a larger size is refused before '
                    'any byte is read, and one whose body grows past it is '
                    'stopped with 413. Default 1 TiB.'),
    cfg.StrOpt('user_storage_quota',
               default='0',
               help='Storage each project may use across all its images. '
                    'A number of bytes, or a number with a B, KB, MB, GB '
                    'or TB suffix (binary multiples). 0 means unlimited. An '
                    'upload that would pass it is refused with 413.'),
    cfg.StrOpt('hashing_algorithm',
               default='sha512',
               help='hashlib algorithm used to compute os_hash_value while '
                    'image data streams in.'),
    cfg.BoolOpt('show_image_direct_url',
                default=False,
                help='Show the store location of image data as direct_url in '
                     'image records. Exposes store layout; keep false unless '
                     'other services need it.'),
    cfg.BoolOpt('show_multiple_locations',
                default=False,
                help='Show all store locations of image data as locations in '
                     'image records.'),
    cfg.IntOpt('limit_param_default',
               default=25, min=1,
               help='Number of images an image list returns when the '
                    'request gives no limit.'),
    cfg.IntOpt('api_limit_max',
               default=1000, min=1,
               help='Largest number of images one list request returns; '
                    'a larger limit is lowered to this.'),
    cfg.IntOpt('image_property_quota',
               default=128, min=-1,
               help='Most extra properties an image may carry; -1 means '
                    'unlimited. Exceeding it gives 413.'),
    cfg.IntOpt('image_tag_quota',
               default=128, min=-1,
               help='Most tags an image may carry; -1 means unlimited. '
                    'Exceeding it gives 413.'),
    cfg.IntOpt('image_member_quota',
               default=128, min=-1,
               help='Most projects an image may be shared with (image '
                    'members); -1 means unlimited. Adding one more gives '
                    '413.'),
    cfg.BoolOpt('use_keystone_limits',
                default=False,
                help='Enforce the unified limits that keystone holds for '
                     'service type image (image_size_total and '
                     'image_stage_total in MiB, image_count_total, '
                     'image_count_uploading), read with oslo.limit as '
                     'configured in [oslo_limit]; a request that would '
                     'pass one gets 413. user_storage_quota is then '
                     'ignored. image_size_total is also enforced while '
                     'the data streams, so no upload ends over it.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
