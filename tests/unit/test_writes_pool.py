"""Pool POST/PATCH/DELETE: Calamari's validation cases (API reference §5) and the commands sent."""
import pytest
from tests.unit.drained_requests import drained, sent  # noqa: F401


@pytest.fixture
def pools(fsid):
    return f'/api/v2/cluster/{fsid}/pool'


@pytest.fixture
def mon(module, services):
    """Answer commands like a mon would (0, '', ''), remember them, and skip the config dump."""
    module.command_handler = lambda cmd: (0, '{}', '') if cmd['prefix'] == 'config dump' else (0, '', '')
    return module


def existing_pool(module):
    return module.maps['osd_map']['pools'][-1]


def add_pg_summary(module, pool_id, states):
    module.maps['pg_summary']['by_pool'][str(pool_id)] = states


# -- stage 1 ---------------------------------------------------------------------------------------

def test_post_empty_body_names_the_required_fields(client, pools):
    response = client.post(pools, {})
    assert response.status_code == 400
    assert response.json() == {'pg_num': 'Required during POST', 'name': 'Required during POST'}


def test_post_field_not_allowed(client, pools):
    response = client.post(pools, {'name': 'x', 'pg_num': 8, 'id': 3})
    assert response.status_code == 400
    assert response.json() == {'id': 'Not allowed during POST'}


def test_post_bad_integer_is_a_list(client, pools):
    response = client.post(pools, {'name': 'x', 'pg_num': 'lots'})
    assert response.status_code == 400
    assert response.json() == {'pg_num': ['Enter a whole number.']}


def test_post_negative_and_bad_type(client, pools):
    response = client.post(pools, {'name': 'x', 'pg_num': 8, 'size': 0, 'type': 'mirrored'})
    assert response.status_code == 400
    body = response.json()
    assert body['size'] == ['Ensure this value is greater than or equal to 1.']
    assert body['type'] == ['Select a valid choice. mirrored is not one of the available choices.']


def test_post_non_object_body(client, pools):
    assert client.post(pools, [1, 2]).status_code == 400


def test_patch_field_not_allowed(client, pools, module):
    pool = existing_pool(module)
    response = client.patch(f"{pools}/{pool['pool']}", {'type': 'erasure'})
    assert response.status_code == 400
    assert response.json() == {'type': 'Not allowed during PATCH'}


def test_patch_empty_body_is_400(client, pools, module, mon):
    response = client.patch(f"{pools}/{existing_pool(module)['pool']}", {})
    assert response.status_code == 400
    assert 'detail' in response.json()


# -- stage 2 ---------------------------------------------------------------------------------------

def test_post_duplicate_name_is_409(client, pools, module, mon):
    name = existing_pool(module)['pool_name']
    response = client.post(pools, {'name': name, 'pg_num': 64, 'crush_ruleset': 666})
    assert response.status_code == 409
    assert response.json() == {'name': [f'Pool with name {name} already exists'],
                               'crush_ruleset': ['CRUSH ruleset 666 not found']}


def test_post_unknown_ruleset(client, pools, mon):
    response = client.post(pools, {'name': 'x', 'pg_num': 8, 'crush_ruleset': 666})
    assert response.status_code == 400
    assert response.json() == {'crush_ruleset': ['CRUSH ruleset 666 not found']}


def test_post_pgp_greater_than_pg(client, pools, mon):
    response = client.post(pools, {'name': 'x', 'pg_num': 64, 'pgp_num': 100})
    assert response.status_code == 400
    assert response.json() == {'pgp_num': ['must be >= to pg_num']}


def test_post_pg_num_over_the_limit(client, pools, mon):
    response = client.post(pools, {'name': 'x', 'pg_num': 65537})
    assert response.status_code == 400
    assert response.json() == {'pg_num': ['requested pg_num must be <= than current limit of 65536']}


def test_patch_cannot_shrink_pg_num(client, pools, module, mon):
    pool = existing_pool(module)
    body = {'pg_num': pool['pg_num'] - 1, 'pgp_num': pool['pg_placement_num'] - 1}
    response = client.patch(f"{pools}/{pool['pool']}", body)
    assert response.status_code == 400
    assert response.json() == {'pg_num': ['must be >= than current pg_num'],
                               'pgp_num': ['must be >= than current pgp_num']}


def test_patch_renaming_to_its_own_name_is_fine(client, pools, module, mon):
    pool = existing_pool(module)
    response = client.patch(f"{pools}/{pool['pool']}", {'name': pool['pool_name'], 'quota_max_objects': 5})
    assert response.status_code == 202
    assert [c['prefix'] for c in sent(module)] == ['osd pool set-quota']


def test_patch_duplicate_name_is_409(client, pools, module, mon):
    first, last = module.maps['osd_map']['pools'][0], existing_pool(module)
    response = client.patch(f"{pools}/{last['pool']}", {'name': first['pool_name']})
    assert response.status_code == 409


def test_unknown_pool_is_404(client, pools, mon):
    for method in ('patch', 'delete'):
        response = getattr(client, method)(f'{pools}/12345', {'size': 2} if method == 'patch' else None)
        assert response.status_code == 404
        assert response.json() == 'Object of type pool with id 12345 not found'


# -- stage 3 ---------------------------------------------------------------------------------------

def test_create_commands_and_coercion(client, pools, module, mon, services):
    response = client.post(pools, {'name': 'newpool', 'pg_num': '64', 'pgp_num': '32', 'size': 3, 'min_size': 5,
                                   'crash_replay_interval': 45, 'crush_ruleset': 0, 'hashpspool': 'false',
                                   'quota_max_objects': 10, 'quota_max_bytes': 1000})
    assert response.status_code == 202
    commands = sent(module)
    assert commands[0] == {'prefix': 'osd pool create', 'pool': 'newpool', 'pg_num': 64, 'pool_type': 'replicated'}
    assert commands[1:] == [
        {'prefix': 'osd pool set', 'pool': 'newpool', 'var': 'size', 'val': '3', 'yes_i_really_mean_it': True},
        {'prefix': 'osd pool set', 'pool': 'newpool', 'var': 'min_size', 'val': '3'},
        {'prefix': 'osd pool application enable', 'pool': 'newpool', 'app': 'calamari',
         'yes_i_really_mean_it': True},
        {'prefix': 'osd pool set', 'pool': 'newpool', 'var': 'crush_rule', 'val': 'replicated_rule'},
        {'prefix': 'osd pool set', 'pool': 'newpool', 'var': 'hashpspool', 'val': '0',
         'yes_i_really_mean_it': True},
        {'prefix': 'osd pool set-quota', 'pool': 'newpool', 'field': 'max_bytes', 'val': '1000'},
        {'prefix': 'osd pool set-quota', 'pool': 'newpool', 'field': 'max_objects', 'val': '10'},
        {'prefix': 'osd pool application set', 'pool': 'newpool', 'app': 'calamari',
         'key': 'crash_replay_interval', 'value': '45'},
    ]
    request = client.get(f"/api/v2/request/{response.json()['request_id']}").json()
    assert request['headline'] == "Creating pool 'newpool'"


def test_create_waits_for_the_pool_and_its_pgs(client, pools, module, mon, services):
    # the mgr has the map with the new pool when 'osd pool create' returns; its PGs are being created
    module.command_handler = lambda cmd: _create_pool(module, cmd)
    rid = client.post(pools, {'name': 'newpool', 'pg_num': 8}).json()['request_id']
    request = client.get(f'/api/v2/request/{rid}').json()
    assert request['state'] == 'submitted'
    assert request['status'] == "Pool 'newpool' created; waiting for PG creation (0/8)"
    add_pg_summary(module, 9, {'active+clean': 8})
    services.cluster.invalidate_all()
    services.requests.tick()
    assert client.get(f'/api/v2/request/{rid}').json()['status'] == 'Completed successfully'


def _create_pool(module, cmd):
    if cmd['prefix'] == 'osd pool create':
        new_pool = dict(existing_pool(module), pool=9, pool_name=cmd['pool'], pg_num=8, pg_placement_num=8)
        module.maps['osd_map']['pools'].append(new_pool)
        add_pg_summary(module, 9, {'creating': 8})
    return (0, '{}', '') if cmd['prefix'] == 'config dump' else (0, '', '')


def test_create_fails_when_the_pool_never_appears(client, pools, module, mon, services):
    rid = client.post(pools, {'name': 'ghost', 'pg_num': 8}).json()['request_id']
    services.requests.tick()
    assert client.get(f'/api/v2/request/{rid}').json()['error_message'] == "Expected pool 'ghost' not found"


def test_create_fails_with_the_mons_message(client, pools, module, services):
    module.command_handler = lambda cmd: (-34, '', 'pg_num 64 size 1 would mean 600 total pgs') \
        if cmd['prefix'] == 'osd pool create' else (0, '{}', '')
    rid = client.post(pools, {'name': 'big', 'pg_num': 64}).json()['request_id']
    request = client.get(f'/api/v2/request/{rid}').json()
    assert request['error'] and request['error_message'] == 'pg_num 64 size 1 would mean 600 total pgs'
    assert [c['prefix'] for c in sent(module)] == ['osd pool create']


@pytest.mark.parametrize('size,min_size,expected', [(3, 0, 2), (4, 0, 2), (5, 0, 3), (3, None, 1)])
def test_create_min_size_zero_means_size_minus_half(client, pools, module, mon, size, min_size, expected):
    """An explicit 0 is Calamari's default (size - size // 2) even when osd_pool_default_min_size (1 in the
    fixture) says otherwise; an absent min_size takes the cluster default."""
    body = {'name': f'mz{size}{min_size}', 'pg_num': 8, 'size': size}
    if min_size is not None:
        body['min_size'] = min_size
    assert client.post(pools, body).status_code == 202
    assert {'prefix': 'osd pool set', 'pool': body['name'], 'var': 'min_size', 'val': str(expected)} in sent(module)


@pytest.mark.parametrize('size,min_size,expected', [(4, 5, 4), (4, 0, 2), (3, 2, 2), (1, 0, 1)])
def test_patch_min_size_clamping(client, pools, module, mon, size, min_size, expected):
    pool = existing_pool(module)
    assert client.patch(f"{pools}/{pool['pool']}", {'size': size, 'min_size': min_size}).status_code == 202
    assert {'prefix': 'osd pool set', 'pool': pool['pool_name'], 'var': 'min_size', 'val': str(expected)} \
        in sent(module)


def test_patch_min_size_alone_uses_the_current_size(client, pools, module, mon):
    pool = existing_pool(module)
    client.patch(f"{pools}/{pool['pool']}", {'min_size': 7})
    assert sent(module) == [{'prefix': 'osd pool set', 'pool': pool['pool_name'], 'var': 'min_size',
                             'val': str(pool['size'])}]


def test_patch_headline_and_rename_last(client, pools, module, mon):
    pool = existing_pool(module)
    response = client.patch(f"{pools}/{pool['pool']}", {'name': 'renamed', 'quota_max_objects': 42})
    rid = response.json()['request_id']
    assert [c['prefix'] for c in sent(module)] == ['osd pool set-quota', 'osd pool rename']
    assert sent(module)[-1] == {'prefix': 'osd pool rename', 'srcpool': pool['pool_name'], 'destpool': 'renamed'}
    headline = client.get(f'/api/v2/request/{rid}').json()['headline']
    assert headline == f"Modifying pool '{pool['pool_name']}' (name=renamed, quota_max_objects=42)"


def test_patch_growing_pg_num(client, pools, module, mon, services):
    pool = existing_pool(module)
    pool['pg_num_target'] = 16          # what the mgr's map says once 'osd pool set pg_num' has returned
    rid = client.patch(f"{pools}/{pool['pool']}", {'pg_num': 16}).json()['request_id']
    assert sent(module) == [
        {'prefix': 'osd pool set', 'pool': pool['pool_name'], 'var': 'pg_num', 'val': '16'},
        {'prefix': 'osd pool set', 'pool': pool['pool_name'], 'var': 'pgp_num', 'val': '16'}]
    request = client.get(f'/api/v2/request/{rid}').json()
    assert request['headline'] == f"Growing pool '{pool['pool_name']}' to 16 PGs"
    assert request['state'] == 'submitted'
    pool.update(pg_num=16, pg_placement_num=16, pg_num_target=16)
    add_pg_summary(module, pool['pool'], {'active+clean': 12, 'unknown': 4})
    services.cluster.invalidate_all()
    services.requests.tick()
    assert client.get(f'/api/v2/request/{rid}').json()['status'] == 'Waiting for PG creation (12/16)'
    add_pg_summary(module, pool['pool'], {'active+clean': 16})
    services.cluster.invalidate_all()
    services.requests.tick()
    assert client.get(f'/api/v2/request/{rid}').json()['status'] == 'Completed successfully'


def test_delete_accepts_a_json_body(client, pools, module, mon):
    pool = existing_pool(module)
    response = client.delete(f"{pools}/{pool['pool']}", {'id': pool['pool']})
    assert response.status_code == 202
    assert sent(module) == [{'prefix': 'osd pool delete', 'pool': pool['pool_name'], 'pool2': pool['pool_name'],
                             'yes_i_really_really_mean_it': True}]
    request = client.get(f"/api/v2/request/{response.json()['request_id']}").json()
    assert request['headline'] == f"Deleting pool '{pool['pool_name']}'"
    assert request['status'] == 'Completed successfully'


def test_delete_refused_by_the_mon(client, pools, module):
    message = 'pool deletion is disabled; you must first set the mon_allow_pool_delete config option to true'
    module.command_handler = lambda cmd: (-1, '', message) if cmd['prefix'] == 'osd pool delete' else (0, '{}', '')
    rid = client.delete(f"{pools}/{existing_pool(module)['pool']}").json()['request_id']
    request = client.get(f'/api/v2/request/{rid}').json()
    assert request['error'] and request['error_message'] == message


def test_readonly_user_cannot_write(make_client, pools, module):
    readonly = make_client('readonly')
    assert readonly.post(pools, {'name': 'x', 'pg_num': 8}).status_code == 403
    assert readonly.delete(f"{pools}/{existing_pool(module)['pool']}").status_code == 403


def test_name_beyond_the_bmp_reaches_the_mon_as_utf8(client, pools, module, mon):
    """Escaped as a surrogate pair, an emoji reached the OSD map as CESU-8 and every later get('osd_map') crashed
    ceph-mgr: commands travel as UTF-8 JSON."""
    response = client.post(pools, {'name': 'pool-\U0001F600', 'pg_num': 8})
    assert response.status_code == 202
    assert sent(module)[0]['pool'] == 'pool-\U0001F600'
    create = next(text for text in module.sent_json if 'osd pool create' in text)
    assert 'pool-\U0001F600' in create and '\\ud83d' not in create


def test_lone_surrogate_in_a_json_body_is_a_400(client, pools, module, mon):
    response = client.request('POST', pools, raw=b'{"name": "bad\\ud800name", "pg_num": 8}',
                              headers={'Content-Type': 'application/json'})
    assert response.status_code == 400
    assert 'lone surrogate' in response.json()['detail']
    assert sent(module) == []


def test_integral_floats_are_integers(client, pools, module, mon):
    """JSON makes no difference between 8 and 8.0 (JSON Schema's "integer" takes both)."""
    assert client.post(pools, {'name': 'floaty', 'pg_num': 8.0}).status_code == 202
    assert sent(module)[0]['pg_num'] == 8
    assert client.post(pools, {'name': 'floaty2', 'pg_num': 8.5}).json() == {'pg_num': ['Enter a whole number.']}


def test_create_whose_pgs_stay_unknown_times_out_saying_the_pool_exists(client, pools, module, mon, services,
                                                                        monkeypatch):
    """PGs the OSDs never report (Ceph leaves them 'unknown'): at request_timeout the request fails, and its message
    says the pool is there (a client must not take the error for "nothing was created")."""
    module.command_handler = lambda cmd: _create_pool(module, cmd)
    rid = client.post(pools, {'name': 'newpool', 'pg_num': 8}).json()['request_id']
    add_pg_summary(module, 9, {'active+clean': 6, 'unknown': 2})
    services.cluster.invalidate_all()
    services.requests.tick()
    assert client.get(f'/api/v2/request/{rid}').json()['state'] == 'submitted'
    later = services.requests.clock() + 10 ** 5
    monkeypatch.setattr(services.requests, 'clock', lambda: later)
    services.requests.tick()
    request = client.get(f'/api/v2/request/{rid}').json()
    assert request['error'] and request['error_message'] == \
        "Timed out (Pool 'newpool' created; waiting for PG creation (6/8))"


@pytest.mark.parametrize('name', ['a\x00b', 'tab\there', 'del\x7f'])
def test_a_pool_name_with_a_control_character_is_refused(client, pools, name):
    """Ceph keeps a NUL in a pool's name, but the maps the mgr sees end the name there: the pool could be neither
    found nor deleted by its name again (schemathesis made one)."""
    response = client.post(pools, {'name': name, 'pg_num': 8})
    assert response.status_code == 400
    assert response.json()['name'] == ['Pool names cannot contain control characters.']
