#!/usr/bin/python3
"""Benchmark of calamari_api on one real cluster of a given Ceph release: against the floor (bare cheroot serving the
same body from the same Python), under many clients, for its drag on the mgr, and against the other mgr modules.

    bench/bench.py [--release system|tentacle] [--sizes 3,1000] [--duration 10] [--connections 8]
                   [--only reads,tail,pollers,mgr,auth,peers,writes,memory] [--keep]

Starts a dev cluster (tools/dev-cluster) in --dir and grows it to each size with bench/grow-cluster.  Phases:
  reads    per size: throughput and p50/p99 with wrk (Debian package) for the cached GETs, each against two floors
           answering the same request (same headers) with a fixed body of the same size: bare cheroot inside the
           mgr (the bench-only mgr module calamari_bench: the mgr's own Python, process and server settings;
           the target's ratio = ours / this floor) and bare cheroot in its own process (bench/floor-server, the
           release's python3 executable, which runs Python faster than the mgr's libpython); and the module's fixed-body
           handler (bench_fixed_body: through the full CherryPy path, for contrast);
  tail     largest size: the OSD list at 64 connections: p50, p99 and their ratio (target: p99 <= 4x p50);
  pollers  512 keep-alive clients polling the OSD list every 3 s (bench/poll-clients): none refused or reset;
  mgr      `pg stat` (served by the mgr itself, through librados: bench/mgr-latency) idle and with the API saturated
           (target: <= 1.5x), and the mgr's CPU seconds per 1000 cached GETs;
  auth     the same GETs with a session cookie and with an API token, in alternating rounds;
  peers    like for like: every side over TLS with a key or token, in alternating rounds in the same mgr: the
           dashboard's /api/osd and /api/pool (its JWT) against this module's OSD and pool lists (an API token);
           restful's /osd and /pool (HTTP Basic key; Pacific only: Tentacle removed it) against the same requests to
           this module's restful listener (a key of its own) and against its own lists (a token); this module's
           plain-HTTP figures too, for reference;
  writes   like for like: OSD-flag toggles, OSD out/in, pool creates and a burst of reweights through the API (a
           token, keep-alive TLS, polled every 20 ms) against the same mon commands from one long-lived librados
           handle (polled every 20 ms through it): bench/write-latency, run with the release's own python3-rados;
  memory   the mgr's RSS without and with the module.
A script that prints figures and ratios from one run, not a test: machines are noisy.
"""
import argparse
import base64
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
from tests.support import fake_ceph  # noqa: E402
fake_ceph.install()         # (the module's server imports mgr_module, which needs a ceph_module outside the mgr)
from calamari_api.web.server import WORKER_NICENESS  # noqa: E402
from tests.support.cluster import RealCluster, free_port, wait_for  # noqa: E402

UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3}
PHASES = ('reads', 'tail', 'pollers', 'mgr', 'auth', 'peers', 'writes', 'memory')
Result = Dict[str, float]


def wrk(url: str, headers: Dict[str, str], duration: int, connections: int) -> Result:
    args = ['wrk', '-t2', f'-c{connections}', f'-d{duration}s', '--latency', '--timeout', '30s']
    for name, value in headers.items():
        args += ['-H', f'{name}: {value}']
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=duration + 60).stdout
    result = {'rps': float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1)),
              'requests': int(re.search(r'(\d+) requests in', out).group(1))}
    for pct in ('50', '99'):
        m = re.search(rf'^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$', out, re.M)
        result[f'p{pct}'] = float(m.group(1)) * UNITS[m.group(2)] if m else float('nan')
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    errors = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', out)
    result['errors'] = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return result


def row(name: str, r: Result, ref: Optional[float] = None, size: Optional[int] = None, ref_name: str = '') -> str:
    ratio = f'{r["rps"] / ref:5.2f}x {ref_name}' if ref else ''
    size_text = f'{size:>8} B' if size is not None else ' ' * 10
    return (f'  {name:58} {r["rps"]:8.0f} req/s  p50 {r["p50"]:7.2f} ms  p99 {r["p99"]:7.2f} ms  {size_text}  '
            f'errors {r["errors"]:<3} {ratio}')


class Bench:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.cluster = RealCluster(opts.dir, opts.mon_port, opts.api_port, release=opts.release)
        self.summary: List[str] = []

    # -- helpers ----------------------------------------------------------------------------------
    def ceph(self, *args: str, **kw: Any) -> subprocess.CompletedProcess:
        return self.cluster.ceph(*args, **kw)

    def script(self, name: str, *args: str, **kw: Any) -> subprocess.CompletedProcess:
        """One of bench/'s scripts, with the cluster's release's own Python (inside its root on Tentacle)."""
        return subprocess.run(self.cluster.tool('/usr/bin/python3', os.path.join(HERE, name), *args),
                              capture_output=True, text=True, **kw)

    def session_headers(self) -> Dict[str, str]:
        cookies = '; '.join(f'{k}={v}' for k, v in self.cluster.client().cookies.items())
        return {'Cookie': cookies, 'Accept-Encoding': 'identity'}

    @contextlib.contextmanager
    def mgr_floor(self) -> Iterator[str]:
        """The floor inside the mgr (the bench-only mgr module calamari_bench, linked by ``dev-cluster up
        --bench-module``): its base URL; ``/<n>`` answers n bytes."""
        port = free_port()
        self.ceph('mgr', 'module', 'enable', 'calamari_bench')
        wait_for(lambda: self.ceph('config', 'set', 'mgr', 'mgr/calamari_bench/port', str(port),
                                   check=False).returncode == 0, 60, "calamari_bench's option")
        url = f'http://127.0.0.1:{port}'
        try:
            wait_for(lambda: self._answers(f'{url}/1'), 60, 'the floor in the mgr')
            self.cluster.wait_api()
            yield url
        finally:
            self.ceph('config', 'set', 'mgr', 'mgr/calamari_bench/port', '0')
            self.ceph('mgr', 'module', 'disable', 'calamari_bench')
            self.cluster.wait_api()

    @contextlib.contextmanager
    def outside_floor(self, size: int) -> Iterator[str]:
        """bench/floor-server serving ``size`` bytes with the module's thread count and worker priority, by the
        release's python3 executable."""
        port = free_port()
        threads = self.ceph('config', 'get', 'mgr', 'mgr/calamari_api/server_threads').stdout.strip()
        proc = subprocess.Popen(self.cluster.tool('/usr/bin/python3', os.path.join(HERE, 'floor-server'),
                                                  '--port', str(port), '--size', str(size), '--threads', threads,
                                                  '--niceness', str(WORKER_NICENESS)),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f'http://127.0.0.1:{port}/'
        try:
            wait_for(lambda: self._answers(url), 30, 'the floor server')
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    @contextlib.contextmanager
    def tls(self) -> Iterator[str]:
        """The module's API over HTTPS (a certificate of `create-self-signed-cert`, the option ``ssl`` on): its base
        URL.  Back to plain HTTP at the end."""
        c = self.cluster
        url = f'https://127.0.0.1:{c.api_port}'
        c.ceph('calamari-api', 'create-self-signed-cert')
        c.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ssl', 'true')
        try:
            c.wait_api(base=url)
            yield url
        finally:
            c.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ssl', 'false')
            c.wait_api()

    @contextlib.contextmanager
    def token(self, role: str) -> Iterator[str]:
        """An API token of ``role``, revoked at the end."""
        name = f'bench-{role.replace("/", "-")}-{os.getpid()}'
        self.ceph('calamari-api', 'token-revoke', name, check=False)
        token = self.ceph('calamari-api', 'token-create', name, '--role', role).stdout.strip()
        try:
            yield token
        finally:
            self.ceph('calamari-api', 'token-revoke', name, check=False)

    @staticmethod
    def _answers(url: str) -> bool:
        import urllib.request
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    @staticmethod
    def _status(client: Any, path: str) -> int:
        try:
            return client.get(path).status_code
        except OSError:
            return 0

    def mgr_pid(self) -> int:
        active = self.cluster.ceph_json('mgr', 'dump')['active_name']
        with open(os.path.join(self.cluster.dir, 'run', f'mgr.{active}.pid')) as f:
            return int(f.read().strip())

    @staticmethod
    def cpu_seconds(pid: int) -> float:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')       # utime + stime

    def restart_mgr(self, *up_args: str) -> None:
        c = self.cluster
        c.launcher('up', '--no-install', *up_args)      # refreshes the module path symlinks
        active = c.ceph_json('mgr', 'dump')['active_name']
        c.ceph('mgr', 'fail', active)
        time.sleep(3)
        c.launcher('up', '--no-install', *up_args)
        c.wait_api()

    def endpoints(self) -> List[Tuple[str, str]]:
        """The cached GETs measured: (name, path)."""
        c = self.cluster
        client = c.client()
        osds = client.get(f'/api/v2/cluster/{c.fsid}/osd').json()
        osd_id = osds[len(osds) // 2]['id']
        paths = [('GET cluster/<fsid>/osd', f'/api/v2/cluster/{c.fsid}/osd'),
                 ('GET cluster/<fsid>/osd/<id>', f'/api/v2/cluster/{c.fsid}/osd/{osd_id}'),
                 ('GET cluster/<fsid>/pool', f'/api/v2/cluster/{c.fsid}/pool'),
                 ('GET server', '/api/v2/server'),
                 ('GET event', '/api/v2/event')]
        for name in ('health', 'health_counters', 'space', 'osd', 'pool'):     # the v1 dashboard reads, if served
            path = f'/api/v1/cluster/{c.fsid}/{name}'
            if self._status(client, path) == 200:
                paths.append((f'GET v1 cluster/<fsid>/{name}', path))
        return paths

    # -- phases -----------------------------------------------------------------------------------
    def reads(self, size: int) -> None:
        c = self.cluster
        headers = self.session_headers()
        client = c.client()
        print(f'\n{size} OSDs: cached GETs, wrk -c{self.opts.connections} -d{self.opts.duration}s, median of '
              f'{self.opts.rounds} rounds alternating with the floors, all sent the same request (ratio: ours / the '
              f'floor in the mgr; in brackets: ours / the floor in its own process)')
        worst: Dict[str, float] = {}
        with self.mgr_floor() as mgr_floor:
            for name, path in self.endpoints() + [('module fixed body (full CherryPy path)', None)]:
                if path is None:                    # (the fixed body: the OSD list's size, for contrast)
                    body = len(client.get(f'/api/v2/cluster/{c.fsid}/osd').content)
                    path = self.fixed_body_path(body)
                else:
                    body = len(client.get(path).content)
                with self.outside_floor(body) as url:
                    ours, inside, outside = self.alternating(
                        [(c.url + path, headers), (f'{mgr_floor}/{body}', headers), (url, headers)],
                        self.opts.connections)
                if not name.startswith('module'):
                    name = f'calamari_api {name}'
                    for floor, result in (('mgr', inside), ('outside', outside)):
                        worst[floor] = min(worst.get(floor, 9.9), ours['rps'] / result['rps'])
                print(row(name, ours, inside['rps'], body, 'floor') + f' [{ours["rps"] / outside["rps"]:.2f}x]')
                print(row('  floor in the mgr: bare cheroot', inside, None, body))
                print(row('  floor in its own process', outside, None, body))
        self.ceph('config', 'set', 'mgr', 'mgr/calamari_api/bench_fixed_body', 'false')
        self.summary.append(f'cached GETs at {size} OSDs: worst ratio to the floor in the mgr {worst["mgr"]:.2f}x '
                            f'(target >= 0.6x); to the floor in its own process {worst["outside"]:.2f}x')

    def fixed_body_path(self, size: int) -> str:
        """The module's fixed-body handler: routed only when the module starts with bench_fixed_body on (switched
        off at the end of ``reads``; the route leaves at the module's next start)."""
        path = f'/api/v2/bench/fixed?size={size}'
        if self._status(self.cluster.client(), path) != 200:
            self.ceph('config', 'set', 'mgr', 'mgr/calamari_api/bench_fixed_body', 'true')
            self.cluster.restart_active_mgr()
        client = self.cluster.client()
        wait_for(lambda: self._status(client, path) == 200, 30, 'the fixed body')
        return path

    def alternating(self, targets: List[Tuple[str, Dict[str, str]]], connections: int,
                    duration: Optional[int] = None) -> List[Result]:
        """Each target measured in turn, ``--rounds`` times; the median round (by req/s) of each: the machine's
        noise then falls on all of them alike."""
        rounds: List[List[Result]] = [[] for _ in targets]
        for _ in range(self.opts.rounds):
            for results, (url, headers) in zip(rounds, targets):
                results.append(wrk(url, headers, duration or self.opts.duration, connections))
        return [sorted(results, key=lambda r: r['rps'])[len(results) // 2] for results in rounds]

    def tail(self) -> None:
        c = self.cluster
        path = f'/api/v2/cluster/{c.fsid}/osd'
        size = len(c.client().get(path).content)
        headers = self.session_headers()
        with self.mgr_floor() as mgr_floor, self.outside_floor(size) as url:
            ours, inside, outside = self.alternating(
                [(c.url + path, headers), (f'{mgr_floor}/{size}', headers), (url, headers)], 64)
        print(f'\n{len(c.osd_ids())} OSDs: the OSD list at 64 connections')
        print(row('calamari_api GET cluster/<fsid>/osd, c=64', ours, inside['rps'], size, 'floor')
              + f' [{ours["rps"] / outside["rps"]:.2f}x]')
        print(row('  floor in the mgr, c=64', inside, None, size))
        print(row('  floor in its own process, c=64', outside, None, size))
        print(f'  p99 / p50: calamari_api {ours["p99"] / ours["p50"]:.1f}, floor in the mgr '
              f'{inside["p99"] / inside["p50"]:.1f}, in its own process {outside["p99"] / outside["p50"]:.1f}')
        self.summary.append(f'c=64 at {len(c.osd_ids())} OSDs: p99 {ours["p99"]:.1f} ms = '
                            f'{ours["p99"] / ours["p50"]:.1f}x p50 (target <= 4x), {ours["errors"]} errors')

    def pollers(self) -> None:
        c = self.cluster
        out = subprocess.run([os.path.join(HERE, 'poll-clients'), '--url', f'{c.url}/api/v2/cluster/{c.fsid}/osd',
                              '--cookie', self.session_headers()['Cookie'], '--clients', '512', '--period', '3',
                              '--duration', '30'], capture_output=True, text=True, timeout=300).stdout
        result = json.loads(out)
        print(f'\n512 keep-alive clients polling the OSD list every 3 s for 30 s: {result["requests"]} requests, '
              f'{result["outcomes"]}, p50 {result["p50_ms"]:.1f} ms, p99 {result["p99_ms"]:.1f} ms')
        failed = {k: v for k, v in result['outcomes'].items() if k != 'status 200'}
        self.summary.append(f'512 polling clients: {result["requests"]} requests, failures {failed or "none"}')

    def mgr_drag(self) -> None:
        c = self.cluster
        idle = json.loads(self.script('mgr-latency', '--dir', c.dir, timeout=300).stdout)
        busy: Dict[str, Any] = {}
        load = threading.Thread(target=lambda: busy.update(wrk(
            f'{c.url}/api/v2/cluster/{c.fsid}/osd', self.session_headers(), 25, 64)))
        load.start()
        time.sleep(3)
        loaded = json.loads(self.script('mgr-latency', '--dir', c.dir, timeout=300).stdout)
        load.join()
        ratio = loaded['median_ms'] / idle['median_ms']
        pid = self.mgr_pid()
        before = self.cpu_seconds(pid)
        result = wrk(f'{c.url}/api/v2/cluster/{c.fsid}/osd', self.session_headers(), self.opts.duration,
                     self.opts.connections)
        per_1000 = (self.cpu_seconds(pid) - before) / result['requests'] * 1000
        print(f'\nthe mgr under API load ({len(c.osd_ids())} OSDs)')
        print(f'  `pg stat` (served by the mgr): idle median {idle["median_ms"]:.2f} ms (p90 {idle["p90_ms"]:.2f}), '
              f'with the API saturated (c=64, {busy.get("rps", 0):.0f} req/s) {loaded["median_ms"]:.2f} ms '
              f'(p90 {loaded["p90_ms"]:.2f}): {ratio:.2f}x')
        print(f'  mgr CPU: {per_1000:.2f} s per 1000 cached GETs of the OSD list ({result["requests"]} GETs)')
        self.summary.append(f'mgr drag: pg stat {ratio:.2f}x idle under saturation (target <= 1.5x); '
                            f'{per_1000:.2f} CPU s per 1000 cached GETs')

    def auth_cost(self) -> None:
        """Session vs API token on the same GETs: median req/s and p50 over alternating rounds, token/session."""
        c = self.cluster
        name = f'bench-{os.getpid()}'
        token = self.ceph('calamari-api', 'token-create', name).stdout.strip()
        kinds = {'session': self.session_headers(),
                 'token': {'Authorization': f'Bearer {token}', 'Accept-Encoding': 'identity'}}
        print(f'\nsession vs API token (median of {self.opts.rounds} alternating rounds; ratio: token / session)')
        try:
            for label, path in (('GET cluster/<fsid>/osd/0', f'/api/v2/cluster/{c.fsid}/osd/0'),):
                rounds: Dict[str, List[Result]] = {kind: [] for kind in kinds}
                for _ in range(self.opts.rounds):
                    for kind, headers in kinds.items():
                        rounds[kind].append(wrk(c.url + path, headers, self.opts.duration, self.opts.connections))
                median = {kind: sorted(results, key=lambda r: r['rps'])[len(results) // 2]
                          for kind, results in rounds.items()}
                for kind in kinds:
                    ref = median['session']['rps'] if kind == 'token' else None
                    print(row(f'{label}, {kind}', median[kind], ref, None, 'session'))
        finally:
            self.ceph('calamari-api', 'token-revoke', name)

    def peers(self) -> None:
        """Like for like: the peers and this module each over TLS with a key or token, measured in alternating
        rounds in the same mgr; this module's plain-HTTP OSD list (token) for reference."""
        c = self.cluster
        duration = max(self.opts.duration, 10)     # peers can take seconds per request at scale
        print(f'\n{len(c.osd_ids())} OSDs, other mgr modules, like for like: every side over TLS (self-signed '
              f'certificates) with a key or token, wrk -c{self.opts.connections} -d{duration}s, median of '
              f'{self.opts.rounds} rounds alternating in the same mgr (ratio: calamari_api / the peer)')
        with self.token('readonly') as token:
            bearer = {'Authorization': f'Bearer {token}'}
            osd_list = f'/api/v2/cluster/{c.fsid}/osd'
            plain = wrk(c.url + osd_list, bearer, duration, self.opts.connections)
            print(row('calamari_api GET cluster/<fsid>/osd, plain HTTP, token', plain, None,
                      self._size(c.url + osd_list, bearer)) + '   (reference, not compared)')
            self.dashboard(duration, bearer)
            self.restful(duration, bearer)
        self.restart_mgr()              # (disabling restful respawned the mgr on Pacific)

    def versus(self, groups: List[Tuple[Tuple[str, str, Dict[str, str]], List[Tuple[str, str, Dict[str, str]]]]],
               duration: int) -> None:
        """Each group: a peer's (name, url, headers) and this module's rows to compare with it; all measured in
        alternating rounds.  Prints each of ours with its ratio to the peer, and adds them to the summary."""
        targets = [t for peer, ours in groups for t in [peer] + ours]
        results = iter(self.alternating([(url, headers) for _, url, headers in targets], self.opts.connections,
                                        duration))
        for (peer_name, peer_url, peer_headers), ours in groups:
            peer = next(results)
            print(row(peer_name, peer, None, self._size(peer_url, peer_headers)))
            for name, url, headers in ours:
                result = next(results)
                print(row(f'  {name}', result, peer['rps'], self._size(url, headers), peer_name.split()[0]))
                self.summary.append(f'{name} / {peer_name}: {result["rps"] / peer["rps"]:.1f}x '
                                    f'({result["rps"]:.0f} / {peer["rps"]:.0f} req/s; p50 {result["p50"]:.1f} / '
                                    f'{peer["p50"]:.1f} ms)')

    @classmethod
    def _size(cls, url: str, headers: Dict[str, str]) -> int:
        """The body's size, asked again (for up to 20 s) when the server closes the connection unanswered (the
        dashboard on Tentacle did, once, right after wrk's rounds)."""
        return wait_for(lambda: cls._try_size(url, headers), 20, f'an answer from {url}', interval=2)[0]

    @staticmethod
    def _try_size(url: str, headers: Dict[str, str]) -> Optional[Tuple[int]]:
        import http.client
        import ssl
        import urllib.request
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120, context=ssl._create_unverified_context()) as answer:
                return (len(answer.read()),)
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return None

    def dashboard(self, duration: int, bearer: Dict[str, str]) -> None:
        c = self.cluster
        port = free_port()
        self.restart_mgr('--dashboard')
        for key, val in (('ssl', 'true'), ('ssl_server_port', str(port)), ('server_addr', '127.0.0.1')):
            self.ceph('config', 'set', 'mgr', f'mgr/dashboard/{key}', val, '--force')
        self.ceph('mgr', 'module', 'enable', 'dashboard')
        password = 'Bench-' + base64.b32encode(os.urandom(8)).decode()
        wait_for(lambda: self.ceph('dashboard', 'ac-user-show', check=False).returncode == 0, 60, 'the dashboard')
        self.ceph('dashboard', 'create-self-signed-cert')
        self.ceph('dashboard', 'ac-user-delete', 'bench', check=False)      # a previous run's user
        self.ceph('dashboard', 'ac-user-create', 'bench', '-i', '-', 'administrator', input_text=password)
        from tests.support.http_client import HttpClient
        base = f'https://127.0.0.1:{port}'
        dash = HttpClient(base)
        hdr = {'Accept': 'application/vnd.ceph.api.v1.0+json', 'Content-Type': 'application/json'}
        token = wait_for(lambda: self._dashboard_token(dash, password, hdr), 90, 'dashboard login over TLS')
        jwt = dict(hdr, Authorization=f'Bearer {token}')
        with self.tls() as https:
            self.versus([(('dashboard GET /api/osd (TLS, its JWT)', f'{base}/api/osd', jwt),
                          [('calamari_api GET cluster/<fsid>/osd (TLS, API token)',
                            f'{https}/api/v2/cluster/{c.fsid}/osd', bearer)]),
                         (('dashboard GET /api/pool (TLS, its JWT)', f'{base}/api/pool', jwt),
                          [('calamari_api GET cluster/<fsid>/pool (TLS, API token)',
                            f'{https}/api/v2/cluster/{c.fsid}/pool', bearer)])], duration)
        self.ceph('mgr', 'module', 'disable', 'dashboard')

    @staticmethod
    def _dashboard_token(dash: Any, password: str, hdr: Dict[str, str]) -> Optional[str]:
        try:
            r = dash.post('/api/auth', {'username': 'bench', 'password': password}, headers=hdr)
            return r.json().get('token') if r.status_code in (200, 201) else None
        except OSError:
            return None

    def restful(self, duration: int, bearer: Dict[str, str]) -> None:
        """restful (Pacific) against this module's restful listener (same requests, a key of its own) and its own
        lists (a token), all over TLS; on Tentacle (no restful) this module's two listeners side by side."""
        c = self.cluster
        modules = os.path.join(c.dir, 'mgr-modules')
        self.restart_mgr()                                  # module path without the dashboard
        name = f'bench-{os.getpid()}'
        self.ceph('calamari-api', 'restful-key-delete', name, check=False)
        our_key = self.ceph('calamari-api', 'restful-key-create', name).stdout.strip()
        ours_basic = {'Authorization': 'Basic ' + base64.b64encode(f'{name}:{our_key}'.encode()).decode()}
        listener = f'https://127.0.0.1:{c.state["restful_port"]}'
        has_restful = os.path.exists(os.path.join(modules, 'restful'))
        if has_restful:
            port = free_port()
            for key, val in (('server_port', str(port)), ('server_addr', '127.0.0.1')):
                self.ceph('config', 'set', 'mgr', f'mgr/restful/{key}', val, '--force')
            self.ceph('mgr', 'module', 'enable', 'restful')
            wait_for(lambda: self.ceph('restful', 'create-self-signed-cert', check=False).returncode == 0, 60,
                     "restful's commands")
            key = self.ceph('restful', 'create-key', 'bench').stdout.strip()
            peer_base = f'https://127.0.0.1:{port}'
            peer_auth = {'Authorization': 'Basic ' + base64.b64encode(f'bench:{key}'.encode()).decode()}
            wait_for(lambda: self._restful_answers(peer_base, peer_auth), 60, 'restful to answer')
        else:
            print('  (restful: not in this release, Tentacle removed it; its API is served by the restful listener '
                  'of this module: against this module\'s own lists, both over TLS)')
            peer_base, peer_auth = listener, ours_basic
        try:
            with self.tls() as https:
                groups = []
                for path, v2 in (('/osd', 'osd'), ('/pool', 'pool')):
                    ours = [('calamari_api GET cluster/<fsid>/' + v2 + ' (TLS, API token)',
                             f'{https}/api/v2/cluster/{c.fsid}/{v2}', bearer)]
                    if has_restful:
                        ours.insert(0, (f'calamari_api restful listener GET {path} (TLS, Basic key)',
                                        listener + path, ours_basic))
                        peer = (f'restful GET {path} (TLS, Basic key)', peer_base + path, peer_auth)
                    else:
                        peer = (f'calamari_api restful listener GET {path} (TLS, Basic key)', listener + path,
                                ours_basic)
                    groups.append((peer, ours))
                self.versus(groups, duration)
        finally:
            if has_restful:
                self.ceph('mgr', 'module', 'disable', 'restful')
            self.ceph('calamari-api', 'restful-key-delete', name, check=False)

    @staticmethod
    def _restful_answers(base: str, headers: Dict[str, str]) -> bool:
        from tests.support.http_client import HttpClient
        try:
            return HttpClient(base).get('/osd', headers=headers).status_code == 200
        except OSError:
            return False

    def writes(self) -> None:
        """Like for like: bench/write-latency with the release's own python3 and python3-rados, the API over TLS
        with a token on keep-alive connections, librados from one long-lived handle, both polled every 20 ms."""
        c = self.cluster
        # The scale OSDs have no daemons: place the new pools on the real OSDs' host only, so their PGs can
        # become active (a pool create completes when no PG of the pool is creating or unknown).
        host = c.ceph_json('osd', 'find', '0')['crush_location']['host']
        self.ceph('osd', 'crush', 'rule', 'create-replicated', 'bench-real', host, 'osd', check=False)
        with self.token('read/write') as token, self.tls() as https:
            proc = self.script('write-latency', '--url', https, '--token', token, '--dir', c.dir, '--crush-rule',
                               'bench-real', '--count', str(self.opts.write_count), '--pools',
                               str(self.opts.write_pools), '--poll', '0.02', timeout=3600)
        if proc.returncode != 0:
            raise SystemExit(f'write-latency failed:\n{proc.stdout}{proc.stderr}')
        result = json.loads(proc.stdout)
        print('\nwrites, like for like (the API over TLS with a token, keep-alive; librados from one long-lived '
              'handle; both polled every 20 ms; median (p90) ms; ratio: API / librados)')
        for kind, label in (('flag', 'OSD flag set/unset'), ('osd_out_in', 'OSD out/in'),
                            ('pool_create', 'pool create (until its PGs are created)')):
            api, lib = result['api'][kind], result['librados'][kind]
            for stage in ('to_ack', 'to_done'):
                ratio = result['ratios_api_to_librados'][kind][stage]
                print(f'  {label:42} {stage:8} API {api[stage]["median_ms"]:8.1f} ({api[stage]["p90_ms"]:.1f})  '
                      f'librados {lib[stage]["median_ms"]:8.1f} ({lib[stage]["p90_ms"]:.1f})  {ratio:.2f}x')
            done = result['ratios_api_to_librados'][kind]['to_done']
            self.summary.append(f'writes, {label}, to done: API / librados {done:.2f}x')
        for side in ('api', 'librados'):
            burst = result[side]['burst']
            print(f'  burst of {burst["writes"]} reweights, {side}: all acknowledged in '
                  f'{burst["all_acknowledged_s"]} s, median {burst["to_ack"]["median_ms"]} ms, '
                  f'errors {burst["errors"] or "none"}')

    def mgr_rss_kb(self) -> int:
        with open(f'/proc/{self.mgr_pid()}/status') as f:
            return int(re.search(r'VmRSS:\s+(\d+)', f.read()).group(1))

    def memory(self) -> None:
        c = self.cluster
        self.ceph('mgr', 'module', 'disable', 'calamari_api')
        self.restart_mgr_without_api()
        before = self.mgr_rss_kb()
        self.ceph('mgr', 'module', 'enable', 'calamari_api')
        c.wait_api()
        client = c.client()
        for path in ('osd', 'pool', 'crush_rule', 'mon', 'server', 'config'):
            client.get(f'/api/v2/cluster/{c.fsid}/{path}')
        client.get('/api/v2/event')
        time.sleep(2)
        after = self.mgr_rss_kb()
        print(f'\nmemory\n  mgr RSS: {before / 1024:.1f} MB without calamari_api, {after / 1024:.1f} MB with it '
              f'(+{(after - before) / 1024:.1f} MB)')

    def restart_mgr_without_api(self) -> None:
        c = self.cluster
        active = c.ceph_json('mgr', 'dump')['active_name']
        c.ceph('mgr', 'fail', active)
        time.sleep(3)
        wait_for(lambda: c.ceph_json('mgr', 'dump').get('available'), 60, 'the mgr')
        time.sleep(5)

    def grow(self, size: int) -> None:
        if size > len(self.cluster.osd_ids()):
            proc = self.script('grow-cluster', '--dir', self.cluster.dir, '--osds', str(size), timeout=1800)
            if proc.returncode != 0:
                raise SystemExit(f'grow-cluster failed:\n{proc.stdout}{proc.stderr}')
            time.sleep(3)

    def run(self) -> None:
        """The phases asked for; the cluster is stopped afterwards (unless --keep), also when a phase failed."""
        c = self.cluster
        c.up('--no-install', '--bench-module')
        try:
            self._phases()
        finally:
            if not self.opts.keep:
                c.down()

    def _phases(self) -> None:
        sizes = [int(s) for s in self.opts.sizes.split(',')]
        phases = set(self.opts.only.split(',')) if self.opts.only else set(PHASES)
        c = self.cluster
        print(f'{c.state.get("ceph_version")}; cluster {c.fsid} in {c.dir}; wrk -t2; calamari_api server_threads '
              f'{self.ceph("config", "get", "mgr", "mgr/calamari_api/server_threads").stdout.strip()}')
        if 'reads' in phases:
            for size in sizes:
                self.grow(size)
                self.reads(size)
        self.grow(sizes[-1])
        for phase, method in (('tail', self.tail), ('pollers', self.pollers), ('mgr', self.mgr_drag),
                              ('auth', self.auth_cost)):
            if phase in phases:
                method()
        if 'peers' in phases:
            self.peers()
        if 'writes' in phases:
            self.writes()
        if 'memory' in phases:
            self.memory()
        print('\nsummary\n' + '\n'.join(f'  {line}' for line in self.summary))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--release', default='system', choices=('system', 'tentacle'))
    parser.add_argument('--dir', default=None)
    parser.add_argument('--mon-port', type=int, default=None, help='default: a free port')
    parser.add_argument('--api-port', type=int, default=None, help='default: a free port')
    parser.add_argument('--sizes', default='3,1000')
    parser.add_argument('--duration', type=int, default=6, help='seconds per wrk run')
    parser.add_argument('--connections', type=int, default=8)
    parser.add_argument('--only', help=f'comma-separated phases of: {", ".join(PHASES)} (default: all)')
    parser.add_argument('--rounds', type=int, default=3, help='alternating rounds (reads, tail, auth)')
    parser.add_argument('--write-count', type=int, default=10, help='writes: flag and OSD toggles a side')
    parser.add_argument('--write-pools', type=int, default=4, help='writes: pool creates a side')
    parser.add_argument('--keep', action='store_true', help='leave the cluster running')
    opts = parser.parse_args()
    opts.dir = opts.dir or tempfile.mkdtemp(prefix=f'calamari-bench-{opts.release}-')
    Bench(opts).run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
