from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

# One change of points at the desk; far above any real one, far below what the balance column holds.
MAX_POINTS_CHANGE = 10_000_000


class PointsAdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-MAX_POINTS_CHANGE,
        max_value=MAX_POINTS_CHANGE,
        help_text=_("Positive to add, negative to take away."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's or the panel's <form> (customers/includes/form_panel.html)
        self.helper.add_input(Submit("adjust", _("Adjust points")))


class PointsRedeemForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points to redeem"),
        min_value=1,
        max_value=MAX_POINTS_CHANGE,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label=_("Redeemed for"), max_length=255, help_text=_("The gift, voucher or discount given.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's or the panel's <form> (customers/includes/form_panel.html)
        self.helper.add_input(Submit("redeem", _("Redeem points")))
