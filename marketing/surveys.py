"""The satisfaction survey's signed score links, and what a survey occasion names.

A survey message is about one purchase or one contact (its occasion: "survey:purchase:812" or
"survey:contact:77") and carries one link per score. Each link's token is signed (marketing.links' way, with
its own salt), names the member, the occasion and the score, so nobody can score for another member or
another purchase, and a token of another purpose is refused.
"""

from dataclasses import dataclass

from django.urls import reverse

from marketing import links

SALT = "marketing.survey"
SCORES = range(1, 6)


class Subject:
    PURCHASE = "purchase"
    CONTACT = "contact"


@dataclass(frozen=True)
class Score:
    customer_id: int
    subject: str  # Subject.PURCHASE or Subject.CONTACT
    object_id: int
    score: int

    @property
    def occasion(self) -> str:
        return occasion_key(self.subject, self.object_id)


def occasion_key(subject: str, object_id: int) -> str:
    return f"survey:{subject}:{object_id}"


def parse_occasion(occasion: str) -> tuple[str, int] | None:
    """(subject, id) of a survey occasion, else None."""
    parts = occasion.split(":")
    if len(parts) != 3 or parts[0] != "survey" or parts[1] not in (Subject.PURCHASE, Subject.CONTACT):
        return None
    if not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def token(*, customer_id: int, occasion: str, score: int) -> str:
    return links._token(SALT, [customer_id, occasion, score])


def read(token: str) -> Score | None:
    """The score a token carries, or None when it is not one of our survey links."""
    value = links.read(token, salt=SALT)
    if not (isinstance(value, list) and len(value) == 3):
        return None
    customer_id, occasion, score = value
    if not (isinstance(customer_id, int) and isinstance(score, int) and isinstance(occasion, str)):
        return None
    parsed = parse_occasion(occasion)
    if parsed is None or score not in SCORES:
        return None
    return Score(customer_id=customer_id, subject=parsed[0], object_id=parsed[1], score=score)


def score_links(*, customer_id: int, occasion: str) -> list[dict]:
    """One link per score, plain values a template can loop over (marketing.templating's `survey_links`)."""
    return [
        {
            "score": score,
            "url": links._absolute(
                reverse("marketing:survey", args=[token(customer_id=customer_id, occasion=occasion, score=score)])
            ),
        }
        for score in SCORES
    ]
