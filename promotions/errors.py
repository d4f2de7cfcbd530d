"""One error for every refusal of this app: a code for programs, a message for people."""


class PromotionError(Exception):
    """A refused action; nothing was changed. ``code`` is stable, ``message`` is translated."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
