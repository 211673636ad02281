"""Options of the Ceph RBD store driver (store/rbd.py), in the [rbd_store] group.

The option names, defaults and units are glance_store's (its ``[glance_store]``
rbd_store_* options), so that a Glance configuration carries over. A multi-store setup
registers them once per backend, in the backend's own group.
"""

from oslo_config import cfg

GROUP = 'rbd_store'
group = cfg.OptGroup(GROUP, title='Ceph RBD store options')

opts = [
    cfg.StrOpt('rbd_store_pool',
               default='images',
               help='The RADOS pool that holds the RBD images of the image '
                    'data, one RBD image per image, named by the image ID.'),
    cfg.StrOpt('rbd_store_user',
               help='The Ceph (cephx) user to connect as, without the '
                    '"client." prefix, such as "glance". Unset: librados '
                    'chooses one from rbd_store_ceph_conf (usually '
                    'client.admin). Its key is found through the "keyring" '
                    'setting of the Ceph configuration file.'),
    cfg.StrOpt('rbd_store_ceph_conf',
               default='',
               help='Path of the Ceph configuration file (monitor addresses, '
                    'keyring). Empty: librados searches its default places, '
                    'first /etc/ceph/ceph.conf.'),
    cfg.IntOpt('rbd_store_chunk_size',
               default=8, min=1, max=32,
               help='Size in MiB (1 MiB = 1048576 bytes) of the RADOS objects '
                    'an RBD image is striped over; a power of two (other '
                    'values are rounded down to one). Nova and Cinder clones '
                    'inherit it.'),
    cfg.IntOpt('rados_connect_timeout',
               default=0, min=0,
               help='Seconds to wait for the Ceph monitors when connecting '
                    'before the store reports itself unavailable (503); 0 '
                    'waits as long as librados does by default.'),
    cfg.BoolOpt('rbd_thin_provisioning',
                default=False,
                help='Skip writing chunks that hold only zero bytes: the RBD '
                     'image stays sparse and uploads of images with large '
                     'holes are faster. The data read back is the same.'),
]


def register_opts(conf, group_name=GROUP):
    """Register the RBD options in the group ``group_name``."""
    if group_name == GROUP:
        conf.register_group(group)
    else:
        conf.register_group(cfg.OptGroup(group_name,
                                         title='Ceph RBD store options'))
    conf.register_opts(opts, group=group_name)


def list_opts():
    return {group: opts}
