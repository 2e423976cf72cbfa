"""Validity and outcome of a vote under the 村民委员会组织法, as pure integer arithmetic.

Every threshold is a fraction compared by cross-multiplication (``count * den > total * num``),
never a float, so "exactly half" and "exactly two thirds" land on the right side.
The selectors gather the counts; these functions only decide and explain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Tally:
    yes: int = 0
    no: int = 0
    abstain: int = 0

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain


@dataclass(frozen=True)
class Outcome:
    valid: bool
    passed: bool
    tally: Tally
    reasons: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.valid:
            return "invalid"
        return "passed" if self.passed else "failed"

    @property
    def label(self) -> str:
        return {
            "invalid": _("无效（未达到法定人数）"),
            "passed": _("通过"),
            "failed": _("未通过"),
        }[self.status]


def reaches(count: int, total: int, numerator: int, denominator: int, *, strict: bool) -> bool:
    """count / total > numerator / denominator (strict) or ≥ (not strict), exactly."""
    if total <= 0:
        return False
    left, right = count * denominator, total * numerator
    return left > right if strict else left >= right


def _fraction_text(numerator: int, denominator: int, strict: bool) -> str:
    if (numerator, denominator) == (1, 2):
        words = _("半数")
    elif (numerator, denominator) == (2, 3):
        words = _("三分之二")
    elif numerator == denominator:
        words = _("全部")
    else:
        words = _("%(d)s分之%(n)s") % {"d": denominator, "n": numerator}
    return (_("超过%(w)s") if strict else _("达到%(w)s")) % {"w": words}


def _majority(tally: Tally, base: int, base_label: str, num: int, den: int, strict: bool):
    passed = reaches(tally.yes, base, num, den, strict=strict)
    reason = _("赞成%(yes)d票，%(base_label)s%(base)d，须%(rule)s：%(verdict)s") % {
        "yes": tally.yes,
        "base_label": base_label,
        "base": base,
        "rule": _fraction_text(num, den, strict),
        "verdict": _("通过") if passed else _("未通过"),
    }
    return passed, reason


def villagers_assembly_outcome(
    *,
    adults_present: int,
    adults_eligible: int,
    households_represented: int,
    households_total: int,
    present: int,
    tally: Tally,
) -> Outcome:
    """村民会议 (art. 22): valid when more than half of the residents aged 18+ attend, or at
    least two thirds of the households are represented; a decision needs more than half of
    those present."""
    by_adults = reaches(adults_present, adults_eligible, 1, 2, strict=True)
    by_households = reaches(households_represented, households_total, 2, 3, strict=False)
    reasons = [
        _("到会年满十八周岁村民%(p)d人，应到%(e)d人，须超过半数：%(v)s")
        % {"p": adults_present, "e": adults_eligible, "v": _("达到") if by_adults else _("未达到")},
        _("到会代表户%(p)d户，全村%(e)d户，须达到三分之二：%(v)s")
        % {
            "p": households_represented,
            "e": households_total,
            "v": _("达到") if by_households else _("未达到"),
        },
    ]
    if not (by_adults or by_households):
        reasons.append(_("会议未达到法定人数，表决无效（《村民委员会组织法》第二十二条）"))
        return Outcome(valid=False, passed=False, tally=tally, reasons=reasons)
    passed, reason = _majority(tally, present, _("到会人员"), 1, 2, True)
    reasons.append(reason)
    return Outcome(valid=True, passed=passed, tally=tally, reasons=reasons)


def representatives_assembly_outcome(
    *, members_present: int, members_total: int, tally: Tally
) -> Outcome:
    """村民代表会议 (art. 26): valid with at least two thirds of the members present;
    a decision needs more than half of those present."""
    valid = reaches(members_present, members_total, 2, 3, strict=False)
    reasons = [
        _("到会村民代表%(p)d人，应到%(e)d人，须达到三分之二：%(v)s")
        % {"p": members_present, "e": members_total, "v": _("达到") if valid else _("未达到")}
    ]
    if not valid:
        reasons.append(_("会议未达到法定人数，表决无效（《村民委员会组织法》第二十六条）"))
        return Outcome(valid=False, passed=False, tally=tally, reasons=reasons)
    passed, reason = _majority(tally, members_present, _("到会人员"), 1, 2, True)
    reasons.append(reason)
    return Outcome(valid=True, passed=passed, tally=tally, reasons=reasons)


@dataclass(frozen=True)
class BodyRules:
    quorum_numerator: int = 1
    quorum_denominator: int = 2
    quorum_strict: bool = True
    majority_numerator: int = 1
    majority_denominator: int = 2
    majority_strict: bool = True
    majority_on_present: bool = False


def configured_outcome(
    *,
    rules: BodyRules,
    members_present: int,
    members_total: int,
    present: int,
    tally: Tally,
) -> Outcome:
    """Any other body: its own quorum over its members (none if it has no members) and its own
    majority over the votes cast or over those present."""
    reasons = []
    if members_total > 0:
        valid = reaches(
            members_present,
            members_total,
            rules.quorum_numerator,
            rules.quorum_denominator,
            strict=rules.quorum_strict,
        )
        reasons.append(
            _("到会成员%(p)d人，应到%(e)d人，须%(rule)s：%(v)s")
            % {
                "p": members_present,
                "e": members_total,
                "rule": _fraction_text(
                    rules.quorum_numerator, rules.quorum_denominator, rules.quorum_strict
                ),
                "v": _("达到") if valid else _("未达到"),
            }
        )
        if not valid:
            reasons.append(_("会议未达到法定人数，表决无效"))
            return Outcome(valid=False, passed=False, tally=tally, reasons=reasons)
    else:
        reasons.append(_("本次会议不设法定人数，到会%(p)d人") % {"p": present})
    if rules.majority_on_present:
        base, base_label = present, _("到会人员")
    else:
        base, base_label = tally.cast, _("实际投票")
    passed, reason = _majority(
        tally,
        base,
        base_label,
        rules.majority_numerator,
        rules.majority_denominator,
        rules.majority_strict,
    )
    reasons.append(reason)
    return Outcome(valid=True, passed=passed, tally=tally, reasons=reasons)


def household_ballot_outcome(
    *, households_voted: int, households_total: int, tally: Tally
) -> Outcome:
    """一户一票: valid when more than half of the eligible households voted; passed when more
    than half of the households that voted agree."""
    valid = reaches(households_voted, households_total, 1, 2, strict=True)
    reasons = [
        _("已投票%(p)d户，应投%(e)d户，须超过半数：%(v)s")
        % {"p": households_voted, "e": households_total, "v": _("达到") if valid else _("未达到")}
    ]
    if not valid:
        reasons.append(_("参与投票的户数不足，表决无效"))
        return Outcome(valid=False, passed=False, tally=tally, reasons=reasons)
    passed, reason = _majority(tally, tally.cast, _("实际投票户数"), 1, 2, True)
    reasons.append(reason)
    return Outcome(valid=True, passed=passed, tally=tally, reasons=reasons)
