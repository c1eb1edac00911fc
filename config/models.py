from django.db import models


class PageGeneration(models.Model):
    """One row: a counter that moves on each change no programme's audit trail records — an
    organisation renamed, a membership, a notification read, a cron job's work. With the
    programmes' last audit events it is the version of a member's pages
    (``config.page_cache``)."""

    n = models.BigIntegerField(default=0)

    class Meta:
        db_table = "coordo_page_generation"

    def __str__(self) -> str:
        return f"génération {self.n}"
