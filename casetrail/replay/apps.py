"""The replay app: only so that Django finds the `replay` management command."""

from django.apps import AppConfig


class ReplayConfig(AppConfig):
    name = "casetrail.replay"
    label = "replay"
    verbose_name = "Replays of dated case histories"
