"""10,000 fuzzed requests in-process (fake mgr): never a 5xx."""
from tests.fuzz import run_fuzz

COUNT = 10000


def test_no_5xx_under_fuzzing(anon, make_client, fsid, capsys):
    clients = {'anon': anon, 'superuser': make_client('superuser'), 'readonly': make_client('readonly'),
               'read/write': make_client('read/write')}
    ids = {'osd_id': ['0', '1', '2', '999'], 'pool_id': ['1', '2', '77'], 'mon_id': ['a', 'zz'],
           'fqdn': ['vm', 'nohost'], 'minion_id': ['vm', 'nohost'], 'user_id': ['1', '2', 'me', '99'],
           'sync_type': ['osd_map', 'health', 'nope'], 'key': ['osd_pool_default_size', 'nokey'],
           'command': ['scrub', 'deep_scrub', 'bogus'], 'log_path': ['ceph/ceph.log', '../x'],
           'any_fsid': [fsid, 'nope'], 'ui_app': ['login', 'dashboard']}
    tried, statuses, failures = run_fuzz(clients, fsid, ids, COUNT, seed=1,
                                         skip=lambda route, method: route.action == 'crush.map_text')
    with capsys.disabled():
        print(f'\nfuzz (in-process): tried {tried}, 5xx {len(failures)}, statuses {dict(sorted(statuses.items()))}')
    assert tried >= 9000
    assert not failures, '\n'.join(failures[:20])
