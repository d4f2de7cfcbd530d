"""Chinese first: the language is the one a person chose in the switcher (its cookie), or
Chinese; the browser's Accept-Language is not asked. A warehouse PC with an English Windows
must not greet its packers in English. The ERP's API (``/api/``) still answers in the language
its client asks for."""


class ChineseUnlessChosenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
