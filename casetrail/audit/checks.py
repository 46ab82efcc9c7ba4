"""A system check that every stored field of a chained model is covered by its hash."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register(checks.Tags.models)
def chained_fields_cover_the_model(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from casetrail.audit.verification import CHAINED_MODELS

    errors: list[checks.CheckMessage] = []
    for model in CHAINED_MODELS.values():
        stored = {field.attname for field in model._meta.concrete_fields} - {"entry_hash"}
        hashed = set(model.chained_fields)
        if stored != hashed:
            errors.append(checks.Error(
                f"{model.__name__}'s hash does not cover exactly its stored fields "
                f"(unhashed: {sorted(stored - hashed) or 'none'}; not stored: {sorted(hashed - stored) or 'none'})",
                hint="A field added to a chained model needs a new hash format in casetrail/audit/hashing.py, "
                     "and verify must still check entries written in the old one.",
                obj=model, id="audit.E001",
            ))
    return errors
