"""Seed a Glance database with benchmark images, through Glance's own DB API.

Run by the interpreter of the throwaway Glance virtualenv (not imageapi's):
``python seed_glance.py CONFIG_FILE START COUNT``; prints the new image ids, one a line.
The images match seed_imageapi.py: same names, properties, tags and status mix.
"""

import hashlib
import os
import sys
import uuid
import warnings

# Run as a script, this directory would come first on sys.path; nothing
# here may shadow Glance's own packages.
sys.path[:] = [p for p in sys.path
               if os.path.abspath(p or '.') != os.path.dirname(
                   os.path.abspath(__file__))]
warnings.simplefilter('ignore')

from oslo_config import cfg  # noqa: E402
from oslo_db import options as db_options  # noqa: E402

from glance import context  # noqa: E402
from glance.db.sqlalchemy import api as db_api  # noqa: E402

BATCH = 500


def values(index):
    image_id = str(uuid.uuid4())
    active = index % 2 == 0
    record = {
        'id': image_id, 'name': 'bench-%06d' % index,
        'status': 'active' if active else 'queued',
        'visibility': ('public', 'shared')[index % 2],
        'disk_format': ('qcow2', 'raw')[index % 2],
        'container_format': 'bare', 'owner': 'bench-project',
        'min_disk': 0, 'min_ram': 0, 'protected': False,
        'properties': {'os_distro': 'ubuntu',
                       'os_version': '%d.04' % (16 + index % 10),
                       'hw_disk_bus': 'virtio'},
    }
    if active:
        digest = hashlib.sha512(image_id.encode()).hexdigest()
        record.update(size=1 << 30, virtual_size=1 << 30,
                      checksum=hashlib.md5(image_id.encode()).hexdigest(),
                      os_hash_algo='sha512', os_hash_value=digest,
                      locations=[{'url': 'file:///nonexistent/' + image_id,
                                  'metadata': {}, 'status': 'active'}])
    return record


def main(argv):
    config_file, start, count = argv[0], int(argv[1]), int(argv[2])
    db_options.set_defaults(cfg.CONF)
    cfg.CONF(['--config-file', config_file], project='glance')
    ctx = context.get_admin_context()
    for first in range(start, start + count, BATCH):
        ids = []
        # Nested calls on the same thread-local context join this
        # transaction: one commit per batch, not per image.
        with db_api.session_for_write():
            for index in range(first, min(first + BATCH, start + count)):
                record = values(index)
                db_api.image_create(ctx, record)
                db_api.image_tag_set_all(
                    ctx, record['id'], ['bench', 'seed-%d' % (index % 10)])
                ids.append(record['id'])
        sys.stdout.write(''.join(i + '\n' for i in ids))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
