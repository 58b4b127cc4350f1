"""The containers of a request, as werkzeug shapes them: ``MultiDict`` (several values per key,
``[key]`` and ``get`` give the first), ``Headers`` (case-insensitive, iterates over pairs) and
``FileStorage`` (an uploaded file)."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from os import PathLike
from typing import IO, Any

from skylet.worker.web.errors import BadRequestKeyError

Pairs = Iterable[tuple[str, Any]]


def _convert(value: Any, type: Callable[[Any], Any] | None) -> Any:
    return value if type is None else type(value)


class MultiDict(dict[str, Any]):
    """Read-only, ordered, several values per key; as werkzeug's ``ImmutableMultiDict``, a dict
    of each key's first value (so ``json.dumps`` and ``dict()`` see those) that also keeps every
    value. ``[key]`` raises a ``KeyError`` that Flask answers with 400; ``get(key, default,
    type)`` returns ``default`` when ``type`` fails."""

    def __init__(self, pairs: Pairs | Mapping[str, Any] = ()) -> None:
        super().__init__()
        self._pairs: list[tuple[str, Any]] = list(_pairs(pairs))
        for key, value in self._pairs:
            if not dict.__contains__(self, key):
                dict.__setitem__(self, key, value)

    def __missing__(self, key: str) -> Any:
        raise BadRequestKeyError(key)

    def getlist(self, key: str, type: Callable[[Any], Any] | None = None) -> list[Any]:
        values = []
        for k, v in self._pairs:
            if k == key:
                try:
                    values.append(_convert(v, type))
                except (TypeError, ValueError):
                    continue
        return values

    def get(self, key: str, default: Any = None, type: Callable[[Any], Any] | None = None) -> Any:
        if not dict.__contains__(self, key):
            return default
        try:
            return _convert(dict.__getitem__(self, key), type)
        except (TypeError, ValueError):
            return default

    def items(self, multi: bool = False) -> list[tuple[str, Any]]:  # type: ignore[override]
        return list(self._pairs) if multi else list(dict.items(self))

    def lists(self) -> list[tuple[str, list[Any]]]:
        return [(k, self.getlist(k)) for k in self]

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        return dict(dict.items(self)) if flat else dict(self.lists())

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{type(self).__name__} is read-only")

    __setitem__ = __delitem__ = setdefault = pop = popitem = clear = update = _read_only

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._pairs!r})"


class Headers:
    """HTTP headers: names compare case-insensitively, iteration yields ``(name, value)`` pairs
    as werkzeug's ``Headers`` does, and a response's headers can be changed."""

    def __init__(self, pairs: Pairs | Mapping[str, Any] | None = None) -> None:
        self._pairs: list[tuple[str, str]] = []
        if pairs is not None:
            self.extend(pairs)

    def get(self, key: str, default: Any = None, type: Callable[[Any], Any] | None = None) -> Any:
        wanted = key.lower()
        for k, v in self._pairs:
            if k.lower() == wanted:
                try:
                    return _convert(v, type)
                except (TypeError, ValueError):
                    return default
        return default

    def getlist(self, key: str, type: Callable[[Any], Any] | None = None) -> list[Any]:
        wanted = key.lower()
        values = []
        for k, v in self._pairs:
            if k.lower() == wanted:
                try:
                    values.append(_convert(v, type))
                except (TypeError, ValueError):
                    continue
        return values

    get_all = getlist

    def __getitem__(self, key: str) -> str:
        wanted = key.lower()
        for k, v in self._pairs:
            if k.lower() == wanted:
                return v
        raise BadRequestKeyError(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and any(k.lower() == key.lower() for k, _ in self._pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._pairs))

    def __len__(self) -> int:
        return len(self._pairs)

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._pairs == other._pairs
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def keys(self, lower: bool = False) -> list[str]:
        return [k.lower() if lower else k for k, _ in self._pairs]

    def values(self) -> list[str]:
        return [v for _, v in self._pairs]

    def items(self, lower: bool = False) -> list[tuple[str, str]]:
        return [(k.lower() if lower else k, v) for k, v in self._pairs]

    def to_wsgi_list(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    # -- changes (a response's headers) -------------------------------------------------------

    def add(self, key: str, value: Any) -> None:
        self._pairs.append((key, str(value)))

    def set(self, key: str, value: Any) -> None:
        """Replace every ``key`` header by one, in the place of the first."""
        wanted = key.lower()
        kept: list[tuple[str, str]] = []
        placed = False
        for pair in self._pairs:
            if pair[0].lower() != wanted:
                kept.append(pair)
            elif not placed:
                kept.append((key, str(value)))
                placed = True
        if not placed:
            kept.append((key, str(value)))
        self._pairs = kept

    def setdefault(self, key: str, default: Any) -> str:
        if key not in self:
            self.add(key, default)
        return self[key]

    def remove(self, key: str) -> None:
        wanted = key.lower()
        self._pairs = [p for p in self._pairs if p[0].lower() != wanted]

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self.remove(key)

    def extend(self, pairs: Pairs | Mapping[str, Any]) -> None:
        """Add every pair; a mapping's list values add one header each."""
        for key, value in _pairs(pairs):
            self.add(key, value)

    def update(self, pairs: Pairs | Mapping[str, Any]) -> None:
        """Replace the headers ``pairs`` names; a name given twice or a list keeps each value."""
        given = list(_pairs(pairs))
        for key in dict.fromkeys(k.lower() for k, _ in given):
            self.remove(key)
        self.extend(given)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._pairs!r})"


def _pairs(source: Pairs | Mapping[str, Any] | Headers | MultiDict) -> Iterator[tuple[str, Any]]:
    if isinstance(source, Headers):
        yield from source.items()
    elif isinstance(source, MultiDict):
        yield from source.items(multi=True)
    elif isinstance(source, Mapping):
        for key, value in source.items():
            if isinstance(value, list | tuple):
                for item in value:
                    yield key, item
            else:
                yield key, value
    else:
        yield from source


class FileStorage:
    """One uploaded file of a multipart form."""

    def __init__(
        self,
        stream: IO[bytes],
        filename: str | None,
        name: str | None,
        headers: Headers,
    ) -> None:
        self.stream = stream
        self.filename = filename
        self.name = name
        self.headers = headers

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return None if value is None else str(value)

    @property
    def mimetype(self) -> str:
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @property
    def content_length(self) -> int:
        return int(self.headers.get("content-length", 0, type=int))

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)

    def save(self, dst: str | PathLike[str] | IO[bytes], buffer_size: int = 16384) -> None:
        """Write the file to a path or a binary file object (not closed afterwards)."""
        if isinstance(dst, str | PathLike):
            with open(dst, "wb") as out:
                shutil.copyfileobj(self.stream, out, buffer_size)
        else:
            shutil.copyfileobj(self.stream, dst, buffer_size)

    def close(self) -> None:
        self.stream.close()

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __repr__(self) -> str:
        return f"<FileStorage: {self.filename!r} ({self.content_type!r})>"


def file_storage(data: bytes, filename: str | None, name: str, headers: Headers) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename, name, headers)
