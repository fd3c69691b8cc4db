"""Pool writes on the real cluster: each request polled to complete, checked with the ceph CLI, and a GET
right after completion already shows the change."""
import pytest

from tests.support.request_polling import finished, pool_detail

NAME = 'calamari-it-pool'


@pytest.fixture
def pools(fsid):
    return f'/api/v2/cluster/{fsid}/pool'


@pytest.fixture
def cleanup(cluster):
    names = []
    yield names
    for name in names:
        cluster.ceph('osd', 'pool', 'delete', name, name, '--yes-i-really-really-mean-it', check=False)


def test_pool_lifecycle(client, cluster, pools, cleanup):
    cleanup += [NAME, NAME + '-renamed']
    request = finished(client, client.post(pools, {
        'name': NAME, 'pg_num': '4', 'size': 1, 'min_size': 3, 'crash_replay_interval': 30,
        'quota_max_objects': 100, 'quota_max_bytes': 1048576, 'crush_ruleset': 0}))
    assert request['headline'] == f"Creating pool '{NAME}'"
    assert request['status'] == 'Completed successfully'
    pool = pool_detail(cluster, NAME)
    assert (pool['pg_num'], pool['size'], pool['min_size']) == (4, 1, 1)        # min_size clamped to size
    assert (pool['quota_max_objects'], pool['quota_max_bytes']) == (100, 1048576)
    assert pool['application_metadata']['calamari'] == {'crash_replay_interval': '30'}
    pool_id = pool['pool_id']
    shown = client.get(f'{pools}/{pool_id}').json()          # right after completion, no waiting
    assert (shown['name'], shown['pg_num'], shown['size'], shown['min_size']) == (NAME, 4, 1, 1)
    assert (shown['quota_max_objects'], shown['crash_replay_interval']) == (100, 30)

    # duplicate name
    response = client.post(pools, {'name': NAME, 'pg_num': 4})
    assert response.status_code == 409
    assert response.json() == {'name': [f'Pool with name {NAME} already exists']}

    # modify, rename last
    request = finished(client, client.patch(f'{pools}/{pool_id}', {'name': NAME + '-renamed',
                                                                   'quota_max_objects': 42}))
    assert request['headline'] == f"Modifying pool '{NAME}' (name={NAME}-renamed, quota_max_objects=42)"
    assert pool_detail(cluster, NAME + '-renamed')['quota_max_objects'] == 42
    shown = client.get(f'{pools}/{pool_id}').json()
    assert (shown['name'], shown['quota_max_objects']) == (NAME + '-renamed', 42)

    # grow pg_num: Pacific splits the PGs itself; complete once they are all there
    request = finished(client, client.patch(f'{pools}/{pool_id}', {'pg_num': 8}))
    assert request['headline'] == f"Growing pool '{NAME}-renamed' to 8 PGs"
    pool = pool_detail(cluster, NAME + '-renamed')
    assert (pool['pg_num'], pool['pg_placement_num']) == (8, 8)
    assert client.get(f'{pools}/{pool_id}').json()['pg_num'] == 8

    # shrinking is refused
    response = client.patch(f'{pools}/{pool_id}', {'pg_num': 4})
    assert response.status_code == 400
    assert response.json() == {'pg_num': ['must be >= than current pg_num']}

    # delete, with the JSON body Calamari's UI sends
    request = finished(client, client.delete(f'{pools}/{pool_id}', {'id': pool_id}))
    assert request['headline'] == f"Deleting pool '{NAME}-renamed'"
    assert pool_detail(cluster, NAME + '-renamed') is None
    response = client.get(f'{pools}/{pool_id}')
    assert response.status_code == 404


def test_min_size_zero_means_size_minus_half(client, cluster, pools, cleanup):
    """Calamari's "default" min_size, whatever osd_pool_default_min_size says (1 on the test cluster)."""
    name = NAME + '-min-size'
    cleanup.append(name)
    finished(client, client.post(pools, {'name': name, 'pg_num': 1, 'size': 3, 'min_size': 0}))
    pool = pool_detail(cluster, name)
    assert (pool['size'], pool['min_size']) == (3, 2)
    finished(client, client.patch(f"{pools}/{pool['pool_id']}", {'size': 2, 'min_size': 0}))
    pool = pool_detail(cluster, name)
    assert (pool['size'], pool['min_size']) == (2, 1)


def test_validation_errors(client, pools):
    assert client.post(pools, {}).json() == {'pg_num': 'Required during POST', 'name': 'Required during POST'}
    response = client.post(pools, {'name': NAME, 'pg_num': 8, 'crush_ruleset': 666})
    assert (response.status_code, response.json()) == (400, {'crush_ruleset': ['CRUSH ruleset 666 not found']})
    response = client.post(pools, {'name': NAME, 'pg_num': 8, 'pgp_num': 16})
    assert (response.status_code, response.json()) == (400, {'pgp_num': ['must be >= to pg_num']})
    assert client.patch(f'{pools}/12345', {'size': 2}).status_code == 404
    assert client.delete(f'{pools}/12345').status_code == 404
    assert client.patch(f'{pools}/1', {}).status_code == 400


def test_mon_refusing_the_delete_fails_the_request(client, cluster, pools, cleanup):
    cleanup.append(NAME + '-kept')
    cluster.ceph('osd', 'pool', 'create', NAME + '-kept', '1')
    pool_id = pool_detail(cluster, NAME + '-kept')['pool_id']
    cluster.ceph('tell', 'mon.*', 'config', 'set', 'mon_allow_pool_delete', 'false')
    try:
        request = finished(client, client.delete(f'{pools}/{pool_id}'), expect_error=True)
    finally:
        cluster.ceph('tell', 'mon.*', 'config', 'set', 'mon_allow_pool_delete', 'true')
    assert 'pool deletion is disabled' in request['error_message']
    assert pool_detail(cluster, NAME + '-kept') is not None


def test_pool_named_beyond_the_bmp(client, cluster, pools, cleanup):
    """A name with a character past U+FFFF (an emoji) reaches the OSD map as UTF-8 and reads back: sent as an
    escaped surrogate pair it was stored as CESU-8, and the mgr crashed at its next look at the OSD map."""
    name = 'calamari-it-\U0001F600'
    cleanup.append(name)
    finished(client, client.post(pools, {'name': name, 'pg_num': 4}))
    shown = {p['name']: p for p in client.get(pools).json()}
    assert name in shown
    assert pool_detail(cluster, name)['pool_name'] == name
    finished(client, client.delete(f"{pools}/{shown[name]['id']}"))
    assert client.get('/api/v2/cluster').status_code == 200
    assert not cluster.module_tracebacks()
