"""The named RFM segments and the R × FM grid that assigns them, which an admin may edit.

The grid is the retail one (Putler's, used by most RFM dashboards): rows are the recency score R (1-5), columns
the combined FM score, the mean of the frequency and monetary scores with a half rounded up (FM_RULE). The
migration writes the default below; an admin changes a cell in the admin site, and the next run uses it.

         FM 1               FM 2                FM 3                FM 4       FM 5
R 5      New                Potential Loyalist  Potential Loyalist  Champions  Champions
R 4      Promising          Potential Loyalist  Potential Loyalist  Loyal      Champions
R 3      About to Sleep     About to Sleep      Need Attention      Loyal      Loyal
R 2      Hibernating        Hibernating         At Risk             At Risk    Can't Lose
R 1      Lost               Lost                At Risk             At Risk    Can't Lose
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

FM_RULE = _("FM is the mean of the F and M scores, a half rounded up: (F + M + 1) // 2.")


class RfmSegment(models.TextChoices):
    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential Loyalist")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need Attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to Sleep")
    AT_RISK = "at_risk", _("At Risk")
    CANT_LOSE = "cant_lose", _("Can't Lose")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")
    # Scored apart: a member with no purchase has no recency, frequency or spend to rank.
    NO_PURCHASE = "no_purchase", _("No purchase yet")


S = RfmSegment
DEFAULT_GRID: dict[int, tuple[RfmSegment, ...]] = {  # R -> the segment for FM 1..5
    5: (S.NEW, S.POTENTIAL_LOYALIST, S.POTENTIAL_LOYALIST, S.CHAMPIONS, S.CHAMPIONS),
    4: (S.PROMISING, S.POTENTIAL_LOYALIST, S.POTENTIAL_LOYALIST, S.LOYAL, S.CHAMPIONS),
    3: (S.ABOUT_TO_SLEEP, S.ABOUT_TO_SLEEP, S.NEED_ATTENTION, S.LOYAL, S.LOYAL),
    2: (S.HIBERNATING, S.HIBERNATING, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
    1: (S.LOST, S.LOST, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
}

SCORE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class RfmGridCell(models.Model):
    """One cell of the grid: members with this R and FM score are in `segment`."""

    r = models.PositiveSmallIntegerField(_("R score"), validators=SCORE_VALIDATORS, editable=False)
    fm = models.PositiveSmallIntegerField(_("FM score"), validators=SCORE_VALIDATORS, editable=False)
    segment = models.CharField(
        _("segment"), max_length=20, choices=[c for c in RfmSegment.choices if c[0] != RfmSegment.NO_PURCHASE]
    )

    class Meta:
        ordering = ["-r", "fm"]
        verbose_name = _("RFM grid cell")
        verbose_name_plural = _("RFM grid")
        constraints = [models.UniqueConstraint(fields=["r", "fm"], name="rfm_grid_cell_unique")]

    def __str__(self):
        return f"R{self.r} FM{self.fm}: {self.get_segment_display()}"
