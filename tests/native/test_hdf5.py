"""The pure-Python HDF5 reader and writer against h5py (the HDF5 library) as the oracle."""

import io

import h5py  # pinned in pyproject's test extras
import numpy as np
import pytest

from wasmdl.io import ModelFileError
from wasmdl.io.hdf5 import H5Dataset, H5File, H5Group
from wasmdl.io.hdf5_write import write_hdf5


def _h5py_file(libver, track_order, entries=40):
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    with h5py.File(buf, "w", libver=libver, track_order=track_order) as f:
        g = f.create_group("layers")
        for i in range(entries):  # (40: more entries than one symbol node holds)
            v = g.create_group(f"dense_{i}").create_group("vars")
            v.create_dataset("0", data=rng.normal(size=(3, i + 1)).astype(np.float32))
            v.create_dataset("1", data=np.arange(i, dtype=np.int64))
            v.attrs["name"] = f"dense_{i}"
        f.create_dataset("f64_be", data=np.linspace(0, 1, 7).astype(">f8"))
        f.create_dataset("scalar", data=np.float32(2.5))
        f.create_dataset("empty", data=np.zeros((0, 3), np.float32))
        f.create_dataset("f16", data=np.ones((2, 2), np.float16))
        f.create_dataset("u8", data=np.arange(5, dtype=np.uint8))
        f.attrs["model_config"] = '{"a": 1, "é": "ü"}'
        f.attrs["names"] = np.array(["x", "yy", "zzz"], dtype=object)
        f.attrs["fixed"] = np.bytes_("fixed-length")
        f.attrs["ints"] = np.arange(4, dtype=np.int32)
        f.attrs["empty"] = np.array([], np.float64)
    return buf.getvalue()


def _compare(ours, theirs):
    assert sorted(ours.keys()) == sorted(theirs.keys())
    for key, value in theirs.attrs.items():
        got = ours.attrs[key]
        want = value.decode() if isinstance(value, bytes) else value
        if isinstance(want, np.ndarray):
            assert np.array_equal(got, want.astype(got.dtype)) and got.shape == want.shape
        else:
            assert got == want
    for name in theirs.keys():
        if isinstance(theirs[name], h5py.Dataset):
            arr = ours[name].read()
            assert isinstance(ours[name], H5Dataset)
            assert arr.dtype == theirs[name].dtype.newbyteorder("=")
            np.testing.assert_array_equal(arr, theirs[name][()])
        else:
            assert isinstance(ours[name], H5Group)
            _compare(ours[name], theirs[name])


@pytest.mark.parametrize(
    "libver,track_order,entries", [("earliest", False, 40), ("latest", True, 4)]
)
def test_reader_matches_h5py(libver, track_order, entries):
    blob = _h5py_file(libver, track_order, entries)  # latest: version-2 headers, link messages
    _compare(H5File(blob).root, h5py.File(io.BytesIO(blob), "r"))


def test_dense_link_storage_is_refused_by_name():
    """Groups of more than 8 links in new-style files live in a fractal heap: not read (Keras
    writes old-style groups); the error says so instead of misreading."""
    blob = _h5py_file("latest", True, 12)
    with pytest.raises(ModelFileError, match="/layers: dense link storage"):
        H5File(blob).root["layers"].keys()


def test_writer_output_reads_in_h5py_and_back():
    rng = np.random.default_rng(1)
    tree = {
        "layers": {f"l{i}": {"vars": {"0": rng.normal(size=(i + 1, 2)).astype(np.float32)}}
                   for i in range(300)},  # several symbol nodes under one B-tree node
        "vars": {},
        "mixed": {"i32": np.arange(6, dtype=np.int32).reshape(2, 3), "f64": np.float64(1.5),
                  "bool": np.array([True, False]), "f16": np.ones(3, np.float16)},
    }  # fmt: skip
    blob = write_hdf5(tree)
    theirs = h5py.File(io.BytesIO(blob), "r")
    _compare(H5File(blob).root, theirs)
    assert theirs["layers/l299/vars/0"].shape == (300, 2)
    assert list(theirs["vars"]) == []


def test_chunked_and_foreign_data_raise_model_file_error():
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_dataset("c", data=np.ones((4, 4), np.float32), chunks=(2, 2))
    with pytest.raises(ModelFileError, match="/c: data layout .* not supported"):
        H5File(buf.getvalue()).root["c"].read()
    with pytest.raises(ModelFileError, match="not an HDF5 file"):
        H5File(b"PK\x03\x04" + bytes(200))
    blob = _h5py_file("earliest", False)
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        _compare(H5File(blob[: len(blob) // 2]).root, h5py.File(io.BytesIO(blob), "r"))
