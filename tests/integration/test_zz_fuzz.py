"""Fuzzing against the real module (runs last): never a 5xx, and the module stays healthy.
Writes that would change the shared cluster for good are skipped; the rest get invalid bodies."""
from tests.fuzz import run_fuzz

COUNT = 1500
SKIPPED = {'cluster.forget', 'server.forget', 'key.delete', 'key.bulk_delete', 'user.delete', 'pool.delete',
           'cli.run', 'debug_job.submit', 'crush.delete_node', 'crush.delete_rule'}    # no body to make invalid


def test_no_5xx_and_healthy_after_fuzzing(cluster, anon, fsid, capsys):
    cluster.create_user('fuzz-ro', 'fuzz-ro-pw', 'readonly')
    cluster.create_user('fuzz-rw', 'fuzz-rw-pw', 'read/write')
    clients = {'anon': anon, 'readonly': cluster.client(username='fuzz-ro', password='fuzz-ro-pw'),
               'read/write': cluster.client(username='fuzz-rw', password='fuzz-rw-pw')}
    fqdn = clients['readonly'].get('/api/v2/server').json()[0]['fqdn']
    ids = {'osd_id': ['0', '1', '999'], 'pool_id': ['1', '4242'], 'mon_id': ['a', 'zz'], 'fqdn': [fqdn, 'nohost'],
           'minion_id': [fqdn, 'nohost'], 'user_id': ['1', 'me', '999'], 'sync_type': ['osd_map', 'nope'],
           'key': ['osd_pool_default_size', 'nokey'], 'command': ['scrub', 'bogus'], 'log_path': ['ceph/ceph.log', 'x'],
           'any_fsid': [fsid, 'nope'], 'ui_app': ['login', 'dashboard']}
    try:
        tried, statuses, failures = run_fuzz(clients, fsid, ids, COUNT, seed=7, safe_writes=True,
                                             skip=lambda route, method: route.action in SKIPPED)
    finally:
        for flag in ('pause', 'noup', 'nodown', 'noout', 'noin', 'nobackfill', 'norecover', 'noscrub',
                     'nodeep-scrub'):
            cluster.ceph('osd', 'unset', flag, check=False)
        cluster.ceph('osd', 'in', *[str(i) for i in cluster.osd_ids()], check=False)
    with capsys.disabled():
        print(f'\nfuzz (real cluster): tried {tried}, 5xx {len(failures)}, statuses {dict(sorted(statuses.items()))}')
    assert tried >= 1000
    assert not failures, '\n'.join(failures[:20])
    health = cluster.ceph_json('health', 'detail')
    assert 'MGR_MODULE_ERROR' not in health.get('checks', {})
    assert clients['readonly'].get('/api/v2/cluster').status_code == 200
