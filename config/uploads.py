"""Uploads over ``IMPORT_MAX_UPLOAD_BYTES`` are refused while they stream in.

Django's own handlers keep a whole upload (in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then in a
temporary file) before any form sees its size. :class:`LimitedUploadHandler` comes first in
``FILE_UPLOAD_HANDLERS``: it counts each file's bytes, stops passing them on once the limit is
passed (the handlers after it never receive more than the limit), and hands the form a
:class:`RefusedUpload` — empty, with the size that was sent — which :func:`check_upload_size`
turns into a clear error.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _


class RefusedUpload(SimpleUploadedFile):
    """An upload that was over the limit: no content, ``size`` is at least what was sent."""

    refused = True

    def __init__(self, name, content_type, size):
        super().__init__(name, b"", content_type)
        self.size = size


class LimitedUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        self.over = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.IMPORT_MAX_UPLOAD_BYTES:
            if not self.over:
                self.over = True
                self._discard_partial_files()
            return None  # swallowed: later handlers stop writing
        return raw_data

    def _discard_partial_files(self):
        for handler in getattr(self.request, "upload_handlers", ()):
            partial = getattr(handler, "file", None)
            if handler is not self and partial is not None:
                try:
                    partial.close()  # a temporary file is deleted when closed
                except OSError:
                    pass

    def file_complete(self, file_size):
        if self.over:
            return RefusedUpload(self.file_name, self.content_type, self.received)
        return None  # let the next handler build the file


def check_upload_size(upload):
    """The form-level check every upload field uses."""
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if upload is not None and (getattr(upload, "refused", False) or upload.size > limit):
        raise ValidationError(
            _("The file is %(size)s; files over %(limit)s are refused.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
        )
    return upload
