"""The emergency-command API: report incidents, act on them, rank the resources, dispatch a vehicle.
Each view validates, calls one service (or selector), renders."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from emergency import selectors, services
from emergency.lifecycle import MANUAL_ACTIONS, allowed_actions
from emergency.models import Incident, IncidentEntry, IncidentKind
from logistics.api.common import visible_object
from logistics.api.trips import StopOutput
from logistics.models import Vehicle, WasteClass
from logistics.selectors import trip_get
from waste.api.fields import CheckedGeometryField
from waste.api.idempotency import idempotent_response
from waste.api.schema import IDEMPOTENCY_KEY
from waste.errors import AppError
from waste.models import Membership, Organisation, Site


def acting_for(user, pk) -> Organisation | None:
    """The organisation named, or the user's only one; None for a member of several who names none."""
    if pk is not None:
        return visible_object(Organisation, user, pk, "organisation")
    orgs = list(Membership.objects.filter(user=user).values_list("organisation_id", flat=True)[:2])
    return Organisation.objects.get(pk=orgs[0]) if len(orgs) == 1 else None


class FormPointField(CheckedGeometryField):
    """A GeoJSON point, also as a JSON string (a multipart form with a photo carries text only)."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise serializers.ValidationError(
                    _("Expected a GeoJSON geometry object with type and coordinates.")
                ) from exc
        return super().to_internal_value(value)


class IncidentInput(serializers.Serializer):
    kind = serializers.ChoiceField(IncidentKind.choices)
    point = FormPointField("Point")
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    waste_code = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    waste_class = serializers.ChoiceField(WasteClass.choices, required=False, allow_blank=True, default="")
    quantity_kg = serializers.DecimalField(
        max_digits=12, decimal_places=3, min_value=0, required=False, allow_null=True, default=None
    )
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    photo = serializers.FileField(required=False, allow_null=True, default=None)
    organisation = serializers.IntegerField(required=False, allow_null=True, default=None)


class EntryOutput(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = IncidentEntry
        fields = ["id", "kind", "status", "text", "data", "author", "at"]


class IncidentOutput(serializers.ModelSerializer):
    point = serializers.SerializerMethodField()
    photo = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "kind",
            "status",
            "point",
            "occurred_at",
            "waste_code",
            "waste_class",
            "quantity_kg",
            "description",
            "photo",
            "organisation",
            "public",
            "actions",
            "created_at",
        ]

    def get_point(self, incident) -> dict:
        return {"type": "Point", "coordinates": [incident.point.x, incident.point.y]}

    def get_photo(self, incident) -> str | None:
        return incident.photo.url if incident.photo else None

    def get_actions(self, incident) -> list[str]:
        return allowed_actions(incident.status)


class IncidentDetailOutput(IncidentOutput):
    timeline = serializers.SerializerMethodField()

    class Meta(IncidentOutput.Meta):
        fields = [*IncidentOutput.Meta.fields, "timeline"]

    def get_timeline(self, incident) -> list[dict]:
        return EntryOutput(selectors.incident_timeline(incident=incident), many=True).data


class IncidentListCreateApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses={200: IncidentOutput(many=True)})
    def get(self, request):
        rows = selectors.incident_list(user=request.user, open_only=request.query_params.get("open") == "1")
        return Response({"results": IncidentOutput(rows[:200], many=True).data})

    @extend_schema(request=IncidentInput, responses={201: IncidentDetailOutput})
    def post(self, request):
        data = IncidentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        photo = values.pop("photo")
        organisation = acting_for(request.user, values.pop("organisation"))
        incident = services.incident_report(
            user=request.user, organisation=organisation, data=services.IncidentIn(**values), photo=photo
        )
        return Response(IncidentDetailOutput(incident).data, status=201)


class IncidentDetailApi(APIView):
    @extend_schema(responses={200: IncidentDetailOutput})
    def get(self, request, incident_id: int):
        incident = selectors.incident_get(user=request.user, incident_id=incident_id)
        return Response(IncidentDetailOutput(incident).data)


class IncidentActionApi(APIView):
    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField([(str(a), a.label) for a in MANUAL_ACTIONS])
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
        organisation = serializers.IntegerField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={200: IncidentDetailOutput})
    def post(self, request, incident_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = selectors.incident_get(user=request.user, incident_id=incident_id)
        incident = services.incident_act(
            user=request.user,
            incident=incident,
            action=data.validated_data["action"],
            note=data.validated_data["note"],
            organisation=acting_for(request.user, data.validated_data["organisation"]),
        )
        return Response(IncidentDetailOutput(incident).data)


class IncidentNoteApi(APIView):
    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=4000)
        organisation = serializers.IntegerField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: EntryOutput})
    def post(self, request, incident_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = selectors.incident_get(user=request.user, incident_id=incident_id)
        entry = services.incident_note(
            user=request.user,
            incident=incident,
            text=data.validated_data["text"],
            organisation=acting_for(request.user, data.validated_data["organisation"]),
        )
        return Response(EntryOutput(entry).data, status=201)


def candidate_json(candidate: selectors.Candidate, kind: str) -> dict:
    obj = candidate.obj
    base = {
        "id": obj.pk,
        "metres": round(candidate.metres) if candidate.metres is not None else None,
        "seconds": round(candidate.seconds) if candidate.seconds is not None else None,
        "reasons": [str(r) for r in candidate.reasons],
        "by": "road" if candidate.by_road else "straight_line",
    }
    if kind == "vehicle":
        where = selectors.vehicle_point(obj)
        return {**base, "plate": obj.plate, "organisation": obj.organisation_id, "point": [where.x, where.y]}
    return {**base, "name": obj.name, "kind": obj.kind, "point": [obj.location.x, obj.location.y]}


class CandidateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    metres = serializers.IntegerField(allow_null=True, help_text="by road when a network is loaded")
    seconds = serializers.IntegerField(allow_null=True, help_text="travel time")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="why it qualifies")
    by = serializers.ChoiceField(
        choices=["road", "straight_line"],
        help_text="road: metres and seconds from the loaded road network (a point off the network gets the "
        "straight-line estimate); straight_line: no network loaded, distance times a detour factor",
    )
    point = serializers.ListField(child=serializers.FloatField())


class ResourcesOutput(serializers.Serializer):
    vehicles = CandidateOutput(many=True)
    sites = CandidateOutput(many=True)


class IncidentResourcesApi(APIView):
    @extend_schema(responses={200: ResourcesOutput})
    def get(self, request, incident_id: int):
        incident = selectors.incident_get(user=request.user, incident_id=incident_id)
        ranked = selectors.incident_resources(user=request.user, incident=incident)
        return Response(
            {
                "vehicles": [candidate_json(c, "vehicle") for c in ranked["vehicles"]],
                "sites": [candidate_json(c, "site") for c in ranked["sites"]],
            }
        )


class DispatchOutput(serializers.Serializer):
    id = serializers.IntegerField()
    vehicle = serializers.IntegerField(source="vehicle_id")
    site = serializers.IntegerField(source="site_id")
    trip = serializers.IntegerField(source="trip_id")
    driver = serializers.CharField(source="trip.driver.username")


class IncidentDispatchApi(APIView):
    class InputSerializer(serializers.Serializer):
        vehicle = serializers.IntegerField(min_value=1)
        site = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
        driver = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
        organisation = serializers.IntegerField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: DispatchOutput})
    def post(self, request, incident_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        incident = selectors.incident_get(user=request.user, incident_id=incident_id)
        vehicle = visible_object(Vehicle, request.user, values["vehicle"], "vehicle")
        site = None
        if values["site"] is not None:
            site = Site.objects.filter(pk=values["site"]).first()
            if site is None:
                raise AppError.field("site", _("No such site."), code="unknown")
        dispatch = services.incident_dispatch(
            user=request.user,
            incident=incident,
            vehicle=vehicle,
            site=site,
            driver=values["driver"],
            organisation=acting_for(request.user, values["organisation"]),
        )
        return Response(DispatchOutput(dispatch).data, status=201)


class IncidentStopApi(APIView):
    """The dispatched driver at an incident's stop of the round: arrived, then done. Retries with
    the same Idempotency-Key answer the first answer and write nothing."""

    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(services.StopAction.choices)

    @extend_schema(
        request=InputSerializer,
        responses={200: StopOutput},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request, trip_id: int, sequence: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trip = trip_get(user=request.user, trip_id=trip_id)

        def handler():
            stop = services.incident_stop_record(
                user=request.user, trip=trip, sequence=sequence, action=data.validated_data["action"]
            )
            return 200, StopOutput(stop).data

        return idempotent_response(request, scope=f"incident-stop:{trip.pk}:{sequence}", handler=handler)
