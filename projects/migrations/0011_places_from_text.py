"""The territory typed as text on each programme (communes, EPCI, QPV — separated by commas,
semicolons or new lines, as the set-up form asked) becomes its places, what fiches pick from.
0012 then removes the text fields: the places are the territory's one record."""

import re

from django.db import migrations

SEPARATORS = re.compile(r"[,;\n\r]+")
# What people write to say "and more": not a place.
NOT_A_PLACE = {"", "…", "...", "etc", "etc.", "…)"}


def split_places(text: str) -> list[str]:
    """The names in ``text``, in order, each once (whatever the case)."""
    names, seen = [], set()
    for part in SEPARATORS.split(text or ""):
        name = part.strip().strip("…").strip().rstrip(".").strip()[:200]
        if name.casefold() in NOT_A_PLACE or name.casefold() in seen:
            continue
        seen.add(name.casefold())
        names.append(name)
    return names


def forwards(apps, schema_editor):
    Programme = apps.get_model("projects", "Programme")
    Place = apps.get_model("projects", "Place")
    for programme in Programme.objects.order_by("pk"):
        existing = {
            (kind, name.casefold())
            for kind, name in Place.objects.filter(programme=programme).values_list("kind", "name")
        }
        for kind, text in (
            ("epci", programme.epci),
            ("commune", programme.communes),
            ("qpv", programme.priority_neighbourhoods),
        ):
            for name in split_places(text):
                if (kind, name.casefold()) not in existing:
                    existing.add((kind, name.casefold()))
                    Place.objects.create(programme=programme, kind=kind, name=name)


def backwards(apps, schema_editor):
    """The places written back as text, each kind in its field, so that migrating back from
    0012 (which re-adds the fields empty) keeps the territory."""
    Programme = apps.get_model("projects", "Programme")
    Place = apps.get_model("projects", "Place")
    fields = {"epci": "epci", "commune": "communes", "qpv": "priority_neighbourhoods"}
    for programme in Programme.objects.order_by("pk"):
        names = {field: [] for field in fields.values()}
        for kind, name in (
            Place.objects.filter(programme=programme).order_by("pk").values_list("kind", "name")
        ):
            if kind in fields:
                names[fields[kind]].append(name)
        for field, found in names.items():
            text = ", ".join(found)
            setattr(programme, field, text[:200] if field == "epci" else text)
        programme.save(update_fields=list(fields.values()))


class Migration(migrations.Migration):
    dependencies = [("projects", "0010_places_and_vulnerable_public")]

    operations = [migrations.RunPython(forwards, backwards)]
