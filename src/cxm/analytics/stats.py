"""Honest statistics from score histograms: value, 95% CI, change, significance, small-sample handling.

Every score metric is a function of how many answers gave each score, so engines only count
(exactly, identically everywhere) and the statistics are computed once, here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy import stats as scipy_stats

Z95 = scipy_stats.norm.ppf(0.975)
SMALL_SAMPLE = 30
NORMAL_COUNT = 5  # answers needed on each side of a share before its normal approximation is trusted
CES_SCALE = (1.0, 7.0)
SCALE_END_WEIGHT = 0.25  # answers added at each end of a scale by the adjusted t interval of a mean
TAIL_SPREADS = 12  # standard deviations from the mode past which a binomial's probabilities are nil (< 1e-31)
Histogram = Mapping[int, int]


@dataclass(frozen=True)
class Estimate:
    """A metric's value with its sample size, 95% CI and the standard error used for tests."""

    value: float
    n: int
    ci_low: float
    ci_high: float
    se: float
    method: str

    @property
    def small(self) -> bool:
        """Fewer answers than a normal approximation deserves."""
        return self.n < SMALL_SAMPLE


@dataclass(frozen=True)
class Comparison:
    """The difference between two estimates, its 95% CI and a two-sided p-value."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str


def _arrays(histogram: Histogram) -> tuple[np.ndarray, np.ndarray]:
    scores = np.array(sorted(histogram), dtype=float)
    counts = np.array([histogram[int(s)] for s in scores], dtype=float)
    return scores, counts


def nps(histogram: Histogram) -> Estimate:
    """NPS with SE from Var = 100^2 [p + d - (p - d)^2] / n; the adjusted Wald CI where the normal one is poor."""
    scores, counts = _arrays(histogram)
    n = int(counts.sum())
    promoters, detractors = counts[scores >= 9].sum(), counts[scores <= 6].sum()
    p, d = promoters / n, detractors / n
    value = 100 * (p - d)
    se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    if n < 2:
        return _alone(value, se)
    if n < SMALL_SAMPLE or _normal_poor(float(promoters), float(detractors), n):
        low, high = adjusted_wald(float(promoters), float(detractors), n)
        return Estimate(value, n, low, high, se, "adjusted-wald")
    return Estimate(value, n, max(value - Z95 * se, -100.0), min(value + Z95 * se, 100.0), se, "normal")


def _normal_poor(promoters: float, detractors: float, n: int) -> bool:
    """Whether the normal interval of an NPS is untrustworthy: fewer than 5 answers on either side of a share."""
    # The textbook rule for a share's normal approximation, applied to both shares: at 30-100 answers from a mostly
    # promoting population the normal interval held the true NPS in only 85-93% of samples, adjusted Wald in 94-98%
    # (benchmarks/nps_intervals.py); a group of only promoters got an interval of no width.
    return min(promoters, n - promoters, detractors, n - detractors) < NORMAL_COUNT


def adjusted_wald(promoters: float, detractors: float, n: int) -> tuple[float, float]:
    """NPS's adjusted Wald 95% CI (Rocks 2016): 3/4 of an answer added to promoters and detractors, 3 to n."""
    # Rocks found it the most accurate of six intervals for NPS; benchmarks/nps_intervals.py: it holds the true NPS
    # in 90-97% of samples of 3-29 answers, where the percentile bootstrap (used before) held it in 40-94%.
    size = n + 3
    p, d = (promoters + 0.75) / size, (detractors + 0.75) / size
    half = Z95 * math.sqrt((p + d - (p - d) ** 2) / size)
    return max(100 * (p - d - half), -100.0), min(100 * (p - d + half), 100.0)


def _alone(value: float, se: float) -> Estimate:
    """One answer: its value, but no interval (resampling one answer gives only itself, a t interval needs two)."""
    return Estimate(value, 1, math.nan, math.nan, se, "none")


def proportion(successes: int, n: int) -> Estimate:
    """A share in percent with its Wilson 95% interval (sound at small n and near 0 or 100%)."""
    share = successes / n
    centre = (share + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(share * (1 - share) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    se = 100 * math.sqrt(share * (1 - share) / n)
    return Estimate(100 * share, n, 100 * (centre - half), 100 * (centre + half), se, "wilson")


def csat(histogram: Histogram) -> Estimate:
    """CSAT: the share of 4-5 answers on a 1-5 scale, Wilson interval."""
    scores, counts = _arrays(histogram)
    return proportion(int(counts[scores >= 4].sum()), int(counts.sum()))


def mean(histogram: Histogram, scale: tuple[float, float] | None = None) -> Estimate:
    """A mean score with its t interval (cut to the scale's ends where it is known); the adjusted t interval where
    the scale is known and fewer than 5 answers differ from the most common one."""
    scores, counts = _arrays(histogram)
    n = int(counts.sum())
    value = float((scores * counts).sum() / n)
    if n < 2:
        return _alone(value, 0.0)
    if scale is not None and n - counts.max() < NORMAL_COUNT:
        return _adjusted_mean(scores, counts, value, scale)
    se = _mean_se(scores, counts)
    # The t interval for small groups too: at 3-5 answers it held the true mean far more often than the percentile
    # bootstraps (0.84-0.94 vs 0.71-0.91 in benchmarks/nps_intervals.py), from 8 answers about as often as the
    # expanded one.
    half = _t975(n - 1) * se
    low, high = value - half, value + half
    if scale is not None:
        low, high = max(low, scale[0]), min(high, scale[1])
    return Estimate(value, n, low, high, se, "t")


def _mean_se(scores: np.ndarray, counts: np.ndarray) -> float:
    """The standard error of a (weighted) mean: the sample's spread over the square root of its size."""
    size = float(counts.sum())
    centre = float((scores * counts).sum() / size)
    return math.sqrt(float((counts * (scores - centre) ** 2).sum()) / (size - 1) / size)


def _adjusted_mean(scores: np.ndarray, counts: np.ndarray, value: float, scale: tuple[float, float]) -> Estimate:
    """The t interval of the answers with a quarter of an answer added at each end of the scale."""
    # Answers that nearly all agree say little about how far others could stray: 30 answers of 7 from a population
    # whose mean is 6.99 gave the t interval no width, and it held the true mean in 2-64% of samples of 3-100 answers
    # (95%-at-7 populations: 13-91%). The added quarters hold it in 92-100% (benchmarks/nps_intervals.py) and weigh
    # nothing once answers spread out, where the plain t interval is used.
    n, (low_end, high_end) = int(counts.sum()), scale
    scores = np.append(scores, [low_end, high_end])
    counts = np.append(counts, [SCALE_END_WEIGHT, SCALE_END_WEIGHT])
    se, centre = _mean_se(scores, counts), float((scores * counts).sum() / counts.sum())
    half = _t975(n - 1) * se
    low, high = max(min(centre - half, value), low_end), min(max(centre + half, value), high_end)
    return Estimate(value, n, low, high, se, "adjusted-t")


def ces(histogram: Histogram) -> Estimate:
    """CES: the mean effort score on 1-7 with its t interval."""
    return mean(histogram, CES_SCALE)


def z_compare(a: Estimate, b: Estimate) -> Comparison:
    """a - b for NPS: the two-sample z test and its 95% CI; where a group has fewer than 30 answers, the exact test
    of both groups' promoters, passives and detractors, and an interval made of the two groups' own intervals."""
    difference = a.value - b.value
    if a.small or b.small:
        low, high = _nps_small_interval(a, b, difference)
        return Comparison(difference, low, high, _nps_exact_p(a, b), "exact")
    se = math.sqrt(a.se**2 + b.se**2)
    low, high = max(difference - Z95 * se, -200.0), min(difference + Z95 * se, 200.0)  # NPS gaps lie in +-200
    return Comparison(difference, low, high, _two_sided(difference, se), "z")


def _nps_small_interval(a: Estimate, b: Estimate, difference: float) -> tuple[float, float]:
    """The difference's interval from each group's own (adjusted Wald) interval, as Newcombe's is for shares; none
    where a group has one answer (it has no interval: nothing can be said of a difference)."""
    # The z interval borrowed a spread where a group showed none: two answers of 10 gave a gap of 0 from 0 to 0.
    if a.n < 2 or b.n < 2:
        return math.nan, math.nan
    low = difference - math.hypot(a.value - a.ci_low, b.ci_high - b.value)
    high = difference + math.hypot(a.ci_high - a.value, b.value - b.ci_low)
    return max(low, -200.0), min(high, 200.0)


def _nps_counts(e: Estimate) -> tuple[int, int, int]:
    """Promoters, passives and detractors behind an NPS estimate (from its value and standard error)."""
    net = e.value / 100
    extremes = (e.se / 100) ** 2 * e.n + net**2  # se^2 n = p + d - (p - d)^2
    promoters, detractors = round((extremes + net) / 2 * e.n), round((extremes - net) / 2 * e.n)
    return promoters, e.n - promoters - detractors, detractors


def _nps_exact_p(a: Estimate, b: Estimate) -> float:
    """The two-sided p-value of a gap at least this wide if the answers fell into the two groups at random (every
    split of the promoters, passives and detractors of both, given each group's size; the smaller group's counted)."""
    # A normal test on a handful of answers called one 10 against three 7s significant (p = 0.046); this says 0.25.
    small, large = (a, b) if a.n <= b.n else (b, a)
    counts = [x + y for x, y in zip(_nps_counts(small), _nps_counts(large), strict=True)]
    total, size = sum(counts), small.n
    promoters, detractors = np.meshgrid(np.arange(size + 1), np.arange(size + 1), indexing="ij")
    passives = size - promoters - detractors
    possible = (passives >= 0) & (promoters <= counts[0]) & (passives <= counts[1]) & (detractors <= counts[2])
    x, q, y = promoters[possible], passives[possible], detractors[possible]
    chance = np.exp(_log_choose(counts[0], x) + _log_choose(counts[1], q) + _log_choose(counts[2], y)
                    - _log_choose(total, size))  # fmt: skip
    gaps = 100 * ((x - y) / size - (counts[0] - x - counts[2] + y) / (total - size))
    observed = abs(small.value - large.value)
    return float(min(chance[np.abs(gaps) >= observed - 1e-9].sum(), 1.0))


def _log_choose(n: float, k: np.ndarray | int) -> np.ndarray:
    """log C(n, k), for counts too large for exact binomials."""
    return np.asarray(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1))


def proportion_compare(a: Estimate, b: Estimate) -> Comparison:
    """a - b for shares in percent: Newcombe's interval from the Wilson ones; the pooled two-proportion z test, or
    Fisher's exact test where a group has fewer than 30 (the normal approximation's p-values are poor there)."""
    difference = a.value - b.value
    low = difference - math.hypot(a.value - a.ci_low, b.ci_high - b.value)
    high = difference + math.hypot(a.ci_high - a.value, b.value - b.ci_low)
    hits = [round(e.value * e.n / 100) for e in (a, b)]
    if a.small or b.small:
        table = [[hits[0], a.n - hits[0]], [hits[1], b.n - hits[1]]]
        return Comparison(difference, low, high, float(scipy_stats.fisher_exact(table).pvalue), "fisher")
    share = sum(hits) / (a.n + b.n)
    null_se = 100 * math.sqrt(share * (1 - share) * (1 / a.n + 1 / b.n))
    return Comparison(difference, low, high, _two_sided(difference, null_se), "z")


def _two_sided(difference: float, se: float) -> float:
    """The two-sided normal p-value of a difference with this standard error under no difference."""
    if se == 0:
        return 1.0 if difference == 0 else 0.0
    # erfc(|z|/sqrt 2) is the two-sided normal p-value (scipy's sf costs ~50 us a call, and a table has hundreds).
    return float(math.erfc(abs(difference) / se / math.sqrt(2)))


def welch_compare(a: Estimate, b: Estimate) -> Comparison:
    """a - b with Welch's t test (means); no CI or p-value where a group has a single answer."""
    difference = a.value - b.value
    if a.n < 2 or b.n < 2:  # one answer has no spread: nothing can be said about a difference
        return Comparison(difference, math.nan, math.nan, math.nan, "welch")
    se = math.sqrt(a.se**2 + b.se**2)
    if se == 0:
        return Comparison(difference, difference, difference, 1.0 if difference == 0 else 0.0, "welch")
    dof = se**4 / ((a.se**2) ** 2 / (a.n - 1) + (b.se**2) ** 2 / (b.n - 1))
    p_value = 2 * special.stdtr(dof, -abs(difference) / se)  # = scipy's t.sf(|t|, dof)
    half = _t975(dof) * se
    return Comparison(difference, difference - half, difference + half, float(p_value), "welch")


def _t975(dof: float) -> float:
    """The t distribution's 97.5% quantile: the very function scipy's `t.ppf` calls, without its ~50 us of argument
    checks per call (a CES table by channel and day has thousands of groups, each with a CI and a comparison)."""
    return float(special.stdtrit(dof, 0.975))


def count(events: int) -> Estimate:
    """A count of events (responses in a period or group) with its exact (Garwood) Poisson 95% interval."""
    # The rates under which a count this high (low) has a 2.5% chance: chi2.ppf(q, 2k) / 2, written as the gamma
    # quantile scipy's chi2.ppf computes (without its ~0.2 ms of checks a call: a daily table has thousands of rows).
    low = 0.0 if events == 0 else float(special.gammaincinv(events, 0.025))
    high = float(special.gammaincinv(events + 1, 0.975))
    return Estimate(float(events), events, low, high, math.sqrt(events), "exact-poisson")


def rate_compare(a: Estimate, a_time: float, b: Estimate, b_time: float) -> Comparison:
    """The change of a count's rate per unit of time between two spans (in %), by the exact conditional test: given
    both counts' total, a's share of it is binomial with the share of the time a covers when the rates are equal."""
    # Rates, not counts: a period counted in part (a month so far) is compared fairly with a whole one.
    events, expected = int(a.n + b.n), a_time / (a_time + b_time)
    # The Clopper-Pearson interval and the exact p-value, as scipy's binomtest gives them (its ~3 ms a call made a
    # table by channel and month 0.5 s slower; these are the beta quantiles and probabilities it searches).
    low = float(special.betaincinv(a.n, events - a.n + 1, 0.025)) if a.n else 0.0
    high = float(special.betaincinv(a.n + 1, events - a.n, 0.975)) if a.n < events else 1.0
    change = 100 * (_ratio(a.n / events, a_time, b_time) - 1)
    lowest, highest = (100 * (_ratio(share, a_time, b_time) - 1) for share in (low, high))
    return Comparison(change, lowest, highest, _binomial_p(int(a.n), events, expected), "exact-conditional")


def _binomial_p(seen: int, total: int, share: float) -> float:
    """The two-sided exact binomial p-value: every count no likelier than the one seen (as scipy's binomtest)."""
    mode, spread = total * share, math.sqrt(total * share * (1 - share))
    below = float(special.bdtr(seen, total, share))  # P(X <= seen), by the ufunc scipy's binom.cdf calls
    if abs(seen - mode) > TAIL_SPREADS * spread + TAIL_SPREADS:  # both tails far below anything a table shows
        above = float(special.bdtrc(seen - 1, total, share)) if seen else 1.0
        return min(1.0, 2 * min(below, above))
    # Every count likelier than the one seen lies within twice its distance from the mode (and some spreads more):
    # their probabilities are taken in one vectorised call, the far tails (all less likely) as sums.
    reach = 2 * abs(seen - mode) + TAIL_SPREADS * spread + TAIL_SPREADS
    low, high = max(0, math.floor(mode - reach)), min(total, math.ceil(mode + reach))
    chances = scipy_stats.binom.pmf(np.arange(low, high + 1), total, share)
    inside = chances[chances <= chances[seen - low] * (1 + 1e-7)].sum()
    outside = (float(special.bdtr(low - 1, total, share)) if low else 0.0) + float(special.bdtrc(high, total, share))
    return float(min(1.0, inside + outside))


def _ratio(share: float, a_time: float, b_time: float) -> float:
    """The rate ratio a/b where a holds `share` of both counts' events."""
    return math.inf if share >= 1 else share / (1 - share) * b_time / a_time
