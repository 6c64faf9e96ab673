"""The statistics against textbook formulas and scipy on raw samples."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from cxm.analytics import stats


def histogram(scores: list[int]) -> dict[int, int]:
    """Counts per score."""
    values, counts = np.unique(scores, return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def test_nps_standard_error_follows_the_formula() -> None:
    scores = [10] * 50 + [8] * 30 + [3] * 20
    found = stats.nps(histogram(scores))
    p, d = 0.5, 0.2
    assert found.value == pytest.approx(30.0)
    assert found.se == pytest.approx(100 * np.sqrt((p + d - (p - d) ** 2) / 100))
    assert found.method == "normal" and found.ci_low == pytest.approx(30 - 1.959964 * found.se, abs=1e-4)


def test_small_nps_samples_get_the_adjusted_wald_interval_and_a_flag() -> None:
    found = stats.nps(histogram([10, 10, 9, 2, 7]))
    # Rocks (2016): 3 promoters + 0.75 and 1 detractor + 0.75 out of 5 + 3.
    p, d = 3.75 / 8, 1.75 / 8
    half = 1.959964 * np.sqrt((p + d - (p - d) ** 2) / 8)
    assert found.small and found.method == "adjusted-wald" and found.value == pytest.approx(40)
    assert (found.ci_low, found.ci_high) == pytest.approx((100 * (p - d - half), 100 * (p - d + half)), abs=1e-3)


@pytest.mark.parametrize(
    ("promoters", "passives", "detractors"), [(40, 0, 0), (60, 36, 4), (2, 10, 88), (97, 3, 0)], ids=str
)
def test_nps_of_a_lopsided_group_gets_the_adjusted_wald_interval_at_any_size(
    promoters: int, passives: int, detractors: int
) -> None:
    found = stats.nps({10: promoters, 7: passives, 0: detractors})
    n = promoters + passives + detractors
    assert not found.small and found.method == "adjusted-wald"
    assert (found.ci_low, found.ci_high) == pytest.approx(stats.adjusted_wald(promoters, detractors, n))
    assert found.ci_high - found.ci_low > 2  # never an interval of no width, as the normal one gives 40 promoters


def test_nps_of_a_balanced_group_of_30_keeps_the_normal_interval() -> None:
    found = stats.nps({10: 15, 7: 10, 0: 5})
    assert found.method == "normal" and found.ci_low == pytest.approx(found.value - 1.959964 * found.se, abs=1e-4)


def test_lopsided_nps_intervals_from_30_answers_cover_the_true_score() -> None:
    rng = np.random.default_rng(12)
    shares = [0.02, 0.08, 0.9]  # detractors, passives, promoters
    samples = rng.multinomial(40, shares, size=400)
    found = [stats.nps({s: int(c) for s, c in zip((0, 7, 10), counts, strict=True) if c}) for counts in samples]
    # The normal interval held it in 0.85-0.92 at 30-50 answers (benchmarks/nps_intervals.py).
    assert np.mean([e.ci_low <= 88 <= e.ci_high for e in found]) >= 0.93


def test_small_nps_intervals_hold_their_estimate_and_stay_within_the_scale() -> None:
    for n in range(2, 30):
        for promoters in range(n + 1):
            for detractors in range(n + 1 - promoters):
                counts = {10: promoters, 7: n - promoters - detractors, 0: detractors}
                found = stats.nps({score: count for score, count in counts.items() if count})
                assert -100 <= found.ci_low <= found.value <= found.ci_high <= 100, (n, promoters, detractors)


def test_small_nps_intervals_cover_the_true_score_about_95_times_in_100() -> None:
    rng = np.random.default_rng(11)
    for shares in ([0.2, 0.3, 0.5], [0.05, 0.1, 0.85]):  # detractors, passives, promoters
        truth = 100 * (shares[2] - shares[0])
        samples = rng.multinomial(8, shares, size=400)
        found = [stats.nps({0: int(d), 7: int(p), 10: int(r)}) for d, p, r in samples]
        # The percentile bootstrap this replaced held it in 0.71-0.92 at n = 8 (benchmarks/nps_intervals.py).
        assert np.mean([e.ci_low <= truth <= e.ci_high for e in found]) >= 0.88


def test_small_mean_samples_get_the_t_interval_cut_to_the_scale() -> None:
    answers = [7] * 5 + [6] * 4 + [1]  # five answers differ from the most common one
    found = stats.ces(histogram(answers))
    expected = scipy_stats.t.interval(0.95, 9, loc=6.0, scale=scipy_stats.sem(answers))
    assert found.small and found.method == "t" and found.ci_low == pytest.approx(expected[0], rel=1e-12)
    assert expected[1] > 7 and found.ci_high == 7


def test_answers_that_nearly_all_agree_still_get_an_interval_of_some_width() -> None:
    for answers in ([7] * 30, [4] * 5, [7] * 96 + [6] * 4, [1, 1, 2]):
        found = stats.ces(histogram(answers))
        assert found.method == "adjusted-t" and found.n == len(answers)
        assert 1 <= found.ci_low <= found.value <= found.ci_high <= 7, answers
        assert found.ci_high - found.ci_low > 0.05 and found.se > 0, answers
    # The t interval of the thirty 7s with a quarter of an answer at 1 and at 7 weighted in.
    weights = np.array([30, 0.25, 0.25])
    values = np.array([7.0, 1.0, 7.0])
    centre = np.average(values, weights=weights)
    se = math.sqrt(np.sum(weights * (values - centre) ** 2) / (weights.sum() - 1) / weights.sum())
    assert stats.ces(histogram([7] * 30)).ci_low == pytest.approx(centre - scipy_stats.t.ppf(0.975, 29) * se)


def test_ceiling_means_are_held_about_95_times_in_100() -> None:
    rng = np.random.default_rng(5)
    shares = [0, 0, 0, 0, 0.01, 0.04, 0.95]
    truth = float(np.dot(shares, range(1, 8)))
    samples = rng.multinomial(20, shares, size=400)
    found = [stats.ces({s + 1: int(c) for s, c in enumerate(row) if c}) for row in samples]
    # The plain t interval held it in 0.64 of samples of 20 (no width at all when every answer was 7).
    assert np.mean([e.ci_low <= truth <= e.ci_high for e in found]) >= 0.93


def test_wilson_interval_of_a_known_case() -> None:
    found = stats.proportion(8, 10)
    assert (found.ci_low, found.ci_high) == pytest.approx((49.016, 94.331), abs=1e-2)
    assert stats.proportion(0, 12).ci_low == pytest.approx(0.0, abs=1e-12)


def test_welch_matches_scipy_on_raw_samples() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.integers(1, 8, 80), rng.integers(2, 8, 45)
    found = stats.welch_compare(stats.mean(histogram(a.tolist())), stats.mean(histogram(b.tolist())))
    expected = scipy_stats.ttest_ind(a, b, equal_var=False)
    assert found.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert found.difference == pytest.approx(a.mean() - b.mean())


def test_nps_difference_z_test() -> None:
    a, b = stats.nps(histogram([10] * 60 + [5] * 40)), stats.nps(histogram([10] * 40 + [5] * 60))
    found = stats.z_compare(a, b)
    z = 40 / np.sqrt(a.se**2 + b.se**2)
    assert found.difference == pytest.approx(40) and found.p_value == pytest.approx(2 * scipy_stats.norm.sf(z))
    assert found.ci_low < 40 < found.ci_high


def test_mean_interval_is_scipys_t_interval() -> None:
    scores = [1] * 7 + [4] * 20 + [6] * 33 + [7] * 12
    found = stats.mean(histogram(scores))
    expected = scipy_stats.t.interval(0.95, len(scores) - 1, loc=np.mean(scores), scale=scipy_stats.sem(scores))
    assert (found.ci_low, found.ci_high) == pytest.approx(expected, rel=1e-12) and found.method == "t"


def test_welch_interval_uses_the_welch_degrees_of_freedom() -> None:
    a, b = stats.mean(histogram([2] * 40 + [6] * 60)), stats.mean(histogram([1] * 10 + [7] * 25))
    found = stats.welch_compare(a, b)
    dof = (a.se**2 + b.se**2) ** 2 / (a.se**4 / (a.n - 1) + b.se**4 / (b.n - 1))
    half = scipy_stats.t.ppf(0.975, dof) * np.sqrt(a.se**2 + b.se**2)
    assert (found.ci_low, found.ci_high) == pytest.approx((found.difference - half, found.difference + half), rel=1e-12)


def test_one_answer_against_many_is_not_significant() -> None:
    nps_rest, csat_rest = histogram([10] * 40 + [8] * 40 + [3] * 36), histogram([5] * 40 + [3] * 40 + [1] * 36)
    for one, rest, estimate, compare in (
        ([10], nps_rest, stats.nps, stats.z_compare),
        ([5], csat_rest, stats.csat, stats.proportion_compare),
    ):
        found = compare(estimate(histogram(one)), estimate(rest))
        assert found.difference > 50 and found.p_value > 0.05
    assert stats.proportion_compare(stats.csat(histogram([5])), stats.csat(csat_rest)).ci_low < 0
    # 117 answers, 41 promoters and 36 detractors: dealt at random, the one answer is as far off with chance 77/117.
    assert stats.z_compare(stats.nps(histogram([10])), stats.nps(nps_rest)).p_value == pytest.approx(77 / 117)
    lone = stats.welch_compare(stats.mean(histogram([7])), stats.mean(histogram([1, 2, 3] * 20)))
    assert lone.difference == 5 and np.isnan(lone.p_value) and np.isnan(lone.ci_low)
    for estimate in (stats.nps(histogram([10])), stats.mean(histogram([7]))):  # no interval from one answer
        assert estimate.method == "none" and np.isnan(estimate.ci_low) and np.isnan(estimate.ci_high)


def _split_p(a: list[int], b: list[int]) -> float:
    """The share of all ways to deal both groups' answers into groups of their sizes that give an NPS gap at least
    as wide as the one seen (a permutation test, every split counted)."""
    both = a + b

    def gap(first: list[int], second: list[int]) -> float:
        return stats.nps(histogram(first)).value - stats.nps(histogram(second)).value

    seen, wide = abs(gap(a, b)), 0
    splits = list(itertools.combinations(range(len(both)), len(a)))
    for chosen in splits:
        picked = set(chosen)
        first = [both[i] for i in chosen]
        wide += abs(gap(first, [both[i] for i in range(len(both)) if i not in picked])) >= seen - 1e-9
    return wide / len(splits)


@pytest.mark.parametrize(
    ("a", "b"),
    [([10], [7, 7, 7]), ([10, 7, 7], [10, 10, 9, 3, 8, 6]), ([10, 9, 2, 6, 8], [3, 4, 10, 1, 7, 7, 0]), ([10], [10])],
)
def test_small_nps_groups_are_compared_by_the_exact_test(a: list[int], b: list[int]) -> None:
    found = stats.z_compare(stats.nps(histogram(a)), stats.nps(histogram(b)))
    assert found.test == "exact" and found.p_value == pytest.approx(_split_p(a, b), abs=1e-9)


def test_small_nps_gaps_get_an_interval_from_both_groups_intervals() -> None:
    two_promoters = stats.nps(histogram([10, 10]))
    same = stats.z_compare(two_promoters, two_promoters)
    assert same.difference == 0 and same.ci_low < -50 and same.ci_high > 50  # two answers each say little
    a, b = stats.nps(histogram([10, 9, 2, 6, 8])), stats.nps(histogram([3, 4, 10, 1, 7, 7, 0]))
    found = stats.z_compare(a, b)
    low = found.difference - math.hypot(a.value - a.ci_low, b.ci_high - b.value)
    assert found.ci_low == pytest.approx(low) and found.ci_high == pytest.approx(
        found.difference + math.hypot(a.ci_high - a.value, b.value - b.ci_low)
    )
    lone = stats.z_compare(stats.nps(histogram([10])), stats.nps(histogram([7, 7, 7])))
    assert np.isnan(lone.ci_low) and np.isnan(lone.ci_high) and lone.p_value == pytest.approx(0.25)


def test_small_shares_are_compared_by_fishers_exact_test() -> None:
    a, b = stats.proportion(9, 10), stats.proportion(20, 40)
    found = stats.proportion_compare(a, b)
    assert found.test == "fisher"
    assert found.p_value == pytest.approx(scipy_stats.fisher_exact([[9, 1], [20, 20]]).pvalue, rel=1e-12)


def test_large_shares_use_the_pooled_z_test_and_newcombes_interval() -> None:
    a, b = stats.proportion(60, 100), stats.proportion(45, 100)
    found = stats.proportion_compare(a, b)
    pooled = 105 / 200
    z = 0.15 / np.sqrt(pooled * (1 - pooled) * (2 / 100))
    assert found.test == "z" and found.p_value == pytest.approx(2 * scipy_stats.norm.sf(z), rel=1e-9)
    # Newcombe (1998), method 10, from the two Wilson intervals.
    low = 15 - np.hypot(a.value - a.ci_low, b.ci_high - b.value)
    high = 15 + np.hypot(a.ci_high - a.value, b.value - b.ci_low)
    assert (found.ci_low, found.ci_high) == pytest.approx((low, high)) and found.ci_low < 15 < found.ci_high


def test_count_intervals_hold_the_rate_they_were_drawn_from() -> None:
    assert stats.count(0).ci_low == 0 and stats.count(0).ci_high == pytest.approx(3.6889, abs=1e-4)
    assert (stats.count(10).ci_low, stats.count(10).ci_high) == pytest.approx((4.7954, 18.3904), abs=1e-4)
    rng = np.random.default_rng(5)
    for rate in (2.0, 15.0, 120.0):
        drawn = rng.poisson(rate, 2000)
        held = np.mean([stats.count(int(k)).ci_low <= rate <= stats.count(int(k)).ci_high for k in drawn])
        assert held >= 0.95  # exact intervals never hold less than promised


def test_rate_changes_weigh_the_time_each_count_covers() -> None:
    # 40 responses in 10 days against 100 in 30: the rate rose by a third, whatever the raw counts say.
    found = stats.rate_compare(stats.count(40), 10.0, stats.count(100), 30.0)
    assert found.difference == pytest.approx(100 * (4 / (10 / 3) - 1))
    assert found.ci_low < found.difference < found.ci_high
    same = stats.rate_compare(stats.count(30), 10.0, stats.count(90), 30.0)
    assert same.difference == pytest.approx(0) and same.p_value == pytest.approx(1.0)
    assert stats.rate_compare(stats.count(60), 10.0, stats.count(60), 30.0).p_value < 1e-6


@pytest.mark.parametrize(
    ("events", "before", "days", "days_before"),
    [
        (40, 100, 10, 30),
        (5, 0, 1, 3),
        (0, 7, 1, 1),
        (120, 100, 30, 31),
        (4000, 4100, 30, 31),
        (5099, 4902, 1, 1),
        (30000, 28900, 31, 30),
        (600000, 590000, 31, 30),
        (10, 5_000_000, 1, 1),
    ],
)
def test_rate_changes_equal_scipys_exact_binomial_test(events: int, before: int, days: int, days_before: int) -> None:
    found = stats.rate_compare(stats.count(events), float(days), stats.count(before), float(days_before))
    exact = scipy_stats.binomtest(events, events + before, days / (days + days_before))
    share = exact.proportion_ci(confidence_level=0.95, method="exact")
    as_change = [math.inf if s >= 1 else 100 * (s / (1 - s) * days_before / days - 1) for s in (share.low, share.high)]
    assert (found.ci_low, found.ci_high) == pytest.approx(as_change, rel=1e-9, abs=1e-9)
    assert found.p_value == pytest.approx(exact.pvalue, rel=1e-9)  # exact at any size (a window of the likely counts)
