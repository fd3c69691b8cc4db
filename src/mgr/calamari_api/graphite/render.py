"""Graphite's render and find, as far as Calamari's dashboard uses them (V1-DASHBOARD.md §6), over the module's
own history (history.py): time specs, target expressions (plain and wildcard paths, ``sumSeries``, ``scale``
and a few more functions), glob matching of metric paths, and the ``json``, ``json-array`` and ``treejson``
output formats of Calamari's graphite-web fork.  Pure: no mgr calls, no HTTP.
"""
import math
import re
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

DEFAULT_FROM = '-1d'
UNITS = {'s': 1, 'sec': 1, 'secs': 1, 'second': 1, 'seconds': 1, 'min': 60, 'mins': 60, 'minute': 60,
         'minutes': 60, 'h': 3600, 'hour': 3600, 'hours': 3600, 'd': 86400, 'day': 86400, 'days': 86400,
         'w': 604800, 'week': 604800, 'weeks': 604800, 'mon': 2592000, 'month': 2592000, 'months': 2592000,
         'y': 31536000, 'year': 31536000, 'years': 31536000}
RELATIVE = re.compile(r'^([+-]?)(\d+)([a-z]+)$')
MAX_TARGETS = 100
MAX_TARGET_LENGTH = 4000
MAX_DEPTH = 20


class GraphiteError(ValueError):
    """A request graphite-web would refuse (its message becomes a 400 text body)."""


# -- time ------------------------------------------------------------------------------------------

def parse_time(text: Optional[str], now: float, default: str) -> float:
    """Graphite's ``from``/``until``: ``-1d``, ``-12hour``, ``-10min`` (relative to now), ``now``, a Unix
    timestamp, ``HH:MM_YYYYMMDD`` or ``YYYYMMDD`` (UTC)."""
    text = (text or default).strip().lower().replace(' ', '')
    if text == 'now':
        return now
    if text.isascii() and text.isdigit() and len(text) != 8:     # (str.isdigit: also "²", which float refuses)
        return float(text)
    match = RELATIVE.match(text)
    if match:
        sign, amount, unit = match.groups()
        seconds = next((UNITS[u] for u in (unit, unit.rstrip('s')) if u in UNITS), None)
        if seconds is None:
            raise GraphiteError(f'Invalid offset unit {unit!r}')
        return now + (1 if sign == '+' else -1) * int(amount) * seconds
    for layout in ('%H:%M_%Y%m%d', '%Y%m%d'):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            pass
    raise GraphiteError(f'Invalid time {text!r}')


# -- target expressions ----------------------------------------------------------------------------

class Path(NamedTuple):
    pattern: str


class Call(NamedTuple):
    name: str
    args: Tuple['Arg', ...]


Arg = Union[Path, Call, float, str]
TOKEN = re.compile(r'\s*(?:(?P<str>"[^"]*"|\'[^\']*\')|(?P<num>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?(?![\w.*{\[]))'
                   r'|(?P<punct>[(),])|(?P<word>(?:[^(),\s"\'{}]|{[^{}]*})+))')


def _tokens(text: str) -> List[Tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            if text[pos:].strip() == '':
                break
            raise GraphiteError(f'Cannot parse target at {text[pos:pos + 20]!r}')
        pos = match.end()
        kind = match.lastgroup
        if kind:
            tokens.append((kind, match.group(kind)))
    return tokens


def parse_target(text: str) -> Arg:
    """A target: a metric path (with ``*``, ``?``, ``[...]`` and ``{a,b}`` wildcards) or ``function(args)``,
    where args are targets, numbers or quoted strings (``scale(x, 1024)``: spaces are allowed)."""
    if len(text) > MAX_TARGET_LENGTH:
        raise GraphiteError('Target too long')
    tokens = _tokens(text)
    position = [0]

    def peek() -> Optional[Tuple[str, str]]:
        return tokens[position[0]] if position[0] < len(tokens) else None

    def take() -> Tuple[str, str]:
        token = peek()
        if token is None:
            raise GraphiteError(f'Unexpected end of target {text!r}')
        position[0] += 1
        return token

    def expression(depth: int) -> Arg:
        if depth > MAX_DEPTH:
            raise GraphiteError('Target nested too deeply')
        kind, value = take()
        if kind == 'str':
            return value[1:-1]
        if kind == 'num':
            return float(value)
        if kind != 'word':
            raise GraphiteError(f'Unexpected {value!r} in target {text!r}')
        if peek() != ('punct', '('):
            return Path(value)
        take()
        args: List[Arg] = []
        if peek() == ('punct', ')'):
            take()
            return Call(value, ())
        while True:
            args.append(expression(depth + 1))
            kind, punct = take()
            if punct == ')':
                return Call(value, tuple(args))
            if punct != ',':
                raise GraphiteError(f'Expected "," or ")" in target {text!r}')
    result = expression(0)
    if peek() is not None:
        raise GraphiteError(f'Unexpected {peek()[1]!r} after target {text!r}')  # type: ignore[index]
    return result


def paths_of(expr: Arg) -> List[str]:
    """Every path pattern in a parsed target."""
    if isinstance(expr, Path):
        return [expr.pattern]
    if isinstance(expr, Call):
        return [p for arg in expr.args for p in paths_of(arg)]
    return []


# -- metric path globbing --------------------------------------------------------------------------

def _alternatives(node: str) -> List[str]:
    """``{a,b}c`` → ``['ac', 'bc']`` (graphite's brace expansion, one level per brace pair)."""
    match = re.search(r'{([^{}]*)}', node)
    if not match:
        return [node]
    return [alt for choice in match.group(1).split(',')
            for alt in _alternatives(node[:match.start()] + choice + node[match.end():])]


def _node_matches(pattern: str, node: str) -> bool:
    return any(fnmatchcase(node, alt) for alt in _alternatives(pattern))


def match_paths(pattern: str, names: Iterable[str]) -> List[str]:
    """The metric names a pattern matches, component by component (``*`` never crosses a dot), sorted."""
    parts = pattern.split('.')
    plain = not any(c in pattern for c in '*?[{')
    if plain:
        return [pattern] if pattern in set(names) else []
    return sorted(n for n in names if _parts_match(parts, n.split('.')))


def _parts_match(parts: Sequence[str], nodes: Sequence[str]) -> bool:
    return len(parts) == len(nodes) and all(p == n or _node_matches(p, n) for p, n in zip(parts, nodes))


def tree_json(query: str, names: Iterable[str], wildcards: bool = False) -> List[Dict[str, Any]]:
    """``metrics/find`` in graphite-web's treejson format: the nodes one level down matching ``query``,
    branches first, each group sorted by name; a ``*`` node first when asked for and there is more than one."""
    parts = query.split('.')
    base = '.'.join(parts[:-1]) + '.' if len(parts) > 1 else ''
    found: Dict[str, bool] = {}         # node text -> is a leaf
    for name in names:
        nodes = name.split('.')
        if len(nodes) < len(parts) or not _parts_match(parts, nodes[:len(parts)]):
            continue
        text = nodes[len(parts) - 1]
        found[text] = len(nodes) == len(parts) and found.get(text, True)     # a branch if any name goes deeper
    branch = {'allowChildren': 1, 'expandable': 1, 'leaf': 0}
    leaf_node = {'allowChildren': 0, 'expandable': 0, 'leaf': 1}
    results: List[Dict[str, Any]] = []
    if wildcards and len(found) > 1:
        results.append(dict({'text': '*', 'id': base + '*'}, **(leaf_node if all(found.values()) else branch),
                            context={}))
    for want_leaf in (False, True):
        for text in sorted(t for t, leaf in found.items() if leaf == want_leaf):
            results.append(dict({'text': text, 'id': base + text}, **(leaf_node if want_leaf else branch),
                                context={}))
    return results


# -- series and functions --------------------------------------------------------------------------

class Series(NamedTuple):
    name: str
    start: int
    end: int
    step: int
    values: List[Optional[float]]


Fetch = Callable[[str], List[Series]]       # a path pattern -> the series it matches


def _number(arg: Arg, function: str) -> float:
    if not isinstance(arg, float):
        raise GraphiteError(f'{function}: expected a number, got {arg!r}')
    return arg


def _aggregate(name: str, series: List[Series], combine: Callable[[List[float]], float]) -> List[Series]:
    if not series:
        return []
    steps = {s.step for s in series}
    if len(steps) > 1:
        raise GraphiteError('Cannot combine series with different steps')
    first = series[0]
    length = max(len(s.values) for s in series)
    values: List[Optional[float]] = []
    for i in range(length):
        known = [s.values[i] for s in series if i < len(s.values) and s.values[i] is not None]
        values.append(combine(known) if known else None)   # type: ignore[arg-type]
    return [Series(name, first.start, first.end, first.step, values)]


def _combined_name(function: str, args: Sequence[Arg], series: List[Series]) -> str:
    expressions = [a.pattern for a in args if isinstance(a, Path)] or [s.name for s in series]
    return f"{function}({','.join(sorted(set(expressions)))})"


AGGREGATES: Dict[str, Callable[[List[float]], float]] = {
    'sumSeries': sum, 'sum': sum, 'averageSeries': lambda v: sum(v) / len(v), 'avg': lambda v: sum(v) / len(v),
    'maxSeries': max, 'minSeries': min,
}


def evaluate(expr: Arg, fetch: Fetch) -> List[Series]:
    """The series a target yields.  Functions: sumSeries/sum, averageSeries/avg, maxSeries, minSeries, scale,
    offset, absolute, alias."""
    if isinstance(expr, Path):
        return fetch(expr.pattern)
    if not isinstance(expr, Call):
        raise GraphiteError(f'Expected a series, got {expr!r}')
    name, args = expr.name, expr.args
    if name in AGGREGATES:
        series = [s for arg in args for s in evaluate(arg, fetch)]
        return _aggregate(_combined_name(name, args, series), series, AGGREGATES[name])
    if name in ('scale', 'offset') and len(args) == 2:
        factor = _number(args[1], name)
        change: Callable[[float], float] = (lambda v: v * factor) if name == 'scale' else (lambda v: v + factor)
        return [Series(f'{name}({s.name},{factor:g})', s.start, s.end, s.step,
                       [None if v is None else change(v) for v in s.values]) for s in evaluate(args[0], fetch)]
    if name == 'absolute' and len(args) == 1:
        return [Series(f'absolute({s.name})', s.start, s.end, s.step,
                       [None if v is None else abs(v) for v in s.values]) for s in evaluate(args[0], fetch)]
    if name == 'alias' and len(args) == 2 and isinstance(args[1], str):
        return [s._replace(name=args[1]) for s in evaluate(args[0], fetch)]
    raise GraphiteError(f'Unsupported function or arguments: {name}')


def _clean(value: Optional[float]) -> Optional[float]:
    return None if value is None or math.isnan(value) or math.isinf(value) else value


# -- output formats --------------------------------------------------------------------------------

def json_format(series: List[Series]) -> List[Dict[str, Any]]:
    """Standard graphite ``format=json``: ``[{"target", "datapoints": [[value, ts], ...]}]``."""
    return [{'target': s.name,
             'datapoints': [[_clean(v), s.start + i * s.step] for i, v in enumerate(s.values)]} for s in series]


def json_array_format(series: List[Series]) -> Dict[str, Any]:
    """Calamari's fork: ``{"targets": [names], "datapoints": [[ts, v1, v2, ...], ...]}`` over the union of the
    series' time ranges; series with different steps cannot share rows."""
    if not series:
        return {'targets': [], 'datapoints': []}
    if len({s.step for s in series}) > 1:
        raise GraphiteError('Cannot plot multiple series with different steps using json-array format')
    step = series[0].step
    start = min(s.start for s in series)
    end = max(s.end for s in series)
    rows = []
    for ts in range(start, end, step):
        row: List[Any] = [ts]
        for s in series:
            index = (ts - s.start) // step
            row.append(_clean(s.values[index]) if s.start <= ts and 0 <= index < len(s.values) else None)
        rows.append(row)
    return {'targets': [s.name for s in series], 'datapoints': rows}
