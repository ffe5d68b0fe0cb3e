from django.contrib.auth import views as auth_views
from django.urls import path

from . import alert_views, dashboard_views, lineage_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="login"),
    # Sign-out accepts POST only, so a prefetched or crawled link cannot end a session.
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("search/", views.search, name="search"),
    path("assets/<int:pk>/", views.asset_detail, name="asset-detail"),
    path("assets/<int:pk>/preview/", dashboard_views.dataset_preview, name="asset-data-preview"),
    path("assets/<int:pk>/refresh/", dashboard_views.dataset_refresh, name="asset-data-refresh"),
    path("refreshes/<int:pk>/status/", dashboard_views.refresh_status, name="refresh-status"),
    path("visuals/<int:pk>/fragment/", dashboard_views.visual_fragment, name="visual-fragment"),
    path("visuals/<int:pk>/alerts/new/", alert_views.alert_new, name="alert-new"),
    path("visuals/<int:pk>/alerts/preview/", alert_views.alert_preview, name="alert-preview"),
    path("alerts/", alert_views.alert_pane, name="alerts"),
    path("alerts/<int:pk>/", alert_views.alert_edit, name="alert-edit"),
    path("alerts/<int:pk>/history/", alert_views.alert_history, name="alert-history"),
    path("alerts/<int:pk>/test/", alert_views.alert_test, name="alert-test"),
    path("alerts/<int:pk>/status/", alert_views.alert_status, name="alert-status"),
    path("alerts/<int:pk>/delete/", alert_views.alert_delete, name="alert-delete"),
    path("assets/<int:pk>/lineage/", lineage_views.lineage_page, name="lineage-page"),
    path("assets/<int:pk>/release/", lineage_views.release_create, name="release-create"),
    path("assets/<int:pk>/fork/", lineage_views.fork_create, name="fork-create"),
    path("releases/<int:pk>/", lineage_views.release_page, name="release-page"),
    path("releases/<int:pk>/rollback/", lineage_views.release_page_rollback, name="release-page-rollback"),
    path("folders/", views.folder_list, name="folders"),
    path("folders/<int:pk>/", views.folder_detail, name="folder-detail"),
    path("reports/", views.reports_page, name="reports"),
]
