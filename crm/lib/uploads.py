"""Uploads stream to a temporary file on disk as they arrive, and stop being kept once over the size limit.

Django keeps an upload in memory only while the whole request is under FILE_UPLOAD_MAX_MEMORY_SIZE (set low);
anything bigger goes to disk through the handler below, a chunk at a time. A file over IMPORT_MAX_UPLOAD_MB is
not kept at all: refused at its first chunk when the request's Content-Length already says so, else at the
chunk that passes the limit (its temporary file goes with it). The rest of the body is still read, and thrown
away, so that the browser reads our answer (a form saying why, with the user's other choices kept) instead of
a reset connection. The form sees a RefusedUpload in place of the file, and check_upload_size refuses it.
"""

import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler
from django.utils.translation import gettext as _

MB = 1024 * 1024


def max_upload_bytes() -> int:
    return settings.IMPORT_MAX_UPLOAD_MB * MB


class RefusedUpload(UploadedFile):
    """What arrived of a file over the limit: its name and size, none of its content."""

    def __init__(self, name: str, content_type: str, size: int, charset: str | None):
        super().__init__(io.BytesIO(), name, content_type, size, charset)


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None) -> None:
        self.limit = max_upload_bytes()
        # The form's other fields are small (Django caps them at DATA_UPLOAD_MAX_MEMORY_SIZE): a body longer than
        # the limit and those together holds a file over the limit.
        fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        self.declared_too_big = content_length > self.limit + fields

    def new_file(self, *args, **kwargs) -> None:
        self.refused = getattr(self, "declared_too_big", False)
        if self.refused:
            FileUploadHandler.new_file(self, *args, **kwargs)  # its name and type, but no temporary file
        else:
            super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if not self.refused and start + len(raw_data) > self.limit:
            self.refused = True
            self.file.close()  # a temporary file is deleted when closed
        if not self.refused:
            super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile:
        if self.refused:
            return RefusedUpload(self.file_name, self.content_type, file_size, self.charset)
        return super().file_complete(file_size)


def check_upload_size(upload: UploadedFile, *, limit: int | None = None) -> None:
    """A form's check of an uploaded file's size: at most `limit` bytes, and never over IMPORT_MAX_UPLOAD_MB."""
    limit = min(limit or max_upload_bytes(), max_upload_bytes())
    if isinstance(upload, RefusedUpload) or upload.size > limit:
        raise ValidationError(
            _("This file is %(size)s MB; the largest that can be uploaded here is %(limit)s MB.")
            % {"size": f"{upload.size / MB:,.1f}", "limit": f"{limit / MB:g}"},
            code="too_big",
        )
