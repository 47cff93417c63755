"""The rules of policies, signers, circles, quorum counting and labels (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.records.factories import vector
from vouch_server.records.policies import (
    Directory,
    Policy,
    PolicyInvalid,
    StatusRule,
    access_rules,
    apply_labels,
    granted,
    matches,
    quorum_reached,
    status_rules,
    targets,
    validate_filter,
    validate_policy,
)

A, B, C, D = (f"{ch * 43}=" for ch in "ABCD")


def directory(
    blocked: tuple[str, ...] = (), circles: dict[str, list[str]] | None = None
) -> Directory:
    signers = [
        (key, name, "blocked" if name in blocked else "active")
        for key, name in [(A, "alice"), (B, "bob"), (C, "carol"), (D, "dave")]
    ]
    return Directory.build(signers, [(h, "active", m) for h, m in (circles or {}).items()])


ENVELOPE = {
    "data": {"schema": "fintech", "amount": 10, "tags": ["a", "b"], "party": {"country": "LT"}},
    "meta": {"status": "created", "labels": ["preferred"]},
}


class TestMatches:
    @pytest.mark.parametrize(
        "spec",
        [
            {},
            {"data.schema": "fintech"},
            {"data.party.country": "LT"},
            {"data.tags": "a"},
            {"meta.labels": "preferred"},
            {"data.amount": {"$gte": 10, "$lt": 11}},
            {"data.schema": {"$in": ["bank", "fintech"]}},
            {"data.schema": {"$nin": ["bank"]}},
            {"data.missing": {"$exists": False}},
            {"$or": [{"data.schema": "bank"}, {"meta.status": "created"}]},
        ],
    )
    def test_matching_filters_match(self, spec: dict[str, Any]) -> None:
        assert matches(spec, ENVELOPE)

    @pytest.mark.parametrize(
        "spec",
        [
            {"data.schema": "bank"},
            {"data.amount": "10"},
            {"data.amount": {"$gt": "9"}},
            {"data.schema": {"$ne": "fintech"}},
            {"data.missing": {"$exists": True}},
            {"$and": [{"data.schema": "fintech"}, {"meta.status": "active"}]},
        ],
    )
    def test_other_filters_do_not_match(self, spec: dict[str, Any]) -> None:
        assert not matches(spec, ENVELOPE)

    def test_unknown_operator_is_invalid(self) -> None:
        with pytest.raises(PolicyInvalid, match="unknown operator"):
            validate_filter({"data.schema": {"$regex": ".*"}})


class TestTargets:
    @pytest.mark.parametrize("name", [None, "any", "vendors", "vendor"])
    def test_policy_record_names_the_resource_singular_or_plural(self, name: str | None) -> None:
        assert targets(name, "vendors")

    def test_other_resource_is_not_targeted(self) -> None:
        assert not targets("signer", "vendors")

    def test_policies_singular_is_policy(self) -> None:
        assert targets("policy", "policies")


class TestValidatePolicy:
    def test_minka_vector_access_policy_is_valid(self) -> None:
        validate_policy(vector("access policy")["data"])

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"schema": "quorum", "values": [{}]}, "data.schema"),
            ({"schema": "status", "values": []}, "non-empty"),
            ({"schema": "status", "values": [{"threshold": 2}]}, "needs a quorum"),
            (
                {"schema": "status", "values": [{"quorum": [{"handle": "a"}], "threshold": 0}]},
                "positive",
            ),
            ({"schema": "status", "values": [{"quorum": [{"name": "a"}]}]}, "unknown selector"),
            ({"schema": "status", "values": [{"status": "has space"}]}, "status"),
            ({"schema": "access", "values": [{"action": "delete"}]}, "action"),
            ({"schema": "labels", "values": [{"label": "a", "unique": True}]}, "unique"),
            (
                {"schema": "labels", "values": [{"labels": ["a"], "unique": ["data.wallet"]}]},
                "unique",
            ),
            ({"schema": "labels", "values": [{"labels": []}]}, "non-empty"),
            ({"schema": "labels", "values": [{"labels": "urgent"}]}, "non-empty list"),
            ({"schema": "labels", "values": [{"labels": ["has space"]}]}, r"values\[0\]\.labels"),
            ({"schema": "status", "values": [{"quorum": [{"public": "short"}]}]}, "public"),
        ],
    )
    def test_malformed_policies_are_refused(self, data: dict[str, Any], message: str) -> None:
        with pytest.raises(PolicyInvalid, match=message):
            validate_policy(data)


class TestDirectory:
    def test_circle_members_are_resolved_by_handle_or_key(self) -> None:
        d = directory(circles={"admin": ["alice", B, "nobody"]})
        assert d.selected({"$circle": "admin"}) == {A, B}

    def test_blocked_signer_is_neither_active_nor_selected(self) -> None:
        d = directory(blocked=("bob",), circles={"admin": ["alice", "bob"]})
        assert not d.is_active(B)
        assert d.selected({"$circle": "admin"}) == {A}
        assert d.selected({"handle": "bob"}) == frozenset()

    def test_inactive_circle_has_no_members(self) -> None:
        d = Directory.build([(A, "alice", "active")], [("admin", "blocked", ["alice"])])
        assert d.selected({"$circle": "admin"}) == frozenset()

    def test_selector_keys_must_all_hold(self) -> None:
        d = directory(circles={"admin": ["alice"]})
        assert d.selected({"handle": "bob", "$circle": "admin"}) == frozenset()
        assert d.selected({"$circle": {"$in": ["admin", "ops"]}, "public": A}) == {A}


class TestAccessRules:
    def test_vector_policy_grants_any_action_to_its_circle(self) -> None:
        policy = Policy("admin-policy", vector("access policy")["data"])
        d = directory(circles={"admin": ["alice"]})
        rules = access_rules([policy], "proof", "signers", ENVELOPE)
        assert granted(rules, A, d)
        assert not granted(rules, B, d)

    def test_rule_for_another_action_does_not_speak_about_this_one(self) -> None:
        policy = Policy("p", {"schema": "access", "values": [{"action": "create"}]})
        assert access_rules([policy], "update", "records", ENVELOPE) == []


class TestQuorumReached:
    RULE = StatusRule("p", ({"handle": "alice"}, {"handle": "bob"}, {"handle": "carol"}), 2)

    def test_one_vote_of_two_needed_is_not_enough(self) -> None:
        assert quorum_reached(self.RULE, {A: "approved"}, "approved", directory()) is None

    def test_two_distinct_eligible_signers_reach_it(self) -> None:
        votes = {A: "approved", C: "approved"}
        assert quorum_reached(self.RULE, votes, "approved", directory()) == sorted([A, C])

    def test_votes_for_another_status_do_not_count(self) -> None:
        votes = {A: "approved", B: "rejected"}
        assert quorum_reached(self.RULE, votes, "approved", directory()) is None

    def test_signer_outside_the_quorum_does_not_count(self) -> None:
        votes = {A: "approved", D: "approved"}
        assert quorum_reached(self.RULE, votes, "approved", directory()) is None

    def test_blocked_signer_does_not_count(self) -> None:
        votes = {A: "approved", B: "approved"}
        assert quorum_reached(self.RULE, votes, "approved", directory(blocked=("bob",))) is None

    def test_without_threshold_every_named_signer_must_agree(self) -> None:
        rule = StatusRule("p", ({"handle": "alice"}, {"handle": "bob"}), None)
        assert quorum_reached(rule, {A: "ok"}, "ok", directory()) is None
        assert quorum_reached(rule, {A: "ok", B: "ok"}, "ok", directory()) == sorted([A, B])

    def test_quorum_naming_no_active_signer_is_never_met(self) -> None:
        rule = StatusRule("p", ({"$circle": "empty"},), None)
        assert quorum_reached(rule, {A: "ok"}, "ok", directory(circles={"empty": []})) is None


class TestStatusRules:
    POLICY = Policy(
        "p",
        {
            "schema": "status",
            "values": [
                {"status": ["approved", "rejected"], "quorum": [{"handle": "alice"}]},
                {"status": {"$in": ["archived"]}},
            ],
        },
    )

    def test_rules_allowing_the_status_are_returned(self) -> None:
        assert [r.quorum for r in status_rules([self.POLICY], "rejected")] == [
            ({"handle": "alice"},)
        ]
        assert [r.quorum for r in status_rules([self.POLICY], "archived")] == [None]

    def test_status_no_rule_allows_gives_no_rules(self) -> None:
        assert status_rules([self.POLICY], "active") == []


class TestApplyLabels:
    def test_push_adds_and_reports_the_added_labels(self) -> None:
        assert apply_labels(["a"], {"$push": ["b", "a"]}) == (["a", "b"], ["b"])

    def test_pull_and_pull_all_remove(self) -> None:
        assert apply_labels(["a", "b", "c"], {"$pull": "a", "$pullAll": ["c"]}) == (["b"], [])

    def test_plain_list_replaces_without_duplicates(self) -> None:
        assert apply_labels(["a"], ["x", "x", "a"]) == (["x", "a"], ["x"])

    def test_push_each_is_accepted(self) -> None:
        assert apply_labels([], {"$push": {"$each": ["a", "b"]}}) == (["a", "b"], ["a", "b"])

    @pytest.mark.parametrize(
        "spec", [{"$set": ["a"]}, "a", {"$push": [1]}, {"$pullAll": "a"}, ["has space"]]
    )
    def test_malformed_operations_are_refused(self, spec: Any) -> None:
        with pytest.raises(PolicyInvalid):
            apply_labels([], spec)
