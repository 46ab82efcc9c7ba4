"""The replay upload form: one YAML file, checked whole before anything is queued."""

from __future__ import annotations

from typing import Any

from django import forms

from casetrail.replay.format import Replay, ReplayError, parse

MAX_REPLAY_BYTES = 512 * 1024


class ReplayUploadForm(forms.Form):
    file = forms.FileField(
        label="Upload a replay file",
        help_text="A replay file in YAML (.yaml or .yml), smaller than 512 KB. docs/replay.md describes the format.",
        error_messages={"required": "Select a replay file"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.replay: Replay | None = None
        self.text = ""

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = upload.name or "replay.yaml"
        if not name.lower().endswith((".yaml", ".yml")):
            raise forms.ValidationError("The selected file must be a YAML file (.yaml or .yml)")
        if upload.size > MAX_REPLAY_BYTES:
            raise forms.ValidationError("The selected file must be smaller than 512 KB")
        try:
            self.text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError("The selected file must be plain text (UTF-8)") from None
        try:
            self.replay = parse(self.text, source=name)
        except ReplayError as refused:
            raise forms.ValidationError([f"{name}, line {p.line}: {p.message}" for p in refused.problems]) from None
        return upload
