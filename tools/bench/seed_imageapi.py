"""Seed an imageapi database with benchmark images, through imageapi.db.images.

Run in a subprocess (each backend has its own [database] connection, and db.api is
configured once per process): ``python seed_imageapi.py CONFIG_FILE START COUNT`` with
the server's environment; prints the new image ids, one a line. Half the images are
active (QUEUED -> ACTIVE with size, hashes and a location), all have three extra
properties and two tags, so list pages carry what real ones do.
"""

import hashlib
import sys
import uuid

from imageapi.common import config
from imageapi import context
from imageapi.db import api as db_api
from imageapi.db import images as db_images

BATCH = 500


def values(index):
    return {
        'id': str(uuid.uuid4()), 'name': 'bench-%06d' % index,
        'visibility': ('public', 'shared')[index % 2],
        'disk_format': ('qcow2', 'raw')[index % 2],
        'container_format': 'bare', 'owner': 'bench-project',
        'properties': {'os_distro': 'ubuntu',
                       'os_version': '%d.04' % (16 + index % 10),
                       'hw_disk_bus': 'virtio'},
        'tags': ['bench', 'seed-%d' % (index % 10)],
    }


def activate(ctx, image_id):
    digest = hashlib.sha512(image_id.encode()).hexdigest()
    db_images.image_transition(ctx, image_id, db_api.QUEUED, db_api.ACTIVE, values={
        'size': 1 << 30, 'virtual_size': 1 << 30,
        'checksum': hashlib.md5(image_id.encode()).hexdigest(),
        'os_hash_algo': 'sha512', 'os_hash_value': digest,
        'location': {'url': 'file:///nonexistent/' + image_id,
                     'metadata': {}}})


def main(argv):
    config_file, start, count = argv[0], int(argv[1]), int(argv[2])
    conf = config.new_conf()
    config.parse_args(['--config-file', config_file], conf)
    db_api.configure(conf)
    ctx = context.get_admin_context()
    for first in range(start, start + count, BATCH):
        ids = []
        # The repository functions join this outer transaction: one
        # commit per batch instead of one per image.
        with db_api.main_context_manager.writer.using(ctx):
            for index in range(first, min(first + BATCH, start + count)):
                image = db_images.image_create(ctx, values(index))
                if index % 2 == 0:
                    activate(ctx, image['id'])
                ids.append(image['id'])
        sys.stdout.write(''.join(i + '\n' for i in ids))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
