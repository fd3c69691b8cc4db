"""Member clusters: other clusters' calamari_api, reached over HTTP(S) with an API token made there.

A hub (this module) registers members with ``ceph calamari-api cluster-add``; each member is kept in the KV store
under ``member/<fsid>`` (URL, fsid, name, release, its token, an optional CA certificate and TLS name, last
contact), so members survive a failover.  TLS is verified: against the system's trust store, or the member's CA
PEM when one was given.  Every call has a bounded time (``MEMBER_TIMEOUT``); a member that does not answer is
marked lost (an event), probed every ``PROBE_INTERVAL`` seconds, and marked back (an event) when it answers.

GET answers with an ETag are kept per (member, URL, Host) and asked again with ``If-None-Match``: a member that
has not changed answers a bodiless 304, so polling the hub does not multiply the members' work.  Reads go over
connections kept alive per member (member_http.Connections), forgotten when a member is added again or removed.
"""
import json
import logging
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

from .member_http import MEMBER_TIMEOUT, Connections, MemberError, describe, tls_context

if TYPE_CHECKING:
    from .events import EventLog
    from .store import KVStore

log = logging.getLogger(__name__)

STORE_PREFIX = 'member/'
PROBE_INTERVAL = 5.0            # seconds between two probes of each member
MAX_CACHED = 2048               # conditional-GET entries kept (all members together)
MERGE_FRESH = 1.0               # seconds a member's answer serves merged lists without asking it again
MAX_MEMBERS = 64
PASSED_HEADERS = ('Content-Type', 'ETag', 'Location', 'Retry-After', 'Vary')


class Answer(NamedTuple):
    status: int
    headers: Dict[str, str]     # the headers in PASSED_HEADERS the member sent
    body: bytes


def parse_member_input(inbuf: Optional[str]) -> Tuple[str, Optional[str]]:
    """``-i <file>``: the token on the first non-empty line, then optionally the CA certificate(s) in PEM.
    ValueError with the reason when the file is not that."""
    text = (inbuf or '').strip()
    if not text:
        raise ValueError('Please give the member\'s API token (and optionally its CA certificate) with "-i <file>"')
    token, _, rest = text.partition('\n')
    token, rest = token.strip(), rest.strip()
    if not token or ' ' in token or 'BEGIN' in token:
        raise ValueError('The first line of the -i file must be the API token made on the member '
                         '("ceph calamari-api token-create")')
    if rest and '-----BEGIN CERTIFICATE-----' not in rest:
        raise ValueError('After the token, the -i file may hold only the CA certificate(s) in PEM')
    return token, rest or None


def normalize_url(url: str) -> str:
    """``https://host:8002/`` → ``https://host:8002`` (ValueError unless http(s)://host[:port][/prefix])."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise ValueError(f'Not an http(s) URL of a calamari_api: {url!r}')
    if parts.query or parts.fragment or parts.username:
        raise ValueError(f'The URL must not carry a query, fragment or credentials: {url!r}')
    try:
        parts.port
    except ValueError:
        raise ValueError(f'Bad port in {url!r}')
    return f'{parts.scheme}://{parts.netloc}{parts.path.rstrip("/")}'


class Members:
    """The registered members, their reachability, and the calls to them."""

    def __init__(self, store: 'KVStore', events: 'EventLog', clock: Callable[[], float] = time.time,
                 caller: Optional[Callable[..., Tuple[int, Any, bytes]]] = None,
                 probe_interval: float = PROBE_INTERVAL, connections: Optional[Connections] = None) -> None:
        self._store = store
        self._events = events
        self._clock = clock
        self.connections = connections or Connections()
        self._call = caller or self.connections.call
        self._probe_interval = probe_interval
        self._lock = threading.Lock()
        self._records: Dict[str, Dict[str, Any]] = {}
        self._reachable: Dict[str, bool] = {}
        self._cache: Dict[Tuple[str, str, str], Tuple[str, Answer, float]] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._pool: Optional[ThreadPoolExecutor] = None
        self.load()

    # -- the registry -----------------------------------------------------------------------------
    def load(self) -> None:
        records = {fsid: r for fsid, r in self._store.prefix_json(STORE_PREFIX).items()
                   if isinstance(r, dict) and r.get('url') and r.get('token')}
        with self._lock:
            self._records = records
            self._reachable = {fsid: self._reachable.get(fsid, True) for fsid in records}

    def __bool__(self) -> bool:
        return bool(self._records)

    def get(self, fsid: str) -> Optional[Dict[str, Any]]:
        return self._records.get(fsid)

    def records(self) -> List[Dict[str, Any]]:
        """Every member, in the order they were added."""
        return sorted(self._records.values(), key=lambda r: (r.get('added') or 0, r['fsid']))

    def reachable(self, fsid: str) -> bool:
        return self._reachable.get(fsid, False)

    def public(self) -> List[Dict[str, Any]]:
        """What ``cluster-ls`` shows: never the token."""
        return [{'url': r['url'], 'fsid': r['fsid'], 'name': r.get('name'), 'release': r.get('release'),
                 'reachable': self.reachable(r['fsid']), 'last_contact': r.get('last_contact'),
                 'ca': bool(r.get('ca')), 'tls_name': r.get('tls_name') or None} for r in self.records()]

    def probe(self, url: str, token: str, ca: Optional[str] = None, tls_name: str = '') -> Dict[str, Any]:
        """Ask a would-be member who it is: its record (not stored).  MemberError / ValueError with the reason."""
        record = {'url': normalize_url(url), 'token': token, 'ca': ca, 'tls_name': tls_name}
        if ca:
            try:
                tls_context(ca)
            except (ssl.SSLError, ValueError) as e:
                raise ValueError(f'The CA certificate does not load: {e}')
        status, _, body = self._call(record, 'GET', '/api/v2/cluster')
        if status in (401, 403):
            raise MemberError(f"{describe(record)} refused the token ({status}): make one there with "
                              f"'ceph calamari-api token-create'")
        clusters = _json(body) if status == 200 else None
        if not isinstance(clusters, list) or not clusters or not isinstance(clusters[0], dict) \
                or 'id' not in clusters[0]:
            raise MemberError(f'{describe(record)} is not a calamari_api (GET api/v2/cluster answered {status})')
        record.update(fsid=str(clusters[0]['id']), name=clusters[0].get('name'), release=None)
        status, _, body = self._call(record, 'GET', '/api/v2/server')
        servers = _json(body) if status == 200 else None
        versions = sorted({s.get('ceph_version') for s in servers or [] if isinstance(s, dict)} - {None})
        record['release'] = ', '.join(versions) or None
        return record

    def add(self, record: Dict[str, Any]) -> bool:
        """Store a probed member (True) or replace the one with its fsid (False: a new URL, token or CA)."""
        fsid = record['fsid']
        old = self._records.get(fsid)
        if old is None and len(self._records) >= MAX_MEMBERS:
            raise ValueError(f'At most {MAX_MEMBERS} members')
        now = self._clock()
        record = dict(record, added=(old or {}).get('added') or now, last_contact=now)
        self._store.set_json(STORE_PREFIX + fsid, record)
        with self._lock:
            self._records[fsid] = record
            self._reachable[fsid] = True
            self._cache = {k: v for k, v in self._cache.items() if k[0] != fsid}
        self.connections.forget(record)         # (the probe's, and those with an old token or CA)
        if old and old['url'] != record['url']:
            self.connections.forget(old)
        return old is None

    def remove(self, fsid: str) -> bool:
        record = self._records.get(fsid)
        if record is None:
            return False
        self._store.delete(STORE_PREFIX + fsid)
        self.connections.forget(record)
        with self._lock:
            self._records.pop(fsid, None)
            self._reachable.pop(fsid, None)
            self._cache = {k: v for k, v in self._cache.items() if k[0] != fsid}
        return True

    # -- calls ------------------------------------------------------------------------------------
    def request(self, fsid: str, method: str, path_qs: str, body: bytes = b'',
                headers: Optional[Mapping[str, str]] = None, fresh: float = 0.0) -> Answer:
        """One call to a member; a GET is asked conditionally when an earlier answer had an ETag (and not at all
        when that answer is younger than ``fresh`` seconds).  MemberError (naming the member) when it is not
        reachable; its reachability is updated either way."""
        record = self._records.get(fsid)
        if record is None:
            raise MemberError(f'cluster {fsid} is not a member')
        sent = dict(headers or {})
        key = (fsid, path_qs, sent.get('Host', ''))
        cached = self._cache.get(key) if method == 'GET' else None
        if cached and fresh and self._clock() - cached[2] < fresh:
            return cached[1]
        if cached:
            sent['If-None-Match'] = cached[0]
        try:
            status, answer_headers, data = self._call(record, method, path_qs, body, sent)
        except MemberError as e:
            self._contact(fsid, False, str(e))
            raise
        self._contact(fsid, True)
        if cached and status == 304:
            with self._lock:
                self._cache[key] = (cached[0], cached[1], self._clock())
            return cached[1]
        answer = Answer(status, {n: answer_headers[n] for n in PASSED_HEADERS if answer_headers.get(n)}, data)
        if method == 'GET' and status == 200 and answer.headers.get('ETag'):
            with self._lock:
                if len(self._cache) >= MAX_CACHED:
                    self._cache.clear()
                self._cache[key] = (answer.headers['ETag'], answer, self._clock())
        return answer

    def get_json(self, fsid: str, path_qs: str, fresh: float = 0.0) -> Tuple[int, Any]:
        """(status, decoded JSON body or None) of a GET."""
        answer = self.request(fsid, 'GET', path_qs, fresh=fresh)
        return answer.status, _json(answer.body)

    def each(self, work: Callable[[str], Any], fsids: Optional[List[str]] = None) -> Dict[str, Any]:
        """``work(fsid)`` for every reachable member at once: {fsid: result, or the MemberError it raised}.  A
        member known to be lost is not asked (the probe brings it back) and maps to a MemberError."""
        fsids = [r['fsid'] for r in self.records()] if fsids is None else fsids
        results: Dict[str, Any] = {}
        asked = []
        for fsid in fsids:
            if self.reachable(fsid):
                asked.append(fsid)
            else:
                results[fsid] = MemberError(f'{describe(self._records[fsid])} is unreachable')
        if len(asked) == 1:
            results[asked[0]] = _guard(work, asked[0])
        elif asked:
            pool = self._pool or ThreadPoolExecutor(max_workers=8)
            futures = {fsid: pool.submit(_guard, work, fsid) for fsid in asked}
            for fsid, future in futures.items():
                results[fsid] = future.result()
            if pool is not self._pool:
                pool.shutdown(wait=False)
        return {fsid: results[fsid] for fsid in fsids}

    # -- reachability ------------------------------------------------------------------------------
    def _contact(self, fsid: str, ok: bool, reason: str = '') -> None:
        record = self._records.get(fsid)
        if record is None:
            return
        with self._lock:
            was = self._reachable.get(fsid, True)
            self._reachable[fsid] = ok
            if ok:
                record['last_contact'] = self._clock()
        if was == ok:
            return
        name = record.get('name') or fsid
        if ok:
            self._events.emit('RECOVERY', f"Regained contact with cluster '{name}' at {record['url']}", fsid=fsid)
        else:
            log.warning('%s', reason)
            self._events.emit('WARNING', f"Lost contact with cluster '{name}' at {record['url']}: {reason}",
                              fsid=fsid)
        try:
            self._store.set_json(STORE_PREFIX + fsid, record)       # last contact, when reachability flips
        except Exception as e:        # the mon may be busy; the next flip writes it again
            log.warning('could not store member %s: %s', fsid, e)

    def probe_all(self) -> None:
        """Ask every member's ``cluster`` (conditionally): who answers is reachable, and its name is kept."""
        for record in self.records():
            try:
                self.get_json(record['fsid'], '/api/v2/cluster')
            except MemberError:
                pass

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix='calamari-members')
        self._thread = threading.Thread(target=self._run, name='calamari-members', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=MEMBER_TIMEOUT * 2)
        if self._pool:
            self._pool.shutdown(wait=False)
        self.connections.close()

    def _run(self) -> None:
        while not self._stop.wait(self._probe_interval):
            self.connections.close_expired()
            try:
                self.probe_all()
            except Exception:
                log.exception('member probe failed')


def _guard(work: Callable[[str], Any], fsid: str) -> Any:
    try:
        return work(fsid)
    except MemberError as e:
        return e


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode('utf-8')) if body else None
    except (ValueError, UnicodeDecodeError):
        return None
