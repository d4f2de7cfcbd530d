"""A platform's (or the sandbox's) error in words: a short sentence in the reader's language put
in front of the platform's own answer, which stays as it came (people quote it to the platform's
support).

The errors are stored as the connectors wrote them (``str(ConnectorError)``: the platform's
message, then its codes in brackets, ``App Call Limited [7/accesscontrol.limited]``); the kind
of error is read back from those codes with each connector's own code tables, and from the few
fixed texts of the HTTP layer (``channels.connectors.base``).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from channels.connectors import jd, top, weimob

_CODES = re.compile(r"\[([^\]/]*)(?:/([^\]]*))?\]\s*$")

# Whether a call is tried again is said by its status (pending or parked), not here.
AUTH = _("the platform does not accept the shop's API credentials (check them on the shop)")
RATE = _("too many calls: the platform asks us to slow down")
DOWN = _("the platform's server did not answer properly")
UNREACHABLE = _("the platform cannot be reached (network, or the platform is down)")
GARBLED = _("the platform's answer could not be read")
NO_URL = _("the shop has no API address")
REFUSED = _("the platform refused this call")

_AUTH_CODES = top.AUTH_CODES | jd.AUTH_CODES | weimob.TOKEN_INVALID | {"401", "403"}
_RATE_CODES = {"7", "429"} | jd.RATE_LIMIT_CODES | weimob.RATE_LIMITED
_DOWN_CODES = top.TRANSIENT_CODES | jd.TRANSIENT_CODES


def reason(raw: str) -> str:
    """What went wrong, in a sentence of the active language, for a stored error text."""
    text = (raw or "").strip()
    match = _CODES.search(text)
    code, sub = (match.group(1) or "", match.group(2) or "") if match else ("", "")
    if code in _AUTH_CODES:
        return str(AUTH)
    if code in _RATE_CODES or sub.startswith("accesscontrol."):
        return str(RATE)
    # As the connectors decide (top.py): a server error unless the platform names the call's
    # own fault (an "isv." sub-code: the trade does not exist, …).
    if (code in _DOWN_CODES and not sub.startswith("isv.")) or sub.startswith("isp."):
        return str(DOWN)
    if re.match(r"HTTP 5\d\d", text):
        return str(DOWN)
    if text.startswith(("timeout after", "connection failed")):
        return str(UNREACHABLE)
    if text.startswith("malformed"):
        return str(GARBLED)
    if text.endswith("has no API base URL"):
        return str(NO_URL)
    return str(REFUSED)


def in_words(raw: str) -> str:
    """ "<reason>: <the platform's answer>", the reason first."""
    if not raw:
        return ""
    return _("%(reason)s: %(answer)s") % {"reason": reason(raw), "answer": raw}
