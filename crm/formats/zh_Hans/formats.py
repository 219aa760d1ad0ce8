# Django's zh_Hans formats group numbers by ten-thousands with no separator;
# shops and members read money as ¥12,345.60, so group by thousands with commas.
from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
