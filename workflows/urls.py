from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dispositifs/<int:pk>/", views.programme_detail, name="programme"),
    path("dispositifs/<int:pk>/proposer/", views.action_create, name="action-create"),
    path("actions/<int:pk>/", views.action_detail, name="action"),
    path("actions/<int:pk>/modifier/", views.action_edit, name="action-edit"),
    path("actions/<int:pk>/commenter/", views.action_comment, name="action-comment"),
    path("actions/<int:pk>/versions/", views.snapshot_diff, name="action-versions"),
    path("actions/<int:pk>/ajouter/<str:part>/", views.action_add_part, name="action-add"),
    path("dispositifs/<int:pk>/seances/", views.meeting_list, name="meetings"),
    path("seances/<int:pk>/", views.meeting_detail, name="meeting"),
    path("seances/<int:pk>/compte-rendu/", views.meeting_minutes, name="meeting-minutes"),
    path("taches/", views.inbox, name="inbox"),
    path("taches/<int:pk>/prendre/", views.task_take, name="task-take"),
    path("taches/<int:pk>/liberer/", views.task_release, name="task-release"),
    path(
        "actions/<int:pk>/transitions/<str:name>/",
        views.action_transition,
        name="action-transition",
    ),
]
