from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.web.api import services
from crm.web.api.models import Scope


class Command(BaseCommand):
    help = "Create an API client (one per outside system) and print its token, which is shown only this once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="e.g. 'Web shop' or 'ERP'")
        parser.add_argument(
            "--scope",
            action="append",
            choices=Scope.values,
            required=True,
            dest="scopes",
            help="Repeat for each scope the integration needs.",
        )
        parser.add_argument("--rate", default="", help="Its own rate limit, e.g. 1200/min (default: API_RATE).")

    def handle(self, *args, name, scopes, rate, **options):
        try:
            client, token = services.api_client_create(name=name, scopes=scopes, rate_limit=rate)
        except ValidationError as e:
            raise CommandError("; ".join(e.messages)) from e
        self.stderr.write(f"Created API client {client.name!r} with scopes {', '.join(client.scopes)}.")
        self.stderr.write("Its token follows; it is not stored and cannot be shown again:")
        self.stdout.write(token)
