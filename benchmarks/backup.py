"""Backup benchmark: restic (through homestack's runner) vs `tar | zstd -1`, side by side.

Generates mixed data (compressible text, random binary, many small files), then prints:
first backup time vs tar|zstd -1, a second backup after changing 1% of the files (target:
at most 10% of the first), restore time (vs zstd -d | tar -x), repository size vs data size.

    .venv/bin/python benchmarks/backup.py            # 1 GiB
    .venv/bin/python benchmarks/backup.py --mib 64   # a quick look
    .venv/bin/python benchmarks/backup.py --smoke    # 2 MiB: checks that it runs (CI)
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from homestack.backup.restic import Restic, restic_binary

P = ParamSpec("P")
R = TypeVar("R")

MIB = 1024 * 1024


def _text_block(rng: random.Random, size: int) -> bytes:
    """Log-like lines: compressible, but not one repeated chunk (no free dedup)."""
    levels = ("INFO", "DEBUG", "WARN", "ERROR")
    words = ("request", "served", "cache", "miss", "user", "upload", "photo", "album", "ok")
    lines: list[str] = []
    total = 0
    t = rng.randrange(1_700_000_000, 1_800_000_000)
    while total < size:
        t += rng.randrange(1, 5000)
        line = (
            f"{t} {levels[rng.randrange(4)]} worker-{rng.randrange(64)} "
            f"{words[rng.randrange(9)]} {words[rng.randrange(9)]} id={rng.getrandbits(40):x} "
            f"took={rng.randrange(1, 9999)}ms\n"
        )
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()[:size]


def generate(root: Path, total: int, seed: int = 7) -> tuple[int, int]:
    """~40% text, ~40% random binary, ~20% small files (1-20 KiB). Returns (bytes, files)."""
    rng = random.Random(seed)
    written = files = 0
    text_dir, bin_dir, small_dir = root / "logs", root / "media", root / "small"
    for folder in (text_dir, bin_dir, small_dir):
        folder.mkdir(parents=True)
    text_total, bin_total = total * 4 // 10, total * 4 // 10
    n = 0
    while written < text_total:
        size = min(8 * MIB, text_total - written)
        (text_dir / f"app-{n:04d}.log").write_bytes(_text_block(rng, size))
        written += size
        files += 1
        n += 1
    n = 0
    while written < text_total + bin_total:
        size = min(16 * MIB, text_total + bin_total - written)
        (bin_dir / f"video-{n:04d}.bin").write_bytes(os.urandom(size))
        written += size
        files += 1
        n += 1
    n = 0
    while written < total:
        size = min(rng.randrange(1024, 20 * 1024), total - written)
        folder = small_dir / f"d{n // 500:03d}"
        folder.mkdir(exist_ok=True)
        data = _text_block(rng, size) if n % 2 else os.urandom(size)
        (folder / f"f{n:06d}").write_bytes(data)
        written += size
        files += 1
        n += 1
    return written, files


def change_one_percent(root: Path, seed: int = 11) -> int:
    """Rewrite a part of 1% of the files; returns how many changed."""
    rng = random.Random(seed)
    every = sorted(p for p in root.rglob("*") if p.is_file())
    chosen = rng.sample(every, max(1, len(every) // 100))
    for path in chosen:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.seek(rng.randrange(max(1, size - 4096)))
            handle.write(os.urandom(min(4096, size)))
    return len(chosen)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> tuple[float, R]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def sh(command: str) -> None:
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="data size in MiB (default 1024)")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp)")
    parser.add_argument(
        "--smoke", action="store_true", help="2 MiB of data: checks that it runs (CI)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.mib = 2
    # `timeout` and `kill` send SIGTERM: clean up as on Ctrl-C, not leave what was made
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if not shutil.which("zstd"):
        print("zstd is missing: apt-get install zstd", file=sys.stderr)
        return 2
    restic_binary()
    work = Path(tempfile.mkdtemp(prefix="homestack-bench-", dir=args.dir))
    try:
        data, repo = work / "data", work / "repo"
        gen_s, (size, nfiles) = timed(generate, data, args.mib * MIB)
        sh("sync")
        versions = [
            subprocess.run([tool, *flag], capture_output=True, text=True, check=False).stdout
            for tool, flag in (("restic", ["version"]), ("zstd", ["--version"]))
        ]
        print("; ".join(v.strip() for v in versions))
        print(f"data: {size / MIB:.0f} MiB in {nfiles} files (generated in {gen_s:.1f}s)\n")

        password = work / "password"
        password.write_text(secrets.token_urlsafe(32))
        password.chmod(0o600)
        runner = Restic(str(repo), password)
        runner.init()

        tar_s, _ = timed(sh, f"tar -C {data} -cf - . | zstd -1 -T0 -q -o {work}/data.tar.zst")
        tar_size = (work / "data.tar.zst").stat().st_size
        first_s, first = timed(runner.backup, [data], tags=["bench"])
        repo_first = du(repo)
        changed = change_one_percent(data)
        second_s, second = timed(runner.backup, [data], tags=["bench"])
        target = work / "restored"
        restore_s, _ = timed(runner.restore, "latest", target)
        untar = work / "untar"
        untar.mkdir()
        untar_s, _ = timed(sh, f"zstd -d -T0 -q -c {work}/data.tar.zst | tar -C {untar} -xf -")
        restored_size = du(target)

        rows = [
            (
                "first backup",
                f"{first_s:8.1f} s",
                f"tar|zstd -1: {tar_s:.1f} s",
                f"restic/tar = {first_s / tar_s:.2f}x",
            ),
            (
                f"second backup ({changed} files = 1% changed)",
                f"{second_s:8.1f} s",
                f"{second.data_added / MIB:.1f} MiB added",
                f"{100 * second_s / first_s:.1f}% of first (target <= 10%)",
            ),
            (
                "restore (restic, --verify)",
                f"{restore_s:8.1f} s",
                f"zstd -d|tar -x: {untar_s:.1f} s",
                f"restic/tar = {restore_s / untar_s:.2f}x",
            ),
            (
                "repository size",
                f"{repo_first / MIB:8.0f} MiB",
                f"tar.zst: {tar_size / MIB:.0f} MiB",
                f"{100 * repo_first / size:.1f}% of data ({size / MIB:.0f} MiB)",
            ),
        ]
        width = max(len(r[0]) for r in rows)
        for name, value, other, ratio in rows:
            print(f"{name:<{width}}  {value}   {other:<26} {ratio}")
        print(
            f"\nrepository after both backups: {du(repo) / MIB:.0f} MiB; "
            f"restored bytes match data: {restored_size == size}; "
            f"first backup added {first.data_added / MIB:.0f} MiB"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
