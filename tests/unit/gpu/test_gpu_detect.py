"""GPU detection on a real recording (the H100 host) and on hand-constructed (fake_) hosts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from homestack import gpu
from homestack.errors import BadInput
from homestack.host.recording import RecordedHost

GPU_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gpu"

H100 = "nvidia-h100-no-toolkit"
Load = Callable[..., RecordedHost]


def test_recorded_h100_is_present_but_unusable_without_toolkit(gpu_host: Load) -> None:
    report = gpu.detect(gpu_host(H100).probe())
    assert report.present_vendors == ("nvidia",)
    assert report.usable_vendors == ()
    (device,) = report.devices
    assert device.model == "NVIDIA H100 80GB HBM3"
    assert device.memory_mb == 81559
    assert device.driver == "580.159.04"
    assert device.uuid == "GPU-4a0ef425-2feb-7e80-c7f0-7f78aeaef378"
    assert device.pci == "00000000:00:06.0"
    assert "NVIDIA Container Toolkit is not installed" in report.reasons["nvidia"]
    assert "Docker is not installed" in report.reasons["nvidia"]
    assert "nvidia-ctk runtime configure" in report.fixes["nvidia"]
    assert "homestack install docker" in report.fixes["nvidia"]
    assert report.docker.installed is False and report.docker.toolkit == ()
    assert "/dev/nvidia0" in report.nodes and "/dev/kfd" not in report.nodes


@pytest.mark.parametrize("source", ["nvml", "nvidia-smi-csv", "nvidia-smi-xml"])
def test_recorded_h100_every_source_agrees(gpu_host: Load, source: str) -> None:
    host = gpu_host(H100)
    if source != "nvml":
        host.nvml_data = None
    if source == "nvidia-smi-xml":
        host.outputs = {k: v for k, v in host.outputs.items() if "--query-gpu" not in k}
    (device,) = gpu.nvidia_devices(host.probe())
    assert device.source == source
    assert (device.model, device.memory_mb, device.driver) == (
        "NVIDIA H100 80GB HBM3",
        81559,
        "580.159.04",
    )
    assert device.uuid == "GPU-4a0ef425-2feb-7e80-c7f0-7f78aeaef378"


def test_recorded_h100_without_nvidia_smi_falls_back_to_proc_and_nodes(gpu_host: Load) -> None:
    host = gpu_host(H100, nvml_data=None)
    host.tools.pop("nvidia-smi")
    (host.root / "usr/local/nvidia/bin").mkdir(parents=True, exist_ok=True)
    (device,) = gpu.nvidia_devices(host.probe())
    assert (device.source, device.driver, device.node) == ("proc", "580.159.04", "/dev/nvidia0")


def test_recorded_csv_parser_reads_units_and_header() -> None:
    text = (GPU_FIXTURES / H100 / "nvidia-smi-query.csv").read_text()
    (device,) = gpu.parse_smi_csv(text)
    assert device.memory_mb == 81559 and device.node == "/dev/nvidia0"


def test_fake_nvidia_with_toolkit_and_runtime_is_usable(gpu_host: Load) -> None:
    report = gpu.detect(gpu_host("fake-nvidia-toolkit").probe())
    assert report.usable_vendors == ("nvidia",)
    assert report.devices[0].model == "NVIDIA GeForce RTX 4090"
    assert report.docker.runtimes == ("nvidia", "runc")
    assert report.docker.cdi_kinds == ("nvidia.com/gpu",)
    assert "nvidia-ctk" in report.docker.toolkit


def test_fake_nvidia_toolkit_without_runtime_or_cdi_is_not_usable(gpu_host: Load) -> None:
    host = gpu_host("fake-nvidia-toolkit")
    (host.root / "etc/cdi/nvidia.yaml").unlink()
    key = "docker info --format {{json .}}"
    info = host.outputs[key]
    host.outputs[key] = type(info)(
        info.argv, 0, '{"ServerVersion":"27.3.1","Runtimes":{"runc":{}}}'
    )
    report = gpu.detect(host.probe())
    assert report.usable_vendors == ()
    assert "not configured" in report.reasons["nvidia"]


def test_fake_nvidia_cdi_spec_alone_is_enough(gpu_host: Load) -> None:
    host = gpu_host("fake-nvidia-toolkit")
    key = "docker info --format {{json .}}"
    info = host.outputs[key]
    host.outputs[key] = type(info)(
        info.argv, 0, '{"ServerVersion":"28.0.1","Runtimes":{"runc":{}}}'
    )
    assert gpu.detect(host.probe()).usable_vendors == ("nvidia",)


def test_fake_amd_with_kfd_and_dri_is_usable(gpu_host: Load) -> None:
    report = gpu.detect(gpu_host("fake-amd-rx7900").probe())
    assert report.usable_vendors == ("amd",)
    (device,) = report.devices
    assert (device.model, device.driver, device.memory_mb) == (
        "AMD Radeon RX 7900 XTX",
        "amdgpu",
        24560,
    )
    assert device.node == "/dev/dri/renderD128"


def test_fake_amd_without_kfd_cannot_run_rocm(gpu_host: Load) -> None:
    host = gpu_host("fake-amd-rx7900")
    (host.root / "dev/kfd").unlink()
    report = gpu.detect(host.probe())
    assert report.usable_vendors == ()
    assert "/dev/kfd" in report.reasons["amd"]


def test_fake_intel_dri_only_is_usable(gpu_host: Load) -> None:
    report = gpu.detect(gpu_host("fake-intel-uhd770").probe())
    assert report.usable_vendors == ("intel",)
    assert report.devices[0].driver == "i915"


def test_fake_none_has_no_gpu(gpu_host: Load) -> None:
    report = gpu.detect(gpu_host("fake-none").probe())
    assert report.devices == () and report.usable_vendors == ()
    assert report.why_not() == "no GPU was found on this host"


def test_fake_intel_with_stopped_engine_is_not_usable(gpu_host: Load) -> None:
    host = gpu_host("fake-intel-uhd770")
    host.outputs.pop("docker info --format {{json .}}")
    report = gpu.detect(host.probe())
    assert report.usable_vendors == ()
    assert "not running" in report.reasons["intel"]


def test_fake_gpu_setting_forces_cpu_or_a_vendor(gpu_host: Load) -> None:
    probe = gpu_host("fake-nvidia-toolkit").probe()
    assert gpu.detect(probe, "cpu").usable_vendors == ()
    assert gpu.detect(probe, "cpu").why_not() == "GPU=cpu is set in .env"
    forced = gpu.detect(probe, "intel")
    assert forced.usable_vendors == ("intel",)
    assert "forced by GPU=intel" in forced.reasons["intel"]
    with pytest.raises(BadInput, match="GPU=tpu"):
        gpu.detect(probe, "tpu")


def test_fake_pci_card_without_driver_is_reported(gpu_host: Load) -> None:
    host = gpu_host("fake-none")
    device = host.root / "sys/bus/pci/devices/0000:01:00.0"
    device.mkdir(parents=True)
    (device / "class").write_text("0x030000\n")
    (device / "vendor").write_text("0x10de\n")
    report = gpu.detect(host.probe())
    assert report.present_vendors == ("nvidia",)
    assert "driver is not loaded" in report.reasons["nvidia"]


def test_report_to_data_is_plain(gpu_host: Load) -> None:
    import json

    data = gpu.detect(gpu_host(H100).probe()).to_data()
    assert json.loads(json.dumps(data))["devices"][0]["memory_mb"] == 81559


def test_fake_none_does_not_ask_the_engine(gpu_host: Load) -> None:
    """`docker info` is slow on a busy engine; without a GPU its answer changes nothing."""
    host = gpu_host("fake-none")
    report = gpu.detect(host.probe())
    assert report.docker.installed and not report.docker.asked
    assert not host.ran("docker", "info")


def test_recorded_h100_doctor_json_names_model_memory_driver(
    gpu_host: Load, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The doctor's JSON carries the card's fields, not only a sentence (shipped catalog)."""
    from homestack.catalog import Site
    from homestack.observe import doctor_files

    report = gpu.assess(gpu_host(H100).probe())
    monkeypatch.setattr(gpu, "cached_report", lambda setting: gpu.apply_setting(report, setting))
    site = Site.load(Path(__file__).resolve().parents[3])
    checks = doctor_files.check_gpu(site, site.services(enabled_only=True))
    data = {c.name: c.to_data() for c in checks}
    card = data["gpu nvidia"]
    assert card["status"] == "ok"
    assert card["data"] == {
        "vendor": "nvidia",
        "model": "NVIDIA H100 80GB HBM3",
        "memory_mb": 81559,
        "driver": "580.159.04",
        "uuid": "GPU-4a0ef425-2feb-7e80-c7f0-7f78aeaef378",
        "pci": "00000000:00:06.0",
        "source": "nvml",
        "usable": False,
    }
    docker = data["gpu nvidia in Docker"]
    # the shipped catalog has no service that requires a GPU: they fall back to the CPU
    assert docker["status"] == "warn"
    assert "NVIDIA Container Toolkit is not installed" in docker["detail"]
    assert "nvidia-ctk runtime configure" in docker["fix"]
    assert "run on the CPU" in data["gpu memory"]["detail"]
