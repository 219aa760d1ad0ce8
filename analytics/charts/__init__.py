"""The charts analytics contributes (crm/charts.py): the manager's dashboard and the category report.

The dashboard's charts are for the Manager role (analytics.view_dashboard); the category report's for Marketing
and Manager (analytics.view_marketing_reports), like their pages.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from analytics.charts import categories, cohorts, distributions, forecasts, geography, kpis
from analytics.forms import GeographyForm, PeriodForm
from crm import charts
from customers.models import Category

DASHBOARD = "analytics.view_dashboard"
REPORTS = "analytics.view_marketing_reports"


class CategoryForm(forms.Form):
    category = forms.ModelChoiceField(queryset=Category.objects.all(), required=False)


CHARTS = [
    charts.Chart("kpi_sales", _("Revenue and orders"), DASHBOARD, kpis.sales_chart, PeriodForm),
    charts.Chart("kpi_members", _("Members"), DASHBOARD, kpis.members_chart, PeriodForm),
    charts.Chart("kpi_loyalty", _("Repurchase rate"), DASHBOARD, kpis.loyalty_chart, PeriodForm),
    charts.Chart("kpi_rewards", _("Points and coupons"), DASHBOARD, kpis.rewards_chart, PeriodForm),
    charts.Chart("dist_tier", _("Members by tier"), DASHBOARD, distributions.tier_chart),
    charts.Chart("dist_rfm", _("Members by RFM segment"), DASHBOARD, distributions.rfm_chart),
    charts.Chart("rfm_movement", _("RFM movement since the previous run"), DASHBOARD, distributions.rfm_movement_chart),
    charts.Chart("dist_churn", _("Members by churn risk"), DASHBOARD, distributions.churn_chart),
    charts.Chart("dist_source", _("Members by source channel"), DASHBOARD, distributions.source_chart),
    charts.Chart("dist_age_gender", _("Members by age band and gender"), DASHBOARD, distributions.age_gender_chart),
    charts.Chart("cohort_retention", _("Cohort retention"), DASHBOARD, cohorts.retention_chart),
    charts.Chart("cohort_revenue", _("Revenue per cohort"), DASHBOARD, cohorts.revenue_chart),
    charts.Chart("forecast_revenue", _("Revenue forecast"), DASHBOARD, forecasts.revenue_chart),
    charts.Chart("forecast_active", _("Active members forecast"), DASHBOARD, forecasts.active_chart),
    charts.Chart("geo_map", _("Members by province"), DASHBOARD, geography.map_chart),
    charts.Chart("geo_regions", _("Regions"), DASHBOARD, geography.regions_chart, GeographyForm),
    charts.Chart("geo_growth", _("Fastest-growing provinces"), DASHBOARD, geography.growth_chart, GeographyForm),
    charts.Chart("category_buyers", _("Buyers by category"), REPORTS, categories.buyers_chart),
    charts.Chart(
        "category_affinity", _("What else a category's buyers buy"), REPORTS, categories.affinity_chart, CategoryForm
    ),
]


def register_charts() -> None:
    for chart in CHARTS:
        charts.register(chart)
