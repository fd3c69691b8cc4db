"""One API over several clusters, as Calamari served them: this cluster and its members (members.py).

The dispatcher (web.app.CalamariApp.run) calls in here after the access gate (web/gate.py), so
a caller's role applies before any member is asked:

- ``forward``: a route under ``cluster/<fsid>`` for a member's fsid is answered by that member (method, query,
  body; its status, body and the headers in members.PASSED_HEADERS come back unchanged).  The client's Host is
  passed on, so the URLs in the member's answer (pagination) point at the hub.  A member that cannot be reached
  is a 503 that names it.
- ``merged``: ``cluster``, ``server``, ``server/<fqdn>``, ``event``, ``request``, ``request/<id>``, ``key``,
  ``key/<id>`` and ``server/<fqdn>/grains`` answer for every cluster, in Calamari's order and pagination; the
  header ``X-Calamari-Missing-Clusters`` lists the fsids of the members that could not be asked.
"""
import hashlib
import re
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlencode

from .cluster import isoformat
from .web.http import (ApiError, ApiRequest, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RawResponse, Response, paginate,
                       render_json)
from .members import MERGE_FRESH, MemberError, Members, describe
from .views import v1
from .views.cluster import cluster_object

if TYPE_CHECKING:
    from .services import Services

MISSING_HEADER = 'X-Calamari-Missing-Clusters'
MEMBER_PAGE = 1000                  # page size asked of members when collecting a merged list (their maximum)
PAGINATED = {'event.list': 'when', 'event.server_list': 'when', 'request.list': 'requested_at'}
FIRST_FOUND = ('key.get', 'grains.server', 'request.get')
OWNER_WRITES = ('request.cancel', 'key.update', 'key.delete')     # done by whichever cluster has the object
MERGED = frozenset(['cluster.list', 'cluster.v1_list', 'server.list', 'server.get', 'key.list',
                    *OWNER_WRITES, *PAGINATED, *FIRST_FOUND])
FORWARDED_REQUEST_HEADERS = ('Content-Type', 'Accept', 'Host')
GRAPHITE = {'graphite.render': ('target', 'target[]'), 'graphite.find': ('query',)}
GRAPHITE_CLUSTER_RE = re.compile(r'ceph\.cluster\.([a-zA-Z0-9-]+)')

Local = Callable[[ApiRequest], Any]


# -- pure merges ---------------------------------------------------------------------------------

def merge_servers(lists: Sequence[Sequence[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """Server objects of several clusters, one per fqdn (a host may serve several clusters: its services are
    joined, it is managed when any cluster manages it, and its last contact is the latest), sorted by fqdn."""
    by_fqdn: Dict[str, Dict[str, Any]] = {}
    for servers in lists:
        for server in servers:
            if not isinstance(server, dict) or 'fqdn' not in server:
                continue
            kept = by_fqdn.get(server['fqdn'])
            if kept is None:
                by_fqdn[server['fqdn']] = dict(server, services=list(server.get('services') or []))
                continue
            kept['services'] += list(server.get('services') or [])
            for field in ('boot_time', 'ceph_version', 'hostname'):
                if kept.get(field) is None:
                    kept[field] = server.get(field)
            kept['managed'] = bool(kept.get('managed') or server.get('managed'))
            contacts = [c for c in (kept.get('last_contact'), server.get('last_contact')) if c]
            kept['last_contact'] = max(contacts) if contacts else None
    return [by_fqdn[fqdn] for fqdn in sorted(by_fqdn)]


def merge_keys(lists: Sequence[Sequence[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """Key objects of several clusters: each id once, the first cluster's (this one's) status winning."""
    seen: Dict[str, Dict[str, Any]] = {}
    for keys in lists:
        for key in keys:
            if isinstance(key, dict) and 'id' in key and key['id'] not in seen:
                seen[key['id']] = key
    return list(seen.values())


def merge_newest_first(lists: Sequence[Sequence[Dict[str, Any]]], field: str) -> List[Dict[str, Any]]:
    """Several newest-first lists as one, newest first by ``field`` (ISO timestamps of one format sort as text);
    a tie keeps the clusters' order (this one first)."""
    tagged = [(item.get(field) or '', -n, -i, item) for n, items in enumerate(lists) for i, item in enumerate(items)]
    tagged.sort(key=lambda t: t[:3], reverse=True)
    return [t[3] for t in tagged]


class Head(Sequence[Any]):
    """The first items of a list of ``count`` items (all ``paginate`` reads of the page it is asked for)."""

    def __init__(self, items: List[Any], count: int) -> None:
        self._items = items
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        return self._items[index]


def page_window(query: Mapping[str, List[str]]) -> Optional[int]:
    """How many of the newest items the asked page needs (page x page_size), None for ``page=last`` (all of
    them).  Bad values are left to ``paginate``, which refuses them with its own messages."""
    def last(name: str) -> Optional[str]:
        values = query.get(name)
        return values[-1] if values else None
    try:
        size = int(last('page_size') or DEFAULT_PAGE_SIZE)
        page_text = last('page') or '1'
        if page_text == 'last':
            return None
        page = int(page_text)
    except ValueError:
        return 1
    if size < 1 or size > MAX_PAGE_SIZE or page < 1:
        return 1
    return page * size


def etag_of(body: bytes) -> str:
    return '"%s"' % hashlib.sha1(body).hexdigest()[:24]


# -- the hub ------------------------------------------------------------------------------------

class Hub:
    def __init__(self, services: 'Services') -> None:
        self.services = services

    @property
    def members(self) -> Members:
        return self.services.members

    def member_fsid(self, params: Mapping[str, str]) -> Optional[str]:
        """The member the route's fsid names (None: this cluster, or no member)."""
        fsid = params.get('fsid') or params.get('any_fsid')
        if fsid is None or not self.members or fsid == self.services.cluster.fsid:
            return None
        return fsid if self.members.get(fsid) else None

    def graphite_member(self, route: Any, request: ApiRequest) -> Optional[str]:
        """The member whose history a graphite render/find asks for: every ``ceph.cluster.<fsid>`` path in its
        targets (or query) names that one member (None otherwise: this cluster's history answers)."""
        names = GRAPHITE.get(route.action)
        if not names or not self.members:
            return None
        fsids = {fsid for name in names for value in request.query.get(name, [])
                 for fsid in GRAPHITE_CLUSTER_RE.findall(value)}
        if len(fsids) != 1:
            return None
        return self.member_fsid({'fsid': fsids.pop()})

    def merges(self, route: Any) -> bool:
        """True when the route answers for every cluster now (there are members; not a cluster-scoped URL, such as
        ``cluster/<fsid>/request``, which shares its action with ``request``)."""
        return route.action in MERGED and 'fsid' not in route.param_names and bool(self.members)

    # -- forwarding --------------------------------------------------------------------------------
    def forward(self, fsid: str, request: ApiRequest, route: Any = None) -> Any:
        headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if request.headers.get(name)}
        try:
            answer = self.members.request(fsid, request.method, path_with_query(request), request.raw_body, headers)
        except MemberError as e:
            record = self.members.get(fsid)
            if route is not None and route.action in ('cluster.get', 'cluster.v1_get') and record:
                # as in ``cluster``: the member with its last contact as update_time (a heartbeat shows it stale)
                if route.action == 'cluster.get':
                    return self._cluster_object(record)
                return v1.cluster_object(fsid, record.get('name') or 'ceph', record.get('last_contact') or 0)
            self._unavailable(str(e))
        if answer.status == 401:        # the member's answer to the hub's token, not to the caller's credentials
            self._unavailable(f'{describe(self.members.get(fsid) or {"url": "?", "fsid": fsid})} refused the '
                              f'hub\'s token (a new one: "ceph calamari-api cluster-add" again)')
        out = dict(answer.headers)
        content_type = out.pop('Content-Type', 'application/json')
        etag = out.get('ETag')
        if answer.status == 200 and etag and etag in (request.headers.get('If-None-Match') or '').replace(
                ' ', '').split(','):
            return Response(304, None, headers=out, empty=True)
        if not answer.body or answer.status in (204, 304) or request.method == 'HEAD':
            return Response(answer.status, None, headers=out, empty=True)
        return RawResponse(answer.body, content_type, status=answer.status, headers=out)

    @staticmethod
    def _unavailable(message: str) -> None:
        raise ApiError(503, {'detail': message}, headers={'Retry-After': '5'})

    # -- merged lists ------------------------------------------------------------------------------
    def merged(self, route: Any, request: ApiRequest, params: Dict[str, str], local: Local) -> Any:
        action = route.action
        if action == 'cluster.list':
            members = [self._cluster_object(r) for r in self.members.records()]
            return self._respond(request, [local(request)[0]] + members, [])
        if action == 'cluster.v1_list':
            return self._respond(request, [local(request)[0]] + [
                v1.cluster_object(r['fsid'], r.get('name') or 'ceph', r.get('last_contact') or 0)
                for r in self.members.records()], [])
        if action in PAGINATED:
            return self._paginated(request, local, PAGINATED[action])
        if action == 'server.list':
            lists, missing = self._gather(request.path, local(request))
            return self._respond(request, merge_servers(lists), missing)
        if action == 'key.list':
            lists, missing = self._gather(request.path, local(request))
            return self._respond(request, merge_keys(lists), missing)
        if action == 'server.get':
            return self._found(request, local, lambda found: merge_servers([[f] for f in found])[0], every=True)
        if action in OWNER_WRITES:
            return self._owner_write(request, local)
        return self._found(request, local, lambda found: found[0])

    def _cluster_object(self, record: Dict[str, Any]) -> Dict[str, Any]:
        return cluster_object(record['fsid'], record.get('name') or 'ceph', isoformat(record.get('last_contact') or 0))

    def _gather(self, path_qs: str, local_value: Any) -> Tuple[List[Any], List[str]]:
        """[this cluster's value, then each answering member's], and the fsids of the members missing."""
        results = self.members.each(lambda fsid: self.members.get_json(fsid, path_qs, fresh=MERGE_FRESH))
        values, missing = [local_value], []
        for fsid, result in results.items():
            if isinstance(result, MemberError) or result[0] != 200 or not isinstance(result[1], list):
                missing.append(fsid)
            else:
                values.append(result[1])
        return values, missing

    def _paginated(self, request: ApiRequest, local: Local, field: str) -> Any:
        """Each cluster's newest ``page x page_size`` items (all for page=last), merged newest first, counted
        over all of them, then cut into the asked page by the same ``paginate``."""
        need = page_window(request.query)
        filters = {k: v for k, v in request.query.items() if k not in ('page', 'page_size')}
        lists, counts, missing = [], 0, []
        local_page = local(_with_query(request, filters, 1, min(need or MAX_PAGE_SIZE, MAX_PAGE_SIZE)))
        local_items, local_count = self._collect(lambda page, size: local(_with_query(request, filters, page, size)),
                                                 local_page, need)
        lists.append(local_items)
        counts += local_count

        def member_top(fsid: str) -> Tuple[List[Any], int]:
            def fetch(page: int, size: int) -> Dict[str, Any]:
                status, body = self.members.get_json(fsid, path_with_query(request, filters, page, size),
                                                     fresh=MERGE_FRESH)
                if status != 200 or not isinstance(body, dict) or not isinstance(body.get('results'), list):
                    raise MemberError(f'cluster {fsid} answered {status}')
                return body
            size = min(need or MEMBER_PAGE, MEMBER_PAGE)
            return self._collect(fetch, fetch(1, size), need)

        for fsid, result in self.members.each(member_top).items():
            if isinstance(result, MemberError):
                missing.append(fsid)
            else:
                lists.append(result[0])
                counts += result[1]
        merged = merge_newest_first(lists, field)
        return self._respond(request, paginate(request, Head(merged, counts)), missing)

    @staticmethod
    def _collect(fetch: Callable[[int, int], Dict[str, Any]], first: Dict[str, Any],
                 need: Optional[int]) -> Tuple[List[Any], int]:
        """(the newest ``need`` items (all when None), the total count) from a paginated list."""
        items = list(first.get('results') or [])
        count = int(first.get('count') or 0)
        size = max(len(items), 1)
        page = 1
        while first.get('next') and (need is None or len(items) < need) and len(items) < count:
            page += 1
            more = fetch(page, size)
            items += list(more.get('results') or [])
            first = more
        return items if need is None else items[:need], count

    def _found(self, request: ApiRequest, local: Local, merge: Callable[[List[Any]], Any],
               every: bool = False) -> Any:
        """One object by id: this cluster's, else the members' (``every``: all clusters' copies, merged).  404
        only when no cluster has it; 503 when none that answered has it and some did not answer."""
        found: List[Any] = []
        not_found: Optional[ApiError] = None
        try:
            found.append(local(request))
        except ApiError as e:
            if e.status != 404:
                raise
            not_found = e
        if found and not every:
            return found[0]
        answers = self.members.each(lambda fsid: self.members.get_json(fsid, path_with_query(request)))
        missing = []
        for fsid, result in answers.items():
            if isinstance(result, MemberError):
                missing.append(fsid)
            elif result[0] == 200:
                found.append(result[1])
        if found:
            return self._respond(request, merge(found), missing)
        if missing:
            self._unavailable(f'Not found on the clusters that answered; not reachable: {", ".join(missing)}')
        assert not_found is not None
        raise not_found

    def _owner_write(self, request: ApiRequest, local: Local) -> Any:
        """``request/<id>/cancel``, ``key/<id>`` PATCH and DELETE on whichever cluster has the object: this one,
        else the first member whose GET of it answers 200."""
        try:
            return local(request)
        except ApiError as e:
            if e.status != 404:
                raise
            not_found = e
        object_path = request.path[:-len('/cancel')] if request.path.endswith('/cancel') else request.path
        for record in self.members.records():
            fsid = record['fsid']
            try:
                status, _ = self.members.get_json(fsid, object_path)
            except MemberError:
                continue
            if status == 200:
                return self.forward(fsid, request)
        raise not_found

    @staticmethod
    def _respond(request: ApiRequest, body: Any, missing: List[str]) -> Response:
        """200 with the merged body, an ETag over it (304 when the client has it), and the missing members."""
        etag = etag_of(render_json(body))
        headers = {'ETag': etag}
        if missing:
            headers[MISSING_HEADER] = ','.join(missing)
        if etag in (request.headers.get('If-None-Match') or '').replace(' ', '').split(','):
            return Response(304, None, headers=headers, empty=True)
        return Response(200, body, headers=headers)


def path_with_query(request: ApiRequest, query: Optional[Mapping[str, List[str]]] = None,
                    page: Optional[int] = None, page_size: Optional[int] = None) -> str:
    pairs = [(k, v) for k, values in (request.query if query is None else query).items() for v in values]
    if page is not None:
        pairs += [('page', str(page)), ('page_size', str(page_size))]
    return request.path + ('?' + urlencode(pairs) if pairs else '')


def _with_query(request: ApiRequest, query: Mapping[str, List[str]], page: int, page_size: int) -> ApiRequest:
    """The same request with another query (for this cluster's own pages of a merged list)."""
    copy = ApiRequest(request.method, request.path, dict(query, page=[str(page)], page_size=[str(page_size)]),
                      request.headers, request.raw_body, request.base_url, request.scheme, request.user,
                      request.remote_addr)
    return copy
