from django.db import migrations

# The fiche's flow is now built from its lifecycle: each stage's task is named after the state
# that waits for it. Open and past tasks follow (the names are stored on each task).
RENAMED = {
    "launch": "draft",
    "submit": "co_construction",
    "copil_decision": "copil_review",
    "plan_funding": "validated",
    "follow_funding": "funding",
    "implement": "implementation",
    "close_decision": "evaluation",
}
PREFIX = "workflows/flows.ActionFlow."


def rename(apps, schema_editor, mapping):
    Task = apps.get_model("viewflow", "Task")
    for old, new in mapping.items():
        for suffix in ("", "_late"):
            Task.objects.filter(flow_task=f"{PREFIX}{old}{suffix}").update(
                flow_task=f"{PREFIX}{new}{suffix}"
            )


def forwards(apps, schema_editor):
    rename(apps, schema_editor, RENAMED)


def backwards(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0006_auditevent_moved_to_audit"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
