"""BG/NBD + Gamma-Gamma on generated members: fit time, scoring time, and whether the fit finds what was planted.

    .venv/bin/python -m bench.clv_fit [--members 1000000] [--years 3] [--continuous]

Members are drawn from the models themselves (analytics.clv.bgnbd_simulate) with CDNOW's published parameters
turned into days (alpha = 4.414 * 7): first purchases spread over --years, the period ending today. Times are in
whole days, as the CRM computes them, unless --continuous (every row distinct: the worst case for merging
identical rows). Spend per purchase is drawn from Gamma-Gamma with CDNOW's p, q, gamma. No database.
CPU seconds are printed beside wall seconds, as the machine is shared.
"""

import argparse
import os
import resource
import time

import numpy as np

from analytics.clv import (
    BgNbd,
    bgnbd_expected,
    bgnbd_fit,
    bgnbd_p_alive,
    bgnbd_simulate,
    gamma_gamma_fit,
    predicted_value,
)

PLANTED = BgNbd(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426, log_likelihood=0.0)
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--continuous", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    T = rng.uniform(0, args.years * 365, args.members)
    if not args.continuous:
        T = np.floor(T)
    members = bgnbd_simulate(PLANTED, T=T, seed=1)
    x, recency = members["frequency"], members["recency"]
    if not args.continuous:
        recency = np.floor(recency)
    value_rate = rng.gamma(SPEND["q"], 1 / SPEND["gamma"], args.members)
    monetary = np.where(x > 0, rng.gamma(SPEND["p"] * np.maximum(x, 1), 1 / value_rate) / np.maximum(x, 1), 0.0)
    history = {"frequency": x, "recency": recency, "T": T}
    distinct = len({(a, b, c) for a, b, c in zip(x, recency, T, strict=True)})

    timings = {}

    def timed(name, call):
        started, cpu = time.perf_counter(), time.process_time()
        result = call()
        timings[name] = (time.perf_counter() - started, time.process_time() - cpu)
        return result

    bg = timed("BG/NBD fit", lambda: bgnbd_fit(**history))
    gg = timed("Gamma-Gamma fit", lambda: gamma_gamma_fit(frequency=x, monetary=monetary))
    timed("P(alive), everyone", lambda: bgnbd_p_alive(bg, **history))
    timed("expected purchases in 365 days, everyone", lambda: bgnbd_expected(bg, t=365.0, **history))
    timed(
        "predicted value, 365 days in 30-day steps at 10 %/year, everyone",
        lambda: predicted_value(bg, gg, **history, monetary=monetary, horizon=365, period=30, discount_rate=0.1),
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kind = "continuous times" if args.continuous else "whole days"
    print(f"{args.members:,} members ({kind}, {distinct:,} distinct (x, t_x, T) rows, {int(x.sum()):,} repeat")
    print(f"purchases, {int((x > 0).sum()):,} repeat buyers); load average at the end {os.getloadavg()[0]:.1f}")
    print()
    print("| step | wall s | CPU s |\n| --- | ---: | ---: |")
    for name, (wall, cpu) in timings.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    print()
    print(f"- planted BG/NBD {PLANTED.as_dict()}, fitted {bg.as_dict()}")
    print(f"- planted Gamma-Gamma {SPEND}, fitted {gg.as_dict()}")
    print(f"- peak memory of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
