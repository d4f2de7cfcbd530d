"""The site's icon: a parcel in the admin's blue, drawn inline (no file to serve or collect)."""

from django.http import HttpResponse
from django.views.decorators.cache import cache_control

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect x="3" y="8" width="26" height="20" rx="2" fill="#417690"/>'
    '<path d="M3 10 L16 3 L29 10" fill="#79aec8"/>'
    '<rect x="13" y="8" width="6" height="9" fill="#f5dd5d"/>'
    "</svg>"
)


@cache_control(max_age=86400, public=True)
def favicon(request):
    return HttpResponse(SVG, content_type="image/svg+xml")
