"""QuickSelect renders what Django's template-rendered Select renders."""

import pytest
from django import forms
from django.test.html import parse_html

from crm.lib.forms import QuickSelect, render_selects_quickly
from customers.models import Tier


class Sample(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Any"), ("a", "A & <b>"), ("b", 'Say "b"')], required=False)
    grouped = forms.ChoiceField(choices=[("Fruit", [("apple", "Apple"), ("pear", "Pear")]), ("x", "Other")])
    tier = forms.ModelChoiceField(queryset=Tier.objects.order_by("pk"), required=False)
    many = forms.MultipleChoiceField(choices=[("a", "A")], required=False)


def _rendered(data: dict) -> tuple[dict[str, str], dict[str, str], Sample]:
    form = Sample(data)
    form.fields["kind"].widget.attrs["class"] = "form-select"
    plain = {name: str(form[name]) for name in form.fields}
    render_selects_quickly(form)
    return plain, {name: str(form[name]) for name in form.fields}, form


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data", [{}, {"kind": "a", "grouped": "pear"}, {"kind": "zzz", "grouped": "x"}, {"tier": "1", "kind": "b"}]
)
def test_quick_selects_render_the_same_markup_as_django(data, db):
    Tier.objects.create(name="Gold & <i>", rank=99)
    if "tier" in data:
        data = {**data, "tier": str(Tier.objects.order_by("pk").first().pk)}
    plain, quick, form = _rendered(data)
    assert isinstance(form.fields["kind"].widget, QuickSelect)
    assert isinstance(form.fields["tier"].widget, QuickSelect)
    assert not isinstance(form.fields["many"].widget, QuickSelect)  # multiple selects keep Django's widget
    for name in plain:
        assert parse_html(quick[name]) == parse_html(plain[name]), name
    assert "&lt;b&gt;" in quick["kind"]  # labels escaped
    if data.get("kind") == "a":
        assert '<option value="a" selected>' in quick["kind"]


@pytest.mark.django_db
def test_model_choices_are_read_when_rendered_not_when_the_form_is_built(django_assert_num_queries):
    form = Sample({})
    with django_assert_num_queries(0):
        render_selects_quickly(form)  # a form only validated (an export, a bulk action) costs no query
    with django_assert_num_queries(1):
        str(form["tier"])
