"""Stories: near-duplicate documents (one news story repeated, lightly edited) share one story id.

A document joins the story of the first earlier document that started a story and that it
nearly duplicates: word 3-shingle Jaccard >= 0.8 and, when both are dated, dates at most 3
days apart. Otherwise it starts a story, named by its own id. MinHash signatures cut into LSH
bands find the candidates (the stories sharing a band with the document, as datasketch's
MinHashLSH would); the Jaccard test itself is exact, on the stored shingle hashes, so no
estimate decides a borderline pair.

Memory stays bounded whatever the number of stories. Each story's name, day, band hashes and
shingle hashes are appended to a record file and read back only when the story is a candidate.
In memory, per story, are 13 entries of 8 bytes (a 32-bit fingerprint of each band and of the
name, with the story's number) in sorted runs; past HOT_ENTRIES entries the runs are merged into
one sorted run on disk, of which only every FENCE-th fingerprint stays in memory. A fingerprint
match is only a lead: the band's 64-bit hash, or the name, is checked in the record.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import struct
import tempfile
import weakref
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

SHINGLE_WORDS = 3
THRESHOLD = 0.8
MAX_DAYS_APART = 3
NUM_PERM = 64
# 12 bands of 5 rows: a pair at Jaccard 0.8 shares a band with probability 0.99, one at 0.5 with 0.32
# and one at 0.3 with 0.03; candidates are then checked exactly.
BANDS, ROWS = 12, 5
SEED = 1
# Rows of the shingle x permutation product computed at once (bounds the temporary arrays).
_BLOCK = 1 << 15
# Index entries (8 bytes each, 13 per story) kept in memory before they are merged into the run
# on disk: 2M entries, 16 MB (twice that while runs merge), about 160,000 stories.
HOT_ENTRIES = 1 << 21
# One fingerprint in this many of the run on disk stays in memory; a lookup reads that block (1 KB).
FENCE = 256
# Entries of the run on disk read at once while merging into it, and blocks read at once by a lookup.
_SLAB = 1 << 18
_READ_BLOCKS = 1024
# The run on disk has a filter of 2**_FILTER_BITS bits (8 MB): at a million stories, 1 lookup in
# 5 of a fingerprint that is not there reads a block.
_FILTER_BITS = 26

_WORD = re.compile(r"\w+")
_MASK = np.uint64(0xFFFFFFFF)
# Frequent words only: every row of an archive may bring a number or a name of its own.
_WORD_CACHE_SIZE = 1 << 16
_word_hashes: dict[str, int] = {}


def _hash_words(text: str) -> list[int]:
    """A stable 32-bit hash of each lower-cased word (CRC-32, remembered for frequent words)."""
    cache = _word_hashes
    if len(cache) > _WORD_CACHE_SIZE:
        cache.clear()
    words = _WORD.findall(text.lower())
    hashes = list(map(cache.get, words))
    if None in hashes:
        for i, word in enumerate(words):
            if hashes[i] is None:
                hashes[i] = cache[word] = zlib.crc32(word.encode())
    if 0 < len(hashes) < SHINGLE_WORDS:
        hashes += [0] * (SHINGLE_WORDS - len(hashes))
    return hashes


def _shingle_hashes(words: np.ndarray) -> np.ndarray:
    """Hashes of consecutive word 3-grams of a uint64 array of word hashes (not yet made distinct)."""
    size = len(words) - SHINGLE_WORDS + 1
    combined = np.zeros(max(size, 0), dtype=np.uint64)
    for offset in range(SHINGLE_WORDS):
        # Polynomial in the word hashes, then a murmur-style finaliser: order matters, bits spread.
        combined = combined * np.uint64(0x9E3779B1) + words[offset:offset + size]
    combined ^= combined >> np.uint64(29)
    combined *= np.uint64(0xBF58476D1CE4E5B9)
    combined ^= combined >> np.uint64(32)
    return combined & _MASK


def shingles(text: str) -> np.ndarray:
    """Sorted distinct 32-bit hashes of the text's lower-cased word 3-grams (the whole text if shorter)."""
    return shingles_of([text])[0]


def shingles_of(texts: Sequence[str]) -> list[np.ndarray]:
    """`shingles` of many texts, in one pass of array operations."""
    words = [_hash_words(text) for text in texts]
    sizes = np.array([len(w) for w in words], dtype=np.int64)
    flat = np.fromiter(itertools.chain.from_iterable(words), dtype=np.uint64, count=int(sizes.sum()))
    hashes = _shingle_hashes(flat)
    # A 3-gram belongs to the text it starts in, unless it runs over that text's end.
    owner = np.repeat(np.arange(len(texts), dtype=np.uint64), sizes)[:len(hashes)]
    ends = np.cumsum(sizes)
    keep = np.ones(len(hashes), dtype=bool)
    for back in range(1, SHINGLE_WORDS):
        crossing = ends - back
        keep[crossing[(crossing >= 0) & (crossing < len(hashes))]] = False
    keyed = np.sort((owner[keep] << np.uint64(32)) | hashes[keep])
    keyed = keyed[np.concatenate([[True], keyed[1:] != keyed[:-1]])] if len(keyed) else keyed
    bounds = np.searchsorted(keyed >> np.uint64(32), np.arange(len(texts) + 1, dtype=np.uint64))
    values = (keyed & _MASK).astype(np.uint32)
    return [values[bounds[i]:bounds[i + 1]] for i in range(len(texts))]


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, the pre-mix datasketch's affine32 scheme applies."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def signatures(shingle_sets: Sequence[np.ndarray], permutations: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """MinHash signatures (one row per non-empty set), equal to datasketch's affine32 MinHash of each set."""
    a, b = permutations
    sizes = np.array([len(s) for s in shingle_sets], dtype=np.int64)
    flat = _fmix32(np.concatenate(shingle_sets).astype(np.uint32)) if len(shingle_sets) else np.zeros(0, np.uint32)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    out = np.empty((len(shingle_sets), len(a)), dtype=np.uint32)
    first = 0
    while first < len(shingle_sets):
        last = first + 1
        while last < len(shingle_sets) and starts[last + 1] - starts[first] <= _BLOCK:
            last += 1
        block = flat[starts[first]:starts[last], None] * a[None, :] + b[None, :]
        out[first:last] = np.minimum.reduceat(block, starts[first:last] - starts[first], axis=0)
        first = last
    return out


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted distinct hash arrays."""
    if not len(a) or not len(b):
        return 0.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


def permutations() -> tuple[np.ndarray, np.ndarray]:
    """The MinHash permutations (a odd, b) of datasketch's affine32 `MinHash(num_perm=NUM_PERM, seed=SEED)`."""
    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every input bit reaches every output bit."""
    values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def band_hashes(rows: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each LSH band (its number and its ROWS values) of each signature row.

    The bands are the first BANDS * ROWS values, as in datasketch's MinHashLSH.
    """
    bands = rows[:, :BANDS * ROWS].reshape(len(rows), BANDS, ROWS).astype(np.uint64)
    hashed = np.broadcast_to(np.arange(1, BANDS + 1, dtype=np.uint64), bands.shape[:2]).copy()
    for row in range(ROWS):
        hashed = _mix64(hashed * np.uint64(0x9E3779B97F4A7C15) + bands[:, :, row])
    return hashed


def _fingerprints(hashes: np.ndarray) -> np.ndarray:
    return (hashes >> np.uint64(32)).astype(np.uint32)


def _name_fingerprints(names: Sequence[str]) -> np.ndarray:
    return np.array([zlib.crc32(name.encode()) for name in names], dtype=np.uint32)


def _spans(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(i, p) for every i and every p in range(lo[i], hi[i]), in order."""
    counts = hi - lo
    which = np.repeat(np.arange(len(lo)), counts)
    firsts = np.cumsum(counts) - counts
    return which, np.repeat(lo, counts) + np.arange(int(counts.sum())) - np.repeat(firsts, counts)


def _merge(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted runs as one, in linear time and with few temporaries."""
    size = len(a[0]) + len(b[0])
    into = np.searchsorted(a[0], b[0], "right") + np.arange(len(b[0]))  # where b's entries go
    from_a = np.ones(size, dtype=bool)
    from_a[into] = False
    fingerprints, keys = np.empty(size, dtype=np.uint32), np.empty(size, dtype=np.uint32)
    fingerprints[into], keys[into] = b
    fingerprints[from_a], keys[from_a] = a
    return fingerprints, keys


class _Multimap:
    """uint32 fingerprint -> uint32 story numbers: sorted runs in memory, then one sorted run on disk."""

    def __init__(self, directory: Path, hot_entries: int, fds: list[int]) -> None:
        self._directory = directory
        self._hot_entries = hot_entries
        self._fds = fds
        self._hot: list[tuple[np.ndarray, np.ndarray]] = []
        self._hot_size = 0
        self._cold_size = 0
        self._cold: tuple[int, int] | None = None  # fds of the fingerprints and story numbers on disk
        self._fences = np.zeros(0, dtype=np.uint32)
        # A bit per value of a fingerprint's top _FILTER_BITS bits, set for those on disk: most
        # lookups of a fingerprint that is not there end here, without reading a block.
        self._filter = np.zeros(0, dtype=np.uint8)
        self._generation = 0

    @property
    def memory(self) -> int:
        """Bytes held in memory."""
        return sum(f.nbytes + k.nbytes for f, k in self._hot) + self._fences.nbytes + self._filter.nbytes

    def add(self, fingerprints: np.ndarray, keys: np.ndarray) -> None:
        if not len(fingerprints):
            return
        order = np.argsort(fingerprints, kind="stable")
        self._hot.append((fingerprints[order], keys[order]))
        self._hot_size += len(fingerprints)
        # Each run at least twice the next: a few runs, each entry merged about log2(runs) times.
        while len(self._hot) > 1 and len(self._hot[-2][0]) <= 2 * len(self._hot[-1][0]):
            last = self._hot.pop()
            self._hot.append(_merge(self._hot.pop(), last))
        if self._hot_size > self._hot_entries:
            self._spill()

    def find(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query position, story number) of every entry whose fingerprint equals a query."""
        order = np.argsort(queries, kind="stable")
        queries = queries[order]  # sorted, the searches below walk each run once
        found_queries, found_keys = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.uint32)]
        for fingerprints, keys in self._hot:
            lo = np.searchsorted(fingerprints, queries, "left")
            hit = np.flatnonzero(fingerprints[np.minimum(lo, len(fingerprints) - 1)] == queries)
            which, where = _spans(lo[hit], np.searchsorted(fingerprints, queries[hit], "right"))
            found_queries.append(order[hit[which]])
            found_keys.append(keys[where])
        if self._cold is not None:
            bits = queries >> np.uint32(32 - _FILTER_BITS)
            maybe = np.flatnonzero((self._filter[bits >> np.uint32(3)] >> (bits & np.uint32(7))) & 1)
            which, keys = self._find_cold(queries[maybe])
            found_queries.append(order[maybe[which]])
            found_keys.append(keys)
        return np.concatenate(found_queries), np.concatenate(found_keys)

    def _find_cold(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`find` in the run on disk, for sorted queries."""
        assert self._cold is not None
        fingerprint_fd, key_fd = self._cold
        fences = self._fences
        # Equal entries may start in the block before the first fence equal to the query.
        first = np.maximum(np.searchsorted(fences, queries, "left") - 1, 0)
        last = np.maximum(np.searchsorted(fences, queries, "right") - 1, 0)
        blocks = np.unique(_spans(first, last + 1)[1])
        # Consecutive blocks are read at once, and at most _READ_BLOCKS blocks are held at a time.
        reads = np.flatnonzero((np.diff(blocks, prepend=-2) != 1) | (np.arange(len(blocks)) % _READ_BLOCKS == 0))
        found_queries, found_positions = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for batch in range(0, len(blocks), _READ_BLOCKS):
            pieces = reads[(reads >= batch) & (reads < batch + _READ_BLOCKS)]
            ends = np.append(pieces[1:], min(batch + _READ_BLOCKS, len(blocks)))
            data = [os.pread(fingerprint_fd, 4 * FENCE * int(end - piece), 4 * FENCE * int(blocks[piece]))
                    for piece, end in zip(pieces, ends)]
            read = np.frombuffer(b"".join(data), dtype=np.uint32)  # sorted: pieces in order, of one sorted run
            # Where each piece starts in `read` and in the run (every block but the run's last is full).
            starts = np.cumsum([0] + [len(d) // 4 for d in data[:-1]])
            lo, hi = int(np.searchsorted(queries, read[0], "left")), int(np.searchsorted(queries, read[-1], "right"))
            inside = queries[lo:hi]  # the queries that may be in these blocks
            at = np.searchsorted(read, inside, "left")
            hit = np.flatnonzero(read[np.minimum(at, len(read) - 1)] == inside)
            which, where = _spans(at[hit], np.searchsorted(read, inside[hit], "right"))
            piece = np.searchsorted(starts, where, "right") - 1
            found_queries.append(lo + hit[which])
            found_positions.append(blocks[pieces[piece]] * FENCE + where - starts[piece])
        positions = np.concatenate(found_positions)
        keys = np.array([struct.unpack("<I", os.pread(key_fd, 4, 4 * int(p)))[0] for p in positions],
                        dtype=np.uint32)
        return np.concatenate(found_queries), keys

    def _spill(self) -> None:
        """Merge the runs in memory into the run on disk, reading and writing it a slab at a time."""
        if not len(self._filter):
            self._filter = np.zeros(1 << (_FILTER_BITS - 3), dtype=np.uint8)
        hot = self._hot[0]
        for run in self._hot[1:]:
            hot = _merge(hot, run)
        self._hot, self._hot_size = [], 0
        for start in range(0, len(hot[0]), _SLAB):
            bits = hot[0][start:start + _SLAB] >> np.uint32(32 - _FILTER_BITS)
            np.bitwise_or.at(self._filter, bits >> np.uint32(3), (np.uint8(1) << (bits & np.uint32(7))).astype(np.uint8))
        self._generation += 1
        fingerprint_path = self._directory / f"index-{self._generation}.fingerprints"
        key_path = self._directory / f"index-{self._generation}.keys"
        fences, written, taken = [], 0, 0
        with fingerprint_path.open("wb") as fingerprint_file, key_path.open("wb") as key_file:

            def write(fingerprints: np.ndarray, keys: np.ndarray) -> None:
                nonlocal written
                fences.append(fingerprints[(-written) % FENCE::FENCE].copy())  # not a view of the slab
                fingerprints.tofile(fingerprint_file)
                keys.tofile(key_file)
                written += len(fingerprints)

            for start in range(0, self._cold_size, _SLAB):
                assert self._cold is not None
                size = min(_SLAB, self._cold_size - start)
                old = (np.frombuffer(os.pread(self._cold[0], 4 * size, 4 * start), dtype=np.uint32),
                       np.frombuffer(os.pread(self._cold[1], 4 * size, 4 * start), dtype=np.uint32))
                end = (len(hot[0]) if start + size == self._cold_size
                       else int(np.searchsorted(hot[0], old[0][-1], "right")))
                write(*_merge(old, (hot[0][taken:end], hot[1][taken:end])))
                taken = end
            if taken < len(hot[0]):
                write(hot[0][taken:], hot[1][taken:])
        if self._cold is not None:
            for fd in self._cold:
                os.close(fd)
                self._fds.remove(fd)
            for old_path in self._directory.glob(f"index-{self._generation - 1}.*"):
                old_path.unlink()
        self._cold = (os.open(fingerprint_path, os.O_RDONLY), os.open(key_path, os.O_RDONLY))
        self._fds.extend(self._cold)
        self._cold_size = written
        self._fences = np.concatenate(fences)


class _Story(NamedTuple):
    name: str
    day: int  # a date ordinal, 0 when undated
    bands: np.ndarray  # BANDS uint64 band hashes (zeros when the text has no words)
    shingles: np.ndarray  # sorted distinct uint32 shingle hashes


_HEADER = struct.Struct("<qII")  # day, shingle count, name length; then bands, shingles, name


def _encode(story: _Story) -> bytes:
    name = story.name.encode()
    return (_HEADER.pack(story.day, len(story.shingles), len(name)) + story.bands.astype("<u8").tobytes()
            + story.shingles.astype("<u4").tobytes() + name)


def _decode(data: bytes, offset: int = 0) -> tuple[_Story, int]:
    """The story encoded at `offset`, and where the next one starts."""
    day, count, length = _HEADER.unpack_from(data, offset)
    offset += _HEADER.size
    bands = np.frombuffer(data, dtype="<u8", count=BANDS, offset=offset)
    offset += 8 * BANDS
    shingle_set = np.frombuffer(data, dtype="<u4", count=count, offset=offset)
    offset += 4 * count
    return _Story(data[offset:offset + length].decode(), day, bands, shingle_set), offset + length


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _close(fds: list[int], temporary: tempfile.TemporaryDirectory[str] | None) -> None:
    for fd in fds:
        os.close(fd)
    fds.clear()
    if temporary is not None:
        temporary.cleanup()


class StoryIndex:
    """Assigns story ids in input order; `take_new`/`restore` carry its state through a work directory.

    Its files go in `directory` (emptied first) or, without one, in a temporary directory.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        temporary = None
        if directory is None:
            temporary = tempfile.TemporaryDirectory(prefix="coopclf-stories-")
            directory = temporary.name
        self._directory = Path(directory)
        if temporary is None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory.mkdir(parents=True)
        self._permutations = permutations()
        self._fds: list[int] = []
        self._closer = weakref.finalize(self, _close, self._fds, temporary)
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        # Records one after another, and where each ends (after a leading 0), so story k is
        # records[ends[k]:ends[k + 1]].
        self._records = os.open(self._directory / "records", flags)
        self._ends = os.open(self._directory / "ends", flags)
        self._fds += [self._records, self._ends]
        _write(self._ends, struct.pack("<Q", 0))
        self._end = 0
        self._index = _Multimap(self._directory, HOT_ENTRIES, self._fds)
        self._count = 0  # stories so far, numbered from 0 in order
        self._saved = 0
        self.documents = 0

    def close(self) -> None:
        """Close and, if temporary, remove its files."""
        self._closer()

    @property
    def memory(self) -> int:
        """Bytes the index holds in memory, but for one chunk's documents while they are assigned."""
        return self._index.memory

    def _bands(self, shingle_sets: Sequence[np.ndarray]) -> np.ndarray:
        """Band hashes of each set (zeros for an empty one)."""
        bands = np.zeros((len(shingle_sets), BANDS), dtype=np.uint64)
        filled = [i for i, s in enumerate(shingle_sets) if len(s)]
        if filled:
            bands[filled] = band_hashes(signatures([shingle_sets[i] for i in filled], self._permutations))
        return bands

    def _story(self, key: int) -> _Story:
        start, end = struct.unpack("<QQ", os.pread(self._ends, 16, 8 * key))
        return _decode(os.pread(self._records, end - start, start))[0]

    def assign(self, document_id: object, text: str, day: int | None = None) -> str:
        """The story of the next document: an earlier story's id, or a new one named by `document_id`."""
        return self.assign_all([(document_id, text, day)])[0]

    def assign_all(self, documents: Sequence[tuple[object, str, int | None]]) -> list[str]:
        """The stories of the next documents, each (id, text, day as a date ordinal or None), in order."""
        shingle_sets = shingles_of([text for _id, text, _day in documents])
        bands = self._bands(shingle_sets)
        filled = np.array([len(s) > 0 for s in shingle_sets], dtype=bool)
        names = [str(document_id) for document_id, _text, _day in documents]
        # Leads among the stories of earlier calls, for all the documents at once.
        band_leads = self._leads(_fingerprints(bands[filled]).ravel(), np.repeat(np.flatnonzero(filled), BANDS),
                                 len(documents))
        name_leads = self._leads(_name_fingerprints(names), np.arange(len(documents)), len(documents))
        # This call's new stories, by number, and by band hash.
        new: dict[int, _Story] = {}
        new_names: set[str] = set()
        by_band: dict[int, list[int]] = {}
        stories = []
        for i, (_id, _text, day) in enumerate(documents):
            self.documents += 1
            day = day or 0
            story = None
            if filled[i]:
                keys = band_leads[i]
                if by_band:
                    keys = keys + sorted({k for h in bands[i].tolist() for k in by_band.get(h, ())})
                story = self._match(keys, new, bands[i], shingle_sets[i], day)
            if story is None:
                story = names[i]
                if story in new_names or any(self._story(k).name == story for k in name_leads[i]):
                    story = f"{story}#{self.documents}"  # ids repeat across files (row numbers) or within one
                new_names.add(story)
                key = self._count + len(new)
                new[key] = _Story(story, day, bands[i], shingle_sets[i])
                if filled[i]:
                    for h in bands[i].tolist():
                        by_band.setdefault(h, []).append(key)
            stories.append(story)
        self._add(list(new.values()))
        return stories

    def _leads(self, fingerprints: np.ndarray, owners: np.ndarray, count: int) -> list[list[int]]:
        """Per document, the earlier stories whose fingerprints equal one of its own, in order."""
        which, keys = self._index.find(fingerprints)
        pairs = np.unique((owners[which].astype(np.uint64) << np.uint64(32)) | keys.astype(np.uint64))
        documents = (pairs >> np.uint64(32)).astype(np.int64)
        bounds = np.searchsorted(documents, np.arange(count + 1))
        keys_list = (pairs & _MASK).astype(np.int64).tolist()
        return [keys_list[bounds[i]:bounds[i + 1]] for i in range(count)]

    def _match(self, keys: list[int], new: dict[int, _Story], bands: np.ndarray, hashes: np.ndarray,
               day: int) -> str | None:
        """The first of these stories that shares a band with the document and that it nearly duplicates."""
        for key in keys:
            story = new[key] if key in new else self._story(key)
            if not np.any(story.bands == bands):  # only a fingerprint in common
                continue
            if day and story.day and abs(day - story.day) > MAX_DAYS_APART:
                continue
            if jaccard(hashes, story.shingles) >= THRESHOLD:
                return story.name
        return None

    def _add(self, stories: list[_Story]) -> None:
        """Append new stories to the records and their fingerprints to the index."""
        if not stories:
            return
        records = [_encode(story) for story in stories]
        ends = self._end + np.cumsum([len(r) for r in records], dtype=np.uint64)
        _write(self._records, b"".join(records))
        _write(self._ends, ends.astype("<u8").tobytes())
        self._end = int(ends[-1])
        keys = np.arange(self._count, self._count + len(stories), dtype=np.uint32)
        filled = np.array([len(story.shingles) > 0 for story in stories], dtype=bool)
        bands = np.array([story.bands for story in stories], dtype=np.uint64)
        self._index.add(np.concatenate([_fingerprints(bands[filled]).ravel(),
                                        _name_fingerprints([story.name for story in stories])]),
                        np.concatenate([np.repeat(keys[filled], BANDS), keys]))
        self._count += len(stories)

    def take_new(self) -> bytes:
        """The stories started since the last call, serialised for `restore`."""
        names, days, sizes, hashes = [], [], [], []
        if self._count > self._saved:
            start, = struct.unpack("<Q", os.pread(self._ends, 8, 8 * self._saved))
            data = os.pread(self._records, self._end - start, start)
            offset = 0
            while offset < len(data):  # the records' fields, without decoding each into arrays
                day, count, length = _HEADER.unpack_from(data, offset)
                offset += _HEADER.size + 8 * BANDS
                hashes.append(data[offset:offset + 4 * count])
                offset += 4 * count
                names.append(data[offset:offset + length].decode())
                offset += length
                days.append(day)
                sizes.append(count)
        self._saved = self._count
        buffer = io.BytesIO()
        np.savez(buffer, stories=np.array(names, dtype=np.str_), days=np.array(days, dtype=np.int64),
                 sizes=np.array(sizes, dtype=np.int64),
                 hashes=np.frombuffer(b"".join(hashes), dtype="<u4").astype(np.uint32),
                 documents=np.array([self.documents], dtype=np.int64))
        return buffer.getvalue()

    def restore(self, data: bytes) -> None:
        """Add back stories that `take_new` serialised, as if their documents were assigned again."""
        with np.load(io.BytesIO(data), allow_pickle=False) as saved:
            sizes, flat = saved["sizes"], saved["hashes"]
            offsets = np.concatenate([[0], np.cumsum(sizes)])
            hashes = [flat[offsets[i]:offsets[i + 1]] for i in range(len(sizes))]
            bands = self._bands(hashes)
            self._add([_Story(name, day, row, shingle_set) for name, day, row, shingle_set
                       in zip(saved["stories"].tolist(), saved["days"].tolist(), bands, hashes)])
            self.documents = int(saved["documents"][0])
        self._saved = self._count
