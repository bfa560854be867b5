"""POST /v1/extract: an uploaded .txt or .docx page becomes the text an editor would paste."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from flask import Blueprint, jsonify, request

from service.context import app_settings
from service.errors import APIError

bp = Blueprint("extract", __name__)

# A .docx is a zip; refuse archives that would unpack to far more than any page.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_MEMBERS = 2000


def docx_text(data: bytes) -> str:
    """Paragraphs (and table cells) of a .docx in document order, one block each, blank-line separated."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except zipfile.BadZipFile:
        raise APIError(422, "invalid_docx", "the file is not a valid .docx (not a zip archive)") from None
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise APIError(413, "too_large", "the .docx unpacks to more than a page could hold")
    # python-docx (and lxml under it) costs a tenth of a second to import: only a .docx upload pays it,
    # not every worker's start.
    from docx import Document

    try:
        document = Document(io.BytesIO(data))
    except Exception:  # python-docx raises several kinds for damaged packages
        raise APIError(422, "invalid_docx", "the .docx could not be read; save it again from Word and retry") from None
    blocks: list[str] = []
    for part in document.iter_inner_content():
        if hasattr(part, "rows"):
            for row in part.rows:
                for cell in row.cells:
                    blocks.extend(p.text for p in cell.paragraphs)
        else:
            blocks.append(part.text)
    return "\n\n".join(block.strip() for block in blocks if block.strip())


def txt_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 as Chinese Windows tools save it."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise APIError(422, "invalid_text_file", "the .txt file is neither UTF-8 nor GB18030 text")


@bp.post("/v1/extract")
def extract():
    limits = app_settings()
    request.max_content_length = limits.max_upload_bytes
    if request.mimetype != "multipart/form-data":
        raise APIError(415, "unsupported_media_type", "upload the file as multipart/form-data in the field 'file'")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise APIError(422, "missing_file", "no file in the form field 'file'")
    suffix = PurePath(upload.filename).suffix.lower()
    if suffix not in (".txt", ".docx"):
        raise APIError(415, "unsupported_file_type", f"{suffix or 'this file'} is not supported; upload .txt or .docx")
    data = upload.read()
    text = docx_text(data) if suffix == ".docx" else txt_text(data)
    if not text.strip():
        raise APIError(422, "empty_text", "the file holds no text")
    if len(text) > limits.max_page_chars:
        raise APIError(
            413,
            "text_too_long",
            f"the file holds {len(text)} characters; the limit is {limits.max_page_chars}",
        )
    return jsonify(text=text, filename=upload.filename, characters=len(text))
