"""Fault injection on a real cluster with two mgrs: a mixed write workload through an API token while the active mgr
is killed with SIGKILL at random moments, and at the engine's named points (module option ``fault_kill_at``):
after a request is accepted and before it is stored, after it is stored and before its 202, between two steps of a
request, and after a must-not-run-twice step is recorded and before it is sent.  At the end every request answered
202 is found, complete, with an outcome that matches the cluster; each completed request has exactly one completion
event; no create or delete reached the mons twice (the mons' audit log).

Seeded: ``FAULT_SEED`` (default: random; printed either way) fixes the workload and the kill schedule.
``FAULT_KILLS`` (default 8) and ``FAULT_MIN_WRITES`` (default 50) set the size of a run."""
import collections
import datetime
import json
import os
import random
import re
import signal
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional

import pytest

from tests.support.http_client import HttpClient
from tests.support.cluster import RealCluster, wait_for

SEED = int(os.environ.get('FAULT_SEED') or random.SystemRandom().randrange(1, 10 ** 6))
KILLS = int(os.environ.get('FAULT_KILLS', '8'))
MIN_WRITES = int(os.environ.get('FAULT_MIN_WRITES', '50'))
POINTS = ('accepted', 'stored', 'between_steps', 'before_send')
MGRS = 3                # the next kill need not wait until the last killed mgr is back as a standby
REQUEST_TIMEOUT = 60     # (the check below waits 120 s for every request to complete)
BEACON_GRACE = 6        # the mons' time to notice a dead mgr without `ceph mgr fail` (default 30 s)
RULE_STEPS = [{'op': 'take', 'item_name': 'default'}, {'op': 'chooseleaf_firstn', 'num': 0, 'type': 'osd'},
              {'op': 'emit'}]


@pytest.fixture(scope='module')
def ha():
    cluster = RealCluster(tempfile.mkdtemp(prefix='calamari-fault-'))
    cluster.up('--no-install', '--mgrs', str(MGRS))
    try:
        yield cluster
    finally:
        cluster.down()


class Api:
    """Whichever mgr is active (a standby answers 503), through a token."""

    def __init__(self, cluster: RealCluster, token: str) -> None:
        self.bases = [f'http://127.0.0.1:{cluster.api_port + i}' for i in range(MGRS)]
        self.token = token
        self.fsid = cluster.fsid
        self.current = 0

    def call(self, method: str, path: str, body: Any = None, attempts: int = 1) -> Optional[Any]:
        """The response of the active mgr; None when the connection broke (the mgr may have died meanwhile)."""
        for _ in range(attempts):
            for shift in range(MGRS):
                index = (self.current + shift) % MGRS
                client = HttpClient(self.bases[index], bearer=self.token, timeout=20)
                try:
                    response = client.request(method, path, body)
                except ConnectionRefusedError:
                    continue                # nothing was sent
                except OSError:
                    if method != 'GET':
                        self.current = (index + 1) % MGRS
                        time.sleep(0.5)
                        return None         # it may or may not have been accepted
                    continue
                if response.status_code == 503:
                    continue
                self.current = index
                return response
            time.sleep(0.3)
        return None


class Ledger:
    """Every write the workload made: answered (202 + id) or unanswered (the connection broke)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: List[Dict[str, Any]] = []
        self.unanswered: List[Dict[str, Any]] = []
        self.lost: List[str] = []           # ids a live active mgr answered 404 for

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)

    def unanswered_count(self) -> int:
        with self.lock:
            return len(self.unanswered)


def write(api: Api, ledger: Ledger, stop: threading.Event, kind: str, key: str, method: str, path: str,
          body: Any = None, value: Any = None) -> Optional[Dict[str, Any]]:
    """Send one write; wait until it is complete (across failovers); the ledger entry, or None if unanswered."""
    entry = {'kind': kind, 'key': key, 'value': value, 'path': path, 'body': body, 'at': time.time()}
    response = api.call(method, f'/api/v2/cluster/{api.fsid}/{path}', body, attempts=20)
    if response is None or response.status_code not in (200, 202):
        if response is None:
            with ledger.lock:
                ledger.unanswered.append(entry)
        else:
            time.sleep(0.5)         # (a 304, or a 409 after a failover: the lanes go on with another write)
        return None
    entry['id'] = response.json()['request_id']
    with ledger.lock:
        ledger.accepted.append(entry)
    deadline = time.time() + 120
    while time.time() < deadline:
        got = api.call('GET', f"/api/v2/request/{entry['id']}", attempts=40)
        if got is not None and got.status_code == 404:
            with ledger.lock:
                ledger.lost.append(entry['id'])
            return None
        if got is not None and got.status_code == 200 and got.json()['state'] == 'complete':
            entry['outcome'] = got.json()
            return entry
        time.sleep(0.3)
    return entry


def pool_lane(api: Api, ledger: Ledger, stop: threading.Event, rng: random.Random) -> None:
    live: Dict[str, int] = {}
    n = 0
    while not stop.is_set():
        choice = rng.random()
        if not live or (choice < 0.45 and len(live) < 4):
            n += 1
            name = f'fi-pool-{n}'
            entry = write(api, ledger, stop, 'pool_create', name, 'POST', 'pool',
                          {'name': name, 'pg_num': 8, 'quota_max_objects': 1000 + n})
            if entry and entry.get('outcome') and not entry['outcome']['error']:
                pools = api.call('GET', f'/api/v2/cluster/{api.fsid}/pool', attempts=40)
                pool_id = next((p['id'] for p in pools.json() if p['name'] == name), None) if pools else None
                if pool_id is not None:
                    live[name] = pool_id
        elif choice < 0.75:
            name = rng.choice(sorted(live))
            quota = rng.randrange(10, 100000)
            write(api, ledger, stop, 'pool_update', name, 'PATCH', f'pool/{live[name]}',
                  {'quota_max_objects': quota}, quota)
        else:
            name = rng.choice(sorted(live))
            entry = write(api, ledger, stop, 'pool_delete', name, 'DELETE', f'pool/{live[name]}')
            if entry and entry.get('outcome') and not entry['outcome']['error']:
                del live[name]


def osd_lane(api: Api, ledger: Ledger, stop: threading.Event, rng: random.Random, osds: List[int]) -> None:
    out: Optional[int] = None
    while not stop.is_set():
        choice = rng.random()
        if choice < 0.35:
            if out is None:
                osd = rng.choice(osds)
                entry = write(api, ledger, stop, 'osd_in', f'osd.{osd}', 'PATCH', f'osd/{osd}', {'in': False}, False)
                out = osd if entry else out
            else:
                write(api, ledger, stop, 'osd_in', f'osd.{out}', 'PATCH', f'osd/{out}', {'in': True}, True)
                out = None
        elif choice < 0.65:
            osd = rng.choice(osds)
            weight = round(rng.uniform(0.5, 1.0), 2)
            write(api, ledger, stop, 'osd_reweight', f'osd.{osd}', 'PATCH', f'osd/{osd}', {'reweight': weight},
                  weight)
        else:
            flag = rng.choice(['noscrub', 'nodeep-scrub'])
            value = rng.random() < 0.5
            write(api, ledger, stop, 'flag', flag, 'PATCH', 'osd_config', {flag: value}, value)


def crush_ids(api: Api, rules: Dict[str, int], buckets: Dict[str, int]) -> None:
    """After a CRUSH write got no answer: once no CRUSH request is unfinished, the lane's rules and buckets as the
    cluster has them, by name.  (An unanswered delete may have run on the next mgr, and CRUSH gives a removed
    bucket's or rule's id to the next one created: a delete by the old id would remove another bucket.)"""
    deadline = time.time() + 150
    while time.time() < deadline:
        listed = api.call('GET', '/api/v2/request?state=submitted&page_size=500', attempts=40)
        if listed is not None and listed.status_code == 200 and \
                not any('CRUSH' in r['headline'] for r in listed.json()['results']):
            break
        time.sleep(0.5)
    got_rules = api.call('GET', f'/api/v2/cluster/{api.fsid}/crush_rule', attempts=40)
    got_buckets = api.call('GET', f'/api/v2/cluster/{api.fsid}/crush_node', attempts=40)
    if got_rules is None or got_buckets is None:
        return
    rules.clear()
    rules.update({r['name']: r['id'] for r in got_rules.json() if r['name'].startswith('fi-rule-')})
    buckets.clear()
    buckets.update({b['name']: b['id'] for b in got_buckets.json() if b['name'].startswith('fi-host-')})


def crush_lane(api: Api, ledger: Ledger, stop: threading.Event, rng: random.Random) -> None:
    rules: Dict[str, int] = {}
    buckets: Dict[str, int] = {}
    n = 0
    while not stop.is_set():
        choice = rng.random()
        n += 1
        unanswered = ledger.unanswered_count()
        if choice < 0.3 and len(rules) < 3:
            name = f'fi-rule-{n}'
            entry = write(api, ledger, stop, 'rule_create', name, 'POST', 'crush_rule',
                          {'name': name, 'type': 'replicated', 'min_size': 1, 'max_size': 10, 'steps': RULE_STEPS})
            if entry and entry.get('outcome') and not entry['outcome']['error']:
                listed = api.call('GET', f'/api/v2/cluster/{api.fsid}/crush_rule', attempts=40)
                rule_id = next((r['id'] for r in listed.json() if r['name'] == name), None) if listed else None
                if rule_id is not None:
                    rules[name] = rule_id
        elif choice < 0.5 and rules:
            name = rng.choice(sorted(rules))
            entry = write(api, ledger, stop, 'rule_delete', name, 'DELETE', f'crush_rule/{rules[name]}')
            if entry and entry.get('outcome') and not entry['outcome']['error']:
                del rules[name]
        elif choice < 0.8 and len(buckets) < 3:
            name = f'fi-host-{n}'
            entry = write(api, ledger, stop, 'bucket_create', name, 'POST', 'crush_node',
                          {'name': name, 'bucket_type': 'host', 'items': []})
            if entry and entry.get('outcome') and not entry['outcome']['error']:
                listed = api.call('GET', f'/api/v2/cluster/{api.fsid}/crush_node', attempts=40)
                node_id = next((b['id'] for b in listed.json() if b['name'] == name), None) if listed else None
                if node_id is not None:
                    buckets[name] = node_id
        elif buckets:
            name = rng.choice(sorted(buckets))
            entry = write(api, ledger, stop, 'bucket_delete', name, 'DELETE', f'crush_node/{buckets[name]}')
            if entry and entry.get('outcome') and not entry['outcome']['error']:
                del buckets[name]
        if ledger.unanswered_count() > unanswered:
            crush_ids(api, rules, buckets)


def mgr_pid(cluster: RealCluster, name: str) -> Optional[int]:
    try:
        with open(os.path.join(cluster.dir, 'run', f'mgr.{name}.pid')) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return pid if os.path.exists(f'/proc/{pid}') else None


def serving(base: str) -> int:
    try:
        return HttpClient(base, timeout=3).get('/api/v2/info').status_code
    except OSError:
        return 0


def log_time(cluster: RealCluster, mgr: str, text: str, after: float) -> Optional[float]:
    """The time of the first line of mgr.<mgr>.log holding ``text`` logged after ``after`` (UTC epoch)."""
    try:
        with open(os.path.join(cluster.dir, 'log', f'mgr.{mgr}.log'), errors='replace') as f:
            for line in f:
                if text in line:
                    try:
                        stamp = datetime.datetime.strptime(line[:23], '%Y-%m-%dT%H:%M:%S.%f').replace(
                            tzinfo=datetime.timezone.utc).timestamp()
                    except ValueError:
                        continue
                    if stamp >= after:
                        return stamp
    except OSError:
        pass
    return None


def kill_once(cluster: RealCluster, api: Api, how: str) -> Dict[str, Any]:
    """Kill the active mgr (``how``: 'random', or a fault point) and `ceph mgr fail` it; the time the API was dark,
    split into the mons' part (until the new active mgr activates) and the module's start-up (until it serves)."""
    ports = {mgr: api.bases[i] for i, mgr in enumerate('xyzw'[:MGRS])}
    wait_for(lambda: sorted(serving(b) for b in api.bases).count(503) >= 1 and 200 in {serving(b) for b in api.bases},
             120, 'an active mgr and a standby serving', interval=0.3, detail=cluster.mgr_story)
    old = next(m for m, b in ports.items() if serving(b) == 200)
    pid = mgr_pid(cluster, old)
    assert pid, f'no pid for mgr.{old}'
    if how != 'random':
        cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/fault_kill_at', f'{old}:{how}')
        deadline = time.time() + 20
        while os.path.exists(f'/proc/{pid}') and time.time() < deadline:
            time.sleep(0.02)
    if os.path.exists(f'/proc/{pid}'):
        if how != 'random':
            how += ' (not reached in 20 s: at random)'
        os.kill(pid, signal.SIGKILL)
    killed = time.time()
    cluster.ceph('mgr', 'fail', old, check=False)
    if how != 'random':         # (it names the killed mgr: the new active one does not act on it meanwhile)
        cluster.ceph('config', 'rm', 'mgr', 'mgr/calamari_api/fault_kill_at')
    new = wait_for(lambda: next((m for m, b in ports.items() if m != old and serving(b) == 200), None), 120,
                   'a new active mgr serving', interval=0.05, detail=cluster.mgr_story)
    back = time.time()
    active = None
    for _ in range(50):         # (the mgr's log thread writes the line a moment later)
        active = log_time(cluster, new, 'Activating!', killed - 1)
        if active:
            break
        time.sleep(0.1)
    return {'how': how, 'dark': back - killed, 'mons': active - killed if active else None,
            'module': back - active if active else None}


def audit_lines(cluster: RealCluster) -> List[str]:
    return cluster.ceph('log', 'last', '10000', 'debug', 'audit').stdout.splitlines()


def audit_counts(lines: List[str]) -> collections.Counter:
    """(command, name) -> how many times the mons finished it, from the audit channel."""
    counts: collections.Counter = collections.Counter()
    for line in lines:
        if ': finished' not in line or 'cmd=' not in line:
            continue
        match = re.search(r"cmd=(\[.*\]): finished", line)
        if not match:
            continue
        try:
            cmd = json.loads(match.group(1).replace("'", '"'))[0]
        except (ValueError, IndexError, KeyError):
            continue
        prefix = cmd.get('prefix', '')
        if prefix in ('osd pool create', 'osd pool delete', 'osd crush add-bucket', 'osd crush remove',
                      'osd crush rule rm'):
            counts[(prefix, cmd.get('pool') or cmd.get('name'))] += 1
    return counts


def all_pages(api: Api, path: str) -> List[Dict[str, Any]]:
    results: List[Dict[str, Any]] = []
    page = 1
    while True:
        response = api.call('GET', f'{path}{"&" if "?" in path else "?"}page_size=500&page={page}', attempts=40)
        assert response is not None and response.status_code == 200, path
        body = response.json()
        results += body['results']
        if not body.get('next'):
            return results
        page += 1


SLOTS = {'pool_create': 'pool', 'pool_delete': 'pool', 'rule_create': 'rule', 'rule_delete': 'rule',
         'bucket_create': 'bucket', 'bucket_delete': 'bucket',
         'osd_in': 'osd_weight', 'osd_reweight': 'osd_weight'}     # out is weight 0, in 1, a reweight any


def observed(kind: str, key: str, osd_dump: Dict[str, Any], crush: Dict[str, Any]) -> Any:
    """What the cluster shows for the slot of a write of ``kind`` on ``key``."""
    pools = {p['pool_name']: p for p in osd_dump['pools']}
    if kind in ('pool_create', 'pool_delete'):
        return key in pools
    if kind == 'pool_update':
        return pools[key].get('quota_max_objects') if key in pools else None
    if kind in ('osd_in', 'osd_reweight'):
        return round(next(o for o in osd_dump['osds'] if o['osd'] == int(key[4:]))['weight'], 2)
    if kind == 'flag':
        return key in osd_dump.get('flags', '').split(',')
    if kind in ('rule_create', 'rule_delete'):
        return key in {r['rule_name'] for r in crush['rules']}
    return key in {b['name'] for b in crush['buckets']}


def intended(entry: Dict[str, Any]) -> Any:
    kind = entry['kind']
    if kind.endswith('_create'):
        return True
    if kind.endswith('_delete'):
        return False
    if kind == 'osd_in':        # `osd in` restores the weight the OSD had before `osd out` (Ceph's old_weight)
        return 'in' if entry['value'] else 0.0
    if kind == 'osd_reweight':
        return round(entry['value'], 2)
    return entry['value']


def said_it_exists(entry: Dict[str, Any]) -> bool:
    """A failed pool create whose message says the pool was created (its PGs were not all created within
    request_timeout: Ceph left some 'unknown' after the kills): an honest failure, not a create that "failed" and
    left a pool behind."""
    return entry['kind'] == 'pool_create' and \
        (entry['outcome'].get('error_message') or '').startswith(f"Timed out (Pool '{entry['key']}' created;")


def check_outcomes(cluster: RealCluster, ledger: Ledger) -> List[str]:
    """Per object: the cluster shows what the last successful write asked, or what a later write asked that got
    no answer (it may have been stored before the mgr died: then it ran); a failed create left nothing."""
    wrong: List[str] = []
    osd_dump = cluster.ceph_json('osd', 'dump')
    crush = cluster.ceph_json('osd', 'crush', 'dump')
    writes = sorted([(e['at'], 'accepted', e) for e in ledger.accepted if e.get('outcome')]
                    + [(e['at'], 'unanswered', e) for e in ledger.unanswered], key=lambda t: t[0])
    by_slot: Dict[Any, List[Any]] = collections.defaultdict(list)
    for _, how, entry in writes:
        by_slot[(SLOTS.get(entry['kind'], entry['kind']), entry['key'])].append((how, entry))
    for slot, history in by_slot.items():
        last = max((i for i, (how, e) in enumerate(history) if how == 'accepted' and not e['outcome']['error']),
                   default=None)
        for how, entry in history:
            if how == 'accepted' and entry['outcome']['error'] and entry['kind'].endswith('_create') and \
                    observed(entry['kind'], entry['key'], osd_dump, crush) and last is None and \
                    not said_it_exists(entry):
                wrong.append(f"{entry['id']}: {entry['kind']} {entry['key']} failed "
                             f"({entry['outcome']['error_message']}) but it exists")
        if last is None:
            continue
        kind = history[last][1]['kind']
        allowed = [intended(e) for _, e in history[last:]]
        seen = observed(kind, slot[1], osd_dump, crush)
        if kind == 'pool_update' and seen is None:
            continue            # the pool was deleted since
        if seen not in allowed and not ('in' in allowed and isinstance(seen, (int, float)) and seen > 0):
            wrong.append(f"{history[last][1]['id']}: {kind} {slot[1]}: the cluster shows {seen!r}, the last "
                         f"successful write asked {allowed[0]!r} (later unanswered: {allowed[1:]!r})")
    return wrong


def test_nothing_accepted_is_lost_when_the_active_mgr_is_killed(ha, capsys):
    rng = random.Random(SEED)
    with capsys.disabled():
        print(f'\nfault injection: FAULT_SEED={SEED} kills={KILLS} min writes={MIN_WRITES}')
    ha.ceph('config', 'set', 'mon', 'mon_mgr_beacon_grace', str(BEACON_GRACE))
    # every wait ends within the check's window: a pool whose PGs Ceph leaves 'unknown' fails at the timeout
    ha.ceph('config', 'set', 'mgr', 'mgr/calamari_api/request_timeout', str(REQUEST_TIMEOUT))
    token = ha.ceph('calamari-api', 'token-create', 'fault-injection', '--role', 'read/write',
                    '--expires', '3600').stdout.strip()
    api = Api(ha, token)
    wait_for(lambda: serving(api.bases[0]) in (200, 503) and serving(api.bases[1]) in (200, 503)
             and {serving(b) for b in api.bases} == {200, 503}, 120, 'an active and a standby mgr serving',
             detail=ha.mgr_story)
    ledger = Ledger()
    stop = threading.Event()
    osds = ha.osd_ids()
    lanes = [threading.Thread(target=pool_lane, args=(api, ledger, stop, random.Random(rng.random())), daemon=True),
             threading.Thread(target=osd_lane, args=(api, ledger, stop, random.Random(rng.random()), osds),
                              daemon=True),
             threading.Thread(target=crush_lane, args=(api, ledger, stop, random.Random(rng.random())), daemon=True)]
    started = time.time()
    for lane in lanes:
        lane.start()
    kills = []
    schedule = [POINTS[i % len(POINTS)] if i < len(POINTS) else rng.choice(('random',) + POINTS)
                for i in range(KILLS)]
    rng.shuffle(schedule)
    try:
        for how in schedule:
            time.sleep(rng.uniform(1.0, 5.0))
            kills.append(kill_once(ha, api, how))
        wait_for(lambda: ledger.count() >= MIN_WRITES, 240, f'{MIN_WRITES} accepted writes')
    finally:
        stop.set()
        for lane in lanes:
            lane.join(timeout=180)
    workload = time.time() - started

    # every accepted request: found on the active mgr and complete
    not_complete = []
    deadline = time.time() + 120
    for entry in ledger.accepted:
        while True:
            got = api.call('GET', f"/api/v2/request/{entry['id']}", attempts=40)
            if got is None or got.status_code != 200:
                ledger.lost.append(entry['id'])
                break
            entry['outcome'] = got.json()
            if entry['outcome']['state'] == 'complete':
                break
            if time.time() > deadline:
                not_complete.append(entry['id'])
                break
            time.sleep(0.5)
    wrong = check_outcomes(ha, ledger)

    # exactly one completion event per completed request (requests stored but unanswered included)
    requests = all_pages(api, '/api/v2/request?state=complete')
    events = all_pages(api, '/api/v2/event?severity=INFO')
    completed_by_headline = collections.Counter(r['headline'] for r in requests)
    events_by_headline: collections.Counter = collections.Counter()
    for event in events:
        message = event['message']
        if message.startswith('Succeeded: '):
            events_by_headline[message[len('Succeeded: '):]] += 1
        elif message.startswith('Failed: '):
            headline = next((h for h in completed_by_headline if message.startswith(f'Failed: {h} (')), message)
            events_by_headline[headline] += 1
    event_mismatch = {h: (completed_by_headline[h], events_by_headline[h])
                      for h in set(completed_by_headline) | set(events_by_headline)
                      if completed_by_headline[h] != events_by_headline[h]}

    # nothing applied twice: each create/delete of a (uniquely named) object finished at most once at the mons
    audit = audit_lines(ha)
    twice = {k: n for k, n in audit_counts(audit).items() if n > 1 and str(k[1]).startswith('fi-')}

    errors = [(e['kind'], e['key'], e['outcome']['error_message']) for e in ledger.accepted
              if e.get('outcome') and e['outcome'].get('error')]
    with capsys.disabled():
        print(f'fault injection: FAULT_SEED={SEED}: {len(ledger.accepted)} writes accepted, {len(ledger.unanswered)} '
              f'unanswered, {len(kills)} kills in {workload:.0f}s; lost {len(ledger.lost)}, not complete '
              f'{len(not_complete)}, wrong {len(wrong)}, event mismatches {len(event_mismatch)}, applied twice '
              f'{len(twice)}, ended in an error {len(errors)}')
        for kill in kills:
            split = f" = mons {kill['mons']:.1f}s + module {kill['module']:.1f}s" if kill['mons'] is not None else ''
            print(f"  kill ({kill['how']}): dark {kill['dark']:.1f}s{split}")
        for error in errors:
            print(f'  error: {error}')
        for problem in wrong + [f'not complete: {i}' for i in not_complete] + [f'lost: {i}' for i in ledger.lost]:
            print(f'  WRONG: {problem}')
            for name in set(re.findall(r'fi-[a-z]+-[0-9]+', problem)):        # what the mons did to it
                for line in audit:
                    if re.search(rf'{name}\b', line) and ': finished' in line:
                        print(f'    audit: {line}')
        for headline, (completed, logged) in event_mismatch.items():
            print(f'  EVENTS: {headline}: {completed} completed, {logged} completion events')
    assert not ledger.lost, ledger.lost
    assert not not_complete, not_complete
    assert not wrong, wrong
    assert not event_mismatch, event_mismatch
    assert not twice, twice
    assert len(ledger.accepted) >= MIN_WRITES and len(kills) >= KILLS
    assert not ha.module_tracebacks()
