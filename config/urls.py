from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # first: event senders post at high rates, and resolving goes through the patterns in order
    path("api/v1/", include("ingestion.api.urls")),
    path("api/v1/", include("catalog.api.urls")),
    path("api/v1/", include("access.api.urls")),
    path("api/v1/", include("lineage.api.urls")),
    path("api/v1/", include("alerts.api.urls")),
    path("api/v1/", include("recommender.api.urls")),
    path("api/v1/", include("promotions.api.urls")),
    path("", include("frontend.urls")),
]
