"""POST /v1/extract: uploaded .txt and .docx pages become page text."""

import io
import subprocess
import sys
import zipfile

import pytest
from docx import Document


def upload(client, data: bytes, name: str):
    return client.post("/v1/extract", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def docx_bytes(blocks, table=None) -> bytes:
    document = Document()
    for block in blocks:
        document.add_paragraph(block)
    if table:
        grid = document.add_table(rows=1, cols=len(table))
        for cell, value in zip(grid.rows[0].cells, table, strict=True):
            cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_headlines_and_paragraphs_become_blank_line_separated_blocks(client):
    blocks = ["法治快讯", "夜查酒驾", "通讯员 张三", "本报讯 近日，交警开展夜查。", ""]
    response = upload(client, docx_bytes(blocks, table=["表格里的一段文字。"]), "版面.docx")
    assert response.status_code == 200
    assert (
        response.get_json()["text"]
        == "法治快讯\n\n夜查酒驾\n\n通讯员 张三\n\n本报讯 近日，交警开展夜查。\n\n表格里的一段文字。"
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_txt_in_the_encodings_newsrooms_use(client, encoding):
    response = upload(client, "夜查酒驾\n\n本报讯 近日，交警开展夜查。".encode(encoding), "p.TXT")
    assert response.status_code == 200 and response.get_json()["text"].startswith("夜查酒驾")


@pytest.mark.parametrize(
    "data, name, status, code",
    [
        (b"%PDF-1.4", "page.pdf", 415, "unsupported_file_type"),
        (b"no extension", "page", 415, "unsupported_file_type"),
        (b"not a zip at all", "page.docx", 422, "invalid_docx"),
        (b"\x81\x30\xff\xfe\xfd", "page.txt", 422, "invalid_text_file"),
        (b"   \n ", "page.txt", 422, "empty_text"),
    ],
)
def test_bad_files_get_clear_errors(client, data, name, status, code):
    response = upload(client, data, name)
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_a_zip_that_is_not_a_docx_and_a_zip_bomb(client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (60 * 1024 * 1024))
    response = upload(client, buffer.getvalue(), "bomb.docx")
    assert response.status_code == 413
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert upload(client, buffer.getvalue(), "fake.docx").get_json()["error"]["code"] == "invalid_docx"


def test_missing_file_wrong_content_type_and_size_limit(model_root, client):
    from service import create_app

    assert client.post("/v1/extract", data={}, content_type="multipart/form-data").status_code == 422
    response = client.post("/v1/extract", data=b"{}", content_type="application/json")
    assert response.status_code == 415
    small = create_app({"MODEL_ROOT": str(model_root), "MAX_UPLOAD_BYTES": 1000}).test_client()
    response = upload(small, "长".encode() * 2000, "big.txt")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"


def test_a_worker_imports_python_docx_only_when_a_docx_arrives(model_root):
    # python-docx and lxml are a tenth of a second of every worker's cold start; plain pages never need them.
    code = (
        "import sys; from service import create_app; app = create_app({'MODEL_ROOT': sys.argv[1]}); "
        "print('docx' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code, str(model_root)], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
