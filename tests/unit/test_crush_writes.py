"""CRUSH writes (API reference §4.6, §4.8, §4.9): validation, the commands sent, rule text, setcrushmap."""
import re
import shutil
import threading
import time

import pytest
from calamari_api import derived
from calamari_api.views import crush_text
from tests.support import fake_ceph
from tests.unit.drained_requests import drained, sent  # noqa: F401


@pytest.fixture
def base(fsid):
    return f'/api/v2/cluster/{fsid}'


@pytest.fixture
def mon(module, services):
    module.command_handler = lambda cmd: (0, '', '')
    return module


def request_of(client, response):
    assert response.status_code == 202, response.content
    return client.get(f"/api/v2/request/{response.json()['request_id']}").json()


# -- crush_node ------------------------------------------------------------------------------------

def test_node_post_creates_and_moves_children(client, base, mon):
    response = client.post(f'{base}/crush_node', {'name': 'rack1', 'bucket_type': 'rack', 'id': 5,
                                                  'items': [{'id': -3, 'weight': 0.1, 'pos': 0}, {'id': 1}]})
    req = request_of(client, response)
    assert req['headline'] == 'Creating CRUSH node in ceph'
    assert (req['state'], req['error']) == ('complete', False)
    assert sent(mon) == [
        {'prefix': 'osd crush add-bucket', 'name': 'rack1', 'type': 'rack'},
        {'prefix': 'osd crush move', 'name': 'vm', 'args': ['rack=rack1']},
        {'prefix': 'osd crush set', 'id': 1, 'weight': 13 / 65536, 'args': ['rack=rack1']}]


def test_node_post_empty_items(client, base, mon):
    request_of(client, client.post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'row', 'items': []}))
    assert sent(mon) == [{'prefix': 'osd crush add-bucket', 'name': 'r', 'type': 'row'}]


def test_node_post_required_and_invalid_fields(client, base, mon):
    response = client.post(f'{base}/crush_node', {'alg': 'straw'})
    assert response.status_code == 400
    assert response.json() == {'alg': 'Not allowed during POST', 'name': 'Required during POST',
                               'bucket_type': 'Required during POST', 'items': 'Required during POST'}
    response = client.post(f'{base}/crush_node', {'name': 'a b', 'bucket_type': 'shelf', 'items': [{'x': 1}]})
    assert response.status_code == 400
    body = response.json()
    assert body['name'] == ['Enter a valid CRUSH name (letters, digits, "-", "_" and "." only).']
    assert body['bucket_type'][0].startswith('Select a valid choice. shelf is not one of the available choices')
    assert body['items'] == ['Enter a list of items: {"id": <CRUSH item id>, "weight": <number, optional>}.']
    response = client.post(f'{base}/crush_node', {'name': 'x', 'bucket_type': 'osd', 'items': []})
    assert response.status_code == 400 and 'bucket_type' in response.json()
    assert sent(mon) == []


def test_node_post_duplicate_name_and_missing_child(client, base, mon):
    response = client.post(f'{base}/crush_node', {'name': 'vm', 'bucket_type': 'rack', 'items': []})
    assert (response.status_code, response.json()) == (409, {'name': ["A CRUSH item named 'vm' already exists"]})
    response = client.post(f'{base}/crush_node', {'name': 'osd.1', 'bucket_type': 'rack', 'items': []})
    assert response.status_code == 409
    response = client.post(f'{base}/crush_node', {'name': 'replicated_rule', 'bucket_type': 'rack', 'items': []})
    assert response.status_code == 409          # a rule's name: crushtool would mix them up
    response = client.post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'rack', 'items': [{'id': -99}]})
    assert (response.status_code, response.json()) == (404, 'Object of type crush_node with id -99 not found')
    response = client.post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'rack', 'items': [{'id': 7}]})
    assert (response.status_code, response.json()) == (404, 'Object of type osd with id 7 not found')
    response = client.post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'rack', 'items': [{'id': -4}]})
    assert response.status_code == 404          # device-class shadow buckets are not nodes
    assert sent(mon) == []


def test_node_patch_rename_move_unlink_reweight(client, base, mon):
    response = client.patch(f'{base}/crush_node/-3', {'name': 'vm2', 'bucket_type': 'host',
                                                      'items': [{'id': 0}, {'id': 1, 'weight': 0.5}]})
    req = request_of(client, response)
    assert req['headline'] == 'Updating CRUSH node in ceph'
    assert sent(mon) == [
        {'prefix': 'osd crush rename-bucket', 'srcname': 'vm', 'dstname': 'vm2'},
        {'prefix': 'osd crush reweight', 'name': 'osd.1', 'weight': 0.5},
        {'prefix': 'osd crush unlink', 'name': 'osd.2', 'ancestor': 'vm2'}]


def test_node_patch_noop_retype_loop_and_unknown(client, base, mon):
    items = [{'id': i, 'weight': 13 / 65536} for i in (0, 1, 2)]
    response = client.patch(f'{base}/crush_node/-3', {'name': 'vm', 'bucket_type': 'host', 'items': items})
    assert response.status_code == 304
    response = client.patch(f'{base}/crush_node/-3', {'name': 'vm', 'bucket_type': 'rack', 'items': items})
    assert response.status_code == 400 and 'not supported' in response.json()['bucket_type'][0]
    response = client.patch(f'{base}/crush_node/-3', {'name': 'vm', 'bucket_type': 'host', 'items': [{'id': -1}]})
    assert (response.status_code, response.json()) == (400, {
        'items': ['Item -1 is this bucket or one of its ancestors.']})
    response = client.patch(f'{base}/crush_node/-3', {'name': 'default', 'bucket_type': 'host', 'items': items})
    assert response.status_code == 409
    response = client.patch(f'{base}/crush_node/-3', {'name': 'vm'})
    assert response.json() == {'bucket_type': 'Required during PATCH', 'items': 'Required during PATCH'}
    assert client.patch(f'{base}/crush_node/-77', {}).json() == 'Object of type crush_node with id -77 not found'
    assert sent(mon) == []


def test_node_delete(client, base, module, mon):
    response = client.delete(f'{base}/crush_node/-3')
    assert (response.status_code, response.json()) == (409, 'Cannot delete a bucket that still contains items')
    assert client.delete(f'{base}/crush_node/-2').status_code == 404
    empty = {'id': -5, 'name': 'empty', 'type_id': 3, 'type_name': 'rack', 'weight': 0, 'alg': 'straw2',
             'hash': 'rjenkins1', 'items': []}
    module.maps['osd_map_crush']['buckets'].append(empty)
    module.services.cluster.invalidate('osd_map')
    req = request_of(client, client.delete(f'{base}/crush_node/-5'))
    assert req['headline'] == 'Removing CRUSH node in ceph'
    assert sent(mon) == [{'prefix': 'osd crush remove', 'name': 'empty'}]


def test_node_command_failure_fails_the_request(client, base, module):
    module.command_handler = lambda cmd: (-17, '', "item 'r' exists")
    req = request_of(client, client.post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'rack', 'items': []}))
    assert (req['error'], req['error_message']) == (True, "item 'r' exists")


def test_node_writes_need_write_role(make_client, base, mon):
    response = make_client('readonly').post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'rack', 'items': []})
    assert response.status_code == 403
    assert sent(mon) == []


# -- crush_rule and crush_map: text, compile, setcrushmap ------------------------------------------

RULE = {'name': 'custom', 'ruleset': 42, 'type': 'replicated', 'min_size': 1, 'max_size': 3,
        'steps': [{'num': 5, 'op': 'set_chooseleaf_tries'}, {'num': 100, 'op': 'set_choose_tries'},
                  {'item': -1, 'item_name': 'default', 'op': 'take'},
                  {'num': 0, 'op': 'chooseleaf_firstn', 'type': 'host'}, {'op': 'emit'}]}
needs_crushtool = pytest.mark.skipif(not shutil.which('crushtool'), reason='crushtool is not installed')


def wait_complete(client, request_id):
    for _ in range(500):
        req = client.get(f'/api/v2/request/{request_id}').json()
        if req['state'] == 'complete':
            return req
        time.sleep(0.02)
    raise AssertionError(f'request {request_id} did not complete: {req}')


def set_map(module):
    """The rule as compiled into the binary given to osd setcrushmap (decompiled back)."""
    calls = [(cmd, inbuf) for cmd, inbuf in module.fake_rados.calls if cmd['prefix'] == 'osd setcrushmap']
    assert len(calls) == 1
    return calls[0][0], derived.decompile_crush(calls[0][1])


def as_decompiled(rule: str, text: str) -> str:
    """``rule`` as crushtool decompiles it: Reef and later (the Tentacle root's crushtool) drop rule sizes."""
    return rule if '\tmin_size' in text else re.sub(r'\t(min|max)_size \d+\n', '', rule)


def test_rule_text_serialization():
    rule = dict(RULE, id=42, steps=[
        {'op': 'set_chooseleaf_tries', 'num': 5}, {'op': 'take', 'item_name': 'default~hdd'},
        {'op': 'choose_indep', 'num': 0, 'type': 'osd'}, {'op': 'emit'}])
    assert crush_text.rule_text(rule) == ('rule custom {\n\tid 42\n\ttype replicated\n\tmin_size 1\n\tmax_size 3\n'
                                          '\tstep set_chooseleaf_tries 5\n\tstep take default class hdd\n'
                                          '\tstep choose indep 0 type osd\n\tstep emit\n}')
    text = 'x\nrule a {\n\tid 0\n}\nrule b {\n\tid 1\n}\n\n# end crush map\n'
    replaced = crush_text.replace_rule(text, 'a', 'rule a {\n}')
    assert replaced == 'x\nrule a {\n}\nrule b {\n\tid 1\n}\n\n# end crush map\n'
    assert crush_text.add_rule(text, 'rule c {\n}').endswith('rule b {\n\tid 1\n}\nrule c {\n}\n\n# end crush map\n')
    with pytest.raises(ValueError):
        crush_text.replace_rule(text, 'zz', '')


def test_exact_weights():
    text = 'host vm {\n\tid -3\n\titem osd.0 weight 0.000\n\titem osd.1 weight 1.000\n}\nroot default {\n' \
           '\titem vm weight 0.001\n}\n'
    dump = {'devices': [{'id': 0, 'name': 'osd.0'}, {'id': 1, 'name': 'osd.1'}],
            'buckets': [{'id': -3, 'name': 'vm', 'items': [{'id': 0, 'weight': 13}, {'id': 1, 'weight': 65536}]},
                        {'id': -1, 'name': 'default', 'items': [{'id': -3, 'weight': 65549}]}]}
    assert crush_text.exact_weights(text, dump) == (
        'host vm {\n\tid -3\n\titem osd.0 weight 0.0001983642578125\n\titem osd.1 weight 1.000\n}\n'
        'root default {\n\titem vm weight 1.0001983642578125\n}\n')


@needs_crushtool
def test_rule_post_compiles_and_sets_the_map(client, base, module):
    response = client.post(f'{base}/crush_rule', RULE)
    assert response.status_code == 202, response.content
    req = wait_complete(client, response.json()['request_id'])
    assert (req['headline'], req['error']) == ('Creating CRUSH rule in ceph', False)
    command, text = set_map(module)
    assert command == {'prefix': 'osd setcrushmap', 'prior_version': 7}
    assert as_decompiled(
        'rule custom {\n\tid 42\n\ttype replicated\n\tmin_size 1\n\tmax_size 3\n\tstep set_chooseleaf_tries 5\n'
        '\tstep set_choose_tries 100\n\tstep take default\n\tstep chooseleaf firstn 0 type host\n\tstep emit\n}', text
    ) in text
    assert 'rule replicated_rule {' in text
    assert 'item osd.0 weight 0.000' in text       # decompiled from the binary that was sent: weights kept
    assert client.get(f'/api/v2/cluster/{module.maps["mon_map"]["fsid"]}/crush_map').status_code == 200


@needs_crushtool
def test_rule_post_default_id_and_take_by_item(client, base, module):
    body = dict(RULE, steps=[{'op': 'take', 'item': -3}, {'op': 'choose_firstn', 'num': 0, 'type': 'osd'},
                             {'op': 'emit'}])
    del body['ruleset']
    wait_complete(client, client.post(f'{base}/crush_rule', body).json()['request_id'])
    _, text = set_map(module)
    assert 'rule custom {\n\tid 1\n' in text and '\tstep take vm\n' in text


def test_rule_post_validation(client, base, module):
    response = client.post(f'{base}/crush_rule', {'osd_count': 3})
    assert response.status_code == 400
    assert response.json() == {'osd_count': 'Not allowed during POST', 'name': 'Required during POST',
                               'type': 'Required during POST', 'min_size': 'Required during POST',
                               'max_size': 'Required during POST', 'steps': 'Required during POST'}
    response = client.post(f'{base}/crush_rule', dict(RULE, ruleset=256, type='mirrored', min_size=5))
    assert response.json() == {'ruleset': ['This field must be less than 255.'],
                               'type': ['Select a valid choice. mirrored is not one of the available choices.']}
    response = client.post(f'{base}/crush_rule', dict(RULE, min_size=5))
    assert response.json() == {'min_size': ['Ensure min_size is less than or equal to max_size.']}
    response = client.post(f'{base}/crush_rule', dict(RULE, steps=[{'op': 'take', 'item': -99}]))
    assert response.json() == {'steps': ['Step 0: take: item_name (or item) must name an existing CRUSH bucket '
                                         'or device']}
    response = client.post(f'{base}/crush_rule', dict(RULE, steps=[{'op': 'chooseleaf_firstn', 'num': 0,
                                                                    'type': 'shelf'}]))
    assert response.json()['steps'][0].startswith('Step 0: chooseleaf_firstn: type must be one of osd, host')
    response = client.post(f'{base}/crush_rule', dict(RULE, steps=[{'op': 'jump'}]))
    assert response.json()['steps'][0].startswith("Step 0: op: 'jump' is not one of take, emit")
    response = client.post(f'{base}/crush_rule', dict(RULE, name='replicated_rule'))
    assert (response.status_code, response.json()) == (409, {
        'name': ["A CRUSH rule named 'replicated_rule' already exists"]})
    response = client.post(f'{base}/crush_rule', dict(RULE, ruleset=0))
    assert response.status_code == 409
    response = client.post(f'{base}/crush_rule', dict(RULE, name='vm'))       # crushtool would take it for the host
    assert (response.status_code, response.json()) == (409, {'name': ["A CRUSH item named 'vm' already exists"]})
    assert module.fake_rados.calls == []


@needs_crushtool
def test_rule_compile_error_is_a_400(client, base, module, monkeypatch):
    def refuse(text):
        raise derived.CrushCompileError('crush map:12 error: parse error at "step"')
    monkeypatch.setattr(derived, 'compile_crush', refuse)
    response = client.post(f'{base}/crush_rule', RULE)
    assert (response.status_code, response.json()) == (400, {
        'detail': 'crushtool: crush map:12 error: parse error at "step"'})
    assert [c['prefix'] for c, _ in module.fake_rados.calls] == ['osd getcrushmap']


@needs_crushtool
def test_rule_patch_replaces_the_rule(client, base, module):
    response = client.patch(f'{base}/crush_rule/0', {'max_size': 5, 'name': 'renamed'})
    req = wait_complete(client, response.json()['request_id'])
    assert req['headline'] == 'Updating CRUSH rule in ceph'
    _, text = set_map(module)
    assert as_decompiled('rule renamed {\n\tid 0\n\ttype replicated\n\tmin_size 1\n\tmax_size 5\n\tstep take default\n'
                         '\tstep choose firstn 0 type osd\n\tstep emit\n}', text) in text
    assert 'replicated_rule' not in text
    assert client.patch(f'{base}/crush_rule/0', {'type': 'erasure'}).json() == {'type': 'Not allowed during PATCH'}
    assert client.patch(f'{base}/crush_rule/0', {'min_size': 1, 'steps': [
        {'op': 'take', 'item': -1}, {'op': 'choose_firstn', 'num': 0, 'type': 'osd'}, {'op': 'emit'}]}
    ).status_code == 304
    assert client.patch(f'{base}/crush_rule/9', {}).json() == 'Object of type crush_rule with id 9 not found'
    response = client.patch(f'{base}/crush_rule/0', {'ruleset': 3})
    assert response.status_code == 409 and 'used by pool(s)' in response.json()['ruleset'][0]


def without_rule_sizes(module):
    """The fixture's CRUSH map as Tentacle dumps it: rules without ruleset, min_size and max_size."""
    crush = module.maps['osd_map_crush']
    crush['rules'] = [{k: v for k, v in r.items() if k not in ('ruleset', 'min_size', 'max_size')}
                      for r in crush['rules']]


def test_rules_without_sizes_show_the_old_defaults(client, base, module):
    without_rule_sizes(module)
    rule = client.get(f'{base}/crush_rule/0').json()
    assert (rule['ruleset'], rule['min_size'], rule['max_size']) == (0, 1, 10)
    assert client.get(f'{base}/crush_rule_set').json()[0]['id'] == 0


@needs_crushtool
def test_sizes_set_where_crush_has_none_are_kept_after_completion(client, base, module):
    without_rule_sizes(module)
    req = wait_complete(client, client.patch(f'{base}/crush_rule/0', {'max_size': 5}).json()['request_id'])
    assert req['error'] is False
    assert module.store['crush_rule_sizes'] == '{"0":{"name":"replicated_rule","min_size":1,"max_size":5}}'
    rule = client.get(f'{base}/crush_rule/0').json()
    assert (rule['min_size'], rule['max_size']) == (1, 5)
    assert client.patch(f'{base}/crush_rule/0', {'max_size': 5}).status_code == 304
    assert client.patch(f'{base}/crush_rule/0', {'min_size': 6}).json() == {
        'min_size': ['Ensure min_size is less than or equal to max_size.']}
    # a rule renamed behind the API's back does not inherit what was kept for the old name
    module.maps['osd_map_crush']['rules'][0]['rule_name'] = 'other'
    module.notify('osd_map', None)
    assert client.get(f'{base}/crush_rule/0').json()['max_size'] == 10


@needs_crushtool
def test_setcrushmap_refused_by_the_mon(client, base, module):
    module.fake_rados.handler = lambda cmd, inbuf: (
        (0, module.fake_rados.crush_binary(), '7') if cmd['prefix'] == 'osd getcrushmap'
        else (-1, b'', 'prior_version 7 != crush version 8'))
    req = wait_complete(client, client.post(f'{base}/crush_rule', RULE).json()['request_id'])
    assert (req['error'], req['error_message']) == (True, 'prior_version 7 != crush version 8')


@needs_crushtool
def test_setcrushmap_timeout(client, base, module, services, monkeypatch):
    release = threading.Event()
    started = threading.Event()

    def slow(cmd, inbuf):
        if cmd['prefix'] == 'osd getcrushmap':
            return 0, module.fake_rados.crush_binary(), '7'
        started.set()
        release.wait(30)
        return 0, b'', '8'
    module.fake_rados.handler = slow
    request_id = client.post(f'{base}/crush_rule', RULE).json()['request_id']
    assert started.wait(30)
    engine = services.requests
    now = engine.clock()
    monkeypatch.setattr(engine, 'clock', lambda: now + 10 ** 6)
    engine.tick()
    req = client.get(f'/api/v2/request/{request_id}').json()
    assert (req['state'], req['error_message']) == ('complete', "Timed out waiting for the mon to answer "
                                                                "'osd setcrushmap'")
    release.set()


def test_getcrushmap_failure_is_a_503(client, base, module):
    module.fake_rados.handler = lambda cmd, inbuf: (-110, b'', 'timed out')
    response = client.post(f'{base}/crush_rule', RULE)
    assert response.status_code == 503
    assert response.json()['detail'].startswith('CRUSH map unavailable: osd getcrushmap failed')


def test_rule_delete(client, base, module, mon):
    response = client.delete(f'{base}/crush_rule/0')
    assert (response.status_code, response.json()) == (409, {
        'detail': "CRUSH rule 'replicated_rule' is used by pool(s) " + ', '.join(
            p['pool_name'] for p in module.maps['osd_map']['pools'])})
    assert client.delete(f'{base}/crush_rule/5').json() == 'Object of type crush_rule with id 5 not found'
    for pool in module.maps['osd_map']['pools']:
        pool['crush_rule'] = 1
    module.services.cluster.invalidate('osd_map')
    req = request_of(client, client.delete(f'{base}/crush_rule/0'))
    assert req['headline'] == 'Removing CRUSH rule in ceph'
    assert sent(mon) == [{'prefix': 'osd crush rule rm', 'name': 'replicated_rule'}]


@needs_crushtool
def test_map_post(client, base, module):
    text = open(fake_ceph.CRUSH_TEXT).read()
    response = client.request('POST', f'{base}/crush_map', raw=text.encode(), headers={'Content-Type': 'text/plain'})
    assert response.status_code == 200
    req = wait_complete(client, response.json()['request_id'])
    assert (req['headline'], req['error']) == ('Replacing CRUSH map in ceph', False)
    command, _ = set_map(module)
    assert command == {'prefix': 'osd setcrushmap'}
    assert [inbuf for c, inbuf in module.fake_rados.calls] == [module.fake_rados.crush_binary()]


@needs_crushtool
def test_map_post_errors(client, base, module):
    response = client.post(f'{base}/crush_map', {'a': 1})
    assert (response.status_code, response.json()) == (415, {
        'detail': "Unsupported media type 'application/json' in request."})
    response = client.request('POST', f'{base}/crush_map', raw=b'garbage {', headers={'Content-Type': 'text/plain'})
    assert response.status_code == 400 and response.json()['detail'].startswith('crushtool: ')
    response = client.request('POST', f'{base}/crush_map', raw=b'', headers={'Content-Type': 'text/plain'})
    assert response.status_code == 400
    assert module.fake_rados.calls == []


def test_exact_weights_in_weight_sets():
    text = ('choose_args 1 {\n  {\n    bucket_id -3\n    weight_set [\n      [ 0.000 1.000 ]\n      [ 0.000 0.000 ]\n'
            '    ]\n  }\n}\n')
    dump = {'choose_args': {'1': [{'bucket_id': -3, 'weight_set': [[2 ** -15, 1.0], [3 * 2 ** -16, 0.0]]}]}}
    assert crush_text.exact_weights(text, dump) == (
        'choose_args 1 {\n  {\n    bucket_id -3\n    weight_set [\n      [ 0.000030517578125 1.000 ]\n'
        '      [ 0.0000457763671875 0.000 ]\n    ]\n  }\n}\n')


@needs_crushtool
def test_steps_crush_dumps_by_number_are_named(client, base, module):
    """``osd crush dump`` gives some steps only as {"opcode", "arg1", "arg2"} (set_chooseleaf_stable, ...): the API
    names them, and a PATCH of such a rule writes them back."""
    rule = module.maps['osd_map_crush']['rules'][0]
    rule['steps'] = [{'opcode': 13, 'arg1': 1, 'arg2': 0}, {'opcode': 10, 'arg1': 2, 'arg2': 0}] + rule['steps']
    module.notify('osd_map', '')
    steps = client.get(f'{base}/crush_rule/0').json()['steps']
    assert steps[:2] == [{'op': 'set_chooseleaf_stable', 'num': 1, 'type': None, 'item_name': None, 'item': None},
                         {'op': 'set_choose_local_tries', 'num': 2, 'type': None, 'item_name': None, 'item': None}]
    response = client.patch(f'{base}/crush_rule/0', {'max_size': 5})
    wait_complete(client, response.json()['request_id'])
    _, text = set_map(module)
    assert '\tstep set_chooseleaf_stable 1\n\tstep set_choose_local_tries 2\n' in text
