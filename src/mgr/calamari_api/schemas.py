"""Each Calamari resource's fields, declared once: name, JSON type, and whether a client may send it on
create (POST) or modify (PATCH/PUT) — the seed's Readonly/Create/Modify field tables.  The OpenAPI document and
the response-shape tests are generated from these declarations."""
from typing import Any, Dict, List, NamedTuple, Optional, Tuple


class Field(NamedTuple):
    name: str
    type: Any                 # a JSON-schema type name, a list of them, or a full schema dict
    create: bool = False      # allowed in POST
    modify: bool = False      # allowed in PATCH/PUT
    required: bool = False    # required in POST
    write_only: bool = False  # accepted but never rendered (passwords)
    description: str = ''


def _t(*types: str) -> List[str]:
    return list(types)


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
    'user': (Field('id', INT), Field('username', STR, create=True, modify=True, required=True),
             Field('password', STR, create=True, modify=True, required=True, write_only=True),
             Field('email', STR, create=True, modify=True)),
    'request': (Field('id', STR), Field('state', {'type': STR, 'enum': ['submitted', 'complete']}),
                Field('error', BOOL), Field('error_message', STR), Field('headline', STR),
                Field('status', NULLABLE_STR), Field('requested_at', STR), Field('completed_at', NULLABLE_STR)),
    'crush_rule': (Field('id', INT), Field('name', STR, create=True, modify=True, required=True),
                   Field('ruleset', INT, create=True, modify=True,
                         description='the rule id (Pacific: ruleset = id); default: the lowest free id'),
                   Field('type', {'type': STR, 'enum': ['replicated', 'erasure']}, create=True, required=True),
                   Field('min_size', INT, create=True, modify=True, required=True),
                   Field('max_size', INT, create=True, modify=True, required=True),
                   Field('steps', {'type': 'array', 'items': STEP}, create=True, modify=True, required=True),
                   Field('osd_count', INT)),
    'crush_node': (Field('bucket_type', STR, create=True, modify=True, required=True),
                   Field('name', STR, create=True, modify=True, required=True),
                   Field('id', INT, create=True, description='ignored'), Field('weight', NUM),
                   Field('alg', STR), Field('hash', STR),
                   Field('items', {'type': 'array', 'items': CRUSH_ITEM}, create=True, modify=True, required=True)),
    'crush_type': (Field('id', INT), Field('name', STR)),
    'pool': (Field('name', NULLABLE_STR, create=True, modify=True, required=True),
             Field('id', NULLABLE_INT),
             Field('size', NULLABLE_INT, create=True, modify=True),
             Field('pg_num', NULLABLE_INT, create=True, modify=True, required=True),
             Field('crush_ruleset', NULLABLE_INT, create=True, modify=True),
             Field('min_size', NULLABLE_INT, create=True, modify=True),
             Field('crash_replay_interval', NULLABLE_INT, create=True, modify=True,
                   description='kept as pool application metadata; no effect on Pacific'),
             Field('pgp_num', NULLABLE_INT, create=True, modify=True),
             Field('hashpspool', _t(BOOL, 'null'), create=True, modify=True),
             Field('full', _t(BOOL, 'null')),
             Field('quota_max_objects', NULLABLE_INT, create=True, modify=True),
             Field('quota_max_bytes', NULLABLE_INT, create=True, modify=True),
             Field('type', NULLABLE_STR, create=True),
             Field('erasure_code_profile', NULLABLE_STR, create=True)),
    'osd': (Field('uuid', NULLABLE_STR), Field('up', BOOL, modify=True), Field('in', BOOL, modify=True),
            Field('id', INT), Field('reweight', NUM, modify=True), Field('server', NULLABLE_STR),
            Field('pools', {'type': 'array', 'items': {'type': INT}}),
            Field('valid_commands', {'type': 'array', 'items': {'type': STR}}),
            Field('public_addr', STR), Field('cluster_addr', STR),
            Field('crush_node_ancestry', {'type': 'array', 'items': {'type': 'array', 'items': {'type': INT}}}),
            Field('backend_partition_path', NULLABLE_STR), Field('backend_device_node', NULLABLE_STR),
            Field('osd_data', NULLABLE_STR), Field('osd_journal', NULLABLE_STR)),
    'osd_config': tuple(Field(flag, BOOL, modify=True) for flag in (
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
                                    modify=True, required=True)),
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
                          required=True),),
    'debug_job': (Field('cmd', STR, create=True, required=True), Field('args', {'type': 'array'}, create=True)),
    'request_id': (Field('request_id', STR),),
    'login': (Field('username', STR, create=True, required=True),
              Field('password', STR, create=True, required=True, write_only=True)),
}


def _type_schema(field_type: Any) -> Dict[str, Any]:
    return dict(field_type) if isinstance(field_type, dict) else {'type': field_type}


def response_schema(resource: str) -> Dict[str, Any]:
    """JSON schema of the object the API renders (every readable field, required, no extras)."""
    fields = [f for f in RESOURCES[resource] if not f.write_only]
    return {'type': 'object', 'properties': {f.name: _type_schema(f.type) for f in fields},
            'required': [f.name for f in fields], 'additionalProperties': False}


def request_schema(resource: str, create: bool) -> Optional[Dict[str, Any]]:
    """JSON schema of a POST (create) or PATCH (modify) body, or None if the resource takes no body."""
    fields = [f for f in RESOURCES[resource] if (f.create if create else f.modify)]
    if not fields:
        return None
    schema: Dict[str, Any] = {'type': 'object', 'properties': {f.name: _type_schema(f.type) for f in fields}}
    required = [f.name for f in fields if create and f.required]
    if required:
        schema['required'] = required
    return schema
