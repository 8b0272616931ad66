"""Vendor the NB201 latency table compactly and losslessly: CSV -> xz-compressed npz.

    python benchmarks/vendor_nb201_latency.py PATH/nb201_latency_ms.csv.gz

Every ``lat_ms_<device>`` column is stored as float32 where each of its values is exactly a
float32, else as float64, with the official ``index`` column; the ``arch_str`` column is left
out after checking that it equals the results table's for the same index. The script reads the
file back and checks that every value is bit-identical to the CSV before replacing
``pnag_sampler/data/tables/nb201_latency_ms.npz.xz``.
"""

from __future__ import annotations

import argparse
import io
import lzma
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pnag_sampler.files import replaced_atomically

TABLES = Path(__file__).resolve().parent.parent / "pnag_sampler" / "data" / "tables"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", type=Path)
    args = parser.parse_args(argv)
    table = pd.read_csv(args.csv)
    results = pd.read_csv(TABLES / "nb201_200ep.csv.xz", usecols=["index", "arch_str"])
    if not table[["index", "arch_str"]].equals(results):
        raise SystemExit("the latency table's rows are not the results table's rows")
    arrays: dict[str, np.ndarray] = {"index": table["index"].to_numpy(dtype=np.int32)}
    for column in (c for c in table.columns if c.startswith("lat_ms_")):
        values = table[column].to_numpy(dtype=np.float64)
        single = values.astype(np.float32)
        arrays[column] = single if np.array_equal(single.astype(np.float64), values) else values
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    packed = lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME)
    check = np.load(io.BytesIO(lzma.decompress(packed)))
    for column in arrays:
        if not np.array_equal(check[column].astype(np.float64), table[column].to_numpy(dtype=np.float64)):
            raise SystemExit(f"{column} did not survive the round trip")
    with replaced_atomically(TABLES / "nb201_latency_ms.npz.xz") as staging:
        staging.write_bytes(packed)
    print(f"{len(packed)} bytes, {sum(a.dtype == np.float32 for a in arrays.values())} float32 columns, round trip exact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
