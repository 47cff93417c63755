"""Policies, signers and circles: the rules that decide who may sign what, and when a status
changes. Pure functions over already-loaded records; no database access here.

Policy records (Minka Ledger "About Security Policies", "About Status Policies", "About Labels"):

``{schema: "access", record?, filter?, values: [{action, signer?, record?, filter?}]}``
    who may create records, update them and add proofs to them.
``{schema: "status", record?, filter?, values: [{status?, quorum?, threshold?}]}``
    which statuses a record may take, and which signers must agree before it does.
``{schema: "labels", record?, filter?, values: [{labels: [...]} | {label} | "label"]}``
    which labels a record may be given (Minka documents ``{labels: [...]}``; the other two are
    vouch's shorthands).

``record`` targets a resource by name, singular or plural (``"signer"`` / ``"signers"``), or
``"any"``; ``filter`` is a MongoDB-style filter over the record envelope (``data.schema``,
``meta.status``, ``meta.labels``, …). A policy applies to a record when both match and the policy
itself is active. Signer selectors name signers by ``public`` key, by ``handle``, or by
``$circle`` (a circle handle or ``{"$in": [...]}``); several keys in one selector must all hold.

Where Minka's public documentation is silent, the strict reading is taken (docs/records.md):
only active signers and active circles count; a quorum without ``threshold`` needs every signer
it names; votes are counted per distinct public key, only over the record's current hash and only
since the last status change, and only each signer's latest request counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vouch_server.records.signatures import decode_public

ACTIVE_STATUSES = frozenset({"created", "active"})
POLICY_SCHEMAS = ("access", "status", "labels")
ACCESS_ACTIONS = frozenset({"any", "create", "update", "proof", "read"})
SELECTOR_KEYS = frozenset({"public", "handle", "$circle"})
FILTER_OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", "$exists", "$gt", "$gte", "$lt", "$lte"})
LABEL_RE = re.compile(r"^[^\s]{1,255}$")
STATUS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_MISSING: Any = object()


class PolicyInvalid(ValueError):
    """A policy, filter, selector or labels operation that is not well formed."""


# -- resources ------------------------------------------------------------------------------------
def singular(resource: str) -> str:
    if resource.endswith("ies"):
        return resource[:-3] + "y"
    return resource[:-1] if resource.endswith("s") else resource


def targets(record_field: Any, resource: str) -> bool:
    """Whether a policy's (or rule's) ``record`` names this resource."""
    if record_field is None or record_field == "any":
        return True
    return record_field in (resource, singular(resource))


# -- filters --------------------------------------------------------------------------------------
def validate_filter(spec: Any, where: str = "filter") -> None:
    if not isinstance(spec, dict):
        raise PolicyInvalid(f"{where} must be an object")
    for key, condition in spec.items():
        if key in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                raise PolicyInvalid(f"{where}.{key} must be a non-empty list of filters")
            for index, part in enumerate(condition):
                validate_filter(part, f"{where}.{key}[{index}]")
            continue
        if key.startswith("$"):
            raise PolicyInvalid(f"{where}: unknown operator {key!r}")
        if isinstance(condition, dict) and any(k.startswith("$") for k in condition):
            for op, operand in condition.items():
                if op not in FILTER_OPERATORS:
                    raise PolicyInvalid(f"{where}.{key}: unknown operator {op!r}")
                if op in ("$in", "$nin") and not isinstance(operand, list):
                    raise PolicyInvalid(f"{where}.{key}.{op} must be a list")
                if op == "$exists" and not isinstance(operand, bool):
                    raise PolicyInvalid(f"{where}.{key}.$exists must be true or false")


def _resolve(doc: Any, parts: Sequence[str]) -> list[Any]:
    """Every value at a dotted path; a list along the way fans out, as in MongoDB."""
    if not parts:
        return [doc]
    if isinstance(doc, dict):
        if parts[0] not in doc:
            return []
        return _resolve(doc[parts[0]], parts[1:])
    if isinstance(doc, list):
        out: list[Any] = []
        for item in doc:
            out.extend(_resolve(item, parts))
        return out
    return []


def _same(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1, and 1 equals 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _equals(value: Any, expected: Any) -> bool:
    if _same(value, expected):
        return True
    return isinstance(value, list) and any(_same(item, expected) for item in value)


def _compare(value: Any, op: str, operand: Any) -> bool:
    """Ordering between two numbers or two strings; anything else does not match."""
    if isinstance(value, bool) or isinstance(operand, bool):
        return False
    pair_ok = (isinstance(value, int | float) and isinstance(operand, int | float)) or (
        isinstance(value, str) and isinstance(operand, str)
    )
    if not pair_ok:
        return False
    a: Any = value
    b: Any = operand
    if op == "$gt":
        return bool(a > b)
    if op == "$gte":
        return bool(a >= b)
    if op == "$lt":
        return bool(a < b)
    return bool(a <= b)


def _condition(values: list[Any], condition: Any) -> bool:
    if not (isinstance(condition, dict) and any(k.startswith("$") for k in condition)):
        return any(_equals(v, condition) for v in values)
    for op, operand in condition.items():
        if op == "$eq":
            ok = any(_equals(v, operand) for v in values)
        elif op == "$ne":
            ok = not any(_equals(v, operand) for v in values)
        elif op == "$in":
            ok = any(_equals(v, item) for v in values for item in operand)
        elif op == "$nin":
            ok = not any(_equals(v, item) for v in values for item in operand)
        elif op == "$exists":
            ok = bool(values) == operand
        else:
            ok = any(_compare(v, op, operand) for v in values)
        if not ok:
            return False
    return True


def matches(spec: Mapping[str, Any] | None, doc: Mapping[str, Any]) -> bool:
    """MongoDB-style match of ``spec`` against a record envelope (``data``, ``meta``, …)."""
    if not spec:
        return True
    for key, condition in spec.items():
        if key == "$and":
            if not all(matches(part, doc) for part in condition):
                return False
        elif key == "$or":
            if not any(matches(part, doc) for part in condition):
                return False
        elif not _condition(_resolve(doc, key.split(".")), condition):
            return False
    return True


# -- signers, circles and selectors ---------------------------------------------------------------
def validate_selector(selector: Any, where: str) -> None:
    if not isinstance(selector, dict) or not selector:
        raise PolicyInvalid(f"{where} must be a non-empty signer selector object")
    unknown = set(selector) - SELECTOR_KEYS
    if unknown:
        raise PolicyInvalid(f"{where}: unknown selector key(s) {sorted(unknown)}")
    if "public" in selector:
        if not isinstance(selector["public"], str):
            raise PolicyInvalid(f"{where}.public must be a base64 public key")
        try:
            decode_public(selector["public"])
        except ValueError as exc:
            raise PolicyInvalid(f"{where}.public: {exc}") from exc
    if "handle" in selector and not isinstance(selector["handle"], str):
        raise PolicyInvalid(f"{where}.handle must be a string")
    if "$circle" in selector:
        circle = selector["$circle"]
        if isinstance(circle, dict):
            names = circle.get("$in")
            if set(circle) != {"$in"} or not isinstance(names, list) or not names:
                raise PolicyInvalid(f"{where}.$circle must be a handle or {{'$in': [handles]}}")
            if not all(isinstance(n, str) for n in names):
                raise PolicyInvalid(f"{where}.$circle.$in must list circle handles")
        elif not isinstance(circle, str):
            raise PolicyInvalid(f"{where}.$circle must be a handle or {{'$in': [handles]}}")


@dataclass(frozen=True)
class Signer:
    public: str
    handle: str | None
    active: bool


@dataclass
class Directory:
    """The signers and circles of one project and environment, as they stand now."""

    signers: dict[str, Signer] = field(default_factory=dict)  # by public key
    by_handle: dict[str, str] = field(default_factory=dict)  # handle → public key
    circles: dict[str, frozenset[str]] = field(default_factory=dict)  # active circles → keys

    @classmethod
    def build(
        cls,
        signers: Iterable[tuple[str, str | None, str]],
        circles: Iterable[tuple[str, str, list[Any]]],
    ) -> Directory:
        """``signers``: (public, handle, status); ``circles``: (handle, status, data.signers)."""
        directory = cls()
        for public, handle, status in signers:
            directory.signers[public] = Signer(public, handle, status in ACTIVE_STATUSES)
            if handle:
                directory.by_handle[handle] = public
        for handle, status, members in circles:
            if status not in ACTIVE_STATUSES:
                continue
            keys = {directory.key_of(m) for m in members if isinstance(m, str)}
            directory.circles[handle] = frozenset(k for k in keys if k and directory.is_active(k))
        return directory

    def key_of(self, name: str) -> str | None:
        """A signer's key from its handle or its key."""
        if name in self.by_handle:
            return self.by_handle[name]
        return name if name in self.signers else None

    def is_active(self, public: str) -> bool:
        signer = self.signers.get(public)
        return signer is not None and signer.active

    def selected(self, selector: Mapping[str, Any]) -> frozenset[str]:
        """The active signers a selector names."""
        candidates = {p for p, s in self.signers.items() if s.active}
        if "public" in selector:
            candidates &= {selector["public"]}
        if "handle" in selector:
            key = self.by_handle.get(selector["handle"])
            candidates &= {key} if key else set()
        if "$circle" in selector:
            circle = selector["$circle"]
            names = circle["$in"] if isinstance(circle, dict) else [circle]
            members: set[str] = set()
            for name in names:
                members |= self.circles.get(name, frozenset())
            candidates &= members
        return frozenset(candidates)

    def selects(self, selector: Mapping[str, Any] | None, public: str) -> bool:
        if not self.is_active(public):
            return False
        return selector is None or public in self.selected(selector)


# -- policy records ------------------------------------------------------------------------------
def validate_policy(data: Mapping[str, Any]) -> None:
    schema = data.get("schema")
    if schema not in POLICY_SCHEMAS:
        raise PolicyInvalid(f"data.schema must be one of {list(POLICY_SCHEMAS)}")
    if "record" in data and not isinstance(data["record"], str):
        raise PolicyInvalid("data.record must be a resource name or 'any'")
    if "filter" in data:
        validate_filter(data["filter"], "data.filter")
    values = data.get("values")
    if not isinstance(values, list) or not values:
        raise PolicyInvalid("data.values must be a non-empty list")
    for index, value in enumerate(values):
        where = f"data.values[{index}]"
        if schema == "access":
            _validate_access_rule(value, where)
        elif schema == "status":
            _validate_status_rule(value, where)
        else:
            _validate_label_rule(value, where)


def _validate_access_rule(rule: Any, where: str) -> None:
    if not isinstance(rule, dict):
        raise PolicyInvalid(f"{where} must be an object")
    unknown = set(rule) - {"action", "signer", "record", "filter"}
    if unknown:
        raise PolicyInvalid(f"{where}: unknown key(s) {sorted(unknown)}")
    if rule.get("action") not in ACCESS_ACTIONS:
        raise PolicyInvalid(f"{where}.action must be one of {sorted(ACCESS_ACTIONS)}")
    if "signer" in rule:
        validate_selector(rule["signer"], f"{where}.signer")
    if "record" in rule and not isinstance(rule["record"], str):
        raise PolicyInvalid(f"{where}.record must be a resource name or 'any'")
    if "filter" in rule:
        validate_filter(rule["filter"], f"{where}.filter")


def _status_names(spec: Any) -> list[str] | None:
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return spec
    if isinstance(spec, dict) and set(spec) == {"$in"} and isinstance(spec["$in"], list):
        return spec["$in"]
    return None


def _validate_status_rule(rule: Any, where: str) -> None:
    if not isinstance(rule, dict):
        raise PolicyInvalid(f"{where} must be an object")
    unknown = set(rule) - {"status", "quorum", "threshold"}
    if unknown:
        raise PolicyInvalid(f"{where}: unknown key(s) {sorted(unknown)}")
    if "status" in rule:
        names = _status_names(rule["status"])
        if not names or not all(isinstance(n, str) and STATUS_RE.fullmatch(n) for n in names):
            raise PolicyInvalid(f"{where}.status must be a status, a list of them, or {{'$in'}}")
    if "quorum" in rule:
        quorum = rule["quorum"]
        if not isinstance(quorum, list) or not quorum:
            raise PolicyInvalid(f"{where}.quorum must be a non-empty list of signer selectors")
        for index, selector in enumerate(quorum):
            validate_selector(selector, f"{where}.quorum[{index}]")
    if "threshold" in rule:
        threshold = rule["threshold"]
        if "quorum" not in rule:
            raise PolicyInvalid(f"{where}.threshold needs a quorum")
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
            raise PolicyInvalid(f"{where}.threshold must be a positive integer")


def _rule_labels(rule: Any, where: str) -> list[str]:
    """The labels one labels-policy rule grants: Minka's ``{labels: [...]}``, or ``{label}``, or a
    bare label."""
    if isinstance(rule, dict):
        if "unique" in rule:
            raise PolicyInvalid(f"{where}.unique: label uniqueness constraints are not supported")
        if set(rule) == {"labels"}:
            labels = rule["labels"]
            if not isinstance(labels, list) or not labels:
                raise PolicyInvalid(f"{where}.labels must be a non-empty list of labels")
            where, candidates = f"{where}.labels", labels
        elif set(rule) == {"label"}:
            candidates = [rule["label"]]
        else:
            raise PolicyInvalid(
                f"{where} must be {{'labels': [...]}}, {{'label': label}} or a label"
            )
    else:
        candidates = [rule]
    for label in candidates:
        if not isinstance(label, str) or not LABEL_RE.fullmatch(label):
            raise PolicyInvalid(f"{where} must hold labels (1-255 characters, no whitespace)")
    return candidates


def _validate_label_rule(rule: Any, where: str) -> None:
    _rule_labels(rule, where)


@dataclass(frozen=True)
class Policy:
    handle: str
    data: Mapping[str, Any]

    @property
    def schema(self) -> str:
        return str(self.data.get("schema"))

    def applies_to(self, resource: str, envelope: Mapping[str, Any]) -> bool:
        return targets(self.data.get("record"), resource) and matches(
            self.data.get("filter"), envelope
        )


def applicable(
    policies: Iterable[Policy], schema: str, resource: str, envelope: Mapping[str, Any]
) -> list[Policy]:
    return [p for p in policies if p.schema == schema and p.applies_to(resource, envelope)]


# -- access ----------------------------------------------------------------------------------------
def access_rules(
    policies: Iterable[Policy], action: str, resource: str, envelope: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    """The rules of applicable access policies that speak about ``action`` on this record."""
    rules = []
    for policy in applicable(policies, "access", resource, envelope):
        for rule in policy.data["values"]:
            if rule["action"] not in (action, "any"):
                continue
            if targets(rule.get("record"), resource) and matches(rule.get("filter"), envelope):
                rules.append(rule)
    return rules


def granted(rules: Iterable[Mapping[str, Any]], public: str, directory: Directory) -> bool:
    return any(directory.selects(rule.get("signer"), public) for rule in rules)


# -- status ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StatusRule:
    policy: str
    quorum: tuple[Mapping[str, Any], ...] | None
    threshold: int | None

    def eligible(self, directory: Directory) -> frozenset[str]:
        keys: set[str] = set()
        for selector in self.quorum or ():
            keys |= directory.selected(selector)
        return frozenset(keys)

    def needed(self, directory: Directory) -> int:
        # Strict reading: without a threshold every signer the quorum names must agree; a quorum
        # that names nobody active can never be met (never "zero of zero").
        if self.threshold is not None:
            return self.threshold
        return max(1, len(self.eligible(directory)))


def status_rules(policies: Iterable[Policy], status: str) -> list[StatusRule]:
    """The rules of the given (applicable) status policies that allow ``status``."""
    rules = []
    for policy in policies:
        for value in policy.data["values"]:
            names = _status_names(value["status"]) if "status" in value else None
            if names is not None and status not in names:
                continue
            quorum = value.get("quorum")
            rules.append(
                StatusRule(
                    policy.handle,
                    tuple(quorum) if quorum else None,
                    value.get("threshold"),
                )
            )
    return rules


def quorum_reached(
    rule: StatusRule, votes: Mapping[str, str], status: str, directory: Directory
) -> list[str] | None:
    """The agreeing signers when ``rule`` is satisfied for ``status``, else ``None``.

    ``votes`` maps each signer's key to the status it asked for last (since the last change,
    over the current hash); a signer counts once however many proofs it added.
    """
    if rule.quorum is None:
        agreeing = [key for key, asked in votes.items() if asked == status]
        return sorted(k for k in agreeing if directory.is_active(k)) or None
    eligible = rule.eligible(directory)
    agreeing = sorted(key for key, asked in votes.items() if asked == status and key in eligible)
    return agreeing if len(agreeing) >= rule.needed(directory) else None


# -- labels ----------------------------------------------------------------------------------------
def _label_list(value: Any, where: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if isinstance(items, dict) and set(items) in ({"$each"}, {"$in"}):
        items = next(iter(items.values()))
    if not isinstance(items, list):
        raise PolicyInvalid(f"{where} must be a label or a list of labels")
    for item in items:
        if not isinstance(item, str) or not LABEL_RE.fullmatch(item):
            raise PolicyInvalid(f"{where}: labels are 1-255 characters without whitespace")
    return items


def apply_labels(current: Sequence[str], spec: Any) -> tuple[list[str], list[str]]:
    """Apply ``custom.labels`` (a list that replaces, or ``$push``/``$pull``/``$pullAll``).

    Returns the new labels (deduplicated, in first-seen order) and the labels it adds.
    """
    if isinstance(spec, list):
        result = list(dict.fromkeys(_label_list(spec, "custom.labels")))
    elif isinstance(spec, dict) and spec and set(spec) <= {"$push", "$pull", "$pullAll"}:
        removed: set[str] = set()
        if "$pull" in spec:
            removed |= set(_label_list(spec["$pull"], "custom.labels.$pull"))
        if "$pullAll" in spec:
            if not isinstance(spec["$pullAll"], list):
                raise PolicyInvalid("custom.labels.$pullAll must be a list of labels")
            removed |= set(_label_list(spec["$pullAll"], "custom.labels.$pullAll"))
        pushed = _label_list(spec["$push"], "custom.labels.$push") if "$push" in spec else []
        result = [label for label in current if label not in removed]
        result = list(dict.fromkeys([*result, *pushed]))
    else:
        raise PolicyInvalid("custom.labels must be a list or an object of $push, $pull, $pullAll")
    before = set(current)
    return result, [label for label in result if label not in before]


def allowed_labels(policies: Iterable[Policy]) -> set[str]:
    labels: set[str] = set()
    for policy in policies:
        for index, value in enumerate(policy.data["values"]):
            labels.update(_rule_labels(value, f"values[{index}]"))
    return labels
