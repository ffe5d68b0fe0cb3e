from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from access import selectors, services
from access.api.serializers import GrantSerializer, MeSerializer
from config.api import StrictQueryParamsMixin


class IsStaffToChange(permissions.BasePermission):
    message = "Only staff may change grants for now; ask an administrator."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_staff)


class GrantViewSet(
    StrictQueryParamsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Grants of view or edit to groups, on a domain or an asset."""

    serializer_class = GrantSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffToChange]
    filterset_class = None

    def get_queryset(self):
        return selectors.grant_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.grant_set(actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.grant_revoke(grant=instance, actor=self.request.user)


class MeApi(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        """Who you are signed in as, and your groups."""
        user = request.user
        return Response(
            MeSerializer(
                {
                    "id": user.pk,
                    "username": user.get_username(),
                    "is_staff": user.is_staff,
                    "groups": sorted(user.groups.values_list("name", flat=True)),
                }
            ).data
        )
