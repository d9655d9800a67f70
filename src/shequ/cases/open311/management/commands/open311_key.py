from django.core.management.base import BaseCommand

from shequ.cases.open311.models import ApiClient


class Command(BaseCommand):
    help = "Issue an Open311 api_key to a client (the key is printed once and never stored)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The client's name, e.g. 'Tianfu Citizen app'.")
        parser.add_argument("--contact", default="")
        parser.add_argument("--per-minute", type=int, default=60, help="POST rate limit.")

    def handle(self, *args, name, contact, per_minute, **options):
        client, key = ApiClient.issue(name, contact=contact, max_per_minute=per_minute)
        self.stdout.write(f"client {client.pk} {client.name}\napi_key {key}")
