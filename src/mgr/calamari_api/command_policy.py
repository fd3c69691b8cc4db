"""Which Ceph commands the API refuses to pass through (``cluster/<fsid>/cli``, restful's ``POST /request``).

Commands that reveal or change cluster secrets (cephx keys, the config-key store where modules keep their keys
and TLS private keys, secret-valued options, module passwords and API keys) are refused with a 403 unless the
operator sets the module option ``allow_secret_commands`` to true.  The table below is the whole policy: each
row is matched against a parsed command dict's ``prefix`` (case, runs of whitespace and ``_``/``-`` do not
matter, so ``Auth  Print_Key`` is ``auth print-key``).  A command no row names is allowed.

Kinds of row:
- ``family``: the prefix and every command under it (``auth`` covers ``auth get``, ``auth rotate``, ...);
- ``exact``: this command only;
- ``allow``: an exception inside a refused family (checked first);
- ``secret-option``: refused when the option it names looks secret, or when it names none (it then reads or
  changes every option, secrets included);
- ``word``: any command whose prefix holds one of these words (module commands that print or set keys and
  passwords, whatever their module calls them).
"""
import re
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

OPTION = 'allow_secret_commands'


class Rule(NamedTuple):
    kind: str           # family | exact | allow | secret-option | word
    pattern: str        # a normalised prefix (for word: one word)
    reason: str         # why, as the refusal and the README say it


POLICY: Tuple[Rule, ...] = (
    # -- cephx keys ----------------------------------------------------------------------------------------
    Rule('family', 'auth', 'reads or changes cephx keys (get, export, ls/list, print-key, get-key, '
                           'get-or-create[-key], caps, add, import, rm/del, rotate, *-pending)'),
    Rule('exact', 'fs authorize', 'creates a cephx key for a CephFS client and prints it'),
    Rule('exact', 'fs subvolume authorize', 'creates a cephx key for a subvolume and prints it'),
    Rule('exact', 'fs subvolume deauthorize', 'removes a cephx key'),
    # -- the config-key store: other modules' secrets, TLS private keys, this module's password hashes --------
    Rule('allow', 'config-key exists', 'answers yes or no: reveals no value'),
    Rule('allow', 'config-key ls', 'lists key names only, no value'),
    Rule('allow', 'config-key list', 'lists key names only, no value'),
    Rule('family', 'config-key', 'reads or changes the config-key store, where modules keep keys and passwords '
                                 '(get, dump, set/put, rm/del)'),
    # -- options whose values are secrets ------------------------------------------------------------------
    Rule('secret-option', 'config get', 'reads a secret-valued option (or, without a key, every option)'),
    Rule('secret-option', 'config show', 'reads a secret-valued option (or, without a key, every option)'),
    Rule('secret-option', 'config set', 'changes a secret-valued option'),
    Rule('secret-option', 'config rm', 'changes a secret-valued option'),
    Rule('exact', 'config dump', 'prints every option, secret-valued ones included'),
    Rule('exact', 'config show-with-defaults', 'prints every option, secret-valued ones included'),
    Rule('exact', 'config log', 'prints past option changes, secret values included'),
    Rule('exact', 'config reset', 'changes every option back to an earlier state, secret-valued ones included'),
    # -- module credentials (dashboard, restful, cephadm, rgw, this module) ---------------------------------
    Rule('family', 'orch certmgr', 'reads or changes TLS certificates and private keys'),
    Rule('exact', 'dashboard ac-user-show', 'prints a dashboard user with its password hash'),
    Rule('exact', 'dashboard ac-user-create', 'sets a dashboard password'),
    Rule('exact', 'dashboard iscsi-gateway-list', 'prints iSCSI gateway URLs with their passwords'),
    Rule('exact', 'dashboard iscsi-gateway-add', 'sets an iSCSI gateway password'),
    Rule('exact', 'influx config-show', "prints the influx module's settings with its password"),
    Rule('exact', 'influx config-set', "changes the influx module's settings, its password included"),
    Rule('exact', 'calamari-api user-create', "sets a password of this API's users"),
    Rule('word', 'key', 'prints or changes a key (e.g. restful create-key/list-keys, dashboard *-secret-key, '
                        'cephadm generate-key)'),
    Rule('word', 'keys', 'prints or changes keys'),
    Rule('word', 'secret', 'prints or changes a secret'),
    Rule('word', 'password', 'prints or changes a password'),
    Rule('word', 'passwd', 'prints or changes a password'),
    Rule('word', 'token', 'prints or changes a token (e.g. calamari-api token-create, rgw realm tokens)'),
    Rule('word', 'tokens', 'prints or changes tokens'),
    Rule('word', 'credentials', 'prints or changes credentials'),
    Rule('word', 'cert', 'changes a TLS certificate and key (e.g. create-self-signed-cert)'),
    Rule('word', 'certificate', 'changes a TLS certificate and key'),
    Rule('word', 'login', 'stores registry or service credentials (e.g. cephadm registry-login)'),
)

# Option names (lower case, split at '_', '.', '/', '-') holding one of these words are secret-valued.
SECRET_OPTION_WORDS = frozenset({'key', 'password', 'passwd', 'secret', 'token', 'credentials', 'credential'})
# Arguments that name the option in `config get/show/set/rm` (Pacific and Tentacle spell it `key` or `name`).
OPTION_ARGS = ('key', 'name')
SPLIT = re.compile(r'[\s_\-]+')
OPTION_SPLIT = re.compile(r'[\s_./\-]+')


def normalise(prefix: str) -> str:
    """``'  Auth   Print_Key '`` -> ``'auth print-key'``: lower case, single spaces, ``_`` as ``-``."""
    return ' '.join(w.replace('_', '-') for w in prefix.lower().split())


def secret_option(name: Any) -> bool:
    """Whether an option name looks secret-valued (``rgw_keystone_admin_password``, ``key``,
    ``mgr/dashboard/RGW_API_SECRET_KEY``); a keyring or key file option holds a path, not a key."""
    words = set(OPTION_SPLIT.split(str(name).lower()))
    if words & {'keyring', 'keyfile', 'file', 'path'}:
        return False
    return bool(words & SECRET_OPTION_WORDS)


def _matches(rule: Rule, prefix: str, command: Dict[str, Any]) -> bool:
    if rule.kind in ('family', 'allow', 'exact', 'secret-option'):
        hit = prefix == rule.pattern or (rule.kind == 'family' and prefix.startswith(rule.pattern + ' '))
        if not hit or rule.kind != 'secret-option':
            return hit
        named = [command[a] for a in OPTION_ARGS if command.get(a) not in (None, '')]
        return not named or any(secret_option(n) for n in named)
    return rule.pattern in SPLIT.split(prefix)          # word


def matching_rule(command: Dict[str, Any]) -> Optional[Rule]:
    """The row that refuses this command, or None (allowed, or an ``allow`` exception)."""
    prefix = command.get('prefix')
    if not isinstance(prefix, str):
        return Rule('exact', '', 'has no command prefix to check')
    prefix = normalise(prefix)
    for rule in POLICY:
        if _matches(rule, prefix, command):
            return None if rule.kind == 'allow' else rule
    return None


def refusal(command: Dict[str, Any], allow_secrets: bool) -> Optional[str]:
    """A clear message when the command is refused, None when allowed.  ``command`` is a parsed mon/mgr
    command dict (``{"prefix": "auth get", "entity": "client.admin"}``)."""
    if allow_secrets:
        return None
    rule = matching_rule(command)
    if rule is None:
        return None
    shown = normalise(str(command.get('prefix', '')))[:80] or '(none)'
    return (f"Command '{shown}' is refused: it {rule.reason}. Commands that reveal or change cluster secrets are "
            f"off unless an operator sets mgr/calamari_api/{OPTION} to true.")


def policy_rows() -> List[Dict[str, str]]:
    """The table, for documentation and tests."""
    return [rule._asdict() for rule in POLICY]
