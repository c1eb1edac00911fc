from functools import partialmethod

from django.apps import AppConfig, apps
from django.utils.encoding import force_str


def _display(field):
    """``get_<field>_display`` reading one label: Django's own rebuilds a dict of every
    choice on each call, hashing each lazy label (one translation lookup per choice), which
    made a third of a dashboard listing 180 fiches. The labels stay lazy: the language is
    the reader's, at each call."""
    labels = {}

    def get_display(self):
        if not labels:
            labels.update(field.flatchoices)
        value = getattr(self, field.attname)
        return force_str(labels.get(value, value), strings_only=True)

    return get_display


class ProjectsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "projects"

    def ready(self) -> None:
        for model in apps.get_models():
            for field in model._meta.fields:
                name = f"get_{field.name}_display"
                # Django's, not one a model states itself.
                if isinstance(vars(model).get(name), partialmethod):
                    setattr(model, name, _display(field))
