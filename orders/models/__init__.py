from .fulfilment import *  # noqa: F401,F403
from .order import *  # noqa: F401,F403
from .privacy import *  # noqa: F401,F403
