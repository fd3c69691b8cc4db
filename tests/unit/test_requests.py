"""The request engine over the fake mgr: waves, completion (synchronous and held), failures, cancel,
timeouts, persistence and history, and the request endpoints."""
import json
import threading

import pytest

from calamari_api.requests.engine import LOST_UNKNOWN, RequestEngine
from calamari_api.requests.steps import Block, Commands, Delay, Fail, Operation, WaitFor, command_steps
from tests.unit.drained_requests import drained, sent  # noqa: F401

REQUEST_FIELDS = ['id', 'state', 'error', 'error_message', 'headline', 'status', 'requested_at', 'completed_at']


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(services):
    clock = Clock()
    services.requests.clock = clock
    return clock


@pytest.fixture
def engine(services, clock):
    return services.requests


def sent_prefixes(module):
    return [cmd['prefix'] for _, _, cmd, tag in module.sent_commands if tag.startswith('calamari_api:')]


def test_synchronous_completion_runs_every_wave(engine, module):
    op = Operation('Two waves', [Commands([{'prefix': 'osd set', 'key': 'noout'},
                                           {'prefix': 'osd set', 'key': 'noin'}]),
                                 Commands([{'prefix': 'osd unset', 'key': 'noout'}])], fsid='f')
    rid = engine.submit(op)
    request = engine.get(rid)
    assert list(request) == REQUEST_FIELDS
    assert request['state'] == 'complete' and not request['error']
    assert request['status'] == 'Completed successfully'
    assert request['completed_at'].endswith('+00:00')
    assert sent_prefixes(module) == ['osd set', 'osd set', 'osd unset']


def test_held_commands_complete_asynchronously(engine, module):
    module.hold_commands = True
    rid = engine.submit(Operation('h', command_steps([{'prefix': 'a'}, {'prefix': 'b'}])))
    assert engine.get(rid)['state'] == 'submitted'
    assert engine.get(rid)['status'] == 'Running'
    assert sent_prefixes(module) == ['a']          # the second wave waits for the first
    module.release_held()
    engine.tick()                                   # the engine's thread sends the next wave
    assert sent_prefixes(module) == ['a', 'b']
    module.release_held()
    assert engine.get(rid)['state'] == 'complete'


def test_first_failure_stops_the_request_with_the_mons_message(engine, module):
    module.command_handler = lambda cmd: (-17, '', "pool 'x' already exists") if cmd['prefix'] == 'b' else (0, '', '')
    rid = engine.submit(Operation('f', command_steps([{'prefix': 'a'}, {'prefix': 'b'}, {'prefix': 'c'}])))
    request = engine.get(rid)
    assert request['error'] is True
    assert request['error_message'] == "pool 'x' already exists"
    assert request['status'] == "Failed (pool 'x' already exists)"
    assert sent_prefixes(module) == ['a', 'b']


def test_failure_without_outs_still_explains(engine, module):
    module.command_handler = lambda cmd: (-22, '', '')
    rid = engine.submit(Operation('f', command_steps([{'prefix': 'osd frobnicate'}])))
    assert 'osd frobnicate' in engine.get(rid)['error_message']


def test_foreign_and_unknown_tags_are_ignored(engine, module):
    module.hold_commands = True
    rid = engine.submit(Operation('h', command_steps([{'prefix': 'a'}])))
    engine.on_command('restful.module:1:0')
    engine.on_command('')
    engine.on_command('calamari_api:nope:1')
    engine.on_command(None)
    assert engine.get(rid)['state'] == 'submitted'


def test_cancel_is_immediate_idempotent_and_later_commands_are_not_sent(engine, module, client):
    module.hold_commands = True
    rid = engine.submit(Operation('c', command_steps([{'prefix': 'a'}, {'prefix': 'b'}])))
    response = client.post(f'/api/v2/request/{rid}/cancel')
    assert response.status_code == 200
    body = response.json()
    assert (body['state'], body['error'], body['error_message'], body['status']) == \
        ('complete', True, 'Cancelled', 'Failed (Cancelled)')
    assert body['completed_at']
    module.release_held()
    assert sent_prefixes(module) == ['a']
    again = client.post(f'/api/v2/request/{rid}/cancel').json()
    assert again == body


def test_cancel_of_a_finished_request_leaves_it_unchanged(engine, client):
    rid = engine.submit(Operation('ok', command_steps([{'prefix': 'a'}])))
    before = engine.get(rid)
    assert client.post(f'/api/v2/request/{rid}/cancel').json() == before


def test_command_timeout(engine, module, clock):
    module.hold_commands = True
    rid = engine.submit(Operation('t', command_steps([{'prefix': 'osd set'}])))
    engine.tick()
    assert engine.get(rid)['state'] == 'submitted'
    clock.now += 301
    engine.tick()
    request = engine.get(rid)
    assert request['state'] == 'complete' and request['error']
    assert "Timed out waiting for the mon to answer 'osd set'" == request['error_message']
    module.release_held()           # a late answer changes nothing
    assert engine.get(rid) == request


def test_delay_block_and_fail_steps(engine, clock):
    wait = engine.submit(Operation('w', [Delay(10)], changes_maps=False))
    block = engine.submit(Operation('b', [Block()], changes_maps=False))
    fail = engine.submit(Operation('f', [Fail('This is a self-test exception')], changes_maps=False))
    assert engine.get(fail)['error_message'] == 'This is a self-test exception'
    clock.now += 5
    engine.tick()
    assert engine.get(wait)['state'] == 'submitted'
    clock.now += 6
    engine.tick()
    assert engine.get(wait)['state'] == 'complete' and not engine.get(wait)['error']
    clock.now += 10 ** 6
    engine.tick()
    assert engine.get(block)['state'] == 'submitted'


def test_wait_condition_status_then_completion(engine, clock):
    state = {'done': False}

    def check(cluster):
        return state['done'], 'Waiting for PG creation (1/8)', None
    rid = engine.submit(Operation('w', [WaitFor(check)]))
    engine.tick()
    assert engine.get(rid)['status'] == 'Waiting for PG creation (1/8)'
    state['done'] = True
    engine.tick()
    assert engine.get(rid)['status'] == 'Completed successfully'


def test_wait_condition_error_and_timeout(engine, clock):
    failing = engine.submit(Operation('e', [WaitFor(lambda c: (False, None, "Expected pool 'p' not found"))]))
    never = engine.submit(Operation('n', [WaitFor(lambda c: (False, 'Waiting', None))]))
    engine.tick()
    assert engine.get(failing)['error_message'] == "Expected pool 'p' not found"
    clock.now += 301
    engine.tick()
    assert engine.get(never)['error_message'] == 'Timed out (Waiting)'


def test_completion_invalidates_the_maps_before_it_is_visible(engine, services):
    before = services.cluster.generations(('osd_map', 'pg_summary'))
    engine.submit(Operation('x', command_steps([{'prefix': 'osd out', 'ids': ['0']}])))
    after = services.cluster.generations(('osd_map', 'pg_summary'))
    assert all(a > b for a, b in zip(after, before))


def test_one_small_store_key_per_request_and_reload(engine, module, services, clock):
    module.hold_commands = True
    done = engine.submit(Operation('done', [Fail('boom')]))
    clock.now += 1
    running = engine.submit(Operation('running', command_steps([{'prefix': 'a'}])))
    engine.flush()
    keys = sorted(k for k in module.store if k.startswith('request/'))
    assert keys == sorted([f'request/{done}', f'request/{running}'])
    assert all(len(module.store[k]) < 1024 for k in keys)
    assert json.loads(module.store[f'request/{running}'])['state'] == 'submitted'
    # a new mgr: what was finished is kept; what was in flight, with no way to tell from the maps whether it
    # was done (no Resume), ends in an error that says so
    fresh = RequestEngine(module, services.store, services.cluster, history=lambda: 100, timeout=lambda: 300)
    fresh.load()
    assert fresh.get(done)['error_message'] == 'boom'
    fresh.tick()
    lost = fresh.get(running)
    assert (lost['state'], lost['error'], lost['error_message']) == ('complete', True, LOST_UNKNOWN)
    assert json.loads(module.store[f'request/{running}'])['error_message'] == LOST_UNKNOWN
    assert [r['id'] for r in fresh.list()] == [running, done]


def test_history_is_bounded_oldest_first(module, services, clock):
    engine = RequestEngine(module, services.store, services.cluster, history=lambda: 3, timeout=lambda: 300,
                           clock=clock)
    ids = []
    for i in range(5):
        clock.now += 1
        ids.append(engine.submit(Operation(f'r{i}', [Fail('x')], changes_maps=False)))
    engine.flush()
    assert [r['id'] for r in engine.list()] == ids[:1:-1]
    assert sorted(k for k in module.store if k.startswith('request/')) == sorted(f'request/{i}' for i in ids[2:])


def test_events_for_start_success_and_failure(engine, services):
    engine.submit(Operation("Creating pool 'p'", command_steps([{'prefix': 'a'}]), fsid='F'))
    engine.submit(Operation('salt: ceph.selftest_exception: []', [Fail('This is a self-test exception')]))
    recent = {(e.severity, e.message, e.fsid) for e in services.events.events()}
    assert recent >= {(5, "Started: Creating pool 'p'", 'F'), (5, "Succeeded: Creating pool 'p'", 'F'),
                      (5, 'Started: salt: ceph.selftest_exception: []', None),
                      (3, 'Failed: salt: ceph.selftest_exception: [] (This is a self-test exception)', None)}


# -- endpoints -------------------------------------------------------------------------------------

def test_request_list_paginated_newest_first_with_state_filter(client, engine, module, clock, fsid):
    module.hold_commands = True
    ids = []
    for i in range(12):
        clock.now += 1
        ids.append(engine.submit(Operation(f'r{i}', command_steps([{'prefix': 'a'}]), fsid=fsid)))
    clock.now += 1
    debug = engine.submit(Operation('salt: x', [Fail('x')], changes_maps=False))
    page = client.get('/api/v2/request').json()
    assert page['count'] == 13 and len(page['results']) == 10
    assert page['results'][0]['id'] == debug and page['results'][1]['id'] == ids[-1]
    assert page['next'].endswith('page=2') and page['previous'] is None
    assert client.get('/api/v2/request?page=2').json()['results'][-1]['id'] == ids[0]
    submitted = client.get('/api/v2/request?state=submitted&page_size=50').json()
    assert submitted['count'] == 12
    complete = client.get('/api/v2/request?state=complete').json()
    assert [r['id'] for r in complete['results']] == [debug]
    scoped = client.get(f'/api/v2/cluster/{fsid}/request?page_size=50').json()
    assert debug not in [r['id'] for r in scoped['results']] and scoped['count'] == 12
    assert client.get(f'/api/v2/cluster/{fsid}/request/{debug}').json()['id'] == debug


def test_request_list_bad_state(client):
    response = client.get('/api/v2/request?state=running')
    assert response.status_code == 400
    assert response.json() == {'detail': 'State must be one of complete, submitted'}


def test_unknown_request(client):
    response = client.get('/api/v2/request/nope')
    assert response.status_code == 404
    assert response.json() == 'Object of type request with id nope not found'
    assert client.post('/api/v2/request/nope/cancel').status_code == 404


def test_readonly_cannot_cancel(make_client, engine, module):
    module.hold_commands = True
    rid = engine.submit(Operation('x', [Block()]))
    readonly = make_client('readonly')
    assert readonly.get(f'/api/v2/request/{rid}').status_code == 200
    assert readonly.post(f'/api/v2/request/{rid}/cancel').status_code == 403


def test_commands_are_sent_from_the_engines_own_thread(engine, module):
    """ceph-mgr delivers a completion with the sending thread's Python thread state, so neither an HTTP
    thread nor notify() may send: the engine's thread does (here without the tests' synchronous drain)."""
    import threading
    senders = []
    done = threading.Event()

    def handler(cmd):
        senders.append(threading.current_thread().name)
        if len(senders) == 2:
            done.set()
        return 0, '', ''
    module.command_handler = handler
    RequestEngine.submit(engine, Operation('t', command_steps([{'prefix': 'a'}, {'prefix': 'b'}])))
    assert done.wait(30)
    assert senders == ['calamari-requests', 'calamari-requests']


def test_the_engine_thread_never_takes_the_request_lock_while_holding_its_wakeup_lock(services):
    """Threads holding the request lock call _wake() (which takes the wake-up lock): taking them in the other
    order on the engine's thread deadlocked it (seen as a hung request in a unit test)."""
    engine = services.requests
    checked = threading.Event()
    held = []
    sleep_time = engine._sleep_time

    def recording_sleep_time():
        free = engine._wakeup.acquire(blocking=False)
        if free:
            engine._wakeup.release()
        held.append(not free)
        checked.set()
        return sleep_time()
    engine._sleep_time = recording_sleep_time
    engine._wake()
    assert checked.wait(10)
    assert not any(held)
