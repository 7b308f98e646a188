"""The role harness (bench/role_agreement.py, issue 19): on 60 generated apps from public facts, the engine agrees
with Play's definitions of collected and shared, and no longer calls a service provider's data "shared"."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    sys.path.insert(0, str(REPO))
    from bench import role_agreement

    return role_agreement


def test_cases_cover_every_role_and_label(harness: ModuleType) -> None:
    cases = harness.generate_cases(60, 19)
    assert len(cases) >= 50
    assert all(n >= 10 for n in harness.roles_covered(cases).values()), harness.roles_covered(cases)
    assert {c.label for c in cases} == set(harness.LABELS)
    # The truth is Play's: data to a service provider alone is never a sharing gap.
    for case in cases:
        assert case.truth
        for data_type, (_, share_gap) in case.truth.items():
            recipients = [sdk for sdk, types in case.sends.items() if data_type in types]
            if all(sdk in harness.POOL["service_provider"] for sdk in recipients):
                assert not share_gap, (case.name, data_type)


def test_agreement_before_and_after_roles(harness: ModuleType) -> None:
    cases = harness.generate_cases(60, 19)
    before, _ = harness.run(cases, roles=False)
    after, by_label = harness.run(cases, roles=True)
    assert before.false_alarms > 50, "role-blind, every collected-only service-provider type is a false alarm"
    assert after.false_alarms == 0, "no sharing claim where Play sees none"
    assert after.rate("strict") > before.rate("strict") + 0.2
    assert after.rate("claims") >= 0.95
    # Where the declaration says what each `depends` vendor is, nothing is left to review and all agree.
    stated = by_label["play_stated"]
    assert stated.reviews == 0 and stated.strict == stated.pairs
    # Over-declaring sharing is no gap, with or without roles.
    assert by_label["both"].strict == by_label["both"].pairs
    # A gap the harness planted is found: only a `depends` vendor's setting can hide one, and then it is a review.
    assert after.missed <= after.reviews
