"""EventLog: bounded, chunked persistence, filters, ordering, formats."""
import json

import pytest

from calamari_api import events
from calamari_api.events import CHUNK_PREFIX, CHUNK_SIZE, EventLog, format_when, parse_severity
from calamari_api.store import KVStore


class DictMgr:
    def __init__(self):
        self.store = {}
        self.writes = 0

    def get_store(self, key):
        return self.store.get(key)

    def set_store(self, key, value):
        self.writes += 1
        if value is None:
            self.store.pop(key, None)
        else:
            self.store[key] = value

    def get_store_prefix(self, prefix):
        return {k: v for k, v in self.store.items() if k.startswith(prefix)}


class Clock:
    def __init__(self):
        self.now = 1415308515.600123

    def __call__(self):
        self.now += 1
        return self.now


def make_log(mgr, capacity=100):
    return EventLog(KVStore(mgr), capacity=lambda: capacity, clock=Clock())


def test_emit_order_and_filters():
    log = make_log(DictMgr())
    log.emit('INFO', 'one', fsid='f1')
    log.emit('WARNING', 'two', fsid='f1', fqdn='h1', service_type='osd', service_id=1)
    log.emit('RECOVERY', 'three', fqdn='h2')
    assert [e.message for e in log.events()] == ['three', 'two', 'one']
    assert [e.message for e in log.events(max_severity=4)] == ['three', 'two']
    assert [e.message for e in log.events(fsid='f1')] == ['two', 'one']
    assert [e.message for e in log.events(fqdn='h1')] == ['two']
    assert log.events(fqdn='h1')[0].service_id == '1'


def test_when_format_and_object():
    assert format_when(1415308515.600999) == '2014-11-06T21:15:15.600Z'
    log = make_log(DictMgr())
    event = log.emit('ERROR', 'bad')
    assert list(events.event_object(event)) == ['when', 'severity', 'message']
    assert events.event_object(event)['severity'] == 'ERROR'


def test_parse_severity():
    assert parse_severity(None) == 5
    assert parse_severity('RECOVERY') == 4
    assert parse_severity('warning') == 3
    assert parse_severity('FOO') is None


def test_persistence_is_chunked_and_only_touches_open_chunk():
    mgr = DictMgr()
    log = make_log(mgr, capacity=1000)
    for i in range(CHUNK_SIZE + 5):
        log.emit('INFO', f'e{i}')
    assert log.flush() == 2
    keys = sorted(k for k in mgr.store if k.startswith(CHUNK_PREFIX))
    assert len(keys) == 2
    mgr.writes = 0
    log.emit('INFO', 'next')
    assert log.flush() == 1 and mgr.writes == 1         # only the open chunk is rewritten
    assert log.flush() == 0                              # nothing new, no writes
    assert all(len(v) < 64 * 1024 for v in mgr.store.values())


def test_reload_after_failover_keeps_history():
    mgr = DictMgr()
    log = make_log(mgr)
    for i in range(7):
        log.emit('INFO', f'e{i}', fsid='f')
    log.flush()
    again = make_log(mgr)
    assert [e.message for e in again.events()] == [f'e{i}' for i in reversed(range(7))]
    nxt = again.emit('INFO', 'after')
    assert nxt.seq == 7


def test_bounded_and_old_chunks_deleted():
    mgr = DictMgr()
    log = make_log(mgr, capacity=60)
    for i in range(5 * CHUNK_SIZE):
        log.emit('INFO', f'e{i}')
        if i % 17 == 0:
            log.flush()
    log.flush()
    assert len(log) == 60
    assert log.events()[0].message == f'e{5 * CHUNK_SIZE - 1}'
    chunks = [k for k in mgr.store if k.startswith(CHUNK_PREFIX)]
    assert len(chunks) <= 60 // CHUNK_SIZE + 2
    reloaded = make_log(mgr, capacity=60)
    assert [e.seq for e in reloaded.events()] == [e.seq for e in log.events()]


def test_long_messages_are_truncated_to_fit_a_chunk():
    mgr = DictMgr()
    log = make_log(mgr, capacity=1000)
    for i in range(CHUNK_SIZE):
        log.emit('WARNING', 'x' * 100000, fsid='0' * 36, fqdn='h' * 60, service_type='osd', service_id='12345')
    log.flush()
    assert all(len(v) < 64 * 1024 for v in mgr.store.values())


def test_forget_cluster():
    mgr = DictMgr()
    log = make_log(mgr)
    log.emit('INFO', 'a', fsid='f1')
    log.emit('INFO', 'b', fsid='f2')
    log.emit('INFO', 'c')
    log.flush()
    log.forget_cluster('f1')
    log.flush()
    assert [e.message for e in make_log(mgr).events()] == ['c', 'b']


def test_unreadable_chunk_is_skipped():
    mgr = DictMgr()
    mgr.store[CHUNK_PREFIX + 'garbage'] = json.dumps([[1, 2]])
    mgr.store[CHUNK_PREFIX + '0000000000'] = json.dumps([[0, 1.0, 5, 'ok', None, None, None, None]])
    assert [e.message for e in make_log(mgr).events()] == ['ok']


@pytest.mark.parametrize('severity', ['CRITICAL', 'ERROR', 'WARNING', 'RECOVERY', 'INFO'])
def test_every_severity(severity):
    log = make_log(DictMgr())
    assert events.event_object(log.emit(severity, 'm'))['severity'] == severity
