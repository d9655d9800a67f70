from django.urls import path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("", views.CampaignListView.as_view(), name="list"),
    path("new/", views.CampaignCreateView.as_view(), name="new"),
    path("sw.js", views.service_worker, name="sw"),
    path("<int:pk>/", views.CampaignView.as_view(), name="campaign"),
    path("<int:pk>/edit/", views.CampaignEditView.as_view(), name="edit"),
    path("<int:pk>/visit/", views.VisitPageView.as_view(), name="visit"),
    path("<int:pk>/teams/", views.TeamsView.as_view(), name="teams"),
    path("<int:pk>/teams/plan/", views.PlanView.as_view(), name="plan"),
    path("<int:pk>/teams/move/", views.MoveBuildingView.as_view(), name="move"),
    path("<int:pk>/teams/new/", views.TeamCreateView.as_view(), name="team_new"),
    path("<int:pk>/teams/<int:team>/", views.TeamView.as_view(), name="team"),
    path("<int:pk>/teams/<int:team>/roster.pdf", views.RosterView.as_view(), name="roster"),
    path("<int:pk>/rounds/<int:number>/close/", views.CloseRoundView.as_view(), name="close"),
]
