"""Calamari resource: graphite (``/graphite/render`` and ``/graphite/metrics/find``, V1-DASHBOARD.md §6), served
from the module's own history (history.py, sampler.py) behind the API's session.  Errors are text, as
graphite-web's were; JSON answers carry graphite's ``no-cache`` headers."""
import json
import re
import time
from typing import Any, Dict, List

from . import BaseController
from ..web.http import ApiRequest, RawResponse, Response
from ..graphite import render as graphite

NO_CACHE = {'Pragma': 'no-cache', 'Cache-Control': 'no-cache'}
JSONP = re.compile(r'^[A-Za-z_$][\w$.]*$')


def _text_error(message: str) -> RawResponse:
    return RawResponse(message.encode('utf-8'), 'text/plain', status=400)


def _json(request: ApiRequest, value: Any) -> Response:
    callback = request.query_value('jsonp')
    if callback:
        if not JSONP.match(callback):
            return _text_error('Invalid jsonp callback name')
        body = f'{callback}({json.dumps(value)})'.encode('utf-8')
        return RawResponse(body, 'text/javascript', headers=NO_CACHE)
    return Response(200, value, headers=dict(NO_CACHE))


class GraphiteController(BaseController):
    @property
    def _history(self) -> Any:
        return self.services.history.history

    def render(self, request: ApiRequest) -> Any:
        """``target`` (repeated): metric paths with wildcards, ``sumSeries(...)``, ``scale(x, N)``, ...;
        ``from``/``until`` (default ``-1d``/now); ``format`` ``json-array`` (Calamari's) or ``json``."""
        now = time.time()
        fmt = request.query_value('format') or 'json'
        if fmt not in ('json', 'json-array'):
            return _text_error(f"Unsupported format '{fmt}': this graphite serves json and json-array")
        targets = [t for t in request.query.get('target', []) + request.query.get('target[]', []) if t.strip()]
        try:
            if len(targets) > graphite.MAX_TARGETS:
                raise graphite.GraphiteError(f'At most {graphite.MAX_TARGETS} targets')
            start = graphite.parse_time(request.query_value('from'), now, graphite.DEFAULT_FROM)
            end = graphite.parse_time(request.query_value('until'), now, 'now')
            if start >= end:
                raise graphite.GraphiteError('Invalid time range: from is not before until')
            series = self._evaluate(targets, start, end, now)
            if fmt == 'json-array':
                return _json(request, graphite.json_array_format(series))
        except graphite.GraphiteError as e:
            return _text_error(str(e))
        return _json(request, graphite.json_format(series))

    def _evaluate(self, targets: List[str], start: float, end: float, now: float) -> List[graphite.Series]:
        history = self._history
        names = history.names()
        cache: Dict[str, List[graphite.Series]] = {}

        def fetch(pattern: str) -> List[graphite.Series]:
            if pattern not in cache:
                cache[pattern] = history.fetch(graphite.match_paths(pattern, names), start, end, now)
            return cache[pattern]
        return [s for target in targets for s in graphite.evaluate(graphite.parse_target(target), fetch)]

    def find(self, request: ApiRequest) -> Any:
        """``query`` (a path pattern, one level per dot): the matching nodes in treejson, branches first."""
        query = request.query_value('query')
        if not query:
            return _text_error("Missing required parameter 'query'")
        fmt = request.query_value('format') or 'treejson'
        if fmt != 'treejson':
            return _text_error(f"Unsupported format '{fmt}': this graphite serves treejson")
        wildcards = request.query_value('wildcards') in ('1', 'true')
        return _json(request, graphite.tree_json(query, self._history.names(), wildcards))


CONTROLLER = GraphiteController
