from django.core.management.base import BaseCommand
from django.utils import translation

from marketing import services
from marketing.models import Segment
from marketing.presets import PRESETS


class Command(BaseCommand):
    help = "Add the preset segments for the demo (skips those already there), counted now."

    def add_arguments(self, parser):
        parser.add_argument("--language", default="zh-hans", help="the language of the segments' names")

    def handle(self, *args, language: str, **options):
        with translation.override(language):
            for preset in PRESETS:
                if Segment.objects.filter(name=str(preset.name)).exists():
                    continue
                segment = services.segment_save(
                    name=str(preset.name), description=str(preset.description), rules=preset.rules, actor=None
                )
                count = services.segment_count(segment=segment)
                self.stdout.write(f"  segment {segment.name}: {count} members")
