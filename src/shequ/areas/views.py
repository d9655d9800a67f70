from django.views.generic import DetailView

from shequ.core.views import ScopedViewMixin

from .models import Area


class AreaView(ScopedViewMixin, DetailView):
    model = Area
    slug_field = "code"
    slug_url_kwarg = "code"
    template_name = "areas/area.html"
