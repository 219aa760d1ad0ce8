"""Customers: the person, their profile, tags and preferred categories."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import ExtractMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from crm.lib import crm_number, crypto
from crm.lib.crypto import EncryptedTextField
from crm.lib.dates import EARLIEST_DATE
from crm.lib.id_card import is_valid_resident_id
from crm.lib.masking import looks_masked
from crm.lib.phone import normalize_phone
from crm.lib.text import normalize_email, validate_single_line


class Gender(models.TextChoices):
    UNKNOWN = "unknown", _("Not given")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    STORE = "store", _("Store")
    WEBSITE = "website", _("Website")
    APP = "app", _("App")
    WECHAT = "wechat", _("WeChat mini-program")
    REFERRAL = "referral", _("Referral")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    OTHER = "other", _("Other")


class IdType(models.TextChoices):
    RESIDENT_ID = "cn_resident", _("Resident ID card")
    PASSPORT = "passport", _("Passport")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class NamedInLanguages(models.Model):
    """A name per UI language beside the one `name` that stays unique, is matched by imports and is the fallback.

    Shown through `display_name` (and str()): the active language's name, else the other language's, else `name`.
    """

    name_en = models.CharField(_("name in English"), max_length=50, blank=True, validators=[validate_single_line])
    name_zh_hans = models.CharField(_("name in Chinese"), max_length=50, blank=True, validators=[validate_single_line])

    class Meta:
        abstract = True

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        names = [self.name_zh_hans, self.name_en]
        if not (get_language() or "").lower().startswith("zh"):
            names.reverse()
        return next(filter(None, names), self.name)

    def names(self) -> set[str]:
        """Every name it goes by, for matching what someone typed or imported."""
        return {n for n in (self.name, self.name_en, self.name_zh_hans) if n}


class Category(NamedInLanguages):
    """A product category, so customers can say what they like before they buy."""

    name = models.CharField(
        _("name"),
        max_length=50,
        unique=True,
        help_text=_("Matched by imports; shown when the category has no name in the reader's language."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")


class CustomerQuerySet(models.QuerySet):
    def sharing_contacts(self, *, mobile: str, email: str, exclude_pk: int | None = None) -> "CustomerQuerySet":
        """Others with this (stored-form) phone or e-mail: the one query behind every duplicate check."""
        q = models.Q()
        if mobile:
            q |= models.Q(mobile=mobile)
        if email:
            q |= models.Q(email=email)
        if not q:
            return self.none()
        return self.filter(q).exclude(pk=exclude_pk)


class Customer(models.Model):
    crm_number = models.BigIntegerField(
        _("CRM number"),
        unique=True,
        editable=False,
        # Issued by the database (sequence + Damm check digit), so bulk inserts
        # and concurrent creation get numbers without a race.
        db_default=models.Func(function="crm_next_number", output_field=models.BigIntegerField()),
    )
    legacy_number = models.CharField(
        _("legacy member number"), max_length=40, unique=True, null=True, blank=True, validators=[validate_single_line]
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100, validators=[validate_single_line])
    gender = models.CharField(_("gender"), max_length=10, choices=Gender, default=Gender.UNKNOWN)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    # 农历生日: the month and day of `birthday` are a lunar date (its year is the solar year of birth);
    # birthday automations convert it to this year's solar day.
    birthday_is_lunar = models.BooleanField(_("lunar birthday"), default=False, db_default=False)
    mobile = models.CharField(_("mobile phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True, validators=[validate_single_line])
    company = models.CharField(_("company"), max_length=150, blank=True, validators=[validate_single_line])
    province = models.CharField(_("province"), max_length=50, blank=True, validators=[validate_single_line])
    city = models.CharField(_("city"), max_length=50, blank=True, validators=[validate_single_line])
    address = models.CharField(_("address"), max_length=255, blank=True, validators=[validate_single_line])
    # Collected only where the business must (e.g. to issue an invoice or check age); encrypted at rest
    # (crm/lib/crypto.py) and found by its blind index, never by the column itself.
    id_type = models.CharField(_("ID type"), max_length=20, choices=IdType, blank=True, default="", db_default="")
    id_number = EncryptedTextField(_("ID number"), blank=True, default="", db_default="", blind_index="id_number_index")
    id_number_index = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)
    source = models.CharField(_("source channel"), max_length=20, choices=Source, default=Source.STORE)
    registered_on = models.DateField(_("registration date"), default=timezone.localdate)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
        db_index=False,  # customer_owner_idx (owner, -crm_number) serves lookups by owner
    )
    tier = models.ForeignKey("customers.Tier", verbose_name=_("tier"), on_delete=models.PROTECT, null=True, blank=True)
    tier_since = models.DateTimeField(_("tier held since"), null=True, blank=True, editable=False)
    points_balance = models.IntegerField(_("points balance"), default=0, editable=False)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    preferred_categories = models.ManyToManyField(
        Category, verbose_name=_("preferred product categories"), blank=True, related_name="customers"
    )
    notes = models.TextField(_("notes"), blank=True)
    # The language messages to this member are written in; empty means the site's (LANGUAGE_CODE).
    language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, blank=True, default="", db_default=""
    )
    email_opt_in = models.BooleanField(_("e-mail consent"), default=False)
    sms_opt_in = models.BooleanField(_("SMS consent"), default=False)
    # Set once by customer_erase: the personal fields are anonymised and the row stays, so purchases,
    # points and every report still count it. Never cleared.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-crm_number"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("view_all_customers", _("Can see customers of every owner")),
            ("view_contact_details", _("Can see unmasked phone numbers and e-mails")),
            ("export_customers", _("Can export customer lists")),
            ("merge_customers", _("Can merge duplicate customers")),
            ("reassign_owner", _("Can give customers another owner in bulk")),
            ("export_personal_data", _("Can export everything held on a customer (a data-subject request)")),
            ("erase_customer", _("Can erase a customer's personal data")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["mobile"],
                condition=~models.Q(mobile=""),
                name="customer_mobile_unique",
                violation_error_message=_("A customer with this mobile phone already exists."),
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=~models.Q(email=""),
                name="customer_email_unique",
                violation_error_message=_("A customer with this e-mail already exists."),
            ),
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=~models.Q(id_number_index=""),
                name="customer_id_number_unique",
                violation_error_message=_("A customer with this ID number already exists."),
            ),
            models.CheckConstraint(condition=models.Q(points_balance__gte=0), name="customer_points_not_negative"),
        ]
        indexes = [
            models.Index(fields=["owner", "-crm_number"], name="customer_owner_idx"),
            models.Index(fields=["province", "city"], name="customer_region_idx"),
            models.Index(fields=["source"], name="customer_source_idx"),
            models.Index(fields=["name"], name="customer_name_idx"),
            models.Index(fields=["registered_on"], name="customer_registered_idx"),
            models.Index(ExtractMonth("birthday"), name="customer_birth_month_idx"),
        ]

    def __str__(self):
        return f"{self.name} ({self.crm_number_display})"

    def save(self, *args, **kwargs):
        # The balance belongs to the points ledger (customers.services.membership), which writes it
        # under a row lock: a profile save must not write back the copy it loaded earlier.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "points_balance"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.crm_number])

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def crm_number_display(self) -> str:
        return crm_number.format_number(self.crm_number) if isinstance(self.crm_number, int) else ""

    def clean(self):
        errors = self.normalize()
        errors.update(self._normalize_id())
        if "mobile" not in errors:
            self._add_duplicate_errors(errors)
        if errors:
            raise ValidationError(errors)

    def normalize(self) -> dict[str, list]:
        """Put contacts in stored form and check the one-row rules; return errors by field.

        Bulk imports call this (after clean_fields) and check duplicates a chunk at a time.
        """
        errors = {}
        try:
            self.mobile = normalize_phone(self.mobile)
        except ValidationError as e:
            errors["mobile"] = e.messages
        self.email = normalize_email(self.email)
        if looks_masked(self.email):
            # A masked address (w***@example.com) is still a valid one: read back from an export or an API
            # answer and sent in again, it would replace the real address.
            errors["email"] = [_("This is a masked e-mail address (with ***); type the whole address.")]
        self.legacy_number = (self.legacy_number or "").strip() or None
        if self.birthday and self.birthday > timezone.localdate():
            errors["birthday"] = [_("The birthday cannot be in the future.")]
        elif self.birthday and self.birthday < EARLIEST_DATE:
            errors["birthday"] = [_("The birthday cannot be before %(date)s.") % {"date": EARLIEST_DATE.isoformat()}]
        return errors

    def _normalize_id(self) -> dict[str, list]:
        """The ID number in stored form (no spaces, upper case) with its blind index; a resident ID must be
        one (18 characters, its check character right)."""
        self.id_number = "".join((self.id_number or "").split()).upper()
        self.id_number_index = crypto.blind_index(self.id_number)
        if self.id_number and not self.id_type:
            return {"id_type": [_("Say what kind of ID this number is from.")]}
        if self.id_type and not self.id_number:
            return {"id_number": [_("Enter the ID number, or choose no ID type.")]}
        if self.id_type == IdType.RESIDENT_ID and not is_valid_resident_id(self.id_number):
            return {"id_number": [_("Not a valid resident ID number (18 characters, the last one a check digit).")]}
        if len(self.id_number) > 40:
            return {"id_number": [_("An ID number has at most 40 characters.")]}
        return {}

    def _add_duplicate_errors(self, errors: dict) -> None:
        if self.id_number and "id_number" not in errors:
            indexes = crypto.blind_indexes(self.id_number)
            other = Customer.objects.filter(id_number_index__in=indexes).exclude(pk=self.pk).only("pk").first()
            if other is not None:
                # Named by no number or name: the one who typed it may not be allowed to see that customer.
                errors["id_number"] = [_("Another customer already has this ID number.")]
        others = Customer.objects.sharing_contacts(mobile=self.mobile, email=self.email, exclude_pk=self.pk)
        for other in others.only("pk", "crm_number", "name", "mobile", "email"):
            for field in ("mobile", "email"):
                if getattr(self, field) and getattr(other, field) == getattr(self, field):
                    errors.setdefault(field, []).append(
                        _("Customer %(crm)s (%(name)s) already has this %(field)s.")
                        % {
                            "crm": other.crm_number_display,
                            "name": other.name,
                            "field": self._meta.get_field(field).verbose_name,
                        }
                    )


# The person's own details, apart from the name: the customer form shows them, and a merge fills the
# survivor's blanks from the other customer's.
PROFILE_FIELDS = ["gender", "birthday", "mobile", "email", "occupation", "company", "province", "city", "address"]
