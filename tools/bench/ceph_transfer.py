"""Ceph stores: imageapi's RBD and S3 stores beside ``rbd import``/``export`` and boto3.

Same file, same run, same one-node Ceph (tools/ceph/start-ceph.sh, on loopback with a
RAM-backed OSD: the figures say what imageapi adds on the path, not what a real cluster
does). For the file, in this order:

1. plain RBD: ``rbd import`` into the pool, ``rbd export`` of it to /dev/null;
2. plain S3: boto3 ``upload_file`` (its default transfer: 8 MiB parts, 10 threads)
   and ``download_fileobj`` to a sink;
3. imageapi-api (1 worker, SQLite) with ``[store] driver = rbd``: Content-Length
   upload and download with curl, the worker's RSS sampled all along;
4. the same with ``[store] driver = s3`` (Glance's 100 MiB / 10 MiB sizes).

Usage, as root (start-ceph.sh installs Ceph with apt), from a venv with imageapi,
boto3 and the bindings (tools/ceph/link-bindings.py)::

    tools/ceph/run-with-ceph.sh VENV/bin/python tools/bench/ceph_transfer.py --size 1G

Prints one JSON document (``--out FILE`` writes it there too). Not part of the tests.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

import boto3
from botocore import config as botocore_config

import apiclient
import limit
import run
import servers
import transfer


def md5_of(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, 'rb') as data:
        for block in iter(lambda: data.read(limit.MIB), b''):
            digest.update(block)
    return digest.hexdigest()


def timed(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def plain_rbd(path, size):
    base = ['rbd', '--no-progress', '-c', os.environ['CEPH_CONF'],
            '--id', os.environ['CEPH_RBD_USER']]
    name = '%s/bench-plain' % os.environ['CEPH_RBD_POOL']
    subprocess.run(base + ['rm', name], capture_output=True)
    limit.warm(path)
    up = timed(subprocess.run, base + ['import', path, name])
    down = timed(lambda: subprocess.run(base + ['export', name, '-'],
                                        stdout=subprocess.DEVNULL,
                                        check=True))
    subprocess.run(base + ['rm', name], capture_output=True, check=True)
    return {'import_mbps': transfer.mbps(size, up),
            'export_mbps': transfer.mbps(size, down)}


class _Sink:
    def write(self, data):
        return len(data)


def plain_s3(path, size, bucket):
    client = boto3.session.Session().client(
        's3', endpoint_url=os.environ['S3_ENDPOINT'],
        aws_access_key_id=os.environ['S3_ACCESS_KEY'],
        aws_secret_access_key=os.environ['S3_SECRET_KEY'],
        region_name='us-east-1',
        config=botocore_config.Config(s3={'addressing_style': 'path'}))
    client.create_bucket(Bucket=bucket)
    limit.warm(path)
    up = timed(client.upload_file, path, bucket, 'plain')
    down = timed(client.download_fileobj, bucket, 'plain', _Sink())
    client.delete_object(Bucket=bucket, Key='plain')
    return client, {'upload_file_mbps': transfer.mbps(size, up),
                    'download_fileobj_mbps': transfer.mbps(size, down)}


def through_imageapi(state, env, path, size, md5):
    os.makedirs(state)
    server = servers.ImageAPIServer(state, workers=1, env=env)
    server.start()
    try:
        client = apiclient.APIClient(server.host, server.port)
        with transfer.RSSSampler(server.pid) as rss:
            image_id, up = transfer.upload(client, path, False, md5,
                                           'ceph-bench', server.pid)
            down = transfer.download(client, image_id, size, server.pid)
        client.delete_image(image_id)
        client.close()
        return {'upload': up, 'download': down, 'rss': rss.result()}
    finally:
        server.stop()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', default='256M')
    parser.add_argument('--out')
    args = parser.parse_args(argv)
    size = run.parse_size(args.size)
    work = tempfile.mkdtemp(prefix='imageapi-ceph-bench-')
    path = os.path.join(work, 'test.bin')
    limit.make_test_file(path, size)
    md5 = md5_of(path)
    bucket = 'bench-%d' % os.getpid()
    result = {'size': size, 'rbd_plain': plain_rbd(path, size)}
    s3_client, result['s3_plain'] = plain_s3(path, size, bucket)
    rbd_env = {'OS_STORE__DRIVER': 'rbd',
               'OS_RBD_STORE__RBD_STORE_CEPH_CONF': os.environ['CEPH_CONF'],
               'OS_RBD_STORE__RBD_STORE_USER': os.environ['CEPH_RBD_USER'],
               'OS_RBD_STORE__RBD_STORE_POOL': os.environ['CEPH_RBD_POOL']}
    s3_env = {'OS_STORE__DRIVER': 's3',
              'OS_S3_STORE__S3_STORE_HOST': os.environ['S3_ENDPOINT'],
              'OS_S3_STORE__S3_STORE_ACCESS_KEY': os.environ['S3_ACCESS_KEY'],
              'OS_S3_STORE__S3_STORE_SECRET_KEY': os.environ['S3_SECRET_KEY'],
              'OS_S3_STORE__S3_STORE_BUCKET': bucket,
              'OS_S3_STORE__S3_STORE_BUCKET_URL_FORMAT': 'path'}
    result['imageapi_rbd'] = through_imageapi(
        os.path.join(work, 'rbd'), rbd_env, path, size, md5)
    result['imageapi_s3'] = through_imageapi(
        os.path.join(work, 's3'), s3_env, path, size, md5)
    s3_client.delete_bucket(Bucket=bucket)
    os.unlink(path)
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.out:
        with open(args.out, 'w') as out:
            out.write(text + '\n')


if __name__ == '__main__':
    main(sys.argv[1:])
