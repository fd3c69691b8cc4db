#!/usr/bin/python3
"""Side-by-side benchmark of calamari_api against the dashboard and restful modules, on one real cluster.

    bench/bench.py [--sizes 3,1000] [--duration 5] [--connections 8] [--skip-peers] [--keep]

Starts a dev cluster (tools/dev-cluster) in --dir, and at each size (grown with bench/grow-cluster) measures
throughput and p50/p99 latency with wrk (Debian package `wrk`) for our GET endpoints and the fixed-body
ceiling (module option bench_fixed_body; same size as the OSD list).  At the largest size it also measures:
the dashboard's /api/osd and /api/pool (ceph-mgr-dashboard loaded in the mgr), restful's /osd and /pool (a mgr
whose module path omits the dashboard, since restful cannot load beside it on Debian 12), the time from POST
to `complete` for a pool create and an OSD out against the same `ceph` CLI commands, and the mgr's RSS
before/after enabling calamari_api.  Phase `auth`: the same GETs (the fixed body, an OSD) with a session cookie
and with an API token (Authorization: Bearer), in alternating rounds.  Prints tables with ratios.  A script, not a
test: machines are noisy.
"""
import argparse
import base64
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
from tests.integration.cluster import RealCluster, wait_for  # noqa: E402

UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3}


def wrk(url: str, headers: Dict[str, str], duration: int, connections: int) -> Dict[str, float]:
    args = ['wrk', '-t2', f'-c{connections}', f'-d{duration}s', '--latency', '--timeout', '30s']
    for name, value in headers.items():
        args += ['-H', f'{name}: {value}']
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=duration + 60).stdout
    result = {'rps': float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))}
    for pct in ('50', '99'):
        m = re.search(rf'^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$', out, re.M)
        result[f'p{pct}'] = float(m.group(1)) * UNITS[m.group(2)] if m else float('nan')
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    result['errors'] = int(non2xx.group(1)) if non2xx else 0
    return result


def row(name: str, r: Dict[str, float], ref: Optional[float] = None, size: Optional[int] = None) -> str:
    ratio = f'{r["rps"] / ref:6.2f}x' if ref else '       '
    size_text = f'{size:>9}' if size is not None else ' ' * 9
    return (f'  {name:44} {r["rps"]:9.1f} req/s  p50 {r["p50"]:8.2f} ms  p99 {r["p99"]:8.2f} ms  {ratio} '
            f'{size_text} B  errors {r["errors"]}')


class Bench:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.cluster = RealCluster(opts.dir, opts.mon_port, opts.api_port)

    def ceph(self, *args: str, **kw: Any) -> subprocess.CompletedProcess:
        return self.cluster.ceph(*args, **kw)

    def session_headers(self) -> Dict[str, str]:
        client = self.cluster.client()
        cookies = '; '.join(f'{k}={v}' for k, v in client.cookies.items())
        return {'Cookie': cookies, 'Accept-Encoding': 'identity'}

    def ours(self, duration: int) -> List[Tuple[str, Dict[str, float], int]]:
        c = self.cluster
        headers = self.session_headers()
        client = c.client()
        osd_list = client.get(f'/api/v2/cluster/{c.fsid}/osd')
        size = len(osd_list.content)
        osd_id = osd_list.json()[len(osd_list.json()) // 2]['id']
        self.ceph('config', 'set', 'mgr', 'mgr/calamari_api/bench_fixed_body', 'true')
        wait_for(lambda: self._status(client, f'/api/v2/bench/fixed?size={size}') == 200, 30, 'ceiling')
        results = []
        for name, path in (('ceiling: fixed body (same size as OSD list)', f'/api/v2/bench/fixed?size={size}'),
                           ('calamari_api GET cluster/<fsid>/osd', f'/api/v2/cluster/{c.fsid}/osd'),
                           ('calamari_api GET cluster/<fsid>/osd/<id>', f'/api/v2/cluster/{c.fsid}/osd/{osd_id}'),
                           ('calamari_api GET cluster/<fsid>/pool', f'/api/v2/cluster/{c.fsid}/pool'),
                           ('calamari_api GET server', '/api/v2/server'),
                           ('calamari_api GET event', '/api/v2/event')):
            body = client.get(path)
            results.append((name, wrk(c.url + path, headers, duration, self.opts.connections), len(body.content)))
        self.ceph('config', 'set', 'mgr', 'mgr/calamari_api/bench_fixed_body', 'false')
        return results

    def auth_cost(self, duration: int) -> List[str]:
        """Session vs API token on the same GETs: median req/s and p50 over alternating rounds, token/session."""
        c = self.cluster
        name = f'bench-{os.getpid()}'
        token = self.ceph('calamari-api', 'token-create', name).stdout.strip()
        self.ceph('config', 'set', 'mgr', 'mgr/calamari_api/bench_fixed_body', 'true')
        kinds = {'session': self.session_headers(),
                 'token': {'Authorization': f'Bearer {token}', 'Accept-Encoding': 'identity'}}
        lines = []
        try:
            client = c.client()
            wait_for(lambda: self._status(client, '/api/v2/bench/fixed?size=100') == 200, 30, 'the fixed body')
            for label, path in (('fixed body, 100 B', '/api/v2/bench/fixed?size=100'),
                                ('GET cluster/<fsid>/osd/0', f'/api/v2/cluster/{c.fsid}/osd/0')):
                rounds: Dict[str, List[Dict[str, float]]] = {kind: [] for kind in kinds}
                for _ in range(self.opts.rounds):
                    for kind, headers in kinds.items():
                        rounds[kind].append(wrk(c.url + path, headers, duration, self.opts.connections))
                median = {kind: sorted(results, key=lambda r: r['rps'])[len(results) // 2]
                          for kind, results in rounds.items()}
                for kind in kinds:
                    ref = median['session']['rps'] if kind == 'token' else None
                    lines.append(row(f'{label}, {kind}', median[kind], ref))
        finally:
            self.ceph('config', 'set', 'mgr', 'mgr/calamari_api/bench_fixed_body', 'false')
            self.ceph('calamari-api', 'token-revoke', name)
        return lines

    @staticmethod
    def _status(client: Any, path: str) -> int:
        try:
            return client.get(path).status_code
        except OSError:
            return 0

    def restart_mgr(self, *up_args: str) -> None:
        c = self.cluster
        c.launcher('up', '--no-install', *up_args)      # refreshes the module path symlinks
        active = c.ceph_json('mgr', 'dump')['active_name']
        c.ceph('mgr', 'fail', active)
        time.sleep(3)
        c.launcher('up', '--no-install', *up_args)
        c.wait_api()

    def dashboard(self, duration: int) -> List[Tuple[str, Dict[str, float], int]]:
        if not os.path.isdir('/usr/share/ceph/mgr/dashboard'):
            print('  (ceph-mgr-dashboard is not installed: skipped)')
            return []
        port = self.opts.api_port + 10
        self.restart_mgr('--dashboard')
        for key, val in (('ssl', 'false'), ('server_port', str(port)), ('server_addr', '127.0.0.1')):
            self.ceph('config', 'set', 'mgr', f'mgr/dashboard/{key}', val, '--force')
        self.ceph('mgr', 'module', 'enable', 'dashboard')
        password = 'Bench-' + base64.b32encode(os.urandom(8)).decode()
        wait_for(lambda: self.ceph('dashboard', 'ac-user-show', check=False).returncode == 0, 60, 'the dashboard')
        self.ceph('dashboard', 'ac-user-delete', 'bench', check=False)      # a previous run's user
        self.ceph('dashboard', 'ac-user-create', 'bench', '-i', '-', 'administrator', input_text=password)
        from tests.http_client import HttpClient
        dash = HttpClient(f'http://127.0.0.1:{port}')
        hdr = {'Accept': 'application/vnd.ceph.api.v1.0+json', 'Content-Type': 'application/json'}
        token = wait_for(lambda: self._dashboard_token(dash, password, hdr), 60, 'dashboard login')
        headers = dict(hdr, Authorization=f'Bearer {token}')
        results = []
        for name, path in (('dashboard GET /api/osd', '/api/osd'), ('dashboard GET /api/pool', '/api/pool')):
            size = len(dash.get(path, headers=headers).content)
            results.append((name, wrk(f'http://127.0.0.1:{port}{path}', headers, duration, self.opts.connections),
                            size))
        self.ceph('mgr', 'module', 'disable', 'dashboard')
        return results

    @staticmethod
    def _dashboard_token(dash: Any, password: str, hdr: Dict[str, str]) -> Optional[str]:
        try:
            r = dash.post('/api/auth', {'username': 'bench', 'password': password}, headers=hdr)
            return r.json().get('token') if r.status_code in (200, 201) else None
        except OSError:
            return None

    def restful(self, duration: int) -> List[Tuple[str, Dict[str, float], int]]:
        port = self.opts.api_port + 20
        self.restart_mgr()                                  # module path without the dashboard
        for key, val in (('server_port', str(port)), ('server_addr', '127.0.0.1')):
            self.ceph('config', 'set', 'mgr', f'mgr/restful/{key}', val, '--force')
        self.ceph('mgr', 'module', 'enable', 'restful')
        self.ceph('restful', 'create-self-signed-cert')
        key = self.ceph('restful', 'create-key', 'bench').stdout.strip()
        from tests.http_client import HttpClient
        rest = HttpClient(f'https://127.0.0.1:{port}')
        auth = {'Authorization': 'Basic ' + base64.b64encode(f'bench:{key}'.encode()).decode()}
        wait_for(lambda: self._answers(rest, auth), 60, 'restful to answer')
        results = []
        for name, path in (('restful GET /osd', '/osd'), ('restful GET /pool', '/pool')):
            size = len(rest.get(path, headers=auth).content)
            results.append((name, wrk(f'https://127.0.0.1:{port}{path}', auth, duration, self.opts.connections),
                            size))
        return results

    @staticmethod
    def _answers(client: Any, headers: Dict[str, str]) -> bool:
        try:
            return client.get('/osd', headers=headers).status_code == 200
        except OSError:
            return False

    def writes(self) -> List[str]:
        c = self.cluster
        client = c.client()
        lines = []
        for pool in ('bench-api', 'bench-cli'):       # leftovers of an interrupted run
            self.ceph('osd', 'pool', 'delete', pool, pool, '--yes-i-really-really-mean-it', check=False)

        def api_request(method: str, path: str, body: Any) -> float:
            start = time.time()
            response = client.request(method, path, body)
            assert response.status_code == 202, response.content
            request_id = response.json()['request_id']
            wait_for(lambda: client.get(f'/api/v2/request/{request_id}').json()['state'] == 'complete', 120,
                     'request', interval=0.02)
            return time.time() - start

        def cli(*args: str) -> float:
            start = time.time()
            self.ceph(*args)
            return time.time() - start

        # The scale OSDs have no daemons: place the new pools on the real OSDs' host only, so their PGs can
        # become active (the API's pool create completes when no PG of the pool is 'creating').
        host = self.cluster.ceph_json('osd', 'find', '0')['crush_location']['host']
        self.ceph('osd', 'crush', 'rule', 'create-replicated', 'bench-real', host, 'osd', check=False)
        rule = next(r for r in client.get(f'/api/v2/cluster/{c.fsid}/crush_rule').json() if r['name'] == 'bench-real')
        t_api = api_request('POST', f'/api/v2/cluster/{c.fsid}/pool',
                            {'name': 'bench-api', 'pg_num': 8, 'crush_ruleset': rule['ruleset']})
        t_cli = cli('osd', 'pool', 'create', 'bench-cli', '8', '8', 'replicated', 'bench-real')
        start = time.time()
        wait_for(lambda: not self.unready_pgs('bench-cli'), 120, 'PGs', interval=0.05)
        t_cli_pgs = t_cli + time.time() - start
        lines.append(f'  pool create: API {t_api:.2f}s (until its PGs are created), ceph CLI {t_cli:.2f}s '
                     f'(ratio {t_api / t_cli:.2f}), CLI + wait for PGs {t_cli_pgs:.2f}s '
                     f'(ratio {t_api / t_cli_pgs:.2f})')
        t_api = api_request('PATCH', f'/api/v2/cluster/{c.fsid}/osd/0', {'in': False})
        t_cli = cli('osd', 'out', '1')
        lines.append(f'  osd out:     API {t_api:.2f}s, ceph CLI {t_cli:.2f}s, ratio {t_api / t_cli:.2f}')
        self.ceph('osd', 'in', '0', '1')
        for pool in ('bench-api', 'bench-cli'):
            self.ceph('osd', 'pool', 'delete', pool, pool, '--yes-i-really-really-mean-it', check=False)
        return lines

    def unready_pgs(self, pool: str) -> list:
        listing = self.cluster.ceph_json('pg', 'ls-by-pool', pool)
        stats = listing.get('pg_stats', []) if isinstance(listing, dict) else listing
        return [p for p in stats if 'creating' in p['state'] or 'unknown' in p['state']] or ([] if stats else [0])

    def mgr_rss_kb(self) -> int:
        pid = open(os.path.join(self.cluster.dir, 'run', 'mgr.x.pid')).read().strip()
        status = open(f'/proc/{pid}/status').read()
        return int(re.search(r'VmRSS:\s+(\d+)', status).group(1))

    def memory(self) -> str:
        self.ceph('mgr', 'module', 'disable', 'calamari_api')
        self.restart_mgr_without_api()
        before = self.mgr_rss_kb()
        self.ceph('mgr', 'module', 'enable', 'calamari_api')
        self.cluster.wait_api()
        client = self.cluster.client()
        for path in ('osd', 'pool', 'crush_rule', 'mon', 'server', 'config'):
            client.get(f'/api/v2/cluster/{self.cluster.fsid}/{path}')
        client.get('/api/v2/event')
        time.sleep(2)
        after = self.mgr_rss_kb()
        return f'  mgr RSS: {before / 1024:.1f} MB without calamari_api, {after / 1024:.1f} MB with it ' \
               f'(+{(after - before) / 1024:.1f} MB)'

    def restart_mgr_without_api(self) -> None:
        c = self.cluster
        active = c.ceph_json('mgr', 'dump')['active_name']
        c.ceph('mgr', 'fail', active)
        time.sleep(3)
        wait_for(lambda: c.ceph_json('mgr', 'dump').get('available'), 60, 'the mgr')
        time.sleep(5)

    def run(self) -> None:
        sizes = [int(s) for s in self.opts.sizes.split(',')]
        self.cluster.up('--no-install')
        print(f'cluster {self.cluster.fsid} in {self.cluster.dir}; wrk -t2 -c{self.opts.connections} '
              f'-d{self.opts.duration}s')
        per_size: Dict[int, List[Tuple[str, Dict[str, float], int]]] = {}
        only = set(self.opts.only.split(',')) if self.opts.only else None
        for size in sizes if not only or 'reads' in only else []:
            if size > len(self.cluster.osd_ids()):
                subprocess.run([os.path.join(HERE, 'grow-cluster'), '--dir', self.cluster.dir, '--osds', str(size)],
                               check=True)
                time.sleep(3)
            per_size[size] = self.ours(self.opts.duration)
            ceiling = per_size[size][0][1]['rps']
            print(f'\n{size} OSDs (ratios: against the ceiling)')
            for name, result, body_size in per_size[size]:
                print(row(name, result, ceiling, body_size))
        if not only or 'auth' in only:
            print(f'\nsession vs API token (median of {self.opts.rounds} alternating rounds; ratio: token / session)')
            for line in self.auth_cost(self.opts.duration):
                print(line)
        if (not only or 'peers' in only) and not self.opts.skip_peers:
            if per_size:
                osd_rps = per_size[sizes[-1]][1][1]['rps']
            else:
                osd_rps = wrk(f'{self.cluster.url}/api/v2/cluster/{self.cluster.fsid}/osd', self.session_headers(),
                              self.opts.duration, self.opts.connections)['rps']
            peer_duration = max(self.opts.duration, 15)     # peers can take seconds per request at scale
            print(f'\n{len(self.cluster.osd_ids())} OSDs, peers (wrk -d{peer_duration}s; ratios: calamari_api '
                  f'OSD list {osd_rps:.1f} req/s / peer)')
            for name, result, body_size in self.dashboard(peer_duration) + self.restful(peer_duration):
                ratio = f'{osd_rps / result["rps"]:.1f}x' if result['rps'] else f'> {osd_rps * peer_duration:.0f}x'
                print(row(name, result, None, body_size) + f'   calamari_api is {ratio}')
        if len(per_size) > 1:
            print('\nlatency flatness (p50 of GET osd/<id>, first vs last size): '
                  f'{per_size[sizes[0]][2][1]["p50"]:.2f} ms -> {per_size[sizes[-1]][2][1]["p50"]:.2f} ms')
        if only and 'writes' not in only:
            return
        print('\nwrites (time from the API call to `complete`, against the same ceph CLI command)')
        for line in self.writes():
            print(line)
        print('\nmemory')
        print(self.memory())
        if not self.opts.keep:
            self.cluster.down()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--dir', default=tempfile.mkdtemp(prefix='calamari-bench-'))
    parser.add_argument('--mon-port', type=int, default=42100)
    parser.add_argument('--api-port', type=int, default=42102)
    parser.add_argument('--sizes', default='3,1000')
    parser.add_argument('--duration', type=int, default=5)
    parser.add_argument('--connections', type=int, default=8)
    parser.add_argument('--only', help='comma-separated phases: reads, peers, auth, writes (default: all)')
    parser.add_argument('--rounds', type=int, default=3, help='auth phase: alternating rounds per kind')
    parser.add_argument('--skip-peers', action='store_true')
    parser.add_argument('--keep', action='store_true', help='leave the cluster running')
    Bench(parser.parse_args()).run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
