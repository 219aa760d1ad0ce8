"""Per-member measures read from Postgres into pandas: what RFM, the lifetime-value models and the churn model
are computed from.

One query per frame: the purchases of the members asked for are grouped by member, local day and whether they
fall before the cut-off, then by member; so a member's measures are counted in one pass and money stays exact
(integer cents). It streams out with COPY into pandas' CSV reader, which holds a million members in well under a
gigabyte where Python tuples would not. Every member asked for has a row, those with no purchase too.

Days are the business's local days (settings.TIME_ZONE): two purchases on one day are one purchase day for
BG/NBD (as in the CDNOW data, where same-day purchases count once).
"""

import datetime
import io

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from crm.db_router import read_alias
from customers.models import Customer
from interactions.models import Interaction, Transaction, TransactionLine, TransactionStatus

CENTS = 100


def _members_where(
    *, lo: int | None, hi: int | None, ids: list[int] | None, modulus: int, column: str = "c.id"
) -> tuple[str, dict]:
    """The members asked for, as a condition on `column`: written on the purchases' own customer column too, so
    Postgres reads a chunk's purchases through their index instead of joining all of them."""
    where, params = ["TRUE"], {}
    if lo is not None:
        where.append(f"{column} >= %(lo)s AND {column} < %(hi)s")
        params |= {"lo": lo, "hi": hi}
    if ids is not None:
        where.append(f"{column} = ANY(%(ids)s)")
        params["ids"] = list(ids)
    if modulus > 1:
        where.append(f"{column} %% %(modulus)s = 0")  # a sample for the fit: ids say nothing of how people buy
        params["modulus"] = modulus
    return " AND ".join(where), params


def _copy_frame(sql: str, params: dict, *, index_col: str | None = "customer_id") -> pd.DataFrame:
    buffer = io.StringIO()
    alias = read_alias()  # the replica's, for a scoring run's reads (crm/db_router.py)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        # A chunk's query is short: JIT compiling it cost more than it saved (0.7 s of 1 s), and its sorts of a
        # few hundred thousand rows fit in memory instead of spilling to disk.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        query = cursor.mogrify(sql, params).decode()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)", buffer)
    buffer.seek(0)
    return pd.read_csv(buffer, index_col=index_col)


def window_start(cutoff: datetime.datetime, window_days: int) -> datetime.datetime:
    """Where a window of `window_days` local days ending on the cut-off's day begins: a purchase on its last
    `window_days` days (the cut-off's day included) is at or after this local midnight."""
    cut_day = timezone.localtime(cutoff).date()
    return timezone.make_aware(
        datetime.datetime.combine(cut_day - datetime.timedelta(days=window_days - 1), datetime.time())
    )


def rfm_measures(
    *, cutoff: datetime.datetime, window_days: int, where: str = "TRUE", params: dict | None = None
) -> tuple[str, dict]:
    """The one definition of a member's RFM measures, as SQL over the purchases `t` matching `where`: last_day (days
    since the last purchase not fully refunded, in local days), frequency (such orders in the window), monetary_cents
    (net spend in the window) and orders_lifetime, one row per member with a purchase. Counted as member_frame
    counts them (a test holds the two together); read by each chunk (rfm_frame) and by the fit's edges."""
    sql = f"""
        SELECT t.customer_id,
            %(cut_day)s - (max(t.occurred_at) FILTER (WHERE t.status <> %(refunded)s) AT TIME ZONE %(tz)s)::date
                AS last_day,
            count(*) FILTER (WHERE t.status <> %(refunded)s AND t.occurred_at >= %(since)s) AS frequency,
            round(coalesce(sum(t.amount - t.refunded_amount) FILTER (WHERE t.occurred_at >= %(since)s), 0)
                  * {CENTS})::bigint AS monetary_cents,
            count(*) FILTER (WHERE t.status <> %(refunded)s) AS orders_lifetime
        FROM {Transaction._meta.db_table} t
        WHERE {where} AND t.occurred_at < %(cutoff)s
        GROUP BY t.customer_id
    """  # noqa: S608 -- table name from the model, values bound
    return sql, (params or {}) | {
        "tz": settings.TIME_ZONE,
        "cutoff": cutoff,
        "cut_day": timezone.localtime(cutoff).date(),
        "since": window_start(cutoff, window_days),
        "refunded": TransactionStatus.REFUNDED.value,
    }


def rfm_frame(
    *, cutoff: datetime.datetime, window_days: int, lo: int | None = None, hi: int | None = None, ids=None
) -> pd.DataFrame:
    """What RFM alone needs, by a lighter query than member_frame's (no grouping by day): rfm_measures for every
    member asked for, those with no purchase too."""
    members, params = _members_where(lo=lo, hi=hi, ids=ids, modulus=1)
    bought_by, _ = _members_where(lo=lo, hi=hi, ids=ids, modulus=1, column="t.customer_id")
    measures, params = rfm_measures(cutoff=cutoff, window_days=window_days, where=bought_by, params=params)
    sql = f"""
        SELECT c.id AS customer_id, p.last_day, coalesce(p.frequency, 0) AS frequency,
            coalesce(p.monetary_cents, 0) AS monetary_cents, coalesce(p.orders_lifetime, 0) AS orders_lifetime
        FROM {Customer._meta.db_table} c LEFT JOIN ({measures}) p ON p.customer_id = c.id
        WHERE {members}
    """  # noqa: S608 -- table names from the models, values bound
    return _copy_frame(sql, params)


def member_frame(
    *,
    cutoff: datetime.datetime,
    window_days: int = 365,
    after_days: int = 0,
    lo: int | None = None,
    hi: int | None = None,
    ids: list[int] | None = None,
    modulus: int = 1,
) -> pd.DataFrame:
    """The members' measures at `cutoff` (purchases before it), and what they bought in the `after_days` after it.

    Columns: registered (days since registration), email_consent, sms_consent; purchase_days, first_day and
    last_day (days before the cut-off's day, NaN with no purchase), orders_lifetime, net_lifetime_cents,
    first_day_net_cents; frequency and monetary_cents over `window_days`, orders_365, net_365_cents, paid_365_cents,
    refunded_365_cents; after_orders and after_days (purchase days after the cut-off)."""
    members, params = _members_where(lo=lo, hi=hi, ids=ids, modulus=modulus)
    bought_by, _ = _members_where(lo=lo, hi=hi, ids=ids, modulus=modulus, column="t.customer_id")
    tz = settings.TIME_ZONE
    params |= {
        "tz": tz,
        "cutoff": cutoff,
        "until": cutoff + datetime.timedelta(days=after_days),
        "cut_day": timezone.localtime(cutoff).date(),
        "window": window_days,
        "refunded": TransactionStatus.REFUNDED.value,
    }
    customer, purchase = Customer._meta.db_table, Transaction._meta.db_table
    # Grouped per member before meeting the members (one sort key, not four), and the first purchase day's net
    # taken as the least (day, net) pair: cheaper than an ordered array_agg per member.
    sql = f"""
        WITH day AS (
            SELECT t.customer_id, (t.occurred_at AT TIME ZONE %(tz)s)::date AS day,
                   t.occurred_at < %(cutoff)s AS before,
                   count(*) FILTER (WHERE t.status <> %(refunded)s) AS orders,
                   sum(t.amount - t.refunded_amount) AS net, sum(t.amount) AS paid, sum(t.refunded_amount) AS refunded
            FROM {purchase} t
            WHERE {bought_by} AND t.occurred_at < %(until)s
            GROUP BY 1, 2, 3
        ), per AS (
            SELECT d.customer_id,
                count(*) FILTER (WHERE d.before AND d.orders > 0) AS purchase_days,
                %(cut_day)s - min(d.day) FILTER (WHERE d.before AND d.orders > 0) AS first_day,
                %(cut_day)s - max(d.day) FILTER (WHERE d.before AND d.orders > 0) AS last_day,
                coalesce(sum(d.orders) FILTER (WHERE d.before), 0) AS orders_lifetime,
                round(coalesce(sum(d.net) FILTER (WHERE d.before), 0) * {CENTS})::bigint AS net_lifetime_cents,
                round(coalesce((min(ARRAY[d.day - DATE '2000-01-01', d.net])
                                FILTER (WHERE d.before AND d.orders > 0))[2], 0) * {CENTS})::bigint
                    AS first_day_net_cents,
                coalesce(sum(d.orders) FILTER (WHERE d.before AND d.day > %(cut_day)s - %(window)s), 0) AS frequency,
                round(coalesce(sum(d.net) FILTER (WHERE d.before AND d.day > %(cut_day)s - %(window)s), 0)
                      * {CENTS})::bigint AS monetary_cents,
                coalesce(sum(d.orders) FILTER (WHERE d.before AND d.day > %(cut_day)s - 365), 0) AS orders_365,
                round(coalesce(sum(d.net) FILTER (WHERE d.before AND d.day > %(cut_day)s - 365), 0)
                      * {CENTS})::bigint AS net_365_cents,
                round(coalesce(sum(d.paid) FILTER (WHERE d.before AND d.day > %(cut_day)s - 365), 0)
                      * {CENTS})::bigint AS paid_365_cents,
                round(coalesce(sum(d.refunded) FILTER (WHERE d.before AND d.day > %(cut_day)s - 365), 0)
                      * {CENTS})::bigint AS refunded_365_cents,
                coalesce(sum(d.orders) FILTER (WHERE NOT d.before), 0) AS after_orders,
                count(*) FILTER (WHERE NOT d.before AND d.orders > 0) AS after_days
            FROM day d GROUP BY d.customer_id
        )
        SELECT c.id AS customer_id,
            greatest(%(cut_day)s - c.registered_on, 0) AS registered,
            c.email_opt_in::int AS email_consent, c.sms_opt_in::int AS sms_consent,
            coalesce(p.purchase_days, 0) AS purchase_days, p.first_day, p.last_day,
            coalesce(p.orders_lifetime, 0) AS orders_lifetime, coalesce(p.net_lifetime_cents, 0) AS net_lifetime_cents,
            coalesce(p.first_day_net_cents, 0) AS first_day_net_cents, coalesce(p.frequency, 0) AS frequency,
            coalesce(p.monetary_cents, 0) AS monetary_cents, coalesce(p.orders_365, 0) AS orders_365,
            coalesce(p.net_365_cents, 0) AS net_365_cents, coalesce(p.paid_365_cents, 0) AS paid_365_cents,
            coalesce(p.refunded_365_cents, 0) AS refunded_365_cents, coalesce(p.after_orders, 0) AS after_orders,
            coalesce(p.after_days, 0) AS after_days
        FROM {customer} c LEFT JOIN per p ON p.customer_id = c.id
        WHERE {members}
    """  # noqa: S608 -- table names from the models, values bound
    return _copy_frame(sql, params)


def contact_frame(
    *,
    cutoff: datetime.datetime,
    lo: int | None = None,
    hi: int | None = None,
    ids: list[int] | None = None,
    modulus: int = 1,
) -> pd.DataFrame:
    """Per member with any interaction before `cutoff`: days since the last one, and how many in the 90 days
    before it."""
    members, params = _members_where(lo=lo, hi=hi, ids=ids, modulus=modulus, column="i.customer_id")
    params |= {"cutoff": cutoff, "since": cutoff - datetime.timedelta(days=90)}
    table = Interaction._meta.db_table
    sql = f"""
        SELECT i.customer_id,
            extract(epoch FROM %(cutoff)s - max(i.occurred_at)) / 86400 AS days_since_contact,
            count(*) FILTER (WHERE i.occurred_at >= %(since)s) AS contacts_90
        FROM {table} i
        WHERE {members} AND i.occurred_at < %(cutoff)s
        GROUP BY i.customer_id
    """  # noqa: S608 -- table names from the models, values bound
    return _copy_frame(sql, params)


def bgnbd_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """BG/NBD's and Gamma-Gamma's inputs in days, for members with a purchase: frequency x (repeat purchase days),
    recency t_x (first to last purchase day), T (first purchase day to the cut-off's day) and the mean net value of
    the repeat purchase days in currency units (NaN where x is 0)."""
    bought = frame[frame["purchase_days"] > 0]
    x = (bought["purchase_days"] - 1).astype(float)
    repeat_net = (bought["net_lifetime_cents"] - bought["first_day_net_cents"]) / CENTS
    return pd.DataFrame(
        {
            "frequency": x,
            "recency": (bought["first_day"] - bought["last_day"]).astype(float),
            "T": bought["first_day"].astype(float),
            "monetary": np.where(x > 0, repeat_net / x.where(x > 0, 1), np.nan),
        },
        index=bought.index,
    )


def churn_features(frame: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """The churn model's features (analytics.churn.FEATURES) of the members in `frame` who have bought."""
    bought = frame[frame["purchase_days"] > 0]
    contacts = contacts.reindex(bought.index)
    repeat = bought["purchase_days"] - 1
    paid = bought["paid_365_cents"]
    return pd.DataFrame(
        {
            "recency_days": bought["last_day"].astype(float),
            "orders_365": bought["orders_365"].astype(float),
            "spend_365": bought["net_365_cents"] / CENTS,
            "orders_lifetime": bought["orders_lifetime"].astype(float),
            "spend_lifetime": bought["net_lifetime_cents"] / CENTS,
            "usual_gap_days": ((bought["first_day"] - bought["last_day"]) / repeat.where(repeat > 0)).astype(float),
            "tenure_days": bought["registered"].astype(float),
            "days_since_contact": contacts["days_since_contact"].astype(float),
            "contacts_90": contacts["contacts_90"].fillna(0).astype(float),
            "refund_share": (bought["refunded_365_cents"] / paid.where(paid > 0)).fillna(0).astype(float),
            "email_consent": bought["email_consent"].astype(float),
            "sms_consent": bought["sms_consent"].astype(float),
        },
        index=bought.index,
    )


def product_pairs(
    *,
    cutoff: datetime.datetime,
    lo: int | None = None,
    hi: int | None = None,
    ids: list[int] | None = None,
    modulus: int = 1,
) -> pd.DataFrame:
    """(customer_id, product_id, last_bought in epoch seconds) for each product a member bought before `cutoff` in an
    order not fully refunded: what co-purchase recommendations are fitted on and exclude."""
    members, params = _members_where(lo=lo, hi=hi, ids=ids, modulus=modulus, column="t.customer_id")
    params |= {"cutoff": cutoff, "refunded": TransactionStatus.REFUNDED.value}
    sql = f"""
        SELECT t.customer_id, l.product_id, extract(epoch FROM max(t.occurred_at))::bigint AS last_bought
        FROM {TransactionLine._meta.db_table} l
        JOIN {Transaction._meta.db_table} t ON t.id = l.transaction_id
        WHERE {members} AND t.occurred_at < %(cutoff)s AND t.status <> %(refunded)s AND l.product_id IS NOT NULL
        GROUP BY t.customer_id, l.product_id
    """  # noqa: S608 -- table names from the models, values bound
    return _copy_frame(sql, params, index_col=None)
