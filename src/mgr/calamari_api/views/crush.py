"""CRUSH: rules, rule sets, nodes (buckets), types, and the OSDs each rule can place data on.

Everything here works on ``osd_map_crush`` (``ceph osd crush dump``), which also holds Pacific's
device-class shadow buckets (``default~hdd``) that ``take <root> class <c>`` steps refer to.  ``CrushIndex``
walks the bucket tree once (memoized per bucket) so that rule→OSDs and OSD→ancestry are linear-ish in the
size of the map, whatever the number of rules and OSDs.
"""
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple

WEIGHT_SCALE = float(0x10000)
RULE_TYPES = {1: 'replicated', 3: 'erasure'}
STEP_KEYS = ('op', 'type', 'num', 'item_name', 'item')


def is_shadow(bucket: Dict[str, Any]) -> bool:
    """Device-class shadow buckets (``default~hdd``) are CRUSH internals, not user-visible nodes."""
    return '~' in bucket.get('name', '')


def rule_type_name(rule_type: Any) -> Any:
    return RULE_TYPES.get(rule_type, rule_type)


class CrushIndex:
    """Indexes over one CRUSH map.  Build once per OSD map epoch; every query is then cheap."""

    def __init__(self, crush: Optional[Dict[str, Any]]) -> None:
        crush = crush or {}
        self.buckets: Dict[int, Dict[str, Any]] = {b['id']: b for b in crush.get('buckets', [])}
        self.rules: List[Dict[str, Any]] = sorted(crush.get('rules', []), key=lambda r: r['rule_id'])
        self.types: List[Dict[str, Any]] = sorted(crush.get('types', []), key=lambda t: t['type_id'])
        self.device_type = next((t['name'] for t in self.types if t['type_id'] == 0), 'osd')
        self._children: Dict[int, Tuple[int, ...]] = {
            bid: tuple(item['id'] for item in b.get('items', [])) for bid, b in self.buckets.items()}
        self._leaves: Dict[int, FrozenSet[int]] = {}
        self._of_type: Dict[Tuple[int, str], FrozenSet[int]] = {}
        self._paths: Dict[int, List[List[int]]] = {}
        self._parents: Dict[int, List[int]] = {}
        for bid, bucket in self.buckets.items():
            if is_shadow(bucket):
                continue
            for child in self._children[bid]:
                self._parents.setdefault(child, []).append(bid)
        self.osds_by_rule_id: Dict[int, List[int]] = {r['rule_id']: sorted(self.rule_osds(r)) for r in self.rules}

    # -- tree walks (memoized per bucket) --------------------------------------------------------
    def item_type(self, item: int) -> str:
        return self.device_type if item >= 0 else self.buckets.get(item, {}).get('type_name', '')

    def leaves(self, item: int) -> FrozenSet[int]:
        """All OSDs at or below ``item``."""
        if item >= 0:
            return frozenset((item,))
        cached = self._leaves.get(item)
        if cached is None:
            self._leaves[item] = frozenset()      # guards against a malformed (cyclic) map
            found: set = set()
            for child in self._children.get(item, ()):
                found |= self.leaves(child)
            cached = self._leaves[item] = frozenset(found)
        return cached

    def descendants_of_type(self, item: int, type_name: str) -> FrozenSet[int]:
        """Items of ``type_name`` strictly below ``item`` (what a choose step picks from)."""
        if item >= 0:
            return frozenset()
        key = (item, type_name)
        cached = self._of_type.get(key)
        if cached is None:
            self._of_type[key] = frozenset()
            found: set = set()
            for child in self._children.get(item, ()):
                if self.item_type(child) == type_name:
                    found.add(child)
                else:
                    found |= self.descendants_of_type(child, type_name)
            cached = self._of_type[key] = frozenset(found)
        return cached

    def rule_osds(self, rule: Dict[str, Any]) -> FrozenSet[int]:
        """OSDs a rule can place data on: follow take → choose/chooseleaf → emit over the bucket tree."""
        result: set = set()
        working: FrozenSet[int] = frozenset()
        for step in rule.get('steps', []):
            op = step.get('op', '')
            if op == 'take':
                working = frozenset((step['item'],)) if 'item' in step else frozenset()
            elif op in ('chooseleaf_firstn', 'chooseleaf_indep'):
                chosen = self._choose(working, step.get('type'))
                working = frozenset().union(*(self.leaves(i) for i in chosen)) if chosen else frozenset()
            elif op in ('choose_firstn', 'choose_indep'):
                working = self._choose(working, step.get('type'))
            elif op == 'emit':
                result.update(i for i in working if i >= 0)
                working = frozenset()
        return frozenset(result)

    def _choose(self, items: Iterable[int], type_name: Optional[str]) -> FrozenSet[int]:
        if type_name is None:
            return frozenset()
        chosen: set = set()
        for item in items:
            if item >= 0:
                if type_name == self.device_type:
                    chosen.add(item)
            else:
                chosen |= self.descendants_of_type(item, type_name)
        return frozenset(chosen)

    def ancestry(self, item: int) -> List[List[int]]:
        """Calamari's ``crush_node_ancestry``: every path of bucket ids from the item's parent up to a root
        (shadow buckets excluded)."""
        paths: List[List[int]] = []
        for parent in self._parents.get(item, ()):
            paths.extend([parent] + path for path in self._bucket_paths(parent))
        return paths

    def _bucket_paths(self, bucket: int) -> List[List[int]]:
        cached = self._paths.get(bucket)
        if cached is None:
            self._paths[bucket] = [[]]
            parents = self._parents.get(bucket, ())
            if not parents:
                cached = [[]]
            else:
                cached = [[parent] + path for parent in parents for path in self._bucket_paths(parent)]
            self._paths[bucket] = cached
        return cached

    # -- Calamari objects ------------------------------------------------------------------------
    def rule_objects(self) -> List[Dict[str, Any]]:
        return [rule_object(r, len(self.osds_by_rule_id.get(r['rule_id'], ()))) for r in self.rules]

    def rulesets(self) -> List[int]:
        return sorted({r.get('ruleset', r['rule_id']) for r in self.rules})

    def node_objects(self) -> List[Dict[str, Any]]:
        return [node_object(b) for bid, b in sorted(self.buckets.items(), key=lambda kv: -kv[0])
                if not is_shadow(b)]

    def type_objects(self) -> List[Dict[str, Any]]:
        return [{'id': t['type_id'], 'name': t['name']} for t in self.types]


# ``osd crush dump`` names only some rule steps; the others come as {"opcode": N, "arg1": ..., "arg2": ...}
# (crush.h's CRUSH_RULE_* numbers).  Named here, so a client (and a rule's PATCH) sees ``op`` and ``num``.
STEP_OPCODES = {0: 'noop', 1: 'take', 2: 'choose_firstn', 3: 'choose_indep', 4: 'emit', 6: 'chooseleaf_firstn',
                7: 'chooseleaf_indep', 8: 'set_choose_tries', 9: 'set_chooseleaf_tries', 10: 'set_choose_local_tries',
                11: 'set_choose_local_fallback_tries', 12: 'set_chooseleaf_vary_r', 13: 'set_chooseleaf_stable'}


def named_step(step: Dict[str, Any]) -> Dict[str, Any]:
    """A dumped rule step with its ``op`` name (and ``num`` for the set_* steps)."""
    if 'op' in step or 'opcode' not in step:
        return step
    return {'op': STEP_OPCODES.get(step['opcode'], f"opcode_{step['opcode']}"), 'num': step.get('arg1')}


def step_object(step: Dict[str, Any]) -> Dict[str, Any]:
    """Calamari master's StepItemSerializer: all five keys, null when absent."""
    step = named_step(step)
    return {key: step.get(key) for key in STEP_KEYS}


def rule_object(rule: Dict[str, Any], osd_count: int) -> Dict[str, Any]:
    return {
        'id': rule['rule_id'],
        'name': rule.get('rule_name'),
        'ruleset': rule.get('ruleset', rule['rule_id']),
        'type': rule_type_name(rule.get('type')),
        'min_size': rule.get('min_size'),
        'max_size': rule.get('max_size'),
        'steps': [step_object(s) for s in rule.get('steps', [])],
        'osd_count': osd_count,
    }


def with_kept_sizes(rules: List[Dict[str, Any]], kept: Optional[Mapping[str, Any]],
                    defaults: Mapping[str, int]) -> List[Dict[str, Any]]:
    """Rule objects of a CRUSH map without rule sizes (compat.RULE_SIZE_DEFAULTS) with the sizes last set through
    the API (``kept``: rule id → ``{"name", "min_size", "max_size"}``, used while the rule keeps that name), else
    ``defaults``.  Rules that have sizes are returned as they are."""
    out = []
    for rule in rules:
        if rule['min_size'] is None:
            entry = (kept or {}).get(str(rule['id'])) or {}
            source = entry if entry.get('name') == rule['name'] else defaults
            rule = dict(rule, min_size=source['min_size'], max_size=source['max_size'])
        out.append(rule)
    return out


def rule_set_objects(rules: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Rule objects grouped by ruleset: ``[{"id": ruleset, "rules": [...]}]``."""
    groups: Dict[int, List[Dict[str, Any]]] = {}
    for rule in rules:
        groups.setdefault(rule['ruleset'], []).append(rule)
    return [{'id': ruleset, 'rules': groups[ruleset]} for ruleset in sorted(groups)]


def node_object(bucket: Dict[str, Any]) -> Dict[str, Any]:
    return {
        'bucket_type': bucket.get('type_name'),
        'name': bucket.get('name'),
        'id': bucket['id'],
        'weight': bucket.get('weight', 0) / WEIGHT_SCALE,
        'alg': bucket.get('alg'),
        'hash': bucket.get('hash'),
        'items': [{'id': i['id'], 'weight': i.get('weight', 0) / WEIGHT_SCALE, 'pos': i.get('pos')}
                  for i in bucket.get('items', [])],
    }


def crush_with_float_weights(crush: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The crush dump as Calamari's osd_map sync object showed it: bucket and item weights / 0x10000."""
    if crush is None:
        return None
    out = dict(crush)
    out['buckets'] = [dict(b, weight=b.get('weight', 0) / WEIGHT_SCALE,
                           items=[dict(i, weight=i.get('weight', 0) / WEIGHT_SCALE) for i in b.get('items', [])])
                      for b in crush.get('buckets', [])]
    return out
