from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from interactions.models import Channel, Product
from interactions.services import LineInput

MAX_QUANTITY = 100_000


class RecordPurchaseForm(forms.Form):
    """Short enough for a phone at the till: amount, where, and optionally one product by SKU (scanned or typed)."""

    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "autocomplete": "off"}),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.STORE)
    store = forms.CharField(label=_("Store"), max_length=100, required=False)
    sku = forms.CharField(
        label=_("Product SKU"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=MAX_QUANTITY,
        initial=1,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    coupon_code = forms.CharField(
        label=_("Coupon code"),
        max_length=40,
        required=False,
        help_text=_("The amount is the price before the coupon."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's or the panel's <form> (customers/includes/form_panel.html)
        self.helper.layout = Layout(
            Row(
                Column("amount", css_class="col-6 col-md-3"),
                Column("channel", css_class="col-6 col-md-3"),
                Column("store", css_class="col-12 col-md-6"),
            ),
            Row(
                Column("sku", css_class="col-8 col-md-4"),
                Column("quantity", css_class="col-4 col-md-2"),
                Column("coupon_code", css_class="col-12 col-md-6"),
            ),
            Submit("record", _("Record purchase"), css_class="w-100 w-md-auto"),
        )

    def clean_sku(self) -> Product | None:
        sku = self.cleaned_data["sku"].strip()
        if not sku:
            return None
        product = Product.objects.filter(sku__iexact=sku, active=True).first()
        if product is None:
            raise forms.ValidationError(_("No active product has the SKU %(sku)s.") % {"sku": sku})
        return product

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        lines = [LineInput(product=data["sku"], quantity=data["quantity"] or 1)] if data["sku"] else []
        return {
            "amount": data["amount"],
            "channel": data["channel"],
            "store": data["store"],
            "lines": lines,
            "coupon_code": data["coupon_code"],
        }


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to refund"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text=_("Leave empty to refund everything not yet refunded."),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's or the panel's <form> (customers/includes/form_panel.html)
        self.helper.add_input(Submit("refund", _("Refund"), css_class="btn-danger"))
