"""Every checklist item can fail: each broken variant turns its checks red, and only those."""

import re

import pytest

from acceptance.spec import CHECKLIST
from selftest.child import run_child
from selftest.variants import VARIANTS, Variant, materialise


@pytest.mark.parametrize("variant", VARIANTS, ids=[variant.name for variant in VARIANTS])
def test_variant_turns_its_checks_red(variant: Variant, tmp_path) -> None:
    """Assert that the acceptance checks named by the variant fail, with the expected reason, and that
    the variant breaks no unrelated check of the selected subset."""
    infra, server = materialise(variant, tmp_path)
    args = [*variant.checks, f"--infra-dir={infra}", f"--server-dir={server}", *variant.options, "--task-deadline=5"]
    run = run_child(args, tmp_path)
    failed = run.failed()
    for check, words in variant.expect.items():  # words: a regular expression
        assert check in failed, f"{variant.name}: {check} did not fail\n{run.summary()}"
        assert re.search(words, failed[check]), f"{variant.name}: {check} failed without {words!r}:\n{failed[check][:2000]}"
    unrelated = set(failed) - set(variant.expect) - set(variant.may_fail)
    assert unrelated == set(), f"{variant.name}: unrelated checks failed too: {sorted(unrelated)}\n{run.summary()}"
    assert run.passed() or len(failed) == len(run.outcomes), run.summary()


def test_every_checklist_item_has_a_variant() -> None:
    """Assert that no checklist item is without a variant proving its checks can fail."""
    proven = {variant.item for variant in VARIANTS}
    assert set(CHECKLIST) - proven == set()
