"""Recovery for a user who lost their authenticator and backup codes (README, "Operations")."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crm.two_factor import two_factor_reset


class Command(BaseCommand):
    help = "Removes a user's two-factor devices and backup codes: their next login sets up an authenticator anew."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        removed = two_factor_reset(user=user)
        self.stdout.write(f"Removed {removed} two-factor device(s) of {username}; their next login sets up a new one.")
