"""Every file a user could be handed, with a malicious or hostile payload.

Doors that must stay shut: a CIFAR batch (a pickle), a checkpoint and ``model.pt``
(torch pickles), ``landscape.npz`` and a genotype JSON file. Each malicious
payload would create a marker file if its code ran; the tests assert that the
file is refused with one line naming it and that the marker does not exist.
"""

import gzip
import io
import json
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from cellnas_edu.cli import main
from cellnas_edu.data import load_dataset
from cellnas_edu.data.readers import CifarUnpickler, restricted_pickle_load
from cellnas_edu.errors import UserError

torch.set_num_threads(1)


class RunsCode:
    """Unpickling this runs ``code`` (what a crafted dataset or checkpoint would do)."""

    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def touch_code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()"


def cifar_batch(n=4, values=None, labels=None):
    data = (np.arange(n * 3072).reshape(n, 3072) % 256).astype(np.uint8) if values is None else values
    return {b"data": data, b"labels": list(range(n)) if labels is None else labels, b"batch_label": b"x"}


def write_cifar10(root: Path, batches: dict) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        payload = batches.get(name)
        if isinstance(payload, bytes):
            (folder / name).write_bytes(payload)
        else:
            (folder / name).write_bytes(pickle.dumps(payload or cifar_batch(), protocol=2))
    return folder


# -- CIFAR batches: a restricted unpickler ---------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_malicious_cifar_batch_does_not_run_code(tmp_path, protocol):
    marker = tmp_path / "pwned"
    evil = pickle.dumps({b"data": RunsCode(touch_code(marker)), b"labels": [0]}, protocol=protocol)
    assert pickle.loads(evil) is not None and marker.exists()  # the payload is real: plain pickle runs it
    marker.unlink()
    folder = write_cifar10(tmp_path, {"data_batch_1": evil})
    with pytest.raises(UserError) as info:
        load_dataset("cifar10", root=tmp_path, train=True)
    message = str(info.value)
    assert str(folder / "data_batch_1") in message and "refused to load global" in message
    assert "exec" in message and "\n" not in message
    assert not marker.exists()


def test_malicious_cifar_batch_through_the_cli(tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(RunsCode(touch_code(marker)), protocol=2)
    write_cifar10(tmp_path / "data", {"data_batch_1": evil})
    code = main(["train", "--arch", "DARTS", "--dataset", "cifar10", "--preset", "smoke", "--out",
                 str(tmp_path / "run"), "--data-root", str(tmp_path / "data"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and not marker.exists()
    assert err.count("\n") == 1 and "data_batch_1" in err and "Traceback" not in err


@pytest.mark.parametrize("global_name", [b"os\nsystem", b"posix\nsystem", b"subprocess\nPopen", b"builtins\neval",
                                         b"numpy\nload", b"numpy.lib.npyio\nload", b"torch\nload"])
def test_cifar_unpickler_refuses_every_other_global(global_name):
    payload = b"c" + global_name + b"\n(S'true'\ntR."  # protocol 0: GLOBAL, MARK, STRING, TUPLE, REDUCE
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        restricted_pickle_load(payload)


def test_cifar_unpickler_refuses_codecs_encode_other_than_latin1():
    payload = pickle.dumps(b"\xff\x00", protocol=2)  # _codecs.encode(text, 'latin1'): admitted
    assert restricted_pickle_load(payload) == b"\xff\x00"
    forged = payload.replace(b"latin1", b"rot_13")
    with pytest.raises(pickle.UnpicklingError):
        restricted_pickle_load(forged)


def test_cifar_unpickler_refuses_persistent_ids():
    class WithPid(pickle.Pickler):
        def persistent_id(self, obj):
            return "x" if obj == "secret" else None

    buffer = io.BytesIO()
    WithPid(buffer, protocol=2).dump(["secret"])
    with pytest.raises(pickle.UnpicklingError):
        CifarUnpickler(io.BytesIO(buffer.getvalue())).load()


@pytest.mark.parametrize("protocol", [2, 5])
def test_real_format_batches_still_load(tmp_path, protocol):
    """What the real files hold (python-2 dicts of bytes keys, a uint8 array, a list of labels) loads, in the
    pickles of protocol 2 (the archive's) and 5 (NumPy's out-of-band-capable form)."""
    data = np.random.default_rng(0).integers(0, 256, (4, 3072), dtype=np.uint8)
    batch = {b"data": data, b"labels": [1, 2, 3, 4], b"batch_label": b"training batch 1 of 5",
             b"filenames": [b"a.png"] * 4}
    folder = write_cifar10(tmp_path, {})
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    dataset = load_dataset("cifar10", root=tmp_path, train=True)
    assert torch.equal(dataset.images[:4], torch.from_numpy(data.reshape(4, 3, 32, 32)))
    assert dataset.labels[:4].tolist() == [1, 2, 3, 4]


# -- CIFAR values out of range: validated, naming the file -----------------------------------------------------------
@pytest.mark.parametrize("values, expected", [
    (np.full((2, 3072), 300, dtype=np.int64), "values 300..300, expected 0..255"),
    ([[300] * 3072, [0] * 3072], "values 0..300, expected 0..255"),
    (np.full((2, 3072), -1, dtype=np.int16), "values -1..-1"),
    (np.full((2, 3072), 0.5), "dtype float64"),
    (np.zeros((0, 3072), dtype=np.uint8), "no images"),
    (np.zeros((2, 100), dtype=np.uint8), "expected (N, 3072)"),
])
def test_cifar_values_out_of_range_name_the_file(tmp_path, values, expected):
    n = len(values)
    folder = write_cifar10(tmp_path, {"data_batch_3": pickle.dumps(cifar_batch(n, values, list(range(n))),
                                                                   protocol=2)})
    with pytest.raises(UserError) as info:
        load_dataset("cifar10", root=tmp_path, train=True)
    assert str(folder / "data_batch_3") in str(info.value) and expected in str(info.value)


def test_cifar_labels_out_of_range_name_the_file(tmp_path):
    folder = write_cifar10(tmp_path, {"test_batch": pickle.dumps(cifar_batch(2, None, [0, 10]), protocol=2)})
    with pytest.raises(UserError, match="test_batch.*labels 0..10 outside 0..9"):
        load_dataset("cifar10", root=tmp_path, train=False)
    assert folder.exists()


# -- Fashion-MNIST: corrupt deflate stream, empty files --------------------------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    return struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_fashion(root: Path, images: np.ndarray, labels: np.ndarray) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for prefix in ("train", "t10k"):
        (root / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
        (root / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))


def test_fashion_corrupt_deflate_stream_names_the_file(tmp_path):
    write_fashion(tmp_path, np.zeros((3, 28, 28), np.uint8), np.zeros(3, np.uint8))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[12:40] = b"\xff" * 28  # inside the deflate stream: zlib.error, not a gzip header error
    path.write_bytes(bytes(raw))
    with pytest.raises(zlib.error):
        gzip.decompress(bytes(raw))
    with pytest.raises(UserError, match="train-images-idx3-ubyte.gz is corrupt"):
        load_dataset("fashion-mnist", root=tmp_path, train=True)


def test_fashion_empty_files_name_the_file(tmp_path):
    write_fashion(tmp_path, np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    with pytest.raises(UserError, match="images-idx3-ubyte.gz is corrupt.*no data"):
        load_dataset("fashion-mnist", root=tmp_path, train=False)


# -- checkpoints and model.pt: weights_only ---------------------------------------------------------------------------
def test_malicious_checkpoint_and_weights_file_do_not_run_code(tmp_path):
    from cellnas_edu.train.checkpoint import load_checkpoint, load_weights_file

    marker = tmp_path / "pwned"
    for name, loader in (("checkpoint.pt", load_checkpoint), ("model.pt", load_weights_file)):
        path = tmp_path / name
        torch.save({"format": 1, "epoch": 1, "model": RunsCode(touch_code(marker))}, path)
        torch.load(path, weights_only=False)  # the payload is real
        assert marker.exists()
        marker.unlink()
        with pytest.raises(UserError) as info:
            loader(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
        assert not marker.exists()


def test_malicious_checkpoint_through_landscape_cli(tmp_path, capsys):
    marker = tmp_path / "pwned"
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"arch": "DARTS", "dataset": "synthetic", "preset": "smoke"}))
    torch.save({"state_dict": RunsCode(touch_code(marker)), "genotype": {}, "config": {}}, run / "model.pt")
    code = main(["landscape", str(run), "--steps", "3", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and not marker.exists() and err.count("\n") == 1 and "Traceback" not in err


# -- landscape.npz: no pickles, structure checked --------------------------------------------------------------------
def test_malicious_landscape_npz_does_not_run_code(tmp_path):
    from cellnas_edu.landscape.store import LandscapeData

    marker = tmp_path / "pwned"
    path = tmp_path / "landscape.npz"
    evil = np.empty(1, dtype=object)
    evil[0] = RunsCode(touch_code(marker))
    np.savez(path, alpha=evil, beta=evil, settings_json=np.array("{}"), info_json=np.array("{}"))
    with np.load(path, allow_pickle=True) as npz:  # the payload is real
        npz["alpha"]
    assert marker.exists()
    marker.unlink()
    with pytest.raises(UserError, match="not a readable landscape file"):
        LandscapeData.load(path)
    assert not marker.exists()


def test_truncated_and_misshapen_landscape_npz_are_one_line(tmp_path):
    from cellnas_edu.landscape.store import LandscapeData

    good = LandscapeData.empty({"steps": 3, "span": 1.0}, np.arange(4))
    path = tmp_path / "landscape.npz"
    good.save(path)
    assert LandscapeData.load(path).loss.shape == (3, 3)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UserError, match="BadZipFile"):
        LandscapeData.load(path)
    good.loss = np.zeros((2, 5))
    good.save(path)
    with pytest.raises(UserError, match=r"loss is float64 \(2, 5\), expected float \(3, 3\)"):
        LandscapeData.load(path)


# -- genotype JSON: hostile shapes and sizes -------------------------------------------------------------------------
def test_deeply_nested_genotype_json_is_one_line(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "nested too deeply" in err


def test_genotype_with_an_integer_of_5000_digits_is_one_line(tmp_path, capsys):
    path = tmp_path / "big.json"
    cell = '[["sep_conv_3x3", 0], ["sep_conv_3x3", 1]]'
    path.write_text(f'{{"normal": {cell}, "normal_concat": [{"9" * 5000}], "reduce": {cell}, "reduce_concat": [2]}}')
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "4300 digits" in err


def test_genotype_with_a_huge_source_names_the_field(tmp_path, capsys):
    path = tmp_path / "big.json"
    cell = '[["sep_conv_3x3", 0], ["sep_conv_3x3", 1]]'
    path.write_text(f'{{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", {10**30}]], "normal_concat": [2], '
                    f'"reduce": {cell}, "reduce_concat": [2]}}')
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert "normal cell: node 2, operation 2: source <a 31-digit integer> does not precede node 2" in err
    assert "allowed: 0..1" in err and err.count("\n") == 1


def test_drawing_a_10000_node_cell_is_refused_quickly(tmp_path, capsys):
    import time

    n = 10_000
    genotype = {"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1]] * n, "normal_concat": list(range(2, n + 2)),
                "reduce": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1]], "reduce_concat": [2]}
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(genotype))
    started = time.perf_counter()
    assert main(["draw", str(path), "-o", str(tmp_path / "huge.png")]) == 2
    assert time.perf_counter() - started < 30
    err = capsys.readouterr().err
    assert "10000 intermediate nodes are too many to draw" in err and not (tmp_path / "huge.png").exists()
    assert main(["space", str(path)]) == 2  # its size has 71,327 digits: named by its order of magnitude
    assert "has about 10^71326 variants; enumeration is limited" in capsys.readouterr().err
