"""Schemathesis against the real module: every operation of the OpenAPI document, every check, every phase
(coverage, fuzzing, stateful), authenticated as the document declares it (a superuser's session cookie, CSRF cookie
and X-XSRF-TOKEN header), and not one failure.  Runs among the last tests of the tier and leaves the cluster as it
found it: what the fuzzer must not touch is protected (schemathesis_hooks.py), what it may change is put back after.

CALAMARI_SCHEMATHESIS_SECONDS: the time budget (default 150 s per release); CALAMARI_SCHEMATHESIS_CASES: the cases
wanted (default 10,500).  A run that ends its budget short of them (a loaded machine: both releases' tiers run side
by side in CI) is topped up by runs with the next seeds, sized for the cases missing, until the cases are reached
or CALAMARI_SCHEMATHESIS_MAX_SECONDS (default 900 s) have gone: the promise is a number of cases, not a rate (a
machine three times slower than a quiet one still reaches it, only later).
CALAMARI_SCHEMATHESIS_SEED: the seed (default: fixed in CI, where CI is set; random otherwise, and printed).
"""
import json
import os
import random
import subprocess
import sys
import time

from tests.support.cluster import REPO, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, 'schemathesis.toml')
BUDGET = int(os.environ.get('CALAMARI_SCHEMATHESIS_SECONDS', '150'))
MAX_SECONDS = int(os.environ.get('CALAMARI_SCHEMATHESIS_MAX_SECONDS', '900'))
CI_SEED = 20261202
CASES = int(os.environ.get('CALAMARI_SCHEMATHESIS_CASES', '10500'))     # per release: > 20,000 in CI
OSD_FLAGS = ('pause', 'noup', 'nodown', 'noout', 'noin', 'nobackfill', 'norecover', 'noscrub', 'nodeep-scrub')
FUZZER = ('schemathesis-fuzzer', 'schemathesis-fuzzer-pw')


def seed() -> int:
    if os.environ.get('CALAMARI_SCHEMATHESIS_SEED'):
        return int(os.environ['CALAMARI_SCHEMATHESIS_SEED'])
    return CI_SEED if os.environ.get('CI') else random.randrange(2 ** 32)


def snapshot(cluster, admin, crush_path: str) -> dict:
    """What the run must leave as it is (protected) or put back (restored)."""
    fsid = cluster.fsid
    cluster.ceph('osd', 'getcrushmap', '-o', crush_path)
    crush = cluster.ceph_json('osd', 'crush', 'dump')
    osd_dump = cluster.ceph_json('osd', 'dump')
    return {
        'users': {u['username']: u['id'] for u in admin.get('/api/v2/user').json()},
        'pools': {p['pool']: p['pool_name'] for p in osd_dump['pools']},
        'osds': [o['osd'] for o in osd_dump['osds']],
        'buckets': [b['id'] for b in crush['buckets']],
        'rules': [r['rule_id'] for r in crush['rules']],
        'servers': [s['fqdn'] for s in admin.get('/api/v2/server').json()],
        'keys': {k['id']: k['status'] for k in admin.get('/api/v2/key').json()},
        'fsid': fsid,
    }


def known(cluster, admin, before: dict) -> dict:
    """Path parameter values the cluster has: the fuzzing phase uses them about half the time."""
    fsid = before['fsid']
    crush = cluster.ceph_json('osd', 'crush', 'dump')
    return {'fsid': [fsid], 'osd_id': before['osds'], 'pool_id': list(before['pools']), 'node_id': before['buckets'],
            'rule_id': before['rules'], 'type_id': [t['type_id'] for t in crush['types']],
            'mon_id': [m['name'] for m in admin.get(f'/api/v2/cluster/{fsid}/mon').json()],
            'fqdn': before['servers'], 'minion_id': list(before['keys']), 'user_id': list(before['users'].values()),
            'key': ['osd_pool_default_size', 'mon_max_pool_pg_num'], 'command': ['scrub', 'deep_scrub', 'repair'],
            'sync_type': admin.get(f'/api/v2/cluster/{fsid}/sync_object').json(), 'log_path': ['ceph.log']}


def protect(before: dict) -> dict:
    return {'user_id': list(before['users'].values()), 'pool_id': list(before['pools']),
            'node_id': before['buckets'], 'rule_id': before['rules'], 'fqdn': before['servers'],
            'minion_id': sorted(set(before['servers']) | set(before['keys'])),
            'item_id': before['osds'] + before['buckets']}


def restore(cluster, admin, before: dict, crush_path: str) -> None:
    """Put back what the fuzzer may change: OSD flags, in/out, reweights, its pools, users and CRUSH changes; then
    restart the mgr, which forgets the failed logins and tokens of the run (the throttle is per address)."""
    # requests still running (a pool being created, a blocked self test) are cancelled first, so none lands
    # after what is put back below
    submitted = admin.get('/api/v2/request?state=submitted&page_size=1000')
    assert submitted.status_code == 200, (submitted.status_code, submitted.content[:2000])
    for request in submitted.json()['results']:
        admin.post(f"/api/v2/request/{request['id']}/cancel")
    wait_for(lambda: admin.get('/api/v2/request?state=submitted').json()['count'] == 0, 120,
             'the requests of the run to end')
    osds = [str(i) for i in before['osds']]

    def osds_restored() -> bool:
        """Flags unset, every OSD in with weight 1, and up (a command sent before the cancel may land late: again)."""
        for flag in OSD_FLAGS:
            cluster.ceph('osd', 'unset', flag, check=False)
        cluster.ceph('osd', 'in', *osds, check=False)
        for osd in osds:
            cluster.ceph('osd', 'reweight', osd, '1', check=False)
        dump = cluster.ceph_json('osd', 'dump')
        return all(o['up'] and o['in'] and o['weight'] == 1 for o in dump['osds']) and \
            not set(dump.get('flags', '').split(',')) & set(OSD_FLAGS)
    pools = f"/api/v2/cluster/{before['fsid']}/pool"

    def only_the_pools_of_before() -> bool:
        extra = [p['id'] for p in admin.get(pools).json() if p['id'] not in before['pools']]
        for pool_id in extra:            # through the API: a name the fuzzer made up may not survive the CLI
            admin.delete(f'{pools}/{pool_id}')
        return not extra
    wait_for(only_the_pools_of_before, 120, 'the pools of the run to be deleted', interval=2)
    cluster.ceph('osd', 'setcrushmap', '-i', crush_path, check=False)
    for user in admin.get('/api/v2/user').json():
        if user['id'] not in before['users'].values():      # the fuzzer's and those it made (under any name)
            # through the API: the CLI takes a made-up name such as '-o@rmW' for an option
            deleted = admin.delete(f"/api/v2/user/{user['id']}")
            assert deleted.status_code == 204, (user, deleted.status_code, deleted.content[:500])
    for fqdn, status in before['keys'].items():
        if admin.get(f'/api/v2/key/{fqdn}').json().get('status') != status and status != 'pre':
            admin.request('PATCH', f'/api/v2/key/{fqdn}', body={'status': status})
    wait_for(osds_restored, 180, 'every OSD up, in, weight 1 and no flag of the run set', interval=3,
             detail=lambda: cluster.ceph('osd', 'tree', check=False).stdout)
    cluster.restart_active_mgr()


def run_schemathesis(cluster, env: dict, run_seed: int, seconds: int) -> tuple:
    """One schemathesis run: (its process, its JSON report)."""
    report_path = os.path.join(cluster.dir, f'schemathesis-report-{run_seed}.json')
    command = [sys.executable, '-m', 'schemathesis.cli', '--no-color', '--config-file', CONFIG, 'run',
               f'{cluster.url}/api/v2/openapi.json', '--max-time', str(seconds), '--seed', str(run_seed),
               '--report', 'json', '--report-json-path', report_path]
    proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, errors='replace',
                          timeout=seconds + 600)
    return proc, json.load(open(report_path))


def test_schemathesis_finds_nothing(cluster, capsys):
    admin = cluster.client()
    crush_path = os.path.join(cluster.dir, 'crushmap-before-schemathesis')
    before = snapshot(cluster, admin, crush_path)
    cluster.create_user(*FUZZER, 'superuser')
    fuzzer = cluster.client(username=FUZZER[0], password=FUZZER[1])
    protected = protect(before)
    protected['user_id'].append(fuzzer.get('/api/v2/user/me').json()['id'])
    first_seed = seed()
    env = dict(os.environ, CALAMARI_SESSION=fuzzer.cookies['calamari_sessionid'],
               CALAMARI_XSRF=fuzzer.cookies['XSRF-TOKEN'], CALAMARI_FUZZ_PROTECT=json.dumps(protected),
               CALAMARI_FUZZ_KNOWN=json.dumps(known(cluster, admin, before)),
               SCHEMATHESIS_HOOKS='tests.integration.schemathesis_hooks',
               PYTHONPATH=os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')]))
    started = time.monotonic()
    runs = []
    try:
        seconds = BUDGET
        while True:
            run_seed = first_seed + len(runs)
            proc, report = run_schemathesis(cluster, env, run_seed, seconds)
            runs.append((run_seed, proc, report))
            generated = sum(r['test_cases']['generated'] for _, _, r in runs)
            left = int(max(BUDGET, MAX_SECONDS) - (time.monotonic() - started))
            if proc.returncode != 0 or generated >= CASES or left < 20:
                break
            # a top-up run sized for the cases still wanted at the rate so far (a run's first seconds, its
            # coverage phase, make fewer cases than the rest: hence the margin)
            rate = generated / max(1.0, sum(r['running_time'] for _, _, r in runs))
            seconds = min(left, max(20, int((CASES - generated) / rate * 1.3) + 10))
        session_alive = fuzzer.get('/api/v2/user/me').status_code == 200
    finally:
        restore(cluster, admin, before, crush_path)
    fuzzing = sum(r['running_time'] for _, _, r in runs)
    with capsys.disabled():
        for run_seed, _, report in runs:
            cases = report['test_cases']
            print(f'\nschemathesis {report["schemathesis_version"]} on {cluster.release}: seed {run_seed}, '
                  f'{cases["generated"]} cases in {report["running_time"]:.0f} s, {cases["unique_failures"]} unique '
                  f'failures, {len(report["errors"])} errors, {report["operations"]["tested"]} operations')
        print(f'schemathesis on {cluster.release}: {generated} cases in {fuzzing:.0f} s '
              f'({time.monotonic() - started:.0f} s with the restore)')
    for run_seed, proc, _ in runs:
        assert proc.returncode == 0, f'seed {run_seed}\n' + proc.stdout[-12000:] + proc.stderr[-3000:]
    assert generated >= CASES, f'{generated} cases, {CASES} wanted (README states {CASES:,} per release)'
    assert session_alive, "the fuzzer's own session ended during the run"
    # the cluster as it was, and a module that serves it (restarted: no state of the run is left)
    assert not cluster.module_tracebacks()
    osd_dump = cluster.ceph_json('osd', 'dump')
    assert {p['pool']: p['pool_name'] for p in osd_dump['pools']} == before['pools']
    assert not set(OSD_FLAGS + ('pauserd', 'pausewr')) & set(osd_dump.get('flags', '').split(','))
    assert admin.get('/api/v2/cluster').status_code == 200
    assert {u['username'] for u in admin.get('/api/v2/user').json()} == set(before['users'])
