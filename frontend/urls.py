from django.contrib.auth import views as auth_views
from django.urls import path

from . import lineage_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="login"),
    # Sign-out accepts POST only, so a prefetched or crawled link cannot end a session.
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("search/", views.search, name="search"),
    path("assets/<int:pk>/", views.asset_detail, name="asset-detail"),
    path("assets/<int:pk>/lineage/", lineage_views.lineage_page, name="lineage-page"),
    path("assets/<int:pk>/release/", lineage_views.release_create, name="release-create"),
    path("assets/<int:pk>/fork/", lineage_views.fork_create, name="fork-create"),
    path("releases/<int:pk>/", lineage_views.release_page, name="release-page"),
    path("releases/<int:pk>/rollback/", lineage_views.release_page_rollback, name="release-page-rollback"),
    path("folders/", views.folder_list, name="folders"),
    path("folders/<int:pk>/", views.folder_detail, name="folder-detail"),
    path("reports/", views.reports_page, name="reports"),
]
