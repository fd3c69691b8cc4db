"""Calamari resource: crush (map text, rules, rule sets, nodes, types).

Rules, nodes and types come from the CRUSH dump in the OSD map view (built once per map change).  The text
map is ``osd getcrushmap`` (through librados) decompiled with ``crushtool -d``, cached per OSD map change.
Device-class shadow buckets (``default~hdd``) are not listed as nodes.
Writes become tracked requests: nodes (operations/crush_node.py) through mon commands; rules and the whole
map (operations/crush_rule.py) by compiling a text map here, before anything is sent, and ``osd setcrushmap``.
"""
from typing import Any, List

from . import BaseController
from .. import derived
from ..derived import CrushCompileError, CrushMapUnavailable, crush_map_text, crush_rules, osd_map_view
from ..web.http import ApiRequest, bad_request, detail, not_found_object, not_modified, unavailable
from ..operations import crush_node as node_ops
from ..operations import crush_rule as rule_ops
from ..views import crush_text
from ..views.crush import rule_set_objects


def _find(items: List[Any], key: str, ident: str, kind: str) -> Any:
    for item in items:
        if str(item[key]) == ident:
            return item
    raise not_found_object(kind, ident)


class CrushController(BaseController):
    def map_text(self, request: ApiRequest, fsid: str) -> Any:
        try:
            return crush_map_text(self.services)
        except CrushMapUnavailable as e:
            raise unavailable(f'CRUSH map unavailable: {e}')

    def replace_map(self, request: ApiRequest, fsid: str) -> Any:
        """Body: a CRUSH map in text form, ``Content-Type: text/plain`` (415 otherwise).  It is compiled with
        crushtool (400 with its message if invalid), then set with ``osd setcrushmap``.  200 with
        ``{"request_id"}`` (not 202), as in Calamari."""
        if request.content_type != 'text/plain':
            raise detail(415, f"Unsupported media type '{request.content_type}' in request.")
        try:
            text = request.raw_body.decode('utf-8')
        except UnicodeDecodeError:
            raise bad_request('The CRUSH map text is not UTF-8')
        binary = self._compile(text)
        operation = rule_ops.setcrushmap_operation(f'Replacing CRUSH map in {self.cluster.name}', binary, None, fsid)
        return operation

    @staticmethod
    def _compile(text: str) -> bytes:
        if not text.strip():
            raise bad_request('crushtool: the CRUSH map text is empty')
        try:
            return derived.compile_crush(text)
        except CrushCompileError as e:
            raise bad_request(f'crushtool: {e}')
        except CrushMapUnavailable as e:
            raise unavailable(f'CRUSH map unavailable: {e}')

    def _rule_context(self) -> rule_ops.RuleContext:
        return rule_ops.RuleContext(self.cluster.source('osd_map_crush'), self.cluster.source('osd_map'),
                                    crush_rules(self.cluster))

    def _keep_sizes(self, rule: Any) -> None:
        """Where CRUSH has no rule sizes (Tentacle): remember the ones the client set, for the API to show."""
        rule_ops.store_sizes(self.services.store, self.cluster, rule)

    def _write_rule(self, request: ApiRequest, rule: Any, replacing: Any, headline: str, fsid: str,
                    ctx: rule_ops.RuleContext) -> Any:
        """The current map (fresh, with its version) with the rule added or replaced, compiled and checked."""
        try:
            binary, version = derived.fetch_crush_versioned(self.services.mgr)
            current = derived.dump_crush(binary)
            text = derived.crush_text_of(binary, current)
        except CrushMapUnavailable as e:
            raise unavailable(f'CRUSH map unavailable: {e}')
        new_rule = crush_text.rule_text(rule_ops.rule_for_text(rule))
        try:
            text = crush_text.replace_rule(text, replacing, new_rule) if replacing else crush_text.add_rule(
                text, new_rule)
        except ValueError as e:
            raise detail(409, f'The CRUSH map changed meanwhile: {e}')
        new_binary = self._compile(text)
        try:
            rule_ops.check_same_map(current, derived.dump_crush(new_binary))
        except CrushMapUnavailable as e:
            raise unavailable(f'CRUSH map unavailable: {e}')
        after = None if ctx.has_sizes else (lambda: self._keep_sizes(rule))
        operation = rule_ops.setcrushmap_operation(headline, new_binary, version, fsid, after, rule)
        return operation

    def create_rule(self, request: ApiRequest, fsid: str) -> Any:
        """Body ``{"name", "type", "min_size", "max_size", "steps", "ruleset"}`` (ruleset optional: the lowest free
        rule id).  ``take`` steps need ``item_name`` or ``item`` (an existing bucket or device)."""
        ctx = self._rule_context()
        rule = rule_ops.parse_rule(request.json_object(), 'POST', ctx)
        return self._write_rule(request, rule, None, f'Creating CRUSH rule in {self.cluster.name}', fsid, ctx)

    def update_rule(self, request: ApiRequest, fsid: str, rule_id: str) -> Any:
        """Any of name, ruleset, min_size, max_size, steps; the rest is kept.  304 if nothing changes."""
        ctx = self._rule_context()
        current = rule_ops.find_rule(ctx, int(rule_id))
        rule = rule_ops.parse_rule(request.json_object(), 'PATCH', ctx, current)
        if rule_ops.unchanged(rule, current, ctx):
            return not_modified()
        return self._write_rule(request, rule, current['rule_name'], f'Updating CRUSH rule in {self.cluster.name}',
                                fsid, ctx)

    def delete_rule(self, request: ApiRequest, fsid: str, rule_id: str) -> Any:
        """409 while a pool uses the rule."""
        operation = rule_ops.delete_operation(int(rule_id), self._rule_context(), self.cluster.name, fsid)
        return operation

    def rule_sets(self, request: ApiRequest, fsid: str) -> Any:
        return rule_set_objects(crush_rules(self.cluster))

    def rules(self, request: ApiRequest, fsid: str) -> Any:
        return crush_rules(self.cluster)

    def rule(self, request: ApiRequest, fsid: str, rule_id: str) -> Any:
        return _find(crush_rules(self.cluster), 'id', str(int(rule_id)), 'crush_rule')

    def nodes(self, request: ApiRequest, fsid: str) -> Any:
        return osd_map_view(self.cluster).nodes

    def node(self, request: ApiRequest, fsid: str, node_id: str) -> Any:
        return _find(osd_map_view(self.cluster).nodes, 'id', str(int(node_id)), 'crush_node')

    def _node_context(self) -> node_ops.CrushContext:
        return node_ops.CrushContext(self.cluster.source('osd_map_crush'))

    def create_node(self, request: ApiRequest, fsid: str) -> Any:
        """Body ``{"name", "bucket_type", "items": [{"id", "weight"}]}``: a new bucket holding those items."""
        operation = node_ops.create_operation(request.json_object(), self._node_context(), self.cluster.name, fsid)
        return operation

    def update_node(self, request: ApiRequest, fsid: str, node_id: str) -> Any:
        """Body as for POST (all three fields): rename, and move items in or unlink them; 304 if nothing changes."""
        operation = node_ops.update_operation(int(node_id), request.json_object(), self._node_context(),
                                              self.cluster.name, fsid)
        return not_modified() if operation is None else operation

    def delete_node(self, request: ApiRequest, fsid: str, node_id: str) -> Any:
        """Only an empty bucket (409 otherwise)."""
        operation = node_ops.delete_operation(int(node_id), self._node_context(), self.cluster.name, fsid)
        return operation

    def types(self, request: ApiRequest, fsid: str) -> Any:
        return osd_map_view(self.cluster).types

    def type(self, request: ApiRequest, fsid: str, type_id: str) -> Any:
        return _find(osd_map_view(self.cluster).types, 'id', str(int(type_id)), 'crush_type')


CONTROLLER = CrushController
