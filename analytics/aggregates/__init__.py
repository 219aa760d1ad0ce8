"""The engine that fills the dashboards' pre-aggregated tables (analytics/models/aggregates.py), in SQL.

Definitions (the tables' figures mean exactly this):

- A purchase is an interactions Transaction whose status is not "refunded": a purchase refunded in full counts
  for nothing. Its revenue is amount - refunded_amount, counted on its local day (settings.TIME_ZONE, of
  occurred_at). Refunds are refunded_amount summed on the purchase's day, whatever its status.
- orders: purchases that day. returning_orders: purchases by a member who has an earlier purchase (by
  occurred_at, ties broken by id), so each member's first purchase is the one order of theirs not returning.
- active_members: distinct members with a purchase in the 90 days ending that day (inclusive); computed with a
  difference array over each member's purchase days (+1 on a purchase day, -1 at the earlier of day + 90 and
  their next purchase day, summed cumulatively), never a COUNT DISTINCT per day.
- new_members: customers whose registered_on is that day.
- points_issued: points of "earned" entries and of positive "adjusted" ones, by the local day of `at`;
  points_redeemed: the points "redeemed" entries took. Expiries and refund reversals are neither.
- coupons_redeemed: purchases (not refunded in full) with a coupon_code, by the purchase's day. Analytics may
  not read marketing's coupon table (apps import one way), and a coupon is redeemed at a purchase anyway; a
  coupon whose purchase is refunded in full is given back (interactions.coupons.coupon_restore), so it stops
  counting too.
- MonthlySales: per month (its first day), buyer's province, age band (age on the month's first day), gender,
  and category (empty: whole orders; otherwise order lines through Product.category, their revenue being
  the order's net amount (amount - refunded_amount) shared out by the lines' totals, since a line's total is its
  price before a coupon). Orders, revenue, distinct buyers of the row.
- MonthlyRegion: per month, province and city: new members (registered_on), orders, revenue, buyers.
- CohortCell: a member's cohort is the month of their first purchase; offset k counts the months from it to a
  month in which they bought; buyers are the cohort's distinct members buying in that month, revenue theirs.
- CategoryStats / CategoryAffinity: the 365 days ending on the refresh day; repeat buyers bought the category
  in two or more distinct orders; affinity counts distinct members who bought both categories (not the same).
- Distribution: members now, by tier (id or "none"), RFM segment (MemberScore; no score row: "unscored"), RFM
  movement between the two latest finished scoring runs ("from>to"), churn band (probability under 0.3 low,
  under 0.6 medium, else high; none: "unscored"), source, age band (age today), gender and "band|gender";
  spend_365d is interactions.PurchaseStats.spend_365d summed.

Customer attributes (province, city, gender, birthday) are read as they are now when a month is recomputed:
a profile edit shows in past months at the next full refresh, not before.

Modules: common (shared SQL pieces), daily, monthly, cohorts, categories, distributions, tracking (what changed
since the last refresh: watermarks, dirty days and their signal receivers). The refresh itself, with its lock
and progress, is analytics.services.aggregates.aggregates_refresh.
"""
