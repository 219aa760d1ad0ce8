"""The upload handler and size check (crm/lib/uploads.py), below the pages that use them."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.lib.uploads import MB, LimitedTemporaryFileUploadHandler, RefusedUpload, check_upload_size


def handler_for(body_length: int) -> LimitedTemporaryFileUploadHandler:
    handler = LimitedTemporaryFileUploadHandler()
    handler.handle_raw_input(io.BytesIO(), {}, body_length, b"boundary")
    handler.new_file("file", "big.csv", "text/csv", None)
    return handler


def feed(handler: LimitedTemporaryFileUploadHandler, chunks: int, size: int = 64 * 1024) -> int:
    for n in range(chunks):
        handler.receive_data_chunk(b"x" * size, n * size)
    return chunks * size


def test_a_file_within_the_limit_is_kept_on_disk_whole(settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    handler = handler_for(MB)
    size = feed(handler, 16)  # exactly 1 MB
    upload = handler.file_complete(size)
    assert not isinstance(upload, RefusedUpload)
    assert upload.temporary_file_path() and upload.size == size and len(upload.read()) == size
    upload.close()


def test_a_file_growing_past_the_limit_is_dropped_at_that_chunk_and_only_counted_after(settings, tmp_path):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path
    handler = handler_for(0)  # no length declared: only the bytes tell
    size = feed(handler, 40)
    assert handler.file.closed and list(tmp_path.iterdir()) == []
    upload = handler.file_complete(size)
    assert isinstance(upload, RefusedUpload) and upload.size == size and upload.read() == b""


def test_a_body_declared_too_big_opens_no_file(settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    handler = handler_for(MB + settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    assert not hasattr(handler, "file")
    upload = handler.file_complete(feed(handler, 2))
    assert isinstance(upload, RefusedUpload)


def test_the_size_check_takes_the_smaller_of_the_forms_limit_and_the_setting(settings):
    settings.IMPORT_MAX_UPLOAD_MB = 2
    check_upload_size(SimpleUploadedFile("a.csv", b"x" * MB), limit=MB)
    with pytest.raises(ValidationError, match="the largest that can be uploaded here is 1 MB"):
        check_upload_size(SimpleUploadedFile("a.csv", b"x" * (MB + 1)), limit=MB)
    with pytest.raises(ValidationError, match="here is 2 MB"):
        check_upload_size(SimpleUploadedFile("a.csv", b"x" * (2 * MB + 1)), limit=32 * MB)
    with pytest.raises(ValidationError, match="This file is 0.0 MB"):  # refused by the handler, whatever it says
        check_upload_size(RefusedUpload("a.csv", "text/csv", 10, None))
