import json

import pytest
from PIL import Image

from evalkit.store import TMP_PREFIX, RunStore, atomic_write, atomic_write_text, sha256_file


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "a" / "file.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_crash_mid_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    atomic_write_text(target, '{"fid": 1}')

    def crash(f):
        f.write(b'{"fid": 2, "trunc')
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        atomic_write(target, crash)
    assert json.loads(target.read_text()) == {"fid": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_crash_before_first_write_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "x.png", lambda f: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert list(tmp_path.iterdir()) == []


def test_write_image_hash_matches_file(tmp_path):
    store = RunStore(tmp_path)
    path, digest = store.write_image("p-1", 0, Image.new("RGB", (8, 8), (255, 0, 0)))
    assert path == tmp_path / "images" / "p-1" / "0.png"
    assert sha256_file(path) == digest


def test_journal_ignores_torn_last_line(tmp_path):
    store = RunStore(tmp_path)
    store.append_journal([{"prompt_id": "a", "index": 0, "sha256": "x"}])
    with open(store.journal_path(0), "a") as f:
        f.write('{"prompt_id": "b", "ind')  # crash mid-append
    store.append_journal([{"prompt_id": "c", "index": 1, "sha256": "y"}], rank=1)
    assert set(store.read_journal()) == {("a", 0), ("c", 1)}


def test_remove_stale_temporaries(tmp_path):
    store = RunStore(tmp_path)
    (tmp_path / "images" / "p").mkdir(parents=True)
    (tmp_path / "images" / "p" / f"{TMP_PREFIX}abc").write_bytes(b"half a png")
    (tmp_path / "images" / "p" / "0.png").write_bytes(b"ok")
    assert store.remove_stale_temporaries() == 1
    assert [p.name for p in (tmp_path / "images" / "p").iterdir()] == ["0.png"]
