"""Tree import and export pages (see docs/tree-format.md).

Export reads through ``for_user(user, "export")``; import refuses rows outside the importer's
import scope. No permission anywhere -> 403, an area out of scope -> 404.
"""

import os
import re

from django import forms
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView

from shequ.core.views import ScopedViewMixin

from . import treeio
from .models import Area, Place

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class TreeExportView(ScopedViewMixin, View):
    model = Area
    action = "export"
    fmt = "csv"

    def get(self, request, code):
        root = get_object_or_404(self.get_queryset(), code=code)
        places = request.GET.get("places", "compounds")
        if places not in treeio.PLACE_DEPTHS:
            return HttpResponseBadRequest(
                _("places must be one of: %(choices)s")
                % {"choices": ", ".join(treeio.PLACE_DEPTHS)}
            )
        options = {
            "places": places,
            "areas_qs": self.get_queryset(),
            "places_qs": Place.objects.for_user(request.user, "export"),
        }
        if self.fmt == "geojson":
            pieces = treeio.export_geojson(root, **options)
            content_type = "application/geo+json"
        else:
            # With a byte-order mark: spreadsheet programs then read the Chinese correctly.
            pieces = treeio.export_csv(root, bom=True, **options)
            content_type = "text/csv; charset=utf-8"
        response = StreamingHttpResponse(
            (piece.encode("utf-8") for piece in pieces), content_type=content_type
        )
        safe_code = re.sub(r"[^A-Za-z0-9]", "", root.code)
        response["Content-Disposition"] = (
            f'attachment; filename="shequ-tree-{safe_code}.{self.fmt}"'
        )
        return response


class TreeImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("CSV (UTF-8) or GeoJSON; see the format below.")
    )
    format = forms.ChoiceField(
        label=_("Format"),
        required=False,
        choices=[("", _("From the file name")), ("csv", "CSV"), ("geojson", "GeoJSON")],
    )
    dry_run = forms.BooleanField(
        label=_("Check only: validate and count, write nothing"), required=False
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB; use the import_tree command.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


class TreeImportView(ScopedViewMixin, FormView):
    """For data stewards: upload a tree file, see every problem or what was imported."""

    model = Area
    action = "import"
    form_class = TreeImportForm
    template_name = "areas/import.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["columns"] = treeio.COLUMNS
        context["required"] = treeio.REQUIRED
        context["levels"] = treeio.LEVELS
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        filename = os.path.basename(upload.name or "upload")
        data = b"".join(upload.chunks())
        context = {"form": form, "filename": filename}
        try:
            result = treeio.import_tree(
                data,
                filename=filename,
                fmt=form.cleaned_data["format"] or None,
                user=self.request.user,
                dry_run=form.cleaned_data["dry_run"],
            )
        except treeio.TreeImportError as exc:
            context.update(
                errors=exc.errors, error_total=exc.total, more=exc.total - len(exc.errors)
            )
        else:
            context.update(result=result, totals=result.totals)
        return self.render_to_response(self.get_context_data(**context))
