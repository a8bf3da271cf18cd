"""Overlay choice from the GPU verdict: recorded H100 host and constructed (fake_) hosts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from homestack import gpu, gpu_choice
from homestack.catalog import Site
from homestack.errors import BadInput
from homestack.host.recording import RecordedHost

Load = Callable[..., RecordedHost]


def _service(name: str, need: str) -> str:
    return f"""services:
  {name}:
    x-homestack:
      title: {name}
      description: test service
      gpu: {need}
    image: example/{name}:1
"""


def _overlay(name: str) -> str:
    return f"services:\n  {name}:\n    environment:\n      OVERLAY: x\n"


def make_site(root: Path, services: dict[str, tuple[str, list[str]]], env: str = "") -> Site:
    root.mkdir(parents=True, exist_ok=True)
    (root / "base.docker-compose.yaml").write_text("networks: {}\n")
    (root / ".env.example").write_text("TZ=Etc/UTC\n" + env)
    stack = root / "ai-stack"
    (stack / "services").mkdir(parents=True)
    listed = "".join(f"  - {name}\n" for name in services)
    (stack / "stack.yaml").write_text(f"description: test\nservices:\n{listed}")
    for name, (need, overlays) in services.items():
        (stack / "services" / f"{name}.docker-compose.yaml").write_text(_service(name, need))
        for kind in overlays:
            (stack / "services" / f"{name}.{kind}.docker-compose.yaml").write_text(_overlay(name))
    return Site.load(root)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(
        tmp_path / "site",
        {
            "llm": ("optional", ["nvidia", "amd"]),
            "whisper": ("required", ["nvidia"]),
            "web": ("none", []),
        },
    )


def test_recorded_h100_optional_falls_back_to_cpu_required_refused(
    site: Site, gpu_host: Load
) -> None:
    report = gpu.detect(gpu_host("nvidia-h100-no-toolkit").probe())
    stack = site.stack("ai")
    with pytest.raises(BadInput) as refused:
        gpu_choice.choose_overlays(site, stack, report)
    assert refused.value.service == "whisper"
    assert "NVIDIA Container Toolkit is not installed" in refused.value.message
    assert refused.value.hint and "homestack install drivers --yes" in refused.value.hint

    (site.root / "ai-stack/stack.yaml").write_text(
        "description: test\nservices:\n  - llm\n  # - whisper\n  - web\n"
    )
    site = Site.load(site.root)
    choice = gpu_choice.choose_overlays(site, site.stack("ai"), report)
    assert choice.overlays == {"llm": [], "web": []}
    assert choice.gpu == {"llm": "cpu"}
    assert "NVIDIA Container Toolkit" in choice.reasons["llm"]


def test_fake_nvidia_toolkit_host_gets_nvidia_overlays(site: Site, gpu_host: Load) -> None:
    report = gpu.detect(gpu_host("fake-nvidia-toolkit").probe())
    choice = gpu_choice.choose_overlays(site, site.stack("ai"), report)
    assert choice.overlays == {"llm": ["nvidia"], "whisper": ["nvidia"], "web": []}
    files = site.compose_files(site.stack("ai"), overlays=choice.overlays)
    assert [f.name for f in files].count("llm.nvidia.docker-compose.yaml") == 1


def test_fake_amd_host_uses_amd_overlay_and_refuses_nvidia_only(site: Site, gpu_host: Load) -> None:
    report = gpu.detect(gpu_host("fake-amd-rx7900").probe())
    with pytest.raises(BadInput, match=r"whisper.*no overlay for it"):
        gpu_choice.choose_overlays(site, site.stack("ai"), report)


def test_fake_intel_host_optional_without_intel_overlay_runs_on_cpu(
    tmp_path: Path, gpu_host: Load
) -> None:
    site = make_site(tmp_path / "s", {"llm": ("optional", ["nvidia"])})
    report = gpu.detect(gpu_host("fake-intel-uhd770").probe())
    choice = gpu_choice.choose_overlays(site, site.stack("ai"), report)
    assert choice.overlays == {"llm": []}
    assert "no overlay" in choice.reasons["llm"]


def test_iot_overlay_kept_when_configured(tmp_path: Path, gpu_host: Load) -> None:
    site = make_site(
        tmp_path / "s",
        {"ha": ("none", ["iot"])},
        env="IOT_PARENT=dummy0\nIOT_SUBNET=10.99.0.0/24\n",
    )
    choice = gpu_choice.choose_overlays(site, site.stack("ai"))
    assert choice.overlays == {"ha": ["iot"]}


def test_gpu_setting_cpu_in_env_wins_over_detection(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GPU", "cpu")
    site = make_site(tmp_path / "s", {"llm": ("optional", ["nvidia"])})
    gpu.reset_cache()
    gpu._CACHE["auto"] = gpu.GpuReport(usable_vendors=("nvidia",), present_vendors=("nvidia",))
    try:
        overlays = gpu_choice.overlays_for(site, site.stack("ai"))
        choice = gpu_choice.choose_overlays(site, site.stack("ai"))
    finally:
        gpu.reset_cache()
    assert overlays == {"llm": []}
    assert choice.reasons["llm"] == "GPU=cpu is set in .env"


def test_no_detection_when_no_service_wants_a_gpu(tmp_path: Path, monkeypatch) -> None:
    site = make_site(tmp_path / "s", {"web": ("none", [])})

    def boom(setting: str = "auto") -> gpu.GpuReport:
        raise AssertionError("detection ran")

    monkeypatch.setattr(gpu_choice, "cached_report", boom)
    assert gpu_choice.overlays_for(site, site.stack("ai")) == {"web": []}


def test_fake_hosts_on_the_shipped_catalog(gpu_host: Load) -> None:
    """The shipped ai stack: ollama has nvidia and amd overlays and is gpu: optional."""
    site = Site.load(Path(__file__).resolve().parents[3])
    stack = site.stack("ai")
    if "ollama" not in {s.id for s in stack.enabled}:
        pytest.skip("ollama is not enabled in the shipped ai stack")
    for host, expected in (
        ("fake-amd-rx7900", ["amd"]),
        ("fake-nvidia-toolkit", ["nvidia"]),
        ("nvidia-h100-no-toolkit", []),
        ("fake-none", []),
    ):
        report = gpu.detect(gpu_host(host).probe())
        choice = gpu_choice.choose_overlays(site, stack, report)
        assert choice.overlays["ollama"] == expected, host
        if not expected:
            assert choice.gpu["ollama"] == "cpu" and choice.reasons["ollama"]


def test_placements_say_where_each_gpu_service_runs_recorded_h100_and_fake_toolkit(
    site: Site, gpu_host: Load
) -> None:
    h100 = gpu.detect(gpu_host("nvidia-h100-no-toolkit").probe())
    placed = {p.service: p for p in gpu_choice.placements(site, h100)}
    assert set(placed) == {"llm", "whisper"}  # web needs no GPU
    assert (placed["llm"].runs_on, placed["llm"].overlay) == ("cpu", None)
    assert "NVIDIA Container Toolkit is not installed" in (placed["llm"].reason or "")
    assert placed["whisper"].runs_on == "refused" and placed["whisper"].need == "required"
    usable = gpu.detect(gpu_host("fake-nvidia-toolkit").probe())
    placed = {p.service: p for p in gpu_choice.placements(site, usable)}
    assert placed["llm"].to_data() == {
        "service": "llm",
        "stack": "ai",
        "need": "optional",
        "runs_on": "nvidia",
        "overlay": "ai-stack/services/llm.nvidia.docker-compose.yaml",
        "reason": None,
    }


def test_gpu_command_lists_services_inside_a_site_only(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from homestack.cli.app import run

    monkeypatch.setenv("GPU", "cpu")  # the verdict is forced; the placements follow it
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    assert run(["--site", str(site.root), "gpu", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(p["service"], p["runs_on"]) for p in data["services"]] == [
        ("llm", "cpu"),
        ("whisper", "refused"),
    ]
    assert run(["--site", str(site.root), "gpu"]) == 0
    text = capsys.readouterr().out
    assert "ai/llm: CPU" in text and "ai/whisper: refused" in text
    monkeypatch.chdir(tmp_path)  # no site here or above
    assert run(["gpu", "--json"]) == 0
    assert "services" not in json.loads(capsys.readouterr().out)


def test_gpu_command_forced_vendor_without_a_gpu_fake_host(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from homestack.cli.app import run

    # GPU=nvidia where nothing was detected: services get the nvidia overlay, not the CPU
    monkeypatch.setenv("GPU", "nvidia")
    monkeypatch.setattr(gpu, "assess", lambda probe: gpu.GpuReport())
    assert run(["--site", str(site.root), "gpu"]) == 0
    text = capsys.readouterr().out
    assert "run on the CPU" not in text and "GPU=nvidia gives GPU services" in text
    assert "ai/llm: nvidia" in text
