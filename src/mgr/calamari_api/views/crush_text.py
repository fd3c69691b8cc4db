"""The CRUSH map in text form (``crushtool -d``): exact item weights, and rules serialized and merged in.

``crushtool -d`` prints weights with 3 decimals, so compiling its text back rounds every weight (a small
OSD's 0.0002 becomes 0, and it gets no data).  ``exact_weights`` rewrites the ``item ... weight`` lines with
the exact 16.16 fixed-point values from the same map's dump (and the weight-set rows of ``choose_args``),
so text → binary is lossless.
"""
import re
from typing import Any, Dict, List, Mapping, Optional

from .crush import WEIGHT_SCALE

BUCKET_START = re.compile(r'^(\S+)\s+(\S+)\s*\{\s*$')
ITEM_LINE = re.compile(r'^(\s*item\s+(\S+)\s+weight\s+)(\S+)(.*)$')
BUCKET_ID_LINE = re.compile(r'^\s*bucket_id\s+(-?\d+)\s*$')
WEIGHT_ROW = re.compile(r'^(\s*)\[[^\]]*\](\s*)$')
END_MARK = '# end crush map'


def format_weight(fixed: int) -> str:
    """crushtool's 3 decimals when they are exact, else enough digits to give back the same fixed-point value."""
    weight = fixed / WEIGHT_SCALE
    short = f'{weight:.3f}'
    return short if round(float(short) * WEIGHT_SCALE) == fixed else f'{weight:.16f}'.rstrip('0')   # exact: 2^-16


def exact_weights(text: str, dump: Mapping[str, Any]) -> str:
    """Rewrite each bucket's ``item <name> weight <w>`` with the exact weight from ``dump`` (crushtool --dump)."""
    names: Dict[int, str] = {d['id']: d['name'] for d in dump.get('devices', [])}
    names.update({b['id']: b['name'] for b in dump.get('buckets', [])})
    weights: Dict[str, Dict[str, int]] = {
        b['name']: {names.get(i['id'], ''): i.get('weight', 0) for i in b.get('items', [])}
        for b in dump.get('buckets', [])}
    out: List[str] = []
    current = None
    weight_sets: Optional[Dict[int, List[List[float]]]] = None     # inside a choose_args block
    rows: List[List[float]] = []
    row = -1
    for line in text.split('\n'):
        start = BUCKET_START.match(line)
        if start and start.group(1) == 'choose_args':
            weight_sets = {a['bucket_id']: a.get('weight_set', [])
                           for a in (dump.get('choose_args') or {}).get(start.group(2), [])}
        elif start and start.group(1) != 'rule':
            current = weights.get(start.group(2))
        elif line.startswith('}'):
            current = weight_sets = None
        elif weight_sets is not None:
            bucket_id = BUCKET_ID_LINE.match(line)
            if bucket_id:
                rows, row = weight_sets.get(int(bucket_id.group(1)), []), -1
            elif line.strip() == 'weight_set [':
                row = 0
            elif WEIGHT_ROW.match(line) and 0 <= row < len(rows):
                indent = WEIGHT_ROW.match(line).group(1)
                line = f"{indent}[ {' '.join(format_weight(round(w * WEIGHT_SCALE)) for w in rows[row])} ]"
                row += 1
        else:
            item = ITEM_LINE.match(line)
            if item and current is not None and item.group(2) in current:
                line = f'{item.group(1)}{format_weight(current[item.group(2)])}{item.group(4)}'
        out.append(line)
    return '\n'.join(out)


def step_line(step: Mapping[str, Any]) -> str:
    """One rule step as CRUSH text (``take`` needs ``item_name``; ``x~cls`` is a device-class take)."""
    op = step['op']
    if op == 'take':
        name, _, device_class = str(step['item_name']).partition('~')
        return f'step take {name}' + (f' class {device_class}' if device_class else '')
    if op == 'emit':
        return 'step emit'
    if op.startswith('choose'):
        verb, _, mode = op.partition('_')
        return f"step {verb} {mode} {step['num']} type {step['type']}"
    return f"step {op} {step['num']}"


def rule_text(rule: Mapping[str, Any]) -> str:
    lines = [f"rule {rule['name']} {{", f"\tid {rule['id']}", f"\ttype {rule['type']}",
             f"\tmin_size {rule['min_size']}", f"\tmax_size {rule['max_size']}"]
    lines += [f'\t{step_line(step)}' for step in rule['steps']]
    return '\n'.join(lines + ['}'])


def _rule_block(name: Optional[str] = None) -> 're.Pattern[str]':
    """A ``rule <name> { ... }`` block (any rule when no name is given)."""
    name_pattern = re.escape(name) if name is not None else r'\S+'
    return re.compile(r'^rule\s+' + name_pattern + r'\s*\{.*?^\}[ \t]*$', re.MULTILINE | re.DOTALL)


def replace_rule(text: str, name: str, new_rule: str) -> str:
    """``text`` with the rule block named ``name`` replaced; ValueError if there is none."""
    block = _rule_block(name)
    if not block.search(text):
        raise ValueError(f'rule {name} not found in the CRUSH map text')
    return block.sub(lambda _: new_rule, text, count=1)


def add_rule(text: str, new_rule: str) -> str:
    """``text`` with ``new_rule`` after the last rule (or before the end mark)."""
    blocks = list(_rule_block().finditer(text))
    if blocks:
        end = blocks[-1].end()
        return text[:end] + '\n' + new_rule + text[end:]
    if END_MARK in text:
        at = text.index(END_MARK)
        return text[:at] + new_rule + '\n\n' + text[at:]
    return text.rstrip('\n') + '\n' + new_rule + '\n'
