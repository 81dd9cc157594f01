"""Read what a page hands to st.download_button (AppTest does not expose the file's bytes)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage


def capture_downloads(monkeypatch) -> dict[str, bytes]:
    """(For a `downloads` fixture.) Every file the pages run in this test hand to st.download_button, by file name; a file
    built only on click (a callable) is built here as if clicked."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id
    original_deferred = MediaFileManager.add_deferred

    def capture(self, path_or_data, mimetype, kind, filename=None):
        files[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    def capture_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        files[file_name] = data_callable()
        return original_deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", capture)
    monkeypatch.setattr(MediaFileManager, "add_deferred", capture_deferred)
    return files


def capture_deferred(monkeypatch) -> dict[str, Callable[[], bytes]]:
    """(For a fixture.) The builder each page hands to st.download_button as deferred data, by file
    name, NOT called: the test calls it, as a click would, to check that nothing was built before."""
    builders: dict[str, Callable[[], bytes]] = {}
    original_deferred = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        builders[file_name] = data_callable
        return original_deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return builders


def csv_rows(data: bytes) -> list[list[str]]:
    """The cells of a downloaded CSV (UTF-8, with or without a byte-order mark)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
