import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Makes sure an administrator exists; prints its user name and password the first time."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("ensure_admin: an administrator exists already")
            return
        username = os.environ.get("TONGCANG_ADMIN_USER", "admin")
        password = os.environ.get("TONGCANG_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(f"administrator created: user name: {username}  password: {password}")
