"""mgr_commands: the mgr-served commands answered from mgr.get() data, against what the ceph CLI printed on real
clusters of both releases (tests/fixtures/mgr_commands_<release>.json, made by tools/capture-mgr-command-fixtures:
the get() data and the CLI's JSON read right after it)."""
import errno
import json
import os
import types
from typing import Any, Dict, List

import pytest

from calamari_api import compat, mgr_commands
from tests.support.fake_ceph import FIXTURES, freeze
from tests.unit.test_writes_misc import DESCRIPTIONS

RELEASES = ('pacific', 'tentacle')
# what moves between the get() and the CLI's read a moment later: the PG map's version and stamps, OSD report
# sequence numbers, network ping times (all their fields are figures of the last minutes)
VOLATILE = {'version', 'stamp', 'stamp_delta', 'seq', 'last', '1min', '5min', '15min', 'last update'}


def fixture(release: str) -> Dict[str, Any]:
    with open(os.path.join(FIXTURES, f'mgr_commands_{release}.json')) as f:
        return json.load(f)


def differences(mine: Any, cli: Any, path: str = '') -> List[str]:
    """Where two JSON values differ in structure (keys, lengths, types) or in a value that is not volatile."""
    if isinstance(mine, dict) and isinstance(cli, dict):
        if set(mine) != set(cli):
            return [f'{path}: keys {sorted(set(mine) ^ set(cli))}']
        return [d for key in mine for d in differences(mine[key], cli[key], f'{path}.{key}')]
    if isinstance(mine, list) and isinstance(cli, list):
        if len(mine) != len(cli):
            return [f'{path}: {len(mine)} items, the CLI {len(cli)}']
        return [d for i, (a, b) in enumerate(zip(mine, cli)) for d in differences(a, b, f'{path}[{i}]')]
    if type(mine) is not type(cli):         # int and float too: Go clients decode 0.0 into an integer field as an error
        return [f'{path}: {type(mine).__name__}, the CLI {type(cli).__name__}']
    if mine != cli and path.rsplit('.', 1)[-1] not in VOLATILE:
        return [f'{path}: {mine!r}, the CLI {cli!r}']
    return []


def services(sources: Dict[str, Any]) -> Any:
    """A services stand-in whose mgr.get() returns read-only data, as Ceph's main branch does."""
    frozen = freeze(sources)
    return types.SimpleNamespace(mgr=types.SimpleNamespace(get=lambda name: frozen.get(name)))


@pytest.mark.parametrize('release', RELEASES)
@pytest.mark.parametrize('prefix', ['pg dump', 'osd perf', 'osd pool stats'])
def test_answers_as_the_cli_printed(release, prefix):
    captured = fixture(release)
    r, outb, outs = mgr_commands.answer(services(captured['sources']), {'prefix': prefix, 'format': 'json'},
                                        compat.CLI_SHAPES[release])
    assert r == 0
    assert outs == ('dumped all' if prefix == 'pg dump' else '')
    assert differences(json.loads(outb), captured['cli'][prefix]) == []


@pytest.mark.parametrize('release', RELEASES)
def test_the_fixture_is_not_trivial(release):
    """The comparison above means something: OSDs, PGs of two pools, a pool with an object."""
    cli = fixture(release)['cli']
    assert len(cli['osd perf']['osdstats']['osd_perf_infos']) == 3
    assert {s['pool_name'] for s in cli['osd pool stats']} >= {'rbd'}
    assert cli['pg dump']['pg_map']['pg_stats_sum']['stat_sum']['num_objects'] >= 1


def test_release_shapes_differ_only_in_ping_times():
    pacific, tentacle = (fixture(r)['cli']['pg dump']['pg_map']['osd_stats'][0] for r in RELEASES)
    assert 'network_ping_times' in pacific and 'network_ping_times' not in tentacle


@pytest.mark.parametrize('command', [
    {'prefix': 'pg dump', 'format': 'json', 'dumpcontents': ['all']},
    {'prefix': 'pg dump', 'format': 'json-pretty'},
])
def test_pg_dump_forms(command):
    captured = fixture('pacific')
    r, outb, _ = mgr_commands.answer(services(captured['sources']), command, compat.CLI_SHAPES['pacific'])
    assert r == 0 and differences(json.loads(outb), captured['cli']['pg dump']) == []


def test_json_pretty_is_indented():
    _, outb, _ = mgr_commands.answer(services(fixture('tentacle')['sources']),
                                     {'prefix': 'osd perf', 'format': 'json-pretty'})
    assert outb.startswith('{\n    "pg_ready"')


@pytest.mark.parametrize('command', [
    {'prefix': 'status', 'format': 'json'},                       # the mon's
    {'prefix': 'df', 'format': 'json', 'detail': 'detail'},       # the mon's too (MgrStatMonitor)
    {'prefix': 'osd tree', 'format': 'json'},
    {'prefix': 'pg dump'},                                        # plain text: not reproduced, the mon answers
    {'prefix': 'pg dump', 'format': 'plain'},
    {'prefix': 'pg dump', 'format': 'json', 'dumpcontents': ['pgs_brief']},
    {'format': 'json'},
])
def test_other_commands_go_to_the_mon(command):
    assert mgr_commands.answer(services(fixture('pacific')['sources']), command) is None


def test_one_pool_and_an_unknown_pool():
    sources = fixture('tentacle')['sources']
    r, outb, _ = mgr_commands.answer(services(sources), {'prefix': 'osd pool stats', 'pool_name': 'rbd',
                                                         'format': 'json'})
    assert r == 0 and [s['pool_name'] for s in json.loads(outb)] == ['rbd']
    # the CLI: "Error ENOENT: unrecognized pool 'nosuch'"
    unknown = {'prefix': 'osd pool stats', 'pool_name': 'nosuch', 'format': 'json'}
    assert mgr_commands.answer(services(sources), unknown) == (-errno.ENOENT, '', "unrecognized pool 'nosuch'")


def test_no_pg_statistics_yet_is_eagain():
    sources = dict(fixture('tentacle')['sources'], osd_stats=None)
    r, outb, outs = mgr_commands.answer(services(sources), {'prefix': 'osd perf', 'format': 'json'})
    assert (r, outb) == (-errno.EAGAIN, '') and outs


# -- the v2 cli route answers them too (it denied them: the mon refuses mgr commands from a module) ----------
PG_DUMP_DESCRIPTION = {'sig': ['pg', 'dump', {'name': 'dumpcontents', 'type': 'CephChoices', 'n': 'N', 'req': 'false',
                                              'strings': 'all|summary|sum|delta|pools|osds|pgs|pgs_brief'}],
                       'help': 'show human-readable versions of pg map', 'module': 'pg', 'perm': 'r', 'flags': 8}


def test_cli_route_answers_pg_dump(module, client, fsid):
    release = 'tentacle' if compat.RUNNING_CLI_SHAPE == compat.CLI_SHAPES['tentacle'] else 'pacific'
    captured = fixture(release)
    module.maps.update(captured['sources'])
    sent = []

    def handler(cmd):
        sent.append(cmd)
        if cmd['prefix'] == 'get_command_descriptions':
            return 0, json.dumps(dict(DESCRIPTIONS, cmd100=PG_DUMP_DESCRIPTION)), ''
        return -13, '', 'access denied'
    module.command_handler = handler
    body = client.post(f'/api/v2/cluster/{fsid}/cli', {'command': 'ceph pg dump --format json'}).json()
    assert (body['status'], body['err']) == (0, 'dumped all')
    assert differences(json.loads(body['out']), captured['cli']['pg dump']) == []
    assert [c['prefix'] for c in sent] == ['get_command_descriptions']      # nothing went to the mon
    body = client.post(f'/api/v2/cluster/{fsid}/cli', {'command': 'pg dump'}).json()
    assert body['status'] == -13 and sent[-1] == {'prefix': 'pg dump'}      # plain text: still the mon's
