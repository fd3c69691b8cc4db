"""Durability of requests over the fake mgr: stored (group commit) before the id is returned, resumed from the
maps by a new mgr (never a second create, never a delete of a pool created again since), one completion event."""
import json
import threading
import time

import pytest

from calamari_api.events import EventLog
from calamari_api.web.http import ApiError
from calamari_api.requests.journal import BATCH_PREFIX
from calamari_api.operations.resume import resumers
from calamari_api.requests.engine import RequestEngine
from calamari_api.requests.steps import Commands, Fail, Operation, Resume


def new_engine(module, services, events=None):
    """A mgr's engine, not started: ``tick()`` runs it (a new one over the same store is the next active mgr)."""
    engine = RequestEngine(module, services.store, services.cluster, history=lambda: 100, timeout=lambda: 300,
                           events=events, resumers=resumers(services.store, services.cluster))
    services.requests = engine          # command completions (notify) reach it
    return engine


def create_pool(name):
    create = {'prefix': 'osd pool create', 'pool': name, 'pg_num': 8, 'pool_type': 'replicated'}
    waves = [[{'prefix': 'osd pool set-quota', 'pool': name, 'field': 'max_objects', 'val': '10'}]]
    return Operation(f"Creating pool '{name}'", [Commands([create], write_ahead=True), Commands(waves[0])],
                     fsid='F', resume=Resume('pool_create', {'name': name, 'create': create, 'waves': waves}))


def prefixes(module, since=0):
    return [cmd['prefix'] for _, _, cmd, tag in module.sent_commands[since:] if tag.startswith('calamari_api:')]


def existing_pool(module):
    return module.maps['osd_map']['pools'][0]


def test_a_request_is_stored_before_its_id_is_returned(module, services):
    engine = new_engine(module, services)
    rid = engine.submit(create_pool('p1'))
    batches = [json.loads(v) for k, v in module.store.items() if k.startswith(BATCH_PREFIX)]
    assert [rid] == [k for b in batches for k in b]
    assert prefixes(module) == []           # nothing sent before it is stored (and before the engine's tick)
    engine.tick()
    assert prefixes(module) == ['osd pool create', 'osd pool set-quota']
    # its own key written, the batch key gone
    assert f'request/{rid}' in module.store and not any(k.startswith(BATCH_PREFIX) for k in module.store)


def test_not_stored_means_503_and_nothing_sent(module, services):
    engine = new_engine(module, services)

    def broken(key, value):
        raise RuntimeError('no quorum')
    module._ceph_set_store = broken
    with pytest.raises(ApiError) as caught:
        engine.submit(create_pool('p1'))
    assert caught.value.status == 503
    engine.tick()
    assert prefixes(module) == [] and engine.list() == []


def test_concurrent_submits_share_store_writes(module, services):
    engine = new_engine(module, services)
    real = module._ceph_set_store

    def slow(key, value):
        time.sleep(0.05)            # a mon round-trip
        real(key, value)
    module._ceph_set_store = slow
    threads = [threading.Thread(target=engine.submit, args=(Operation(f'r{i}', [Fail('x')], changes_maps=False),))
               for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(engine.list()) == 20
    assert engine._journal.writes <= 5


def test_stored_but_not_sent_is_run_by_the_next_mgr(module, services):
    first = new_engine(module, services)
    rid = first.submit(create_pool('p1'))           # the mgr dies before its engine sends anything
    second = new_engine(module, services)
    second.load()
    assert second.get(rid)['state'] == 'submitted'
    second.tick()
    assert prefixes(module) == ['osd pool create', 'osd pool set-quota']


def test_a_create_that_may_have_been_sent_is_never_sent_again(module, services):
    first = new_engine(module, services)
    module.hold_commands = True
    rid = first.submit(create_pool('p1'))
    first.tick()                                    # recorded as started, then sent; the mgr dies
    assert prefixes(module) == ['osd pool create']
    assert json.loads(module.store[f'request/{rid}'])['maybe_sent'] is True
    second = new_engine(module, services)
    second.load()
    second.tick()
    got = second.get(rid)
    assert got['state'] == 'complete' and got['error'] and got['error_message'].startswith(
        "Unknown whether pool 'p1' was created")
    assert prefixes(module) == ['osd pool create']


def test_a_create_whose_pool_exists_finishes_its_remaining_steps(module, services):
    name = existing_pool(module)['pool_name']
    first = new_engine(module, services)
    module.hold_commands = True
    rid = first.submit(create_pool(name))
    first.tick()
    module.hold_commands = False
    second = new_engine(module, services)
    second.load()
    second.tick()
    second.tick()
    assert prefixes(module) == ['osd pool create', 'osd pool set-quota']       # no second create
    assert second.get(rid)['state'] == 'complete' and not second.get(rid)['error'], second.get(rid)


def test_a_resumed_delete_never_removes_a_pool_created_again_since(module, services):
    pool = existing_pool(module)
    first = new_engine(module, services)
    gone = {'prefix': 'osd pool delete', 'pool': pool['pool_name'], 'pool2': pool['pool_name'],
            'yes_i_really_really_mean_it': True}
    rid = first.submit(Operation('Deleting', [Commands([gone])], fsid='F',
                                 resume=Resume('pool_delete', {'pool_id': pool['pool'] + 1000,
                                                               'name': pool['pool_name']})))
    second = new_engine(module, services)
    second.load()
    second.tick()
    assert prefixes(module) == [] and second.get(rid)['error'] is False


def test_flags_already_set_complete_without_a_command(module, services):
    first = new_engine(module, services)
    rid = first.submit(Operation('flags', [Commands([{'prefix': 'osd set', 'key': 'noout'}])], fsid='F',
                                 resume=Resume('osd_flags', {'flags': {'noout': False}})))
    second = new_engine(module, services)
    second.load()
    second.tick()
    assert prefixes(module) == [] and second.get(rid)['state'] == 'complete'


def test_one_completion_event_across_a_failover(module, services):
    events = EventLog(services.store, capacity=lambda: 100)
    first = new_engine(module, services, events)
    lost_event = first.submit(Operation('a', [Fail('boom')], changes_maps=False))
    first.flush()                                   # its record is stored, its event never was
    second_events = EventLog(services.store, capacity=lambda: 100)
    second = new_engine(module, services, second_events)
    second.load()
    assert [e.message for e in second_events.events()] == ['Failed: a (boom)']
    second_events.flush()
    # a third mgr finds the event in the log: no second one
    third_events = EventLog(services.store, capacity=lambda: 100)
    new_engine(module, services, third_events).load()
    assert [e.message for e in third_events.events()] == ['Failed: a (boom)']
    assert second.get(lost_event)['error_message'] == 'boom'


def test_a_completion_whose_event_was_logged_takes_that_outcome(module, services):
    events = EventLog(services.store, capacity=lambda: 100)
    first = new_engine(module, services, events)
    module.hold_commands = True
    rid = first.submit(Operation('b', [Commands([{'prefix': 'osd out', 'ids': ['0']}])], fsid='F',
                                 resume=Resume('osd_flags', {'flags': {}})))
    first.tick()
    module.release_held()                           # completed: its event logged, its record not stored yet
    events.flush()
    second_events = EventLog(services.store, capacity=lambda: 100)
    second = new_engine(module, services, second_events)
    second.load()
    second.tick()
    assert second.get(rid)['state'] == 'complete'
    assert [e.message for e in second_events.events()].count('Succeeded: b') == 1


def test_mons_out_of_reach_503_in_time_and_a_late_store_never_runs(module, services, monkeypatch):
    import calamari_api.requests.engine as requests_module
    monkeypatch.setattr(requests_module, 'SUBMIT_TIMEOUT', 0.2)
    engine = new_engine(module, services)
    real = module._ceph_set_store
    mons_back = threading.Event()

    def waiting(key, value):
        mons_back.wait(10)          # a store write waits for the mons
        real(key, value)
    module._ceph_set_store = waiting
    started = time.time()
    with pytest.raises(ApiError) as caught:
        engine.submit(create_pool('p1'))
    assert caught.value.status == 503 and time.time() - started < 2
    mons_back.set()
    late = wait_until(lambda: engine.list())
    assert late[0]['state'] == 'complete' and late[0]['error_message'].startswith('Not started')
    engine.tick()
    assert prefixes(module) == []
    assert json.loads(module.store[f"request/{late[0]['id']}"])['state'] == 'complete'


def wait_until(predicate, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.01)
    raise AssertionError('timed out')


def test_a_setting_overtaken_by_a_later_one_is_not_applied_again(module, services, clock):
    """An OSD reweight whose completion was not stored before the mgr died, then a later 'out' of the same OSD:
    the next mgr does not weight the OSD again (after the out)."""
    first = new_engine(module, services)
    first.clock = clock
    module.hold_commands = True
    reweight = first.submit(Operation('reweight', [Commands([{'prefix': 'osd reweight', 'id': 0, 'weight': 0.5}])],
                                      fsid='F', resume=Resume('osd_update', {'osd': 0, 'commands': [
                                          {'prefix': 'osd reweight', 'id': 0, 'weight': 0.5}]})))
    clock.now += 1
    out = first.submit(Operation('out', [Commands([{'prefix': 'osd out', 'ids': ['0']}])], fsid='F',
                                 resume=Resume('osd_update', {'osd': 0, 'commands': [
                                     {'prefix': 'osd out', 'ids': ['0']}]})))
    first.tick()
    first.flush()
    sent_before = len(module.sent_commands)
    second = new_engine(module, services)
    second.load()
    second.tick()
    assert second.get(reweight)['state'] == 'complete' and not second.get(reweight)['error']
    assert all(cmd['prefix'] != 'osd reweight' for _, _, cmd, _ in module.sent_commands[sent_before:])
    assert second.get(out)['state'] in ('submitted', 'complete')


def add_bucket(module, services, bucket_id, name):
    module.maps['osd_map_crush']['buckets'].append(
        {'id': bucket_id, 'name': name, 'type_id': 1, 'type_name': 'host', 'weight': 0, 'alg': 'straw2',
         'hash': 'rjenkins1', 'items': []})
    services.cluster.invalidate('osd_map_crush')


def remove_bucket(module):
    return Operation('Removing', [Commands([{'prefix': 'osd crush remove', 'name': 'old'}])], fsid='F',
                     resume=Resume('crush_node_delete', {'id': -50, 'name': 'old'}))


def test_a_resumed_bucket_delete_never_removes_a_new_bucket_with_its_id(module, services):
    first = new_engine(module, services)
    rid = first.submit(remove_bucket(module))       # the mgr dies; 'old' was removed, CRUSH gave -50 to 'new'
    add_bucket(module, services, -50, 'new')
    second = new_engine(module, services)
    second.load()
    second.tick()
    assert prefixes(module) == [] and second.get(rid)['state'] == 'complete' and not second.get(rid)['error']


def test_a_resumed_bucket_delete_removes_the_bucket_still_there(module, services):
    add_bucket(module, services, -50, 'old')
    rid = new_engine(module, services).submit(remove_bucket(module))
    second = new_engine(module, services)
    second.load()
    second.tick()
    assert prefixes(module) == ['osd crush remove'] and not second.get(rid)['error']


def test_a_resumed_bucket_update_leaves_a_new_bucket_with_its_id_alone(module, services):
    add_bucket(module, services, -50, 'new')
    op = Operation('Updating', [Commands([{'prefix': 'osd crush rename-bucket', 'srcname': 'old', 'dstname': 'b'}])],
                   fsid='F', resume=Resume('crush_node_update', {'id': -50, 'name': 'b', 'was': 'old', 'commands': [
                       {'prefix': 'osd crush rename-bucket', 'srcname': 'old', 'dstname': 'b'}]}))
    rid = new_engine(module, services).submit(op)
    second = new_engine(module, services)
    second.load()
    second.tick()
    got = second.get(rid)
    assert prefixes(module) == [] and got['error'] and "now belongs to bucket 'new'" in got['error_message']


def test_writes_submitted_before_the_loaded_ones_are_settled_wait_for_them(module, services):
    first = new_engine(module, services)
    loaded = first.submit(Operation('flags', [Commands([{'prefix': 'osd set', 'key': 'noout'}])], fsid='F',
                                    resume=Resume('osd_flags', {'flags': {'noout': True}})))
    osd_map = module.maps['osd_map']
    module.maps['osd_map'] = {}                     # the new mgr has no OSD map yet
    services.cluster.invalidate('osd_map')
    second = new_engine(module, services)
    second.load()
    later = second.submit(Operation('unset', [Commands([{'prefix': 'osd unset', 'key': 'noout'}])], fsid='F'))
    second.tick()
    assert prefixes(module) == []
    assert second.get(later)['status'] == 'Waiting for the requests a previous mgr left unfinished to be settled'
    assert second._sleep_time() <= 1.0              # (settling is re-tried without a wake-up)
    module.maps['osd_map'] = osd_map
    services.cluster.invalidate('osd_map')
    second.tick()
    assert prefixes(module) == ['osd set', 'osd unset']         # the loaded one settled first, then the held one
    assert second.get(loaded)['state'] == second.get(later)['state'] == 'complete'
