"""Local SQLite cache of what hmtui fetched (one file per account); no UI imports here."""

from hmtui.cache.store import (
    CacheError,
    CacheInfo,
    NullStore,
    SearchHit,
    Store,
    ThreadState,
    cache_dir,
    cache_files,
    clear_files,
    file_info,
    store_path,
)
from hmtui.cache.writer import StoreWriter

__all__ = [
    "CacheError",
    "CacheInfo",
    "NullStore",
    "SearchHit",
    "Store",
    "StoreWriter",
    "ThreadState",
    "cache_dir",
    "cache_files",
    "clear_files",
    "file_info",
    "store_path",
]
