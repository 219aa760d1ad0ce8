"""Lifetime value: BG/NBD (how many more purchases, and whether a member is still active) and Gamma-Gamma
(how much per purchase), fitted by maximum likelihood.

Our own code rather than lifetimes (unmaintained) or PyMC-Marketing (far too heavy for a worker). Both
likelihoods are written in log space with gammaln/betaln and log-sum-exp, maximised over log-parameters (so
every parameter stays positive) with an analytic gradient. Identical (x, t_x, T) rows are merged and weighted
before fitting, so a million members cost as much as their distinct rows. Expected purchases use the closed
form with Gauss's 2F1 (scipy), rewritten so it stays bounded, and a quadrature where scipy's 2F1 fails.
Formulas and equation numbers: Fader, Hardie & Lee (2005), "Counting your customers the easy way" (BG/NBD) and
"RFM and CLV" (Gamma-Gamma), and Fader & Hardie's note "Computing P(alive) using the BG/NBD model". Functions
are unit-agnostic (days, weeks).
"""

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _
from scipy.optimize import minimize
from scipy.special import betaincinv, betaln, digamma, expit, gammaln, hyp2f1
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def as_dict(self) -> dict[str, float]:
        return {key: float(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float
    log_likelihood: float

    def as_dict(self) -> dict[str, float]:
        return {key: float(value) for key, value in asdict(self).items()}


def _array(name, values) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(array)):
        raise ValueError(_("%(name)s has missing or infinite values.") % {"name": name})
    if np.any(array < 0):
        raise ValueError(_("%(name)s has negative values.") % {"name": name})
    return array


def _members(frequency, recency, T, weights=None) -> tuple[np.ndarray, ...]:
    x, t_x, T = _array("frequency", frequency), _array("recency", recency), _array("T", T)
    w = np.ones_like(x) if weights is None else _array("weights", weights)
    if not len(x) == len(t_x) == len(T) == len(w):
        raise ValueError(_("frequency, recency, T and weights must have one entry per member."))
    if np.any(x != np.round(x)):
        raise ValueError(_("frequency must be whole numbers of repeat purchases."))
    if np.any(t_x > T * (1 + 1e-9)):
        raise ValueError(_("recency (first to last purchase) cannot exceed T (first purchase to the end)."))
    if np.any((x == 0) & (t_x > 0)):
        raise ValueError(_("A member without repeat purchases must have recency 0."))
    return x, t_x, T, w


def _distinct(columns) -> tuple[list[np.ndarray], np.ndarray]:
    """Identical rows once: the distinct rows, and for every row the index of its distinct row."""
    frame = pd.DataFrame(dict(enumerate(columns)))
    codes = frame.groupby(list(range(len(columns))), sort=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    return [column[first] for column in columns], codes


def _compress(columns, w) -> tuple[list[np.ndarray], np.ndarray]:
    """Merge identical rows, adding up their weights; rows of weight 0 drop out."""
    rows, codes = _distinct(columns)
    counts = np.bincount(codes, weights=w)
    return [column[counts > 0] for column in rows], counts[counts > 0]


def _maximise(neg_mean_ll, start: np.ndarray, what: str) -> tuple[np.ndarray, float]:
    # Bounds on the log-parameters keep exp() finite while the search wanders.
    bounds = [(-20.0, 20.0)] * len(start)
    # The likelihood's sums over rows are BLAS dot products; OpenBLAS's threads fight for a busy worker's cores
    # (60 times slower on this 2-core machine under load), and one thread does them in microseconds.
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            neg_mean_ll,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 2000},
        )
    # At a bound (e.g. b huge when nobody drops out) the gradient may point outwards; elsewhere it must be ~0.
    pinned = ((result.x <= -20) & (result.jac > 0)) | ((result.x >= 20) & (result.jac < 0))
    if not np.isfinite(result.fun) or np.max(np.abs(result.jac[~pinned]), initial=0) > 1e-4:
        if what == "purchase":
            raise ValueError(_("The purchase model could not be fitted to these data."))
        raise ValueError(_("The spend model could not be fitted to these data."))
    return np.exp(result.x), -result.fun


def bgnbd_fit(*, frequency, recency, T, weights=None) -> BgNbd:
    """BG/NBD by maximum likelihood (eq. 6): frequency = repeat purchases x, recency = t_x, T = first purchase
    to the end of the calibration period; weights = how many members each row stands for."""
    x, t_x, T, w = _members(frequency, recency, T, weights)
    if w.sum() == 0:
        raise ValueError(_("There are no members to fit the purchase model on."))
    if np.sum(w * x) == 0:
        raise ValueError(_("Nobody has made a repeat purchase yet, so the purchase model cannot be fitted."))
    (x, t_x, T), w = _compress((x, t_x, T), w)
    total, repeat = w.sum(), x > 0
    # Terms in x alone are computed once per distinct x (a few hundred values, not a million rows).
    xs, at = np.unique(x, return_inverse=True)
    per_x = np.bincount(at, weights=w)

    def neg_mean_ll(log_params):
        r, alpha, a, b = np.exp(log_params)
        s = r + x
        log_T, log_tx = np.log(alpha + T), np.log(alpha + t_x)
        inverse_gap = 1 / np.maximum(b + xs - 1, 1e-300)  # 1 / (b + x - 1), used only where x > 0
        # ln L = A1 + A2 + ln(e^A3 + d_x e^A4), the last term present only after a repeat purchase.
        a1a2 = gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xs) - betaln(a, b)
        a3 = -s * log_T
        a4 = np.where(repeat, np.log(a) + np.log(inverse_gap)[at] - s * log_tx, -np.inf)
        tail = np.logaddexp(a3, a4)
        # The weight of the "dropped out after the last purchase" branch, times the member's weight.
        dropped = w * np.exp(a4 - tail)
        kept = w - dropped
        d_ab = digamma(a + b) - digamma(a + b + xs)
        grad = [
            r * (np.dot(per_x, digamma(r + xs) - digamma(r) + np.log(alpha)) - kept @ log_T - dropped @ log_tx),
            total * r - alpha * (kept @ (s / (alpha + T)) + dropped @ (s / (alpha + t_x))),
            a * np.dot(per_x, d_ab) + dropped.sum(),
            b * (np.dot(per_x, d_ab + digamma(b + xs) - digamma(b)) - dropped @ inverse_gap[at]),
        ]
        return -(np.dot(per_x, a1a2) + w @ tail) / total, -np.array(grad) / total

    # Start where r / alpha, the mean purchase rate, roughly matches the data: alpha carries the time unit.
    start = np.log([1.0, np.dot(w, T) / np.dot(w, x + 1), 1.0, 1.0])
    (r, alpha, a, b), mean_ll = _maximise(neg_mean_ll, start, "purchase")
    return BgNbd(r=float(r), alpha=float(alpha), a=float(a), b=float(b), log_likelihood=float(mean_ll * total))


def _log_alive_odds(params: BgNbd, x, t_x, T) -> np.ndarray:
    """ln of P(dropped out after the last purchase) / P(alive); -inf for members without a repeat purchase."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    odds = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(x > 0, odds, -np.inf)


def bgnbd_p_alive(params: BgNbd, *, frequency, recency, T) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + d_x a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))."""
    x, t_x, T = _members(frequency, recency, T)[:3]
    return expit(-_log_alive_odds(params, x, t_x, T))


def _closed_form(t, s, scale, a: float, b) -> np.ndarray:
    """E[purchases in the next t] of a member alive now whose rate is Gamma(s, scale) and drop-out probability
    Beta(a, b): c / (a - 1) (1 - (1 - z)^s 2F1(s, b; c; z)) with c = a + b - 1, z = t / (scale + t) (eq. 10).
    Where a - 1 > s that 2F1 stays bounded as z nears 1; elsewhere Euler's transformation
    (1 - z)^s 2F1(s, b; c; z) = (1 - z)^(a - 1) 2F1(c - s, a - 1; c; z) does. Needs c > 0."""
    # a = 1 is a removable singularity; a nudge of 1e-7 changes the result far less than that.
    a = a if abs(a - 1) > 1e-7 else 1 + 1e-7
    c, log_rest = a + b - 1, np.log(scale) - np.log(scale + t)  # ln(1 - z)
    euler = a - 1 <= s
    hyp = hyp2f1(np.where(euler, c - s, s), np.where(euler, a - 1, b), c, t / (scale + t))
    # expm1 keeps the precision of 1 - (1 - z)^power 2F1 when it is small (short t, or a close to 1).
    return -c * np.expm1(np.where(euler, a - 1, s) * log_rest + np.log(hyp)) / (a - 1)


QUANTILE_NODES = 96


def _by_quadrature(t, s, scale, a: float, b) -> np.ndarray:
    """The same expectation by quadrature, for the cases where scipy's 2F1 gives up (extreme parameters, e.g. a fit
    where hardly anyone drops out): the mean of (1 - (1 + p t / scale)^-s) / p over p ~ Beta(a, b), written as an
    integral over the Beta's quantile (p = F^-1(v), v uniform on 0..1) and taken by Gauss-Legendre on v. The
    integrand is then bounded and monotone whatever a and b, and the quantiles are computed once per distinct b
    (b + x: as many as distinct repeat counts), so it is vectorised over members."""
    nodes, weights = np.polynomial.legendre.leggauss(QUANTILE_NODES)
    v, weights = (nodes + 1) / 2, weights / 2
    value = np.empty(t.shape)
    for b_value in np.unique(b):
        at = b == b_value
        p = np.maximum(betaincinv(a, b_value, v), np.finfo(float).tiny)[None, :]
        rate, shape = (t[at] / scale[at])[:, None], s[at][:, None]
        gain = -np.expm1(-shape * np.log1p(p * rate)) / p
        value[at] = np.where(p * rate < 1e-12, shape * rate, gain) @ weights
    return value


def _expected(params: BgNbd, t, x, t_x, T) -> np.ndarray:
    t, s, scale, b = np.broadcast_arrays(t, params.r + x, params.alpha + T, params.b + x)
    a, alive = params.a, np.broadcast_to(expit(-_log_alive_odds(params, x, t_x, T)), t.shape)
    value = np.empty(t.shape)
    # Where c = a + b - 1 < 1 (x = 0 with a + b < 2, or x = 1 with a + b < 1) 2F1 nears its pole at c = 0;
    # Beta(a, b) is the mix b / (a + b) Beta(a, b + 1) + a / (a + b) Beta(a + 1, b), whose terms have c >= 1.
    low = a + b < 2
    with np.errstate(all="ignore"):
        value[~low] = _closed_form(t[~low], s[~low], scale[~low], a, b[~low])
        tl, sl, scale_l, bl = t[low], s[low], scale[low], b[low]
        value[low] = (bl * _closed_form(tl, sl, scale_l, a, bl + 1) + a * _closed_form(tl, sl, scale_l, a + 1, bl)) / (
            a + bl
        )
    # A member alive buys at most s t / scale on average (no drop-out at all): anything else is 2F1 failing.
    failed = ~(np.isfinite(value) & (value >= 0) & (value <= s * t / scale * (1 + 1e-6)))
    value[failed & (alive == 0)] = 0.0
    redo = failed & (alive > 0)
    if redo.any():
        value[redo] = _by_quadrature(t[redo], s[redo], scale[redo], a, b[redo])
    return value * alive


def bgnbd_expected(params: BgNbd, *, t: float, frequency, recency, T) -> np.ndarray:
    """Expected purchases in the next t (eq. 10): P(alive) times the expectation of a member alive, whose rate
    is Gamma(r + x, alpha + T) and drop-out probability Beta(a, b + x) after what was seen."""
    if not t >= 0:
        raise ValueError(_("t must not be negative."))
    (x, t_x, T), codes = _distinct(_members(frequency, recency, T)[:3])
    return _expected(params, float(t), x, t_x, T)[codes]


def bgnbd_expected_new(params: BgNbd, *, t) -> np.ndarray | float:
    """Unconditional E[X(t)] (eq. 7): repeat purchases within t of a member's first purchase; it is the
    conditional expectation for a member seen for no time at all (x = t_x = T = 0)."""
    t_array = _array("t", t)
    values = _expected(params, t_array, np.zeros_like(t_array), np.zeros_like(t_array), np.zeros_like(t_array))
    return float(values[0]) if np.ndim(t) == 0 else values.reshape(np.shape(t))


def bgnbd_simulate(params: BgNbd, *, T, holdout_length: float = 0.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Members drawn from the BG/NBD story, for tests and benchmarks: each has a purchase rate from
    Gamma(r, alpha) and a drop-out probability from Beta(a, b), buys at exponential gaps after a first purchase
    at time 0 and drops out after a repeat purchase with that probability; watched for T, then holdout_length."""
    T = _array("T", T)
    rng = np.random.default_rng(seed)
    rate, drop = rng.gamma(params.r, 1 / params.alpha, len(T)), rng.beta(params.a, params.b, len(T))
    now, x, t_x, holdout = (np.zeros(len(T)) for _ in range(4))
    active = np.flatnonzero(rate > 0)
    while active.size:
        now[active] += rng.standard_exponential(active.size) / rate[active]
        when, ends = now[active], T[active]
        calibration, later = when <= ends, (when > ends) & (when <= ends + holdout_length)
        x[active[calibration]] += 1
        t_x[active[calibration]] = when[calibration]
        holdout[active[later]] += 1
        active = active[(when <= ends + holdout_length) & (rng.random(active.size) >= drop[active])]
    return {"frequency": x, "recency": t_x, "T": T, "holdout_frequency": holdout}


def _spenders(frequency, monetary, weights=None) -> tuple[np.ndarray, ...]:
    x, m = _array("frequency", frequency), _array("monetary", monetary)
    w = np.ones_like(x) if weights is None else _array("weights", weights)
    if not len(x) == len(m) == len(w):
        raise ValueError(_("frequency, monetary and weights must have one entry per member."))
    return x, m, w


def gamma_gamma_fit(*, frequency, monetary, weights=None) -> GammaGamma:
    """Gamma-Gamma by maximum likelihood on the members with repeat purchases of positive mean value
    (monetary = mean value of the repeat purchases); the others say nothing about spend per purchase."""
    x, m, w = _spenders(frequency, monetary, weights)
    keep = (x > 0) & (m > 0) & (w > 0)
    if not keep.any():
        raise ValueError(_("Nobody has a repeat purchase with a positive value, so the spend model cannot be fitted."))
    (x, m), w = _compress((x[keep], m[keep]), w[keep])
    total, wx = w.sum(), w * x
    xs, at = np.unique(x, return_inverse=True)
    per_x = np.bincount(at, weights=w)
    # The likelihood's terms in the data alone (sums of w x ln(x m) and w ln m) are constants of the fit.
    sum_log_xm, sum_log_m = wx @ np.log(x * m), w @ np.log(m)

    def neg_mean_ll(log_params):
        p, q, gamma = np.exp(log_params)
        log_g = np.log(gamma + x * m)
        ll = (
            per_x @ (gammaln(p * xs + q) - gammaln(p * xs))
            + total * (q * np.log(gamma) - gammaln(q))
            + p * sum_log_xm
            - sum_log_m
            - (p * wx + q * w) @ log_g
        )
        grad = [
            p * ((per_x * xs) @ (digamma(p * xs + q) - digamma(p * xs)) + sum_log_xm - wx @ log_g),
            q * (per_x @ digamma(p * xs + q) + total * (np.log(gamma) - digamma(q)) - w @ log_g),
            total * q - gamma * ((p * wx + q * w) @ (1 / (gamma + x * m))),
        ]
        return -ll / total, -np.array(grad) / total

    start = np.log([1.0, 2.0, np.dot(w, m) / total])  # q > 1 so the mean spend exists from the start
    (p, q, gamma), mean_ll = _maximise(neg_mean_ll, start, "spend")
    if q <= 1:
        raise ValueError(_("The fitted spend distribution has no finite mean (q <= 1): too few or too skewed values."))
    return GammaGamma(p=float(p), q=float(q), gamma=float(gamma), log_likelihood=float(mean_ll * total))


def gamma_gamma_spend(params: GammaGamma, *, frequency, monetary) -> np.ndarray:
    """E[spend per purchase | x, m] = p (gamma + x m) / (p x + q - 1), a mix of the population mean
    p gamma / (q - 1) and the member's own mean m that leans on m the more purchases there are; x = 0 gives
    the population mean."""
    x, m = _spenders(frequency, monetary)[:2]
    p, q, gamma = params.p, params.q, params.gamma
    return p * (gamma + x * m) / (p * x + q - 1)


def predicted_value(
    bg: BgNbd,
    gg: GammaGamma,
    *,
    frequency,
    recency,
    T,
    monetary,
    horizon: float,
    period: float,
    discount_rate: float,
    one_year: float = 365.0,
) -> np.ndarray:
    """Discounted expected value over `horizon`:

        value = spend * sum over k = 1..n of (E[Y(e_k)] - E[Y(e_(k-1))]) / (1 + discount_rate) ** (e_k / one_year)

    with steps ending at e_k = min(k * period, horizon), n = ceil(horizon / period), e_0 = 0, E[Y(t)] from
    bgnbd_expected, spend from gamma_gamma_spend, and discount_rate a yearly rate (0.1 = 10 %) applied at the
    end of each step; one_year is a year in the time unit of the data (365 days, 52.18 weeks)."""
    if not (horizon >= 0 and period > 0 and discount_rate > -1 and one_year > 0):
        raise ValueError(_("horizon must not be negative, period and one_year must be positive, discount_rate > -1."))
    (x, t_x, T), codes = _distinct(_members(frequency, recency, T)[:3])
    spend = gamma_gamma_spend(gg, frequency=frequency, monetary=monetary)
    if len(spend) != len(codes):
        raise ValueError(_("monetary must have one entry per member."))
    ends = np.minimum(np.arange(1, int(np.ceil(horizon / period)) + 1) * period, horizon)
    value, before = np.zeros(len(x)), 0.0
    for end in ends:
        expected = _expected(bg, float(end), x, t_x, T)
        value += (expected - before) / (1 + discount_rate) ** (end / one_year)
        before = expected
    return value[codes] * spend


def holdout_check(bg: BgNbd, *, frequency, recency, T, holdout_frequency, holdout_length: float) -> dict:
    """Expected against actual repeat purchases in the holdout period after the calibration period the model
    was fitted on, in total and by calibration frequency (0..6, 7+). error = (expected - actual) / actual,
    None when nobody bought in the holdout."""
    x, t_x, T = _members(frequency, recency, T)[:3]
    actual = _array("holdout_frequency", holdout_frequency)
    if len(actual) != len(x):
        raise ValueError(_("holdout_frequency must have one entry per member."))
    expected = bgnbd_expected(bg, t=holdout_length, frequency=x, recency=t_x, T=T)
    rows = []
    for label, members in [(str(k), x == k) for k in range(7)] + [("7+", x >= 7)]:
        n = int(members.sum())
        rows.append(
            {
                "frequency": label,
                "members": n,
                "expected": float(expected[members].mean()) if n else 0.0,
                "actual": float(actual[members].mean()) if n else 0.0,
            }
        )
    total_expected, total_actual = float(expected.sum()), float(actual.sum())
    error = (total_expected - total_actual) / total_actual if total_actual else None
    return {"expected": total_expected, "actual": total_actual, "error": error, "by_frequency": rows}
