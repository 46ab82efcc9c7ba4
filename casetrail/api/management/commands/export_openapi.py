"""Write the API's OpenAPI schema to docs/openapi.json, or check the committed one is current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from casetrail.api.router import api

SCHEMA_PATH = Path(settings.BASE_DIR) / "docs" / "openapi.json"


def current_schema() -> str:
    return json.dumps(api.get_openapi_schema(path_prefix="/api/v1"), indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Export the OpenAPI schema to docs/openapi.json (--check: fail if it is out of date)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="Exit non-zero if the file differs from the code")

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        schema = current_schema()
        if check:
            if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text() != schema:
                raise CommandError("docs/openapi.json is out of date: run `python manage.py export_openapi`.")
            self.stdout.write("docs/openapi.json matches the code.")
            return
        SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
        SCHEMA_PATH.write_text(schema)
        self.stdout.write(f"Wrote {SCHEMA_PATH.relative_to(settings.BASE_DIR)}")
