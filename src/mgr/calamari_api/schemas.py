"""Each Calamari resource's fields, declared once: name, JSON type, and whether a client may send it on
create (POST) or modify (PATCH/PUT) — the seed's Readonly/Create/Modify field tables — and, for the fields a client
sends, what the validators accept.  The OpenAPI document and the response-shape tests are generated from these
declarations; the validators (operations/, controllers/user.py) take their allowed and required fields from here."""
import re
from typing import Any, Dict, List, NamedTuple, Optional, Tuple


class Field(NamedTuple):
    name: str
    type: Any                 # a JSON-schema type name, a list of them, or a full schema dict
    create: bool = False      # allowed in POST
    modify: bool = False      # allowed in PATCH/PUT
    required: bool = False    # required in POST
    write_only: bool = False  # accepted but never rendered (passwords)
    description: str = ''
    accepts: Any = None       # JSON schema of what a write accepts, when it is not ``type`` (see the helpers below)


def _t(*types: str) -> List[str]:
    return list(types)


# -- what the validators accept (operations/__init__.py: field_number, field_bool; DRF 2.3's fields took the
# strings of form bodies too).  The string forms are what every validator accepts (a subset: a value outside them
# may still be accepted, never the other way round).
INT_MAX = 2 ** 63 - 1


def int_field(minimum: int, maximum: int = INT_MAX) -> Dict[str, Any]:
    """field_int: a JSON integer within bounds, or a decimal string of one (fewer digits than ``maximum``)."""
    digits = min(18, len(str(maximum)) - 1)
    text = f'0*[1-9][0-9]{{0,{digits - 1}}}' if minimum == 1 else f'[0-9]{{1,{digits}}}'
    return {'anyOf': [{'type': 'integer', 'minimum': minimum, 'maximum': maximum},
                      {'type': 'string', 'pattern': f'^\\+?{text}$'}]}


def number_field(minimum: float, maximum: float) -> Dict[str, Any]:
    """field_number(float): a JSON number within bounds (or, for 0..1, a decimal string of one)."""
    forms: List[Dict[str, Any]] = [{'type': 'number', 'minimum': minimum, 'maximum': maximum}]
    if (minimum, maximum) == (0.0, 1.0):
        forms.append({'type': 'string', 'pattern': '^(0(\\.[0-9]{1,15})?|1(\\.0{1,15})?)$'})
    return {'anyOf': forms}


def any_case(*words: str) -> str:
    """A pattern matching these words in any letter case (JSON-schema regexes have no flags)."""
    return '^(' + '|'.join(''.join(f'[{c.upper()}{c.lower()}]' if c.isalpha() else re.escape(c) for c in w)
                           for w in words) + ')$'


BOOL_FIELD = {'anyOf': [{'type': 'boolean'}, {'type': 'integer', 'enum': [0, 1]},
                        {'type': 'string', 'pattern': any_case('true', 't', '1', 'yes', 'false', 'f', '0', 'no')}],
              'description': 'true or false (also 1/0, "true"/"false", "t"/"f", "yes"/"no" in any case)'}
CRUSH_NAME = {'type': 'string', 'pattern': '^[A-Za-z0-9_.-]+$'}
CRUSH_STEP_OPS = ['take', 'emit', 'choose_firstn', 'choose_indep', 'chooseleaf_firstn', 'chooseleaf_indep',
                  'set_choose_tries', 'set_chooseleaf_tries', 'set_choose_local_tries',
                  'set_choose_local_fallback_tries', 'set_chooseleaf_vary_r', 'set_chooseleaf_stable']
RULE_INT_MAX = 2 ** 31 - 1
STEP_ACCEPTS = {'type': 'object', 'required': ['op'], 'properties': {
    'op': {'type': 'string', 'enum': CRUSH_STEP_OPS},
    'item_name': {'type': 'string', 'description': 'take: an existing bucket or device'},
    'item': {'type': 'integer', 'description': 'take: an existing item id (instead of item_name)'},
    'num': {'type': 'integer', 'minimum': -RULE_INT_MAX, 'maximum': RULE_INT_MAX},
    'type': {'type': 'string', 'description': 'choose*: a CRUSH type name'}},
    'allOf': [{'if': {'properties': {'op': {'const': 'take'}}}, 'then': {'anyOf': [{'required': ['item_name']},
                                                                                   {'required': ['item']}]}},
              {'if': {'properties': {'op': {'enum': [op for op in CRUSH_STEP_OPS if op.startswith('choose')]}}},
               'then': {'required': ['num', 'type']}},
              {'if': {'properties': {'op': {'enum': [op for op in CRUSH_STEP_OPS if op.startswith('set_')]}}},
               'then': {'required': ['num']}}]}
CRUSH_ITEM_ACCEPTS = {'type': 'object', 'required': ['id'], 'properties': {
    'id': {'type': 'integer'}, 'weight': {'anyOf': [{'type': 'null'}, number_field(0.0, 1e9)]}}}


INT, STR, BOOL, NUM = 'integer', 'string', 'boolean', 'number'
NULLABLE_STR = _t(STR, 'null')
NULLABLE_INT = _t(INT, 'null')
STEP = {'type': 'object', 'properties': {'op': {'type': STR}}, 'additionalProperties': True}
CRUSH_ITEM = {'type': 'object', 'properties': {'id': {'type': INT}, 'weight': {'type': NUM}, 'pos': {'type': INT}},
              'required': ['id']}
SERVICE = {'type': 'object', 'properties': {
    'fsid': {'type': STR}, 'type': {'type': STR}, 'id': {'type': STR}, 'running': {'type': BOOL}}}

RESOURCES: Dict[str, Tuple[Field, ...]] = {
    'cluster': (Field('update_time', STR), Field('id', STR), Field('name', STR)),
    'info': (Field('version', STR), Field('license', STR), Field('registered', STR),
             Field('hostname', NULLABLE_STR), Field('fqdn', NULLABLE_STR), Field('ipaddr', NULLABLE_STR),
             Field('bootstrap_url', STR), Field('bootstrap_rhel', STR), Field('bootstrap_ubuntu', STR)),
    'user': (Field('id', INT),
             Field('username', STR, create=True, modify=True, required=True,
                   accepts={'type': 'string', 'minLength': 1, 'maxLength': 30, 'pattern': '^[A-Za-z0-9_.@+-]+$'}),
             Field('password', STR, create=True, modify=True, required=True, write_only=True,
                   description='at least password_min_length characters (a module option, default 8)',
                   accepts={'type': 'string', 'minLength': 8}),
             Field('email', STR, create=True, modify=True,
                   accepts={'type': ['string', 'null'], 'maxLength': 75,
                            # auth.EMAIL_RE, whose \\s (Python's) also takes \\x1c-\\x1f and \\x85 (ECMA's: \\ufeff)
                            'pattern': '^$|^[^@\\s\\x1c-\\x1f\\x85\\ufeff]+@[^@\\s\\x1c-\\x1f\\x85\\ufeff]+'
                                       '\\.[^@\\s\\x1c-\\x1f\\x85\\ufeff]+$'})),
    'request': (Field('id', STR), Field('state', {'type': STR, 'enum': ['submitted', 'complete']}),
                Field('error', BOOL), Field('error_message', STR), Field('headline', STR),
                Field('status', NULLABLE_STR), Field('requested_at', STR), Field('completed_at', NULLABLE_STR)),
    'crush_rule': (Field('id', INT), Field('name', STR, create=True, modify=True, required=True, accepts=CRUSH_NAME),
                   Field('ruleset', INT, create=True, modify=True,
                         description='the rule id (Pacific: ruleset = id); default: the lowest free id',
                         accepts=int_field(0, 255)),
                   Field('type', {'type': STR, 'enum': ['replicated', 'erasure']}, create=True, required=True),
                   Field('min_size', INT, create=True, modify=True, required=True, accepts=int_field(0, RULE_INT_MAX)),
                   Field('max_size', INT, create=True, modify=True, required=True, accepts=int_field(0, RULE_INT_MAX)),
                   Field('steps', {'type': 'array', 'items': STEP}, create=True, modify=True, required=True,
                         accepts={'type': 'array', 'minItems': 1, 'items': STEP_ACCEPTS}),
                   Field('osd_count', INT)),
    'crush_node': (Field('bucket_type', STR, create=True, modify=True, required=True,
                         description='a CRUSH type other than the device type (osd)'),
                   Field('name', STR, create=True, modify=True, required=True, accepts=CRUSH_NAME),
                   Field('id', INT, create=True, description='ignored', accepts={}), Field('weight', NUM),
                   Field('alg', STR), Field('hash', STR),
                   Field('items', {'type': 'array', 'items': CRUSH_ITEM}, create=True, modify=True, required=True,
                         accepts={'type': 'array', 'items': CRUSH_ITEM_ACCEPTS})),
    'crush_type': (Field('id', INT), Field('name', STR)),
    'pool': (Field('name', NULLABLE_STR, create=True, modify=True, required=True,
                   # no control character (a NUL cut the name short in the maps), and a character that is not blank
                   # to Python's str.strip() (whose whitespace also takes \x1c-\x1f and \x85) nor to ECMA's \s
                   # (which also takes \ufeff, not blank to Python)
                   accepts={'type': ['string', 'number'],
                            'pattern': ('^[^\\x00-\\x1f\\x7f]*(?:[^\\s\\x00-\\x1f\\x7f\\x85]|\\ufeff)'
                                        '[^\\x00-\\x1f\\x7f]*$'),
                            'description': 'a number is taken as its text'}),
             Field('id', NULLABLE_INT),
             Field('size', NULLABLE_INT, create=True, modify=True, accepts=int_field(1)),
             Field('pg_num', NULLABLE_INT, create=True, modify=True, required=True, accepts=int_field(1)),
             Field('crush_ruleset', NULLABLE_INT, create=True, modify=True, accepts=int_field(0)),
             Field('min_size', NULLABLE_INT, create=True, modify=True, accepts=int_field(0)),
             Field('crash_replay_interval', NULLABLE_INT, create=True, modify=True,
                   description='kept as pool application metadata; no effect on Pacific', accepts=int_field(0)),
             Field('pgp_num', NULLABLE_INT, create=True, modify=True, accepts=int_field(1)),
             Field('hashpspool', _t(BOOL, 'null'), create=True, modify=True,
                   accepts={'description': 'a boolean; any other value counts by its truth (DRF 2.3)'}),
             Field('full', _t(BOOL, 'null')),
             Field('quota_max_objects', NULLABLE_INT, create=True, modify=True, accepts=int_field(0)),
             Field('quota_max_bytes', NULLABLE_INT, create=True, modify=True, accepts=int_field(0)),
             Field('type', NULLABLE_STR, create=True, accepts={'type': 'string', 'enum': ['replicated', 'erasure']}),
             Field('erasure_code_profile', NULLABLE_STR, create=True)),
    'osd': (Field('uuid', NULLABLE_STR), Field('up', BOOL, modify=True, accepts=BOOL_FIELD),
            Field('in', BOOL, modify=True, accepts=BOOL_FIELD),
            Field('id', INT), Field('reweight', NUM, modify=True, accepts=number_field(0.0, 1.0)),
            Field('server', NULLABLE_STR),
            Field('pools', {'type': 'array', 'items': {'type': INT}}),
            Field('valid_commands', {'type': 'array', 'items': {'type': STR}}),
            Field('public_addr', STR), Field('cluster_addr', STR),
            Field('crush_node_ancestry', {'type': 'array', 'items': {'type': 'array', 'items': {'type': INT}}}),
            Field('backend_partition_path', NULLABLE_STR), Field('backend_device_node', NULLABLE_STR),
            Field('osd_data', NULLABLE_STR), Field('osd_journal', NULLABLE_STR)),
    'osd_config': tuple(Field(flag, BOOL, modify=True, accepts=BOOL_FIELD) for flag in (
        'pause', 'noup', 'nodown', 'noout', 'noin', 'nobackfill', 'norecover', 'noscrub', 'nodeep-scrub')),
    'mon': (Field('name', STR), Field('rank', INT), Field('in_quorum', BOOL), Field('server', NULLABLE_STR),
            Field('addr', STR), Field('leader', BOOL)),
    'server': (Field('fqdn', STR), Field('hostname', STR), Field('managed', BOOL),
               Field('last_contact', NULLABLE_STR), Field('boot_time', NULLABLE_STR),
               Field('ceph_version', NULLABLE_STR), Field('services', {'type': 'array', 'items': SERVICE})),
    'cluster_server': (Field('fqdn', STR), Field('hostname', STR),
                       Field('services', {'type': 'array', 'items': SERVICE}),
                       Field('frontend_addr', NULLABLE_STR), Field('backend_addr', NULLABLE_STR),
                       Field('frontend_iface', NULLABLE_STR), Field('backend_iface', NULLABLE_STR),
                       Field('managed', BOOL), Field('last_contact', NULLABLE_STR),
                       Field('boot_time', NULLABLE_STR), Field('ceph_version', NULLABLE_STR)),
    'key': (Field('id', STR), Field('status', {'type': STR, 'enum': ['pre', 'accepted', 'rejected']},
                                    modify=True, required=True,
                                    accepts={'type': 'string', 'enum': ['accepted', 'rejected']})),
    'pool_stats': (Field('name', STR),) + tuple(Field(name, INT) for name in (
        'num_objects_unfound', 'num_objects_missing_on_primary', 'num_object_clones', 'num_objects',
        'num_object_copies', 'num_bytes', 'num_rd_kb', 'num_wr_kb', 'num_kb', 'num_wr', 'num_objects_degraded',
        'num_rd')),
    'cluster_stats': (Field('kb', INT), Field('num_objects', INT), Field('kb_avail', INT), Field('kb_used', INT)),
    'config_setting': (Field('key', STR), Field('value', STR)),
    'event': (Field('when', STR),
              Field('severity', {'type': STR, 'enum': ['CRITICAL', 'ERROR', 'WARNING', 'RECOVERY', 'INFO']}),
              Field('message', STR)),
    'log_tail': (Field('lines', STR),),
    'cli_result': (Field('out', STR), Field('err', STR), Field('status', INT)),
    'cli_command': (Field('command', {'type': [STR, 'array'], 'items': {'type': STR}}, create=True,
                          required=True, accepts={'anyOf': [
                              {'type': 'string', 'description': 'CLI words, split as a shell would'},
                              {'type': 'array', 'items': {'type': ['string', 'number']}}]}),),
    'debug_job': (Field('cmd', STR, create=True, required=True,
                        description='a self test: ceph.selftest_wait, ceph.selftest_block, ceph.selftest_exception '
                                    '(any other command is a 403)'),
                  Field('args', {'type': 'array'}, create=True, required=True)),
    'request_id': (Field('request_id', STR),),
    'login': (Field('username', STR, create=True, required=True, accepts={'type': 'string', 'minLength': 1}),
              Field('password', STR, create=True, required=True, write_only=True,
                    accepts={'type': 'string', 'minLength': 1})),
}


def _type_schema(field_type: Any) -> Dict[str, Any]:
    return dict(field_type) if isinstance(field_type, dict) else {'type': field_type}


def response_schema(resource: str) -> Dict[str, Any]:
    """JSON schema of the object the API renders (every readable field, required, no extras)."""
    fields = [f for f in RESOURCES[resource] if not f.write_only]
    return {'type': 'object', 'properties': {f.name: _type_schema(f.type) for f in fields},
            'required': [f.name for f in fields], 'additionalProperties': False}


# Resources whose writes refuse fields they do not know ("Not allowed during POST"); the others ignore them.
CLOSED = ('pool', 'osd', 'osd_config', 'crush_node', 'crush_rule')
# Resources whose PATCH needs the same fields as their POST.
MODIFY_REQUIRED = ('crush_node', 'key')
# Resources whose PATCH without a body is a 400 (no 304 for "nothing asked").
MODIFY_NEEDS_BODY = MODIFY_REQUIRED + ('pool',)
# Resources whose validators skip a field sent as null (unless it is required).
NULL_SKIPPED = ('pool', 'crush_rule')


def _accepts(resource: str, field: Field, required: bool) -> Dict[str, Any]:
    schema = dict(field.accepts) if field.accepts is not None else _type_schema(field.type)
    if required or resource not in NULL_SKIPPED or not schema:
        return schema
    forms = schema.pop('anyOf', None) or [schema]
    return {'anyOf': [{'type': 'null'}] + forms}


def request_schema(resource: str, mode: str) -> Optional[Dict[str, Any]]:
    """JSON schema of a ``create`` (POST), ``modify`` (PATCH) or ``replace`` (PUT) body: the fields a client may
    send, as the validators accept them (a field sent as null is left out, unless it is required), or None if the
    resource takes no body."""
    fields = [f for f in RESOURCES[resource] if (f.create if mode == 'create' else f.modify)]
    if not fields:
        return None
    must = mode != 'modify' or resource in MODIFY_REQUIRED
    required = [f.name for f in fields if must and f.required]
    schema: Dict[str, Any] = {'type': 'object',
                              'properties': {f.name: _accepts(resource, f, f.name in required) for f in fields}}
    if required:
        schema['required'] = required
    if resource in CLOSED:
        schema['additionalProperties'] = False
    if (resource, mode) == ('pool', 'modify'):
        # something to change: a field that is not null ("Nothing to modify" otherwise)
        schema['anyOf'] = [{'required': [f.name], 'properties': {f.name: {'not': {'type': 'null'}}}} for f in fields]
    if (resource, mode) == ('pool', 'create'):
        # an erasure-coded pool takes no size ("Not allowed during POST")
        schema['if'] = {'properties': {'type': {'const': 'erasure'}}, 'required': ['type']}
        schema['then'] = {'not': {'required': ['size']}}
    return schema
