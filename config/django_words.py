"""Words of Django's admin and of django-simple-history that their own Chinese catalogues lack
(screen-reader headers of the app list, the history table). Listed here so that ``make
messages`` keeps them in the project catalogue (locale/), which comes before the packages'."""

from django.utils.translation import gettext_noop

WORDS = [
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Model name"),
    gettext_noop("Changes"),
    gettext_noop("None"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    # templates/admin/inventory/ is skipped by the catalogue build (its folder is named like
    # an app), so its sentence is kept here.
    gettext_noop(
        "The change is written to the stock ledger with your name, the time and the reason."
    ),
]
