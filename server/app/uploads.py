"""Uploaded datasets: a CSV file, or a zip of class folders, checked and stored safely.

Everything is written under `uploads/.tmp-<id>` first and renamed to
`uploads/<id>` only once every check has passed, so a refused upload leaves
nothing behind. Zip entries are checked before a byte is extracted (count,
declared sizes and ratio, names, links, nested archives) and again while
extracting (actual sizes, since headers can lie); every image is decoded with a
pixel limit so a decompression bomb is refused rather than rendered.
"""

from __future__ import annotations

import shutil
import stat
import warnings
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Any

from PIL import Image

from .settings import Settings

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm",
                  ".pgm"}
ARCHIVE_SUFFIXES = {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".jar"}
IGNORED = {"__MACOSX", ".DS_Store", "Thumbs.db"}
CHUNK = 1 << 20


class UploadError(ValueError):
    """An upload refused, with the reason for the user."""

    def __init__(self, message: str, status: int = 422):
        self.status = status
        super().__init__(message)


def is_zip(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def store_csv(src: IO[bytes], dest: Path, settings: Settings) -> int:
    """Copy an uploaded CSV to `dest` after cheap limit checks; returns its size."""
    size = _copy(src, dest, settings.max_upload_bytes)
    if size == 0:
        raise UploadError("the file is empty; a CSV needs a header row and data rows")
    with open(dest, "rb") as f:
        head = f.read(1 << 16)
        if b"\x00" in head:
            raise UploadError("this is not a CSV file: it holds binary data")
        try:
            header = head.split(b"\n", 1)[0].decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UploadError("this is not a CSV file: it is not UTF-8 text") from None
        columns = header.count(",") + 1
        if columns > settings.max_csv_columns:
            raise UploadError(f"the CSV has {columns} columns; at most "
                              f"{settings.max_csv_columns} are allowed")
        f.seek(0)
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(CHUNK), b""))
    if rows > settings.max_csv_rows + 1:
        raise UploadError(f"the CSV has about {rows} rows; at most {settings.max_csv_rows} "
                          "are allowed")
    return size


def extract_image_zip(src: IO[bytes], dest: Path, settings: Settings) -> int:
    """Extract a zip of class folders into `dest` (which must not exist); returns bytes."""
    try:
        archive = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UploadError(f"not a readable zip file: {exc}") from None
    with archive:
        entries = _checked_entries(archive, settings)
        prefix = _common_folder(entries)
        classes: dict[str, int] = {}
        budget = settings.max_unzipped_bytes
        dest.mkdir(parents=True)
        for info, parts in entries:
            parts = parts[len(prefix):]
            if not parts:
                continue
            if info.is_dir():
                if len(parts) == 1:
                    classes.setdefault(parts[0], 0)
                continue
            if len(parts) < 2:
                raise UploadError(f"{info.filename}: images must be inside class folders "
                                  "(cat/1.png, dog/2.png)")
            classes[parts[0]] = classes.get(parts[0], 0) + 1
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            budget -= _extract_one(archive, info, target, budget)
            _check_image(target, info.filename, settings)
    empty = sorted(c for c, n in classes.items() if n == 0)
    if empty:
        raise UploadError(f"class folder {empty[0]!r} holds no images")
    if len(classes) < 2:
        raise UploadError("a zip of class folders needs at least two class folders, "
                          f"found {len(classes)}")
    return settings.max_unzipped_bytes - budget


def _checked_entries(archive: zipfile.ZipFile,
                     settings: Settings) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    infos = archive.infolist()
    if len(infos) > settings.max_zip_entries:
        raise UploadError(f"the zip has {len(infos)} entries; at most "
                          f"{settings.max_zip_entries} are allowed")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > settings.max_unzipped_bytes:
        raise UploadError(f"the zip would unpack to {total} bytes; at most "
                          f"{settings.max_unzipped_bytes} are allowed")
    if total > settings.max_zip_ratio * max(packed, 1):
        raise UploadError(f"the zip's compression ratio ({total // max(packed, 1)}:1) is "
                          "suspiciously high")
    out = []
    for info in infos:
        parts = _safe_parts(info.filename)
        if parts is None:
            raise UploadError(f"{info.filename!r}: entry names must be relative paths "
                              "inside the archive")
        if any(p in IGNORED or p.startswith("._") for p in parts):
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UploadError(f"{info.filename}: links are not allowed in an upload")
        if not info.is_dir():
            suffix = PurePosixPath(parts[-1]).suffix.lower()
            if suffix in ARCHIVE_SUFFIXES:
                raise UploadError(f"{info.filename}: archives inside the zip are not allowed")
            if suffix not in IMAGE_SUFFIXES:
                raise UploadError(f"{info.filename}: only images are allowed "
                                  f"({', '.join(sorted(IMAGE_SUFFIXES))})")
        out.append((info, parts))
    if not any(not i.is_dir() for i, _ in out):
        raise UploadError("the zip holds no images")
    return out


def _safe_parts(name: str) -> tuple[str, ...] | None:
    """The path components of an entry name, or None if it could leave the folder."""
    if "\\" in name or "\x00" in name or name.startswith("/") or ":" in name:
        return None
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if not parts or any(p == ".." for p in parts):
        return None
    return parts


def _common_folder(entries: list[tuple[zipfile.ZipInfo, tuple[str, ...]]]) -> tuple[str, ...]:
    """A single top folder wrapping the class folders (zip of `pets/cat/...`) is skipped."""
    tops = {parts[0] for _, parts in entries}
    files = [parts for info, parts in entries if not info.is_dir()]
    if len(tops) == 1 and files and all(len(p) >= 3 for p in files):
        return (next(iter(tops)),)
    return ()


def _extract_one(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path,
                 budget: int) -> int:
    """Copy one entry, counting real bytes against what is left of the budget."""
    written = 0
    try:
        with archive.open(info) as src, open(target, "xb") as out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > info.file_size or written > budget:
                    raise UploadError(f"{info.filename}: unpacks to more than declared")
                out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise UploadError(f"{info.filename}: cannot be extracted: {exc}") from None
    except FileExistsError:
        raise UploadError(f"{info.filename}: appears twice in the zip") from None
    return written


def _check_image(path: Path, name: str, settings: Settings) -> None:
    """Decode the whole image, refusing huge pixel counts before decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > settings.max_image_pixels:
                    raise UploadError(f"{name}: {w}x{h} pixels is more than the limit of "
                                      f"{settings.max_image_pixels}")
                im.load()
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError(f"{name}: the image is too large (decompression bomb)") from None
    except Exception as exc:  # Pillow raises many types for corrupt files
        raise UploadError(f"{name}: not a readable image ({type(exc).__name__})") from None


def _copy(src: IO[bytes], dest: Path, limit: int) -> int:
    size = 0
    with open(dest, "xb") as out:
        while chunk := src.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise UploadError(f"the upload is larger than {limit} bytes", status=413)
            out.write(chunk)
    return size


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def dataset_params(kind: str, folder: Path, label: str,
                   name: str | None = None, text: str = "",
                   tokens: str = "word") -> tuple[str, dict[str, Any]]:
    """The (dataset, params) a graph uses for an upload stored in `folder` as `name`
    (`<name>.csv` or the folder `<name>`; uploads made before names were kept used
    `data.csv` and `images`). A CSV with a `text` column is read as token ids."""
    if kind == "csv":
        params = {"path": str(folder / f"{name or 'data'}.csv"), "label": label}
        if text:
            params |= {"text": text, "tokens": tokens}
        return "csv", params
    return "imagefolder", {"path": str(folder / (name or "images"))}


def shown_name(filename: str | None) -> str:
    """The uploaded file's own name, as messages to the user may quote it."""
    return (filename or "the file").replace("\\", "/").rsplit("/", 1)[-1][:120] or "the file"


def check_csv_name(shown: str) -> None:
    """Refuse a file that does not say it is a CSV (a .txt is not read as one)."""
    if not shown.lower().endswith(".csv"):
        raise UploadError(f"{shown} is not a .csv file or a .zip of images: upload a CSV with "
                          "a header row (its name ending in .csv), or a zip with one folder "
                          "of images per class")
