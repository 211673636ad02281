"""Tests of db/api.py: the writer decorator and the status transition table."""

import fixtures as pyfixtures

from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.tests import base as tests_base
from imageapi.tests.unit.db import base


class SerializedWritersTest(base.RepositoryTestCase):

    def test_writers_of_one_process_queue_on_one_lock(self):
        import threading

        self.useFixture(pyfixtures.MockPatch(
            'imageapi.db.sqlite._serialize_writers', True))
        inside, release, order = (threading.Event(), threading.Event(), [])

        @db_api._writer
        def holder(context):
            order.append('holder in')
            inside.set()
            release.wait(30)
            order.append('holder out')

        @db_api._writer
        def other(context):
            order.append('other in')

        first = threading.Thread(target=holder, args=(self.admin,))
        first.start()
        inside.wait(30)
        second = threading.Thread(target=other, args=(self.admin,))
        second.start()
        second.join(0.3)
        self.assertTrue(second.is_alive())
        release.set()
        first.join(30)
        second.join(30)

        self.assertEqual(['holder in', 'holder out', 'other in'], order)

    def test_nested_writers_do_not_wait_for_themselves(self):
        self.useFixture(pyfixtures.MockPatch(
            'imageapi.db.sqlite._serialize_writers', True))
        image_id = self.create()['id']

        @db_api._writer
        def outer(context):
            return db_images.image_update(context, image_id, {'name': 'x'})

        self.assertEqual('x', outer(self.ctx)['name'])


class TransitionTableTest(tests_base.TestCase):

    def test_transition_table_matches_glance_for_our_statuses(self):
        # Glance's table (glance/domain/__init__.py), less `killed` as a
        # target, which v2 never sets, and less the
        # delayed-delete statuses imageapi does not implement.
        glance = {
            'queued': {'saving', 'uploading', 'importing', 'active',
                       'deleted'},
            'saving': {'active', 'killed', 'deleted', 'queued'},
            'uploading': {'importing', 'queued', 'deleted'},
            'importing': {'active', 'deleted', 'queued'},
            'active': {'pending_delete', 'deleted', 'deactivated'},
            'killed': {'deleted'},
            'pending_delete': {'deleted', 'active'},
            'deactivated': {'active', 'deleted'},
            'deleted': set(),
        }
        ours = {db_api.QUEUED, db_api.SAVING, db_api.ACTIVE, db_api.KILLED,
                db_api.DELETED, db_api.DEACTIVATED, db_api.UPLOADING,
                db_api.IMPORTING}
        expected = {(a, b) for a, targets in glance.items() for b in targets
                    if b != 'killed' and a in ours and b in ours}

        self.assertEqual(expected, set(db_api.ALLOWED_TRANSITIONS))


class ConnectionURLTest(tests_base.TestCase):

    def test_mysql_without_charset_gets_utf8mb4(self):
        self.assertEqual(
            'mysql+pymysql://u:p%40ss@127.0.0.1/images?charset=utf8mb4',
            db_api.connection_url('mysql+pymysql://u:p%40ss@127.0.0.1/images'))

    def test_mysql_charset_given_is_kept(self):
        url = 'mysql+pymysql://u@h/images?charset=latin1'
        self.assertEqual(url, db_api.connection_url(url))

    def test_other_databases_untouched(self):
        for url in ('postgresql+psycopg2://u@h/images',
                    'sqlite:////var/lib/imageapi/imageapi.sqlite', None):
            self.assertEqual(url, db_api.connection_url(url))
